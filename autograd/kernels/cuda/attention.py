"""Softmax kernels beyond softmax_ce.py's last-axis rows: the attention op's row softmax
(autograd/ops/attention.py), where a row that is all -inf (every key masked out) gives zeros,
with the mask of those rows; and softmax / log_softmax along any other axis
(autograd/ops/softmax.py). One launch each, one thread per row, as softmax_ce.py.
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


@cuda.jit(cache=True)
def _softmax_axis(x, out, lines, n, inner, log):
    """Softmax along an axis that is not the last: x viewed as (outer, n, inner), one thread
    per (outer, inner) line, reading along the axis with stride inner (neighbouring threads
    read neighbouring elements)."""
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < lines:
        o = t // inner
        base = o * n * inner + (t - o * inner)
        m = x[base]
        for j in range(1, n):
            m = max(m, x[base + j * inner])
        s = 0.0
        for j in range(n):
            s += math.exp(x[base + j * inner] - m)
        if log:
            ls = math.log(s)
            for j in range(n):
                out[base + j * inner] = (x[base + j * inner] - m) - ls
        else:
            for j in range(n):
                out[base + j * inner] = math.exp(x[base + j * inner] - m) / s
        t += step


def softmax_axis(x: CudaArray, axis: int, log: bool = False) -> CudaArray:
    """softmax (log: log_softmax) of x along `axis`, any axis (one launch); the last axis
    is softmax_ce.py's row kernel."""
    axis = int(axis) % x.ndim
    n = x.shape[axis]
    inner = math.prod(x.shape[axis + 1:])
    lines = x.size // n if n else 0
    out = empty(x.shape, x.dtype)
    launch_1d(_softmax_axis, lines, x.dev, out.dev, lines, n, inner, log)
    return out
