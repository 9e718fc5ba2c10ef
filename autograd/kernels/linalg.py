"""Linear-algebra kernels (declarations, numpy references): matmul, 2-D and batched with
broadcast batch dims."""
from __future__ import annotations

import numpy as np

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
    return np.matmul(a, b, out=out)
