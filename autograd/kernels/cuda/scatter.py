"""Scatters along one axis on cuda: ``ufunc.at(dst, along(index, axis), src)`` for the
scatter ops (scatter, scatter_add, scatter_reduce with sum / prod / mean / amax / amin).

Chosen: no atomics. One thread per *column* of the index (a position in every dim but the
axis) walks the column's entries in order, k = 0, 1, ...; two columns never write the same
element of dst (they differ outside the axis), so there is no race, and each element sees
its contributions in numpy's ``ufunc.at`` order: sums round exactly as the CPU's, ``prod``
needs no compare-and-swap loop, and ``scatter`` with repeated indices keeps the last value
(numpy's; PyTorch leaves it undefined). The index may be smaller than dst outside the axis
(PyTorch's rule), so offsets come from both arrays' shapes and strides. The index is range
checked on the host by the op before the launch (never an out-of-bounds device access).
"""
from __future__ import annotations

import math

import numpy as np
from numba import cuda

from .array import CudaArray
from .runtime import empty, launch_1d, to_device

OPS = {"set": 0, "add": 1, "multiply": 2, "maximum": 3, "minimum": 4}


@cuda.jit(cache=True)
def _along(dst, idx, src, scalar, ncol, nd, axis, n, ishape, istr, dstr, op):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < ncol:
        rem = t
        ibase = 0
        dbase = 0
        for d in range(nd - 1, -1, -1):
            if d != axis:
                c = rem % ishape[d]
                rem //= ishape[d]
                ibase += c * istr[d]
                dbase += c * dstr[d]
        for k in range(ishape[axis]):
            e = ibase + k * istr[axis]
            p = idx[e]
            if p < 0:
                p += n
            off = dbase + p * dstr[axis]
            v = src[0] if scalar else src[e]
            cur = dst[off]
            if op == 0:
                cur = v
            elif op == 1:
                cur = cur + v
            elif op == 2:
                cur = cur * v
            elif op == 3:
                # NaN propagates, as np.maximum (x != x: a NaN test for every dtype)
                if cur == cur and (v != v or v > cur):  # noqa: PLR0124
                    cur = v
            elif cur == cur and (v != v or v < cur):  # noqa: PLR0124
                cur = v
            dst[off] = cur
        t += step


def _strides(shape: tuple) -> np.ndarray:
    out = np.ones(len(shape), np.int64)
    for d in range(len(shape) - 2, -1, -1):
        out[d] = out[d + 1] * shape[d + 1]
    return out


def along(dst: CudaArray, idx: CudaArray, src, axis: int, ufunc: str) -> None:
    """``np.<ufunc>.at(dst, along(idx, axis), src)`` in place (ufunc "set": assignment);
    src is a cuda array of idx's shape or a number. idx is already range checked."""
    if ufunc not in OPS:
        raise NotImplementedError(f"cuda scatter: no {ufunc!r} combine")
    if not isinstance(idx, CudaArray):
        idx = to_device(np.asarray(idx))
    shape = dst.shape if dst.ndim else (1,)
    ishape = idx.shape if idx.ndim else (1,)
    if len(ishape) != len(shape):
        raise RuntimeError(f"cuda scatter: index of shape {idx.shape} must have the dims of "
                           f"the tensor of shape {dst.shape}")
    scalar = not isinstance(src, CudaArray)
    if scalar:
        src = to_device(np.asarray([src], dtype=dst.dtype))
    elif src.shape != idx.shape:
        raise RuntimeError(f"cuda scatter: src of shape {src.shape} must have the index's "
                           f"shape {idx.shape}")
    elif src.dtype != dst.dtype:
        src = src.astype(dst.dtype)
    if idx.dtype != np.int64:
        idx = idx.astype(np.int64)
    if idx.size == 0:
        return
    ncol = math.prod(n for d, n in enumerate(ishape) if d != axis)
    launch_1d(_along, ncol, dst.dev, idx.dev, src.dev, scalar, ncol, len(shape), axis,
              shape[axis], to_device(np.asarray(ishape, np.int64)).dev,
              to_device(_strides(ishape)).dev, to_device(_strides(shape)).dev, OPS[ufunc])


def count_along(shape: tuple, idx: CudaArray, axis: int) -> CudaArray:
    """How many index entries land on each element of an array of `shape` (int64)."""
    out = empty(shape, np.int64)
    out.fill(0)
    along(out, idx, 1, axis, "add")
    return out
