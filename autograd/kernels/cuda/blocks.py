"""Block copies on cuda that numpy does with its own functions: concatenate (what cat and
stack do; split / chunk / unbind are slices, index.py) and tril / triu.

concatenate views the output as (outer, total * inner) around the axis and copies each input
into its column block: one launch per input, a thread per element, coalesced on both sides.
"""
from __future__ import annotations

import math

import numpy as np
from numba import cuda

from .array import CudaArray, mixed_devices
from .runtime import empty, launch_1d


@cuda.jit(cache=True)
def _into_block(src, dst, n, block, row, start):
    """dst viewed as rows of `row` elements: src's rows of `block` elements go to columns
    [start, start + block) of them."""
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        o = i // block
        dst[o * row + start + (i - o * block)] = src[i]
        i += step


def concatenate(arrays, axis=0, out=None, dtype=None, casting="same_kind") -> CudaArray:
    """np.concatenate(arrays, axis) of cuda arrays."""
    arrays = list(arrays)
    if out is not None:
        raise NotImplementedError("np.concatenate(..., out=) of cuda arrays has no cuda kernel")
    for a in arrays:
        if not isinstance(a, CudaArray):
            raise mixed_devices("cat", "cuda:0", "cpu")
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    first = arrays[0]
    if axis is None:
        arrays, axis = [a.reshape(a.size) for a in arrays], 0
    nd = first.ndim
    if nd == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    if not -nd <= axis < nd:
        raise ValueError(f"cat: axis {axis} is out of bounds for arrays of dimension {nd}")
    axis %= nd
    for a in arrays:
        if a.ndim != nd or a.shape[:axis] != first.shape[:axis] \
                or a.shape[axis + 1:] != first.shape[axis + 1:]:
            raise ValueError(f"cat: all the input shapes must match but along dim {axis}, got "
                             f"{[x.shape for x in arrays]}")
    dtype = np.dtype(dtype) if dtype is not None else np.result_type(*(a.dtype for a in arrays))
    total = sum(a.shape[axis] for a in arrays)
    shape = first.shape[:axis] + (total,) + first.shape[axis + 1:]
    res = empty(shape, dtype)
    inner = math.prod(shape[axis + 1:])
    start = 0
    for a in arrays:
        if a.dtype != dtype:
            a = a.astype(dtype)
        block = a.shape[axis] * inner
        launch_1d(_into_block, a.size, a.dev, res.dev, a.size, block, total * inner, start)
        start += block
    return res


@cuda.jit(cache=True)
def _triangle(x, out, n, rows, cols, k, upper):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        c = i % cols
        r = (i // cols) % rows
        keep = c - r >= k if upper else c - r <= k
        if keep:
            out[i] = x[i]
        else:
            out[i] = 0
        i += step


def tril(x: CudaArray, k: int = 0) -> CudaArray:
    return _tri(x, k, False)


def triu(x: CudaArray, k: int = 0) -> CudaArray:
    return _tri(x, k, True)


def _tri(x: CudaArray, k: int, upper: bool) -> CudaArray:
    if x.ndim < 2:
        raise ValueError(f"{'triu' if upper else 'tril'}: expected at least 2 dims, got shape "
                         f"{x.shape}")
    out = empty(x.shape, x.dtype)
    launch_1d(_triangle, x.size, x.dev, out.dev, x.size, x.shape[-2], x.shape[-1], int(k),
              upper)
    return out
