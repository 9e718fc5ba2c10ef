"""The attention op's row softmax (autograd/ops/attention.py), where a row that is all -inf
(every key masked out) gives zeros, with the mask of those rows: one launch, one thread per
row, as softmax_ce.py's softmax (which has no masked rows).
"""
from __future__ import annotations

import math

import numpy as np
from numba import cuda

from .array import CudaArray
from .runtime import empty, launch_1d


@cuda.jit(cache=True)
def _softmax_rows(x, out, dead, rows, c):
    r = cuda.grid(1)
    step = cuda.gridsize(1)
    while r < rows:
        base = r * c
        m = x[base]
        for j in range(1, c):
            m = max(m, x[base + j])
        if math.isinf(m) and m < 0:  # every entry masked out: P = 0
            dead[r] = True
            for j in range(c):
                out[base + j] = 0
        else:
            dead[r] = False
            s = 0.0
            for j in range(c):
                s += math.exp(x[base + j] - m)
            for j in range(c):
                out[base + j] = math.exp(x[base + j] - m) / s
        r += step


def softmax_rows(s: CudaArray) -> tuple:
    """(P, dead): the softmax of s along its last axis with all -inf rows giving 0, and
    dead (s.shape[:-1] + (1,), bool) marking those rows."""
    if s.ndim == 0:
        raise ValueError("attention softmax: expected scores with at least one dim")
    c = s.shape[-1]
    rows = s.size // c if c else 0
    p = empty(s.shape, s.dtype)
    dead = empty(s.shape[:-1] + (1,), np.bool_)
    launch_1d(_softmax_rows, rows, s.dev, p.dev, dead.dev, rows, c)
    return p, dead
