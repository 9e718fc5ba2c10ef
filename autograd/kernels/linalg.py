"""Linear-algebra kernels (declarations, numpy references): matmul, 2-D and batched with
broadcast batch dims."""
from __future__ import annotations

import numpy as np

from . import blas
from .registry import declare


@declare(out=True)
def matmul(a, b, trans_a=False, trans_b=False, out=None):
    """op(a) @ op(b) for 2-D or batched (..., m, k) @ (..., k, n) float arrays, where op
    transposes the last two dims when its flag is set (a view: never a copy), so the
    backward's dC @ B^T and A^T @ dC need no materialised transpose."""
    if trans_a:
        a = np.swapaxes(a, -1, -2)
    if trans_b:
        b = np.swapaxes(b, -1, -2)
    return blas_matmul(a, b, out)


def blas_matmul(a, b, out=None):
    """np.matmul(a, b, out) with OpenBLAS's threads chosen by the product's size, the count
    found restored after (kernels/blas.py): every caller of the kernel, an op's forward or a
    compiled step's replay, gets the same thread policy."""
    if getattr(a, "ndim", 0) < 2 or getattr(b, "ndim", 0) < 2:
        return np.matmul(a, b, out=out)
    return blas.call(np.matmul, blas.matmul_macs(a.shape, b.shape), a, b, out)
