"""Sorting on cuda: np.argsort (stable, NaN last, as the sort ops ask for it), which sort,
argsort, topk, kthvalue and median call (`ufuncs.FUNCTIONS`; they pick with np.take, in
take.py).

A contiguous array seen along one axis is an (outer, r, inner) block. argsort gives one
thread per (outer, inner) line a bottom-up merge sort of its r positions (O(r log r), stable:
a tie takes the left run's element first), ping-ponging between the output and one scratch
array of the same size; neighbouring threads touch neighbouring elements wherever inner > 1.
"""
from __future__ import annotations

import math

import numpy as np
from numba import cuda

from . import ufuncs
from .array import CudaArray
from .runtime import around, empty, launch_1d


@cuda.jit(device=True)
def _before(a, b):
    """a sorts strictly before b: numbers ascending, NaN after every number."""
    if math.isnan(a):
        return False
    return math.isnan(b) or a < b


@cuda.jit(cache=True)
def _argsort(x, out, tmp, outer, r, inner):
    line = cuda.grid(1)
    step = cuda.gridsize(1)
    while line < outer * inner:
        o = line // inner
        j = line - o * inner
        base = o * r * inner + j
        for k in range(r):
            out[base + k * inner] = k
        src, dst = out, tmp
        flips = 0
        width = 1
        while width < r:
            lo = 0
            while lo < r:
                mid = min(lo + width, r)
                hi = min(lo + 2 * width, r)
                a, b, k = lo, mid, lo
                while k < hi:
                    take_left = b >= hi or (a < mid and not _before(
                        x[base + src[base + b * inner] * inner],
                        x[base + src[base + a * inner] * inner]))
                    if take_left:
                        dst[base + k * inner] = src[base + a * inner]
                        a += 1
                    else:
                        dst[base + k * inner] = src[base + b * inner]
                        b += 1
                    k += 1
                lo = hi
            src, dst = dst, src
            flips += 1
            width *= 2
        if flips % 2 == 1:  # the sorted order ended in tmp
            for k in range(r):
                out[base + k * inner] = tmp[base + k * inner]
        line += step


def _axis(name: str, x: CudaArray, axis) -> int:
    if axis is None or x.ndim == 0:
        raise NotImplementedError(f"cuda {name}: axis=None or a 0-d array (the ops pass an "
                                  f"axis of an array with dims), got shape {x.shape}")
    if not -x.ndim <= int(axis) < x.ndim:
        raise np.exceptions.AxisError(f"{name}: axis {axis} is out of bounds for an array of "
                                      f"dimension {x.ndim}")
    return int(axis) % x.ndim


def argsort(x, axis=-1, kind=None, order=None, **kwargs) -> CudaArray:
    """np.argsort(x, axis, kind="stable"): int64 positions, ties in their order, NaN last.
    One launch (every sort on cuda is stable, whatever `kind` says)."""
    if order is not None or kwargs:
        return NotImplemented
    axis = _axis("argsort", x, axis)
    if x.dtype.kind not in "fiub":
        raise TypeError(f"cuda argsort: unsupported dtype {x.dtype}")
    if x.dtype == np.bool_:
        x = x.astype(np.int8)
    outer, r, inner = around(x.shape, axis)
    out = empty(x.shape, np.int64)
    if x.size:
        tmp = empty(x.shape, np.int64)
        launch_1d(_argsort, outer * inner, x.dev, out.dev, tmp.dev, outer, r, inner)
    return out


ufuncs.FUNCTIONS.update({"argsort": argsort})
