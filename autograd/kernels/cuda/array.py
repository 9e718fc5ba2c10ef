"""CudaArray: the ``.data`` of a tensor on ``device="cuda"`` (imports no numba).

It holds a C-contiguous numba device array (``.dev``) and answers the numpy attributes the
ops read (shape, dtype, ndim, size, flags, reshape, astype, copy, fill, the arithmetic
operators), each through a registered cuda kernel. It is never turned into a numpy array
implicitly: ``np.asarray``, numpy ufuncs and numpy functions on it raise, naming the op
that tried (an op with no cuda kernel yet), except the allocators ``np.zeros_like``,
``np.ones_like``, ``np.empty_like`` and ``np.full_like``, which allocate on the device (the
optimisers make their state with them). `to_device` and `CudaArray.get` are the two
explicit copies between host and device.

This module is the one part of the cuda backend that ``import autograd`` loads (tensor.py
and the registry test for the type). It imports none of the others: its methods reach
runtime.py and ufuncs.py by name on first use (`_module`), as the registry loads a backend's
modules, which keeps the modules free of import cycles.
"""
from __future__ import annotations

import importlib
import sys

import numpy as np

__all__ = ["DEVICE", "CudaArray", "device_error", "device_mismatch", "from_host", "kernel",
           "mixed_devices", "on_device"]

DEVICE = "cuda:0"


class _Flags:
    __slots__ = ()
    c_contiguous = True
    writeable = True
    f_contiguous = False


_FLAGS = _Flags()


