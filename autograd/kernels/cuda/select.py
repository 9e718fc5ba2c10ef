"""Data-dependent sizes on cuda: np.nonzero (nonzero, argwhere-style output, where(cond),
masked positions) and np.unique (sorted, with the inverse and the counts), as the ops call
them (`ufuncs.FUNCTIONS`); np.stack and np.atleast_1d, which nonzero's op uses around them.

A result whose length depends on the data needs one number on the host: the flags
(non-zero, or "starts a new value" after a sort) are summed by an inclusive prefix sum
(scan.py's cumsum), its last entry is copied to the host (one sync, as PyTorch's nonzero
and unique do), and a compaction kernel writes each flagged element at its rank, so the
output keeps the input's order.
"""
from __future__ import annotations

import numpy as np
from numba import cuda

from . import blocks, ufuncs
from .array import CudaArray, device_error
from .gather import take_along_axis
from .runtime import empty, launch_1d, to_device
from .scan import cumsum
from .sort import argsort


@cuda.jit(cache=True)
def _flags(x, out, n):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        out[i] = 1 if x[i] != 0 else 0
        i += step


@cuda.jit(cache=True)
def _compact_coords(x, rank, out, n, nd, shape):
    """out[rank - 1, :] = the coordinates of element i, for each non-zero x[i]."""
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        if x[i] != 0:
            r = rank[i] - 1
            rem = i
            for d in range(nd - 1, -1, -1):
                out[r * nd + d] = rem % shape[d]
                rem //= shape[d]
        i += step


def _count(rank: CudaArray) -> int:
    """The last entry of an inclusive prefix sum: the number of flagged elements (a sync)."""
    return int(rank[rank.size - 1].item()) if rank.size else 0


def nonzero(x: CudaArray) -> tuple:
    """np.nonzero(x): one int64 cuda array of positions per dim, in C order."""
    if x.ndim == 0:
        raise ValueError("cuda nonzero: a 0-d array (call atleast_1d first, as numpy asks)")
    n = x.size
    flags = empty((n,), np.int64)
    launch_1d(_flags, n, x.dev, flags.dev, n)
    rank = cumsum(flags, axis=0)
    count = _count(rank)
    coords = empty((count, x.ndim), np.int64)
    if count:
        launch_1d(_compact_coords, n, x.dev, rank.dev, coords.dev, n, x.ndim,
                  to_device(np.asarray(x.shape, np.int64)).dev)
    return tuple(coords[:, d] for d in range(x.ndim))


@cuda.jit(cache=True)
def _starts(v, out, n):
    """1 where sorted v[i] starts a new value (NaNs count as one value, as numpy's)."""
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        if i == 0:
            out[i] = 1
        else:
            a = v[i - 1]
            b = v[i]
            same = a == b or (a != a and b != b)  # noqa: PLR0124 - NaN, any dtype
            out[i] = 0 if same else 1
        i += step


@cuda.jit(cache=True)
def _unique(v, order, rank, values, first, inverse, n):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        g = rank[i] - 1
        inverse[order[i]] = g
        if i == 0 or rank[i] != rank[i - 1]:
            values[g] = v[i]
            first[g] = i
        i += step


@cuda.jit(cache=True)
def _counts(first, counts, k, n):
    g = cuda.grid(1)
    step = cuda.gridsize(1)
    while g < k:
        end = n if g == k - 1 else first[g + 1]
        counts[g] = end - first[g]
        g += step


def unique(x: CudaArray, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis=None, *, equal_nan: bool = True, **kwargs):
    """np.unique(x) of the flattened array: sorted values, and the inverse (shaped as x)
    and the counts when asked. A stable argsort (sort.py), the starts of runs of equal
    values, their prefix sum (the group of each sorted element) and one compaction."""
    if axis is not None or return_index or not equal_nan or kwargs:
        raise device_error(f"numpy.unique with axis={axis!r} (distinct slices), "
                           f"return_index or equal_nan=False")
    flat = x.reshape(x.size)
    n = flat.size
    order = argsort(flat, axis=0)
    v = take_along_axis(flat, order, 0)
    flags = empty((n,), np.int64)
    if n:
        launch_1d(_starts, n, v.dev, flags.dev, n)
    rank = cumsum(flags, axis=0)
    k = _count(rank)
    values = empty((k,), x.dtype)
    first = empty((k,), np.int64)
    inverse = empty((n,), np.int64)
    counts = empty((k,), np.int64)
    if n:
        launch_1d(_unique, n, v.dev, order.dev, rank.dev, values.dev, first.dev,
                  inverse.dev, n)
        launch_1d(_counts, k, first.dev, counts.dev, k, n)
    out = [values]
    if return_inverse:
        out.append(inverse.reshape(x.shape))
    if return_counts:
        out.append(counts)
    return out[0] if len(out) == 1 else tuple(out)


def atleast_1d(x: CudaArray) -> CudaArray:
    return x.reshape(1) if x.ndim == 0 else x


def stack(arrays, axis: int = 0, out=None, **kwargs) -> CudaArray:
    """np.stack of cuda arrays of one shape: each gains the new axis, then one concatenate."""
    arrays = list(arrays)
    if out is not None or kwargs or not arrays:
        return NotImplemented
    shape = arrays[0].shape
    if any(a.shape != shape for a in arrays):
        raise ValueError(f"stack: all input arrays must have the same shape, got "
                         f"{[a.shape for a in arrays]}")
    axis = int(axis) % (len(shape) + 1)
    new = shape[:axis] + (1,) + shape[axis:]
    return blocks.concatenate([a.reshape(new) for a in arrays], axis=axis)


ufuncs.FUNCTIONS.update({"nonzero": nonzero, "unique": unique, "atleast_1d": atleast_1d,
                         "stack": stack})
