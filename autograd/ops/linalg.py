"""Matrix multiplication, 2-D and batched with broadcast batch dims."""
from __future__ import annotations

from .. import kernels as K
from ..function import Function


class MatMul(Function):
    """C = A @ B;  dA = dC @ B^T,  dB = A^T @ dC (summed over broadcast batch dims)."""
    save_inputs = True

    def forward(self, a, b):
        if a.shape[-1] != b.shape[-2]:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned "
                             f"({a.shape[-1]} != {b.shape[-2]})")
        self.a_shape, self.b_shape = a.shape, b.shape
        return K.matmul(a, b)

    def backward(self, g):
        na, nb = self.next
        ga = gb = None
        if na is not None:
            b = self.saved_input(1)
            ga = (g @ b.mT).sum_to(self.a_shape)
        if nb is not None:
            a = self.saved_input(0)
            gb = (a.mT @ g).sum_to(self.b_shape)
        return ga, gb