class CudaArray:
    """A C-contiguous array in CUDA memory: ``dev``, a flat 1-D numba device array of its
    elements (one for a 0-d array), its ``shape`` and ``dtype``; the kernels index the flat
    buffer, so `reshape` is free and its result shares the memory."""

    __slots__ = ("dev", "dtype", "shape")
    __array_priority__ = 2000

    def __init__(self, dev, shape: tuple) -> None:
        self.dev = dev
        self.shape = shape
        self.dtype = np.dtype(dev.dtype)

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: _prod(self.shape))
    itemsize = property(lambda self: self.dtype.itemsize)
    nbytes = property(lambda self: self.size * self.dtype.itemsize)
    flags = property(lambda self: _FLAGS)
    base = None
    device = property(lambda self: DEVICE)

    def __repr__(self) -> str:
        return f"CudaArray(shape={self.shape}, dtype={self.dtype}, device={DEVICE!r})"

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    # ---- explicit copies -------------------------------------------------------------
    def get(self) -> np.ndarray:
        """A numpy copy of the data (the one way back to the host: `Tensor.cpu`)."""
        runtime = _module("runtime")
        return runtime.to_host(self)

    # ---- views and copies on the device ----------------------------------------------
    def reshape(self, *shape, order: str = "C") -> CudaArray:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        shape = tuple(int(n) for n in shape)
        if shape.count(-1) > 1:
            raise ValueError("can only specify one unknown dimension")
        if -1 in shape:
            known = _prod(n for n in shape if n != -1)
            if known == 0 or self.size % known:
                raise ValueError(f"cannot reshape array of size {self.size} into shape {shape}")
            shape = tuple(self.size // known if n == -1 else n for n in shape)
        if _prod(shape) != self.size:
            raise ValueError(f"cannot reshape array of size {self.size} into shape {shape}")
        return self if shape == self.shape else CudaArray(self.dev, shape)

    def ravel(self) -> CudaArray:
        return self.reshape(self.size)

    def copy(self) -> CudaArray:
        runtime = _module("runtime")
        return runtime.copy(self)

    def astype(self, dtype, copy: bool = True, casting=None) -> CudaArray:
        dtype = np.dtype(dtype)
        if dtype == self.dtype and not copy:
            return self
        runtime = _module("runtime")
        return runtime.cast(self, dtype)

    def fill(self, value) -> None:
        runtime = _module("runtime")
        runtime.fill(self, value)

    def __getitem__(self, index):
        """x[index] with PyTorch's rule (ints, slices with steps, None, ..., integer and
        boolean index arrays), as a new array: a cuda array has no views (index.py)."""
        items = index if isinstance(index, tuple) else (index,)
        if all(i is None or i is Ellipsis or (isinstance(i, slice) and i == slice(None))
               for i in items) \
                and sum(i is Ellipsis for i in items) <= 1:
            shape, dims = [], list(self.shape)
            explicit = sum(i is not None and i is not Ellipsis for i in items)
            if explicit > len(dims):
                raise IndexError(f"too many indices for a cuda tensor of shape {self.shape}")
            for i in items:
                if i is None:
                    shape.append(1)
                elif i is Ellipsis:
                    take = len(dims) - explicit
                    shape += dims[:take]
                    dims = dims[take:]
                else:
                    shape.append(dims.pop(0))
                    explicit -= 1
            return self.reshape(tuple(shape + dims))  # free: a reshape
        return _module("index").take(self, index)

    def item(self):
        """The one element as a Python number: a copy to the host (a sync), as PyTorch's."""
        if self.size != 1:
            raise ValueError(f"can only convert an array of size 1 to a Python scalar, got "
                             f"shape {self.shape}")
        return self.get().reshape(()).item()

    def __setitem__(self, index, value) -> None:
        """x[index] = value in place, PyTorch's rule (value broadcast to the indexed shape)."""
        runtime = _module("runtime")
        if index is Ellipsis or (isinstance(index, slice) and index == slice(None)):
            if isinstance(value, CudaArray) and value.shape == self.shape:
                runtime.assign(self, value)
                return
            if np.ndim(value) == 0 and not isinstance(value, CudaArray):
                runtime.fill(self, value)
                return
        if isinstance(value, np.ndarray) and value.ndim:
            raise mixed_devices("setitem", DEVICE, "cpu")
        _module("index").put(self, index, value)

    # ---- arithmetic: numpy's ufuncs, which `__array_ufunc__` sends to the cuda kernels -----
    def _k(self, name: str, *args, **kwargs):
        return getattr(importlib.import_module("autograd.kernels"), name)(*args, **kwargs)

    __add__ = lambda self, o: np.add(self, o)
    __radd__ = lambda self, o: np.add(o, self)
    __sub__ = lambda self, o: np.subtract(self, o)
    __rsub__ = lambda self, o: np.subtract(o, self)
    __mul__ = lambda self, o: np.multiply(self, o)
    __rmul__ = lambda self, o: np.multiply(o, self)
    __truediv__ = lambda self, o: np.true_divide(self, o)
    __rtruediv__ = lambda self, o: np.true_divide(o, self)
    __pow__ = lambda self, o: np.power(self, o)
    __neg__ = lambda self: np.negative(self)
    __abs__ = lambda self: np.absolute(self)

    def __iadd__(self, o):
        return np.add(self, o, out=self)

    def __isub__(self, o):
        return np.subtract(self, o, out=self)

    def __imul__(self, o):
        return np.multiply(self, o, out=self)

    def __itruediv__(self, o):
        return np.true_divide(self, o, out=self)

    # ---- no implicit conversion to numpy ---------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise device_error(f"numpy.asarray / np.array of a {self._what()}")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "at" and ufunc is np.add and isinstance(inputs[0], CudaArray) \
                and len(inputs) == 3:  # np.add.at(x, idx, v): the scatter-add, PyTorch's rule
            return _module("index").put(inputs[0], inputs[1], inputs[2], accumulate=True)
        if any(isinstance(x, np.ndarray) and x.ndim for x in inputs):
            raise mixed_devices(f"{_op_name()} (numpy.{ufunc.__name__})", DEVICE, "cpu")
        out = kwargs.pop("out", None)
        if isinstance(out, tuple):
            out = out[0] if len(out) == 1 else out
        if method == "__call__" and not kwargs and (out is None or isinstance(out, CudaArray)):
            ufuncs = _module("ufuncs")
            result = ufuncs.call(ufunc.__name__, inputs, out)
            if result is not NotImplemented:
                return result
        if method != "__call__" and isinstance(out, CudaArray | None):
            result = _module("ufuncs").method(ufunc.__name__, method, inputs, kwargs, out)
            if result is not NotImplemented:
                return result
        raise device_error(f"numpy.{ufunc.__name__} on a {self._what()}")

    def __array_function__(self, func, types, args, kwargs):
        name = func.__name__
        if name in _ALLOCATORS and args and args[0] is self:
            runtime = _module("runtime")
            return runtime.allocate_like(self, name, args[1:], kwargs)
        ufuncs = _module("ufuncs")
        result = ufuncs.function(name, args, kwargs)
        if result is not NotImplemented:
            return result
        raise device_error(f"numpy.{name} on a {self._what()}")

    # numpy's comparison operators and reductions as methods, on the device
    def __gt__(self, o):
        return np.greater(self, o) if _operand(o) else NotImplemented

    def __ge__(self, o):
        return np.greater_equal(self, o) if _operand(o) else NotImplemented

    def __lt__(self, o):
        return np.less(self, o) if _operand(o) else NotImplemented

    def __le__(self, o):
        return np.less_equal(self, o) if _operand(o) else NotImplemented

    def __eq__(self, o):
        return np.equal(self, o) if _operand(o) else NotImplemented

    def __ne__(self, o):
        return np.not_equal(self, o) if _operand(o) else NotImplemented

    def __and__(self, o):
        return np.logical_and(self, o)

    def __or__(self, o):
        return np.logical_or(self, o)

    def __invert__(self):
        return np.logical_not(self)

    __hash__ = object.__hash__

    def sum(self, axis=None, keepdims: bool = False, dtype=None, out=None):
        x = self if dtype is None else self.astype(dtype)
        return self._k("sum", x, axis, keepdims, out=out)

    def max(self, axis=None, keepdims: bool = False, out=None):
        return self._k("amax", self, axis, keepdims, out=out)

    def min(self, axis=None, keepdims: bool = False, out=None):
        return self._k("amin", self, axis, keepdims, out=out)

    def any(self, axis=None, keepdims: bool = False):
        return np.any(self, axis=axis, keepdims=keepdims)

    def all(self, axis=None, keepdims: bool = False):
        return np.all(self, axis=axis, keepdims=keepdims)

    def __bool__(self):
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def _what(self) -> str:
        return f"cuda array of shape {self.shape} and dtype {self.dtype}"


_ALLOCATORS = ("zeros_like", "ones_like", "empty_like", "full_like")


def _prod(shape) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n


def _operand(o) -> bool:
    """Whether `o` can meet a cuda array in a comparison: an array or a number."""
    return isinstance(o, (CudaArray, np.ndarray, np.generic, int, float, bool))


def _scalar(o, like: CudaArray):
    """A Python number operand as a 0-d numpy array of like's dtype (a scalar argument)."""
    if isinstance(o, (CudaArray, np.ndarray)):
        return o
    return np.asarray(o, dtype=like.dtype)


def _op_name() -> str:
    """The op (a Function subclass, or failing that the function) whose code is running:
    the innermost frame that is a Function's forward or backward."""
    frame = sys._getframe(2)
    fallback = None
    while frame is not None:
        code = frame.f_code
        owner = frame.f_locals.get("self")
        if code.co_name in ("forward", "backward", "compute") and owner is not None:
            return f"{type(owner).__name__}.{code.co_name}"
        if fallback is None and "autograd/kernels" not in code.co_filename.replace("\\", "/"):
            fallback = code.co_name
        frame = frame.f_back
    return fallback or "?"


def device_error(what: str) -> NotImplementedError:
    """The error for an op with no cuda implementation: it names the op and the device."""
    return NotImplementedError(
        f"{_op_name()}: {what}: this op has no cuda kernel yet (device {DEVICE}); numbagrad "
        f"never copies cuda data to the CPU implicitly: move the tensors with .cpu() to run "
        f"it there")


def device_of(x) -> str:
    return DEVICE if isinstance(x, CudaArray) else "cpu"


def mixed_devices(op: str, first: str, second: str) -> RuntimeError:
    return RuntimeError(f"{op}: expected all tensors to be on the same device, but found at "
                        f"least two devices, {first} and {second}")


def device_mismatch(name: str, args: tuple, kwargs: dict) -> RuntimeError | None:
    """The RuntimeError for a kernel call that mixes cuda arrays with numpy arrays that have
    dims (0-d numpy arrays are scalars, allowed with cuda arrays as PyTorch's CPU scalars),
    or None."""
    found = []
    for a in (*args, *kwargs.values()):
        if isinstance(a, CudaArray):
            kind = DEVICE
        elif isinstance(a, np.ndarray) and a.ndim:
            kind = "cpu"
        else:
            continue
        if kind not in found:
            found.append(kind)
    return mixed_devices(name, *found) if len(found) > 1 else None


def on_device(spec, args: tuple, kwargs: dict, load) -> object:
    """Run kernel `spec` on cuda arrays: its cuda implementation, after `load()` imports the
    cuda backend's modules on first use (the registry passes its loader)."""
    impl = spec.impls.get("cuda")
    if impl is None:
        load()
        _module("optim").register_updates()  # updates declared after the backend loaded
        impl = spec.impls.get("cuda")
        if impl is None:
            raise NotImplementedError(
                f"{spec.name}: the kernel has no cuda implementation yet (device {DEVICE}; "
                f"called by {_op_name()}); move the tensors with .cpu() to run it there")
    mixed = device_mismatch(spec.name, args, kwargs)
    if mixed is not None:
        raise mixed
    return impl(*args, **kwargs)


def from_host(a: np.ndarray) -> CudaArray:
    """A device copy of the numpy array `a` (`Tensor.to("cuda")`)."""
    runtime = _module("runtime")
    return runtime.to_device(a)


def kernel(module: str, name: str):
    """The function `name` of the cuda backend's module `module`: a cuda-only kernel that
    an op calls on cuda arrays where its CPU path uses numpy directly (imports numba-cuda)."""
    return getattr(_module(module), name)


def _module(name: str):
    """The cuda backend's module `name` (imports numba-cuda on first use)."""
    return importlib.import_module(f"{__package__}.{name}")
