"""Tensor factories: tensor, zeros, ones, full, arange, eye, random tensors, from_numpy."""
from __future__ import annotations

import numpy as np

from . import dtypes
from .random import generator
from .tensor import Tensor


def _shape(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(n) for n in shape)


def _float(dtype):
    return np.dtype(dtype) if dtype is not None else dtypes.get_default_dtype()


def _new(data: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor._make(data).requires_grad_(requires_grad) if requires_grad \
        else Tensor._make(data)


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """A new tensor holding a copy of `data` (scalar, nested list, array or Tensor)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def from_numpy(a: np.ndarray) -> Tensor:
    """A tensor that shares memory with `a`."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy array, got {type(a).__name__}")
    return Tensor._make(a)


def zeros(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    return _new(np.zeros(_shape(shape), _float(dtype)), requires_grad)


def ones(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    return _new(np.ones(_shape(shape), _float(dtype)), requires_grad)


def empty(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    return _new(np.empty(_shape(shape), _float(dtype)), requires_grad)


def full(shape, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if dtype is None:
        dtype = dtypes.to_array(fill_value).dtype
    return _new(np.full(shape, fill_value, dtype=dtype), requires_grad)


def zeros_like(t, dtype=None, requires_grad: bool = False) -> Tensor:
    return _new(np.zeros(np.shape(t), dtype or np.asarray(t).dtype), requires_grad)


def ones_like(t, dtype=None, requires_grad: bool = False) -> Tensor:
    return _new(np.ones(np.shape(t), dtype or np.asarray(t).dtype), requires_grad)


def arange(start, stop=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """Values from start (0 if only one bound) up to stop, excluding it; int64 for ints."""
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
        dtype = np.int64 if is_int else dtypes.get_default_dtype()
    return _new(np.arange(start, stop, step, dtype=dtype), requires_grad)


def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced values from start to end. An integer dtype truncates toward
    zero (as PyTorch; numpy's linspace floors), from PyTorch's own symmetric formula."""
    dtype = _float(dtype)
    if dtype.kind in "fc":
        return _new(np.linspace(start, end, steps, dtype=dtype), requires_grad)
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    i = np.arange(steps, dtype=np.float64)
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    values = np.where(i < steps // 2, start + step * i, end - step * (steps - i - 1))
    if steps == 1:
        values[0] = start
    return _new(values.astype(dtype), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    return _new(np.eye(n, m, dtype=_float(dtype)), requires_grad)


def rand(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1), from the generator that `manual_seed` seeds."""
    return _new(generator().random(_shape(shape), dtype=_float(dtype)), requires_grad)


def randn(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal, from the generator that `manual_seed` seeds."""
    return _new(generator().standard_normal(_shape(shape), dtype=_float(dtype)), requires_grad)


def randint(low, high=None, size=None, dtype=np.int64) -> Tensor:
    """Integers in [low, high); randint(high, size) is randint(0, high, size)."""
    if size is None:
        if high is None or isinstance(high, (int, np.integer)):
            raise TypeError("randint: expected randint(low, high, size) or randint(high, size)")
        low, high, size = 0, low, high
    size = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    return Tensor._make(generator().integers(low, high, size=size, dtype=dtype))
