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
        return K.matmul(a, b)

    def backward(self, g):
        a, b = self.inputs
        na, nb = self.next
        return (((g @ b.mT).sum_to(a.shape)) if na is not None else None,
                ((a.mT @ g).sum_to(b.shape)) if nb is not None else None)
