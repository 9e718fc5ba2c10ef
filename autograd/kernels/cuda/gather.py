"""Along-an-axis selection on cuda: argmax / argmin, take_along_axis / put_along_axis (what
``Tensor.max(dim)`` / ``argmax`` do with numpy), and clip.

An array is viewed as (outer, n, inner) around the axis; one thread per (outer, inner)
position scans or indexes along it.
"""
from __future__ import annotations

import math

import numpy as np
from numba import cuda

from ..registry import register
from .array import CudaArray
from .runtime import around, empty, launch_1d, to_device


@cuda.jit(cache=True)
def _arg_extreme(x, out, outer, n, inner, largest):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < outer * inner:
        o = t // inner
        j = t - o * inner
        base = o * n * inner + j
        best = 0
        cur = x[base]
        for k in range(1, n):
            if math.isnan(cur):
                break  # numpy: the first NaN wins
            v = x[base + k * inner]
            if math.isnan(v) or (v > cur if largest else v < cur):
                cur = v
                best = k
        out[t] = best
        t += step


def arg_extreme(x: CudaArray, axis, keepdims: bool, largest: bool) -> CudaArray:
    """np.argmax / np.argmin(x, axis, keepdims=...)."""
    name = "argmax" if largest else "argmin"
    if x.size == 0:
        raise ValueError(f"attempt to get {name} of an empty sequence")
    if axis is None:
        flat = arg_extreme(x.reshape(x.size), 0, False, largest)
        return flat.reshape((1,) * x.ndim) if keepdims else flat.reshape(())
    axis = int(axis) % x.ndim
    outer, n, inner = around(x.shape, axis)
    out = empty(x.shape[:axis] + (1,) + x.shape[axis + 1:], np.int64)
    launch_1d(_arg_extreme, outer * inner, x.dev, out.dev, outer, n, inner, largest)
    return out if keepdims else out.reshape(x.shape[:axis] + x.shape[axis + 1:])


@cuda.jit(cache=True)
def _take(x, idx, out, outer, n, m, inner):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < outer * m * inner:
        j = t % inner
        o = t // (m * inner)
        k = idx[t]
        if k < 0:
            k += n
        out[t] = x[(o * n + k) * inner + j]
        t += step


@cuda.jit(cache=True)
def _put(a, idx, values, outer, n, m, inner, scalar):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < outer * m * inner:
        j = t % inner
        o = t // (m * inner)
        k = idx[t]
        if k < 0:
            k += n
        a[(o * n + k) * inner + j] = values[0] if scalar else values[t]
        t += step


def _along(a: CudaArray, idx: CudaArray, axis: int) -> tuple:
    axis = int(axis) % a.ndim
    if idx.ndim != a.ndim or any(s != t for i, (s, t) in enumerate(zip(idx.shape, a.shape))
                                 if i != axis):
        raise NotImplementedError(f"take/put_along_axis on cuda: index of shape {idx.shape} "
                                  f"must match the array's shape {a.shape} but along axis "
                                  f"{axis} (no broadcasting on cuda yet)")
    outer, n, inner = around(a.shape, axis)
    return outer, n, idx.shape[axis], inner


def take_along_axis(x: CudaArray, idx: CudaArray, axis: int) -> CudaArray:
    outer, n, m, inner = _along(x, idx, axis)
    out = empty(idx.shape, x.dtype)
    launch_1d(_take, out.size, x.dev, idx.dev, out.dev, outer, n, m, inner)
    return out


def put_along_axis(a: CudaArray, idx: CudaArray, values, axis: int) -> None:
    outer, n, m, inner = _along(a, idx, axis)
    scalar = not isinstance(values, CudaArray)
    if scalar:
        values = to_device(np.asarray([values], dtype=a.dtype))
    elif values.shape != idx.shape:
        raise NotImplementedError(f"put_along_axis on cuda: values of shape {values.shape} "
                                  f"must have the index's shape {idx.shape}")
    launch_1d(_put, idx.size, a.dev, idx.dev, values.dev, outer, n, m, inner, scalar)


@cuda.jit(cache=True)
def _clip(x, out, n, lo, hi, has_lo, has_hi):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        v = x[i]
        if has_lo and v < lo:
            v = lo
        if has_hi and v > hi:
            v = hi
        out[i] = v
        i += step


@register("cuda", "clip")
def clip(x, lo=None, hi=None):
    out = empty(x.shape, x.dtype)
    t = x.dtype.type
    launch_1d(_clip, x.size, x.dev, out.dev, x.size, t(0 if lo is None else lo),
              t(0 if hi is None else hi), lo is not None, hi is not None)
    return out
