"""Tensor factories: tensor, zeros, ones, full, arange, eye, random tensors, from_numpy, and
the legacy typed constructors (FloatTensor, LongTensor, ...).

Every factory takes PyTorch's ``device=`` keyword: None or "cpu" (or a cpu `device`), or
"cuda" when `autograd.cuda.is_available()` (the tensor is made on the CPU and copied; the
``*_like`` factories follow their input's device); without CUDA a CUDA device raises
RuntimeError, as on a CPU-only PyTorch build."""
from __future__ import annotations

import functools

import numpy as np

from . import devices, dtypes
from .kernels.cuda.array import from_host
from .random import Generator, generator
from .tensor import Tensor


def _shape(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(n) for n in shape)


def _float(dtype):
    return np.dtype(dtype) if dtype is not None else dtypes.get_default_dtype()


def _new(data: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor.wrap(data).requires_grad_(requires_grad) if requires_grad \
        else Tensor.wrap(data)


def tensor(data, requires_grad: bool = False, dtype=None, *, device=None) -> Tensor:
    """A new tensor holding a copy of `data` (scalar, nested list, array or Tensor)."""
    devices.resolve(device, "tensor")
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def from_numpy(a: np.ndarray) -> Tensor:
    """A tensor that shares memory with `a`."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy array, got {type(a).__name__}")
    return Tensor.wrap(a)


def zeros(*shape, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    devices.resolve(device, "zeros")
    return _new(np.zeros(_shape(shape), _float(dtype)), requires_grad)


def ones(*shape, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    devices.resolve(device, "ones")
    return _new(np.ones(_shape(shape), _float(dtype)), requires_grad)


def empty(*shape, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    devices.resolve(device, "empty")
    return _new(np.empty(_shape(shape), _float(dtype)), requires_grad)


def full(shape, fill_value, dtype=None, requires_grad: bool = False, *,
         device=None) -> Tensor:
    devices.resolve(device, "full")
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if dtype is None:
        dtype = dtypes.to_array(fill_value).dtype
    return _new(np.full(shape, fill_value, dtype=dtype), requires_grad)


def zeros_like(t, dtype=None, requires_grad: bool = False, *, device=None) -> Tensor:
    devices.resolve(device, "zeros_like")
    return _new(np.zeros(np.shape(t), dtype or _dtype_of(t)), requires_grad)


def ones_like(t, dtype=None, requires_grad: bool = False, *, device=None) -> Tensor:
    devices.resolve(device, "ones_like")
    return _new(np.ones(np.shape(t), dtype or _dtype_of(t)), requires_grad)


def arange(start, stop=None, step=1, dtype=None, requires_grad: bool = False, *,
           device=None) -> Tensor:
    """Values from start (0 if only one bound) up to stop, excluding it; int64 for ints."""
    devices.resolve(device, "arange")
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
        dtype = np.int64 if is_int else dtypes.get_default_dtype()
    return _new(np.arange(start, stop, step, dtype=dtype), requires_grad)


def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False, *,
             device=None) -> Tensor:
    """`steps` evenly spaced values from start to end. An integer dtype truncates toward
    zero (as PyTorch; numpy's linspace floors), from PyTorch's own symmetric formula."""
    devices.resolve(device, "linspace")
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


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False, *,
        device=None) -> Tensor:
    devices.resolve(device, "eye")
    return _new(np.eye(n, m, dtype=_float(dtype)), requires_grad)


def rand(*shape, generator=None, dtype=None, requires_grad: bool = False,
         device=None) -> Tensor:
    """Uniform on [0, 1), from `generator` or the global generator that `manual_seed`
    seeds."""
    devices.resolve(device, "rand")
    return _new(_random(generator).random(_shape(shape), dtype=_float(dtype)), requires_grad)


def randn(*shape, generator=None, dtype=None, requires_grad: bool = False,
          device=None) -> Tensor:
    """Standard normal, from `generator` or the global generator that `manual_seed` seeds."""
    devices.resolve(device, "randn")
    return _new(_random(generator).standard_normal(_shape(shape), dtype=_float(dtype)),
                requires_grad)


def randint(low, high=None, size=None, dtype=np.int64, *, generator=None,
            device=None) -> Tensor:
    """Integers in [low, high); randint(high, size) is randint(0, high, size)."""
    devices.resolve(device, "randint")
    if size is None:
        if high is None or isinstance(high, (int, np.integer)):
            raise TypeError("randint: expected randint(low, high, size) or randint(high, size)")
        low, high, size = 0, low, high
    size = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    return Tensor.wrap(_random(generator).integers(low, high, size=size, dtype=dtype))


def _random(gen) -> np.random.Generator:
    if gen is not None and not isinstance(gen, (Generator, np.random.Generator)):
        raise TypeError(f"generator must be an autograd.Generator, got {type(gen).__name__}")
    return generator(gen)


def _like(t, dtype, op: str, device) -> tuple:
    """(shape, dtype) of a *_like factory: t's unless dtype is given."""
    devices.resolve(device, op)
    if not isinstance(t, (Tensor, np.ndarray)):
        raise TypeError(f"{op}: argument 'input' must be a Tensor, not {type(t).__name__}")
    return tuple(t.shape), np.dtype(dtype) if dtype is not None else t.dtype


def full_like(input, fill_value, dtype=None, requires_grad: bool = False, *,
              device=None) -> Tensor:
    """A tensor of input's shape (and dtype unless given) filled with fill_value."""
    shape, dt = _like(input, dtype, "full_like", device)
    return _new(np.full(shape, fill_value).astype(dt), requires_grad)


def empty_like(input, dtype=None, requires_grad: bool = False, *, device=None) -> Tensor:
    """An uninitialised tensor of input's shape and dtype (numbagrad zero-fills it)."""
    shape, dt = _like(input, dtype, "empty_like", device)
    return _new(np.zeros(shape, dt), requires_grad)


def _floating_like(op: str, dt: np.dtype) -> None:
    if dt.kind != "f":
        raise NotImplementedError(f"{op}: not implemented for {dt} (floating point dtypes "
                                  f"only)")


def rand_like(input, dtype=None, requires_grad: bool = False, *, generator=None,
              device=None) -> Tensor:
    """Uniform on [0, 1) in input's shape and (floating) dtype."""
    shape, dt = _like(input, dtype, "rand_like", device)
    _floating_like("rand_like", dt)
    return _new(_random(generator).random(shape).astype(dt), requires_grad)


def randn_like(input, dtype=None, requires_grad: bool = False, *, generator=None,
               device=None) -> Tensor:
    """Standard normal in input's shape and (floating) dtype."""
    shape, dt = _like(input, dtype, "randn_like", device)
    _floating_like("randn_like", dt)
    return _new(_random(generator).standard_normal(shape).astype(dt), requires_grad)


def randint_like(input, low=0, high=None, dtype=None, requires_grad: bool = False, *,
                 generator=None, device=None) -> Tensor:
    """Integers in [low, high) in input's shape and dtype; randint_like(input, high) draws
    from [0, high)."""
    shape, dt = _like(input, dtype, "randint_like", device)
    if high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"randint_like: expected low < high, got low={low}, high={high}")
    values = _random(generator).integers(low, high, size=shape)
    return _new(values.astype(dt), requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, dtype=None,
             requires_grad: bool = False, *, device=None) -> Tensor:
    """`steps` values base ** x for x evenly spaced from start to end."""
    devices.resolve(device, "logspace")
    if steps < 0:
        raise RuntimeError(f"logspace: number of steps must be non-negative, got {steps}")
    dt = _float(dtype)
    values = np.power(float(base), np.linspace(start, end, steps, dtype=np.float64))
    if dt.kind in "iu":
        values = np.rint(values)
    return _new(values.astype(dt), requires_grad)


# ---- legacy typed constructors ----------------------------------------------------------------
class _LegacyTensorType(type):
    """`FloatTensor(data)` copies data into a float32 tensor, `FloatTensor(2, 3)` makes one
    of that size (zero-filled; PyTorch leaves it uninitialised), `FloatTensor()` an empty
    one; `isinstance(t, FloatTensor)` holds for every float32 Tensor, as in PyTorch."""

    dtype: np.dtype

    def __call__(cls, *args, device=None) -> Tensor:
        devices.resolve(device, cls.__name__)
        if not args:
            return Tensor.wrap(np.empty(0, cls.dtype))
        if all(isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_))
               for a in args):
            sizes = tuple(int(a) for a in args)
            if min(sizes) < 0:
                raise RuntimeError(f"{cls.__name__}: trying to create a tensor with negative "
                                   f"dimension {min(sizes)}: {list(sizes)}")
            return Tensor.wrap(np.zeros(sizes, cls.dtype))
        if len(args) > 1:
            raise TypeError(f"{cls.__name__}: expected integer sizes or one sequence of data, "
                            f"got {tuple(type(a).__name__ for a in args)}")
        (data,) = args
        if isinstance(data, Tensor):
            if data.dtype != cls.dtype:
                raise TypeError(f"{cls.__name__}: expected a tensor of dtype {cls.dtype}, got "
                                f"one of dtype {data.dtype}")
            return data.detach()
        if not isinstance(data, (list, tuple, np.ndarray)):
            raise TypeError(f"{cls.__name__}: data must be a sequence (got "
                            f"{type(data).__name__})")
        return Tensor(data, dtype=cls.dtype)

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype


