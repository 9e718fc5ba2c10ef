"""Reduction cuda kernels: sum, amax, amin over any axes (keepdims, out=), and sum_to_shape
(broadcasting's undo).

A contiguous array reduced over a run of adjacent axes is an (outer, r, inner) block: one
thread per (outer, inner) output loops over r. Axes that are not adjacent are reduced one
run at a time, the last run first. A whole-array reduction of many elements runs in two
launches: each thread of a fixed grid reduces a strided share into a partial, then one thread
reduces the partials. Sums of float32 accumulate in float64 (as accurate as numpy's pairwise
sum, or more).
"""
from __future__ import annotations

import math

import numpy as np
from numba import cuda

from ..registry import register
from . import ufuncs
from .array import CudaArray
from .runtime import MAX_BLOCKS, THREADS, empty, launch, launch_1d

_PARTIALS = 2 * THREADS if MAX_BLOCKS < 64 else 64 * THREADS


def _kernels(op, init_zero: bool):
    @cuda.jit  # a closure: not cached (its captured function is not part of the key)
    def rows(x, out, outer, r, inner):
        i = cuda.grid(1)
        step = cuda.gridsize(1)
        while i < outer * inner:
            o = i // inner
            j = i - o * inner
            base = o * r * inner + j
            if init_zero:
                acc = 0.0
                for k in range(r):
                    acc = op(acc, x[base + k * inner])
            else:
                acc = x[base]
                for k in range(1, r):
                    acc = op(acc, x[base + k * inner])
            out[i] = acc
            i += step

    @cuda.jit  # a closure: not cached (its captured function is not part of the key)
    def partial(x, out, n):
        i = cuda.grid(1)
        step = cuda.gridsize(1)
        if i < n:
            if init_zero:
                acc = 0.0
                k = i
            else:
                acc = x[i]
                k = i + step
            while k < n:
                acc = op(acc, x[k])
                k += step
            out[i] = acc

    return rows, partial


@cuda.jit(device=True)
def _add(a, b):
    return a + b


@cuda.jit(device=True)
def _max(a, b):
    return a if (a > b or math.isnan(a)) else b  # NaN propagates, as numpy's max


@cuda.jit(device=True)
def _min(a, b):
    return a if (a < b or math.isnan(a)) else b


@cuda.jit(device=True)
def _mul(a, b):
    return a * b


@cuda.jit(device=True)
def _or(a, b):
    return a or b


@cuda.jit(device=True)
def _and(a, b):
    return a and b


# the ops without an initial value (prod, any, all) start from the first element; an empty
# reduction never reaches their kernels (`reduce` fills in the identity)
_OPS = {"sum": _kernels(_add, True), "amax": _kernels(_max, False),
        "amin": _kernels(_min, False), "prod": _kernels(_mul, False),
        "any": _kernels(_or, False), "all": _kernels(_and, False)}
_IDENTITY = {"prod": 1, "any": False, "all": True}


def _axes(axis, ndim: int) -> tuple:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return tuple(sorted({int(a) % max(ndim, 1) for a in axes}))


def _runs(axes: tuple) -> list:
    """Maximal runs of adjacent axes, last first: [(first, last), ...]."""
    runs: list = []
    for a in axes:
        if runs and runs[-1][1] == a - 1:
            runs[-1][1] = a
        else:
            runs.append([a, a])
    return runs[::-1]


def _sum_dtype(dtype: np.dtype) -> np.dtype:
    """numpy's sum dtype: small integers and bools add up in (u)int64."""
    if dtype.kind == "b" or (dtype.kind == "i" and dtype.itemsize < 8):
        return np.dtype(np.int64)
    if dtype.kind == "u" and dtype.itemsize < 8:
        return np.dtype(np.uint64)
    return dtype


def _reduce_run(kernels, x: CudaArray, first: int, last: int, dtype) -> CudaArray:
    rows, partial = kernels
    shape = x.shape
    outer = math.prod(shape[:first])
    r = math.prod(shape[first:last + 1])
    inner = math.prod(shape[last + 1:])
    out_shape = shape[:first] + (1,) * (last + 1 - first) + shape[last + 1:]
    res = empty(out_shape, dtype)
    if outer * inner == 1 and r > 4 * _PARTIALS:
        parts = empty((_PARTIALS,), dtype)
        blocks = _PARTIALS // THREADS
        launch(partial, blocks, THREADS, x.dev, parts.dev, r)
        launch(rows, 1, 1, parts.dev, res.dev, 1, _PARTIALS, 1)
    else:
        launch_1d(rows, outer * inner, x.dev, res.dev, outer, r, inner)
    return res


