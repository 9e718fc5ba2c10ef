"""numpy's ufuncs and a few numpy functions on cuda arrays (`CudaArray.__array_ufunc__` /
`__array_function__`): the ops that call numpy directly on their arrays (a mask with
``x > 0``, ``np.sign``, ``np.transpose``, ``np.where``, ...) run on the device through
these. Each maps to a registered cuda kernel; anything else is NotImplemented (the caller
raises NotImplementedError naming the op and the device).
"""
from __future__ import annotations

import numpy as np

from ... import kernels
from . import blocks, elementwise, gather, index
from .array import CudaArray

# numpy ufunc name -> declared kernel (dispatched to its cuda implementation)
_KERNELS = {"add": "add", "subtract": "sub", "multiply": "mul", "divide": "div",
            "true_divide": "div", "negative": "neg", "exp": "exp", "log": "log",
            "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tanh": "tanh", "absolute": "absolute",
            "maximum": "maximum", "minimum": "minimum", "power": "power"}


# more ufuncs / functions, registered by the backend's other modules (transcendental.py,
# scan.py, ...): name -> implementation, called as numpy calls them
UFUNCS: dict = {}
FUNCTIONS: dict = {}
METHODS: list = []  # ufunc methods (accumulate, ...): each answers or says NotImplemented


def method(name: str, kind: str, inputs: tuple, kwargs: dict, out):
    """numpy's `ufunc.<kind>(*inputs, **kwargs)` for ufunc `name`, or NotImplemented."""
    kernels.registry.load_cuda()
    for handler in METHODS:
        result = handler(name, kind, inputs, kwargs, out)
        if result is not NotImplemented:
            return result
    return NotImplemented


_LAYOUT = ("transpose", "swapaxes", "moveaxis", "flip")  # strided copies (index.py)


def call(name: str, inputs: tuple, out):
    """ufunc `name` on `inputs` (cuda arrays and scalars), or NotImplemented."""
    kernels.registry.load_cuda()  # the modules that fill UFUNCS / FUNCTIONS
    if name in UFUNCS:
        return UFUNCS[name](*inputs, out=out)
    if name in elementwise.BOOL_BINARY and len(inputs) == 2:
        return elementwise.compare(name, *inputs, out=out)
    if name == "sign" and len(inputs) == 1:
        return elementwise.sign(*inputs, out=out)
    if name in ("logical_not", "invert") and len(inputs) == 1 and inputs[0].dtype == np.bool_:
        return elementwise.logical_not(*inputs, out=out)
    kernel = _KERNELS.get(name)
    if kernel is None:
        return NotImplemented
    if len(inputs) == 2:
        a, b = inputs
        if isinstance(a, CudaArray) and isinstance(b, CudaArray) and a.dtype != b.dtype:
            dtype = np.result_type(a.dtype, b.dtype)  # numpy's promotion (bool / int: float)
            if kernel == "div" and dtype.kind not in "fc":
                dtype = np.dtype(np.float64)
            a, b = a.astype(dtype, copy=False), b.astype(dtype, copy=False)
        if not isinstance(a, CudaArray):  # a scalar first: the cuda array leads the dispatch
            a = np.asarray(a, dtype=b.dtype)
            return getattr(kernels, kernel).implementation("cuda")(a, b, out=out)
        if not isinstance(b, CudaArray):
            b = np.asarray(b, dtype=a.dtype)
        return getattr(kernels, kernel)(a, b, out=out)
    return getattr(kernels, kernel)(*inputs, out=out)


def function(name: str, args: tuple, kwargs: dict):
    """numpy function `name` on cuda arrays, or NotImplemented."""
    kernels.registry.load_cuda()
    if name in FUNCTIONS:
        return FUNCTIONS[name](*args, **kwargs)
    if name in _LAYOUT:
        return getattr(index, name)(*args, **kwargs)
    if name in ("concatenate", "tril", "triu"):
        return getattr(blocks, name)(*args, **kwargs)
    if name == "where" and len(args) == 3 and not kwargs:
        return kernels.where(*args)
    if name == "broadcast_to":
        return kernels.broadcast_to(*args, **kwargs)
    if name == "shape":
        return args[0].shape
    if name == "ndim":
        return args[0].ndim
    if name == "sum":
        return args[0].sum(*args[1:], **kwargs)
    if name in ("argmax", "argmin"):
        x, *rest = args
        axis = rest[0] if rest else kwargs.get("axis")
        return gather.arg_extreme(x, axis, kwargs.get("keepdims", False), name == "argmax")
    if name == "take_along_axis":
        return gather.take_along_axis(*args, **kwargs)
    if name == "put_along_axis":
        return gather.put_along_axis(*args, **kwargs)
    if name in ("expand_dims", "squeeze"):
        x, *rest = args
        axis = rest[0] if rest else kwargs.get("axis")
        return _expand_dims(x, axis) if name == "expand_dims" else _squeeze(x, axis)
    if name == "clip" and not kwargs:
        return kernels.clip(*args)
    return NotImplemented


def _expand_dims(x: CudaArray, axis) -> CudaArray:
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    ndim = x.ndim + len(axes)
    axes = sorted(int(a) % ndim for a in axes)
    shape = list(x.shape)
    for a in axes:
        shape.insert(a, 1)
    return x.reshape(tuple(shape))


def _squeeze(x: CudaArray, axis) -> CudaArray:
    if axis is None:
        return x.reshape(tuple(n for n in x.shape if n != 1))
    axes = {int(a) % x.ndim for a in ((axis,) if isinstance(axis, int | np.integer) else axis)}
    if any(x.shape[a] != 1 for a in axes):
        raise ValueError(f"cannot select an axis to squeeze out which has size not equal to one "
                         f"(shape {x.shape}, axis {axis})")
    return x.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))