class FloatTensor(metaclass=_LegacyTensorType):
    dtype = np.dtype(np.float32)


class DoubleTensor(metaclass=_LegacyTensorType):
    dtype = np.dtype(np.float64)


class HalfTensor(metaclass=_LegacyTensorType):
    dtype = np.dtype(np.float16)


class LongTensor(metaclass=_LegacyTensorType):
    dtype = np.dtype(np.int64)


class IntTensor(metaclass=_LegacyTensorType):
    dtype = np.dtype(np.int32)


class ShortTensor(metaclass=_LegacyTensorType):
    dtype = np.dtype(np.int16)


class ByteTensor(metaclass=_LegacyTensorType):
    dtype = np.dtype(np.uint8)


class BoolTensor(metaclass=_LegacyTensorType):
    dtype = np.dtype(np.bool_)


# ---- device= ------------------------------------------------------------------------------------
def _dtype_of(t) -> np.dtype:
    return t.dtype if isinstance(t, Tensor) else np.asarray(t).dtype


def _placed(factory):
    """`factory` with ``device="cuda"``: the tensor is made on the CPU (the same values and
    random stream as there) and its data copied to the device, still a leaf."""
    name = factory.__name__
    like = name.endswith("_like")

    @functools.wraps(factory)
    def make(*args, device=None, **kwargs):
        if device is None and like and args and isinstance(args[0], Tensor):
            dev = args[0].device
        else:
            dev = devices.resolve(device, name)
        if dev.type != "cuda":
            return factory(*args, **kwargs)
        t = factory(*args, **kwargs)
        out = Tensor.wrap(from_host(t.data))
        return out.requires_grad_(True) if t.requires_grad else out
    return make


for _name in ("tensor", "zeros", "ones", "empty", "full", "zeros_like", "ones_like", "arange",
              "linspace", "eye", "rand", "randn", "randint", "full_like", "empty_like",
              "rand_like", "randn_like", "randint_like", "logspace"):
    globals()[_name] = _placed(globals()[_name])
