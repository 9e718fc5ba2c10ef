"""Matrix multiplication, 2-D and batched with broadcast batch dims."""
from __future__ import annotations

import math

from .. import kernels as K
from ..function import Function


class MatMul(Function):
    """C = op(A) @ op(B), op = transpose of the last two dims when its flag is set.

    For plain C = A @ B: dA = dC @ B^T, dB = A^T @ dC; the transposes are kernel flags (no
    copy, no permute node), and the gradients are summed over broadcast batch dims."""
    save_inputs = True

    def forward(self, a, b, trans_a=False, trans_b=False):
        k_a = a.shape[-2] if trans_a else a.shape[-1]
        k_b = b.shape[-1] if trans_b else b.shape[-2]
        if k_a != k_b:
            raise RuntimeError(f"matmul: shapes {a.shape} and {b.shape} are not aligned "
                               f"({k_a} != {k_b})")
        self.a_shape, self.b_shape, self.trans = a.shape, b.shape, (trans_a, trans_b)
        return K.matmul(a, b, trans_a, trans_b)  # BLAS threads chosen by size in the kernel

    def backward(self, g):
        na, nb = self.next
        ta, tb = self.trans
        ga = gb = None
        if na is not None:
            b = self.saved_input(1)
            # dA = dC op(B)^T, transposed back when A entered transposed
            ga = (MatMul.apply(b, g, trans_a=tb, trans_b=True) if ta
                  else MatMul.apply(g, b, trans_b=not tb)).sum_to(self.a_shape)
        if nb is not None:
            a = self.saved_input(0)
            if len(self.b_shape) == 2 and len(self.a_shape) > 2 and not ta:
                # B shared by every batch item (a weight): the sum over the batch is one
                # product over the flattened rows, not a batch of products and a sum
                a, g = _rows(a), _rows(g)
            # dB = op(A)^T dC, transposed back when B entered transposed
            gb = (MatMul.apply(g, a, trans_a=True, trans_b=ta) if tb
                  else MatMul.apply(a, g, trans_a=not ta)).sum_to(self.b_shape)
        return ga, gb


def _rows(t):
    """(..., m, k) as (batch * m, k): a view where the layout allows, else a copy."""
    return t.reshape(math.prod(t.shape[:-1]), t.shape[-1])  # -1 is ambiguous when k == 0


class Linear(Function):
    """y = x @ W^T + b in one kernel call: numbagrad's gemm with the bias fused into its
    epilogue (used where the `gemm_linear` policy family says it beats BLAS + an add).
    Backward as MatMul(x, W, trans_b=True) followed by + b: dx = dy @ W, dW = dy^T @ x
    (summed over x's batch dims), db = dy summed to b's shape."""
    save_inputs = True

    def forward(self, x, w, b):
        if x.shape[-1] != w.shape[-1]:
            raise RuntimeError(f"linear: shapes {x.shape} and {w.shape} are not aligned "
                               f"({x.shape[-1]} != {w.shape[-1]})")
        self.shapes = (x.shape, w.shape, b.shape)
        return K.gemm(x, w.T, b)

    def backward(self, g):
        nx, nw, nb = self.next
        x_shape, w_shape, b_shape = self.shapes
        gx = MatMul.apply(g, self.saved_input(1)).sum_to(x_shape) if nx is not None else None
        if nw is not None:
            x = self.saved_input(0)
            if len(x_shape) > 2:  # dW summed over x's batch dims: one product over all rows
                x, g2 = _rows(x), _rows(g)
            else:
                g2 = g
            gw = MatMul.apply(g2, x, trans_a=True).sum_to(w_shape)
        else:
            gw = None
        gb = g.sum_to(b_shape) if nb is not None else None
        return gx, gw, gb