def reduce(name: str, x: CudaArray, axis=None, keepdims: bool = False, out=None):
    axes = _axes(axis, x.ndim)
    empty_run = any(x.shape[a] == 0 for a in axes)
    if name in ("amax", "amin") and empty_run:
        raise ValueError(f"{name}: zero-size array to reduction operation which has no "
                         f"identity (shape {x.shape})")
    if name in ("any", "all"):
        dtype = np.dtype(np.bool_)
        x = x if x.dtype == np.bool_ else x.astype(np.bool_)
    else:
        dtype = _sum_dtype(x.dtype) if name in ("sum", "prod") else x.dtype
    kept = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
    shape = kept if keepdims else tuple(n for i, n in enumerate(x.shape) if i not in axes)
    if empty_run and name in _IDENTITY:
        from .runtime import full
        res = full(shape, _IDENTITY[name], dtype)
    else:
        res = x.astype(dtype) if x.ndim == 0 or x.dtype != dtype else x
        for first, last in _runs(axes):
            res = _reduce_run(_OPS[name], res, first, last, dtype)
        res = res.reshape(shape)
    if out is not None:
        from .runtime import assign
        assign(out, res)
        return out
    return res


@register("cuda", "sum")
def sum_(x, axis=None, keepdims=False, out=None):
    return reduce("sum", x, axis, keepdims, out)


@register("cuda", "amax")
def amax(x, axis=None, keepdims=False, out=None):
    return reduce("amax", x, axis, keepdims, out)


@register("cuda", "amin")
def amin(x, axis=None, keepdims=False, out=None):
    return reduce("amin", x, axis, keepdims, out)


@register("cuda", "prod")
def prod(x, axis=None, keepdims=False, out=None):
    return reduce("prod", x, axis, keepdims, out)


def any_(x, axis=None, keepdims=False, out=None, **kwargs):
    """np.any on a cuda array (the ops' truth tests: `Tensor.any`, a loss's input check)."""
    return reduce("any", x, axis, keepdims, out)


def all_(x, axis=None, keepdims=False, out=None, **kwargs):
    return reduce("all", x, axis, keepdims, out)


def count_nonzero(x, axis=None, keepdims=False):
    """np.count_nonzero: the int64 sum of x != 0, on the device (a 0-d array for a
    whole-array count, where numpy answers an int: no sync)."""
    nonzero = x if x.dtype == np.bool_ else x.astype(np.bool_)
    return reduce("sum", nonzero, axis, keepdims)


ufuncs.FUNCTIONS.update({"any": any_, "all": all_, "count_nonzero": count_nonzero,
                         "prod": prod, "amax": amax, "max": amax, "amin": amin, "min": amin})


@register("cuda", "sum_to_shape")
def sum_to_shape(g, shape):
    shape = tuple(shape)
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1)
    return reduce("sum", g, axes, True).reshape(shape) if axes else g.reshape(shape)


@cuda.jit(cache=True)
def _finite_or_zero(m, n):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        v = m[i]
        if math.isnan(v) or math.isinf(v):
            m[i] = 0
        i += step


@register("cuda", "logsumexp")
def logsumexp(x, axis=None, keepdims=False):
    """m + log(sum(exp(x - m))) with m the max (0 where it is not finite), as the reference."""
    from . import elementwise
    from .runtime import full
    axes = _axes(axis, x.ndim)
    if x.size == 0:
        kept = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
        shape = kept if keepdims else tuple(n for i, n in enumerate(x.shape) if i not in axes)
        return full(shape, -np.inf, x.dtype)
    m = reduce("amax", x, axes, True)
    m = m.copy()
    launch_1d(_finite_or_zero, m.size, m.dev, m.size)
    sub, exp, log, add = (elementwise.KERNELS[k] for k in ("sub", "exp", "log", "add"))
    s = reduce("sum", exp(sub(x, m)), axes, True)
    out = add(log(s), m)
    if keepdims:
        return out
    return out.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))
