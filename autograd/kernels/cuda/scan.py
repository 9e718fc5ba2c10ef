"""Scans along one axis on cuda: np.cumsum, np.cumprod and the ufuncs' ``accumulate`` (add,
multiply, maximum, minimum, logaddexp), as the scan ops call them
(`ufuncs.FUNCTIONS` / `ufuncs.METHODS`).

A contiguous array seen along one axis is an (outer, r, inner) block: one thread per
(outer, inner) line walks its r elements in order (a scan is sequential along the line), so
neighbouring threads read neighbouring elements wherever inner > 1. Sums accumulate in the
array's dtype, element after element, as numpy's cumsum does.
"""
from __future__ import annotations

import math

import numpy as np
from numba import cuda

from . import ufuncs
from .array import CudaArray
from .reduce import _sum_dtype
from .runtime import empty, launch_1d


def _scan_kernel(op):
    @cuda.jit  # a closure: not cached (its captured function is not part of the key)
    def scan(x, out, outer, r, inner):
        i = cuda.grid(1)
        step = cuda.gridsize(1)
        while i < outer * inner:
            o = i // inner
            j = i - o * inner
            base = o * r * inner + j
            acc = x[base]
            out[base] = acc
            for k in range(1, r):
                acc = op(acc, x[base + k * inner])
                out[base + k * inner] = acc
            i += step
    return scan


@cuda.jit(device=True)
def _add(a, b):
    return a + b


@cuda.jit(device=True)
def _mul(a, b):
    return a * b


@cuda.jit(device=True)
def _max(a, b):
    return a if (a >= b or math.isnan(a)) else b  # NaN propagates, as np.maximum


@cuda.jit(device=True)
def _min(a, b):
    return a if (a <= b or math.isnan(a)) else b


@cuda.jit(device=True)
def _logaddexp(a, b):
    if a == b:
        return a + math.log(2.0)
    m = max(a, b)
    if math.isnan(m) or math.isnan(a - b):
        return a + b
    return m + math.log1p(math.exp(-abs(a - b)))


_SCANS = {"add": _scan_kernel(_add), "multiply": _scan_kernel(_mul),
          "maximum": _scan_kernel(_max), "minimum": _scan_kernel(_min),
          "logaddexp": _scan_kernel(_logaddexp)}


def _block(shape: tuple, axis: int) -> tuple:
    outer = math.prod(shape[:axis])
    inner = math.prod(shape[axis + 1:])
    return outer, shape[axis], inner


def _axis(name: str, x: CudaArray, axis) -> int:
    if axis is None:
        raise NotImplementedError(f"cuda {name}: axis=None (a flattened scan); the ops always "
                                  f"pass an axis")
    if not -x.ndim <= int(axis) < max(x.ndim, 1):
        raise np.exceptions.AxisError(f"{name}: axis {axis} is out of bounds for an array of "
                                      f"dimension {x.ndim}")
    return int(axis) % max(x.ndim, 1)


def accumulate(name: str, x: CudaArray, axis=0, dtype=None, out=None) -> CudaArray:
    """numpy's `ufunc.accumulate(x, axis)` for ufunc `name` in _SCANS: one launch."""
    if not isinstance(x, CudaArray) or x.ndim == 0:
        raise TypeError(f"cuda {name}.accumulate: expected a cuda array with dims, got "
                        f"{type(x).__name__} of shape {np.shape(x)}")
    axis = _axis(f"{name}.accumulate", x, axis)
    if dtype is not None and np.dtype(dtype) != x.dtype:
        x = x.astype(dtype)
    if name == "logaddexp" and x.dtype.kind != "f":
        raise TypeError(f"cuda logaddexp.accumulate: floating arrays only, got {x.dtype}")
    res = empty(x.shape, x.dtype) if out is None else out
    if res.shape != x.shape or res.dtype != x.dtype:
        raise ValueError(f"cuda {name}.accumulate: out= must be a cuda array of shape "
                         f"{x.shape} and dtype {x.dtype}")
    outer, r, inner = _block(x.shape, axis)
    if x.size:
        launch_1d(_SCANS[name], outer * inner, x.dev, res.dev, outer, r, inner)
    return res


def cumsum(x, axis=None, dtype=None, out=None):
    """np.cumsum: numpy's accumulation dtype (small integers and bools add up in int64)."""
    dtype = _sum_dtype(x.dtype) if dtype is None else np.dtype(dtype)
    return accumulate("add", x, axis if axis is not None else _axis("cumsum", x, None),
                      dtype, out)


def cumprod(x, axis=None, dtype=None, out=None):
    dtype = _sum_dtype(x.dtype) if dtype is None else np.dtype(dtype)
    return accumulate("multiply", x, axis if axis is not None else _axis("cumprod", x, None),
                      dtype, out)


def _method(name: str, method: str, inputs: tuple, kwargs: dict, out):
    """ufunc methods on cuda arrays: `accumulate` of the ufuncs in _SCANS."""
    if method != "accumulate" or name not in _SCANS or len(inputs) != 1:
        return NotImplemented
    kwargs = dict(kwargs)
    axis = kwargs.pop("axis", 0)
    dtype = kwargs.pop("dtype", None)
    if kwargs:
        return NotImplemented
    return accumulate(name, inputs[0], axis, dtype, out)


ufuncs.FUNCTIONS.update({"cumsum": cumsum, "cumprod": cumprod})
ufuncs.METHODS.append(_method)
