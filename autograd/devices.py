"""Devices: `autograd.device`, and the argument parsing of `to()` and `device=`.

Tensors live on the CPU, or on "cuda" when `autograd.cuda.is_available()` (numba-cuda). A
device is a value scripts pass around
(``torch.device("cuda" if torch.cuda.is_available() else "cpu")``), so `device` parses and
compares as PyTorch's does, and every place that accepts one (`Tensor.to`, `Module.to`,
factories' ``device=``) checks it through `resolve`: ``"cpu"`` is always accepted,
``"cuda"`` / ``"cuda:0"`` when CUDA is available, and otherwise raises `RuntimeError` as a
CPU-only PyTorch build does.
"""
from __future__ import annotations

import re

import numpy as np

from . import cuda

__all__ = ["CPU", "CUDA", "device", "is_dtype", "parse_to", "resolve"]

_TYPES = ("cpu", "cuda")
_DEVICE_STRING = re.compile(r"([A-Za-z_]+)(?::(0|[1-9][0-9]*))?")


class device:
    """A device: ``device("cpu")``, ``device("cuda")``, ``device("cuda:1")``,
    ``device("cuda", 1)`` or ``device(other_device)``; ``.type`` and ``.index`` (None
    unless given). As in PyTorch, a device equals only a device (not its string)."""

    __slots__ = ("_index", "_type")

    def __init__(self, type, index: int | None = None):
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device: an index cannot be given with a device object")
            type, index = type.type, type.index
        elif isinstance(type, str):
            type, index = _parse_string(type, index)
        elif isinstance(type, (int, np.integer)) and not isinstance(type, (bool, np.bool_)):
            if type < 0:
                raise RuntimeError(f"device: device index must not be negative, got {type}")
            if not cuda.is_available():
                message = (f"device({type}): an integer names a CUDA device, and "
                           f"{cuda.NOT_COMPILED}")
                raise RuntimeError(message)
            type, index = "cuda", int(type)
        else:
            raise TypeError(f"device: expected a device string (\"cpu\", \"cuda\", "
                            f"\"cuda:N\") or a device, got {builtin_type(type).__name__} "
                            f"{type!r}")
        object.__setattr__(self, "_type", type)
        object.__setattr__(self, "_index", index)

    type = property(lambda self: self._type)
    index = property(lambda self: self._index)

    def __setattr__(self, name, value):
        raise AttributeError(f"device is immutable: cannot set {name!r}")

    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented
        return self._type == other._type and self._index == other._index

    def __hash__(self) -> int:
        return hash((self._type, self._index))

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self) -> str:
        if self._index is None:
            return f"device(type={self._type!r})"
        return f"device(type={self._type!r}, index={self._index})"

    def __reduce__(self):
        return (device, (str(self),))


builtin_type = type


def _parse_string(text: str, index) -> tuple[str, int | None]:
    if not text:
        raise RuntimeError("device: device string must not be empty")
    match = _DEVICE_STRING.fullmatch(text)
    if match is None:
        raise RuntimeError(f"device: invalid device string: {text!r} (expected \"cpu\", "
                           f"\"cuda\" or \"cuda:N\")")
    kind, number = match.group(1), match.group(2)
    if kind not in _TYPES:
        raise RuntimeError(f"device: expected one of {', '.join(_TYPES)} device type at start "
                           f"of device string: {text}")
    if number is not None:
        if index is not None:
            raise RuntimeError(f"device: type {text!r} already has an index; cannot also "
                               f"pass index={index!r}")
        return kind, int(number)
    if index is None:
        return kind, None
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"device: index must be an int, not {builtin_type(index).__name__}")
    if index < 0:
        raise RuntimeError(f"device: device index must not be negative, got {index}")
    return kind, int(index)


CPU = device("cpu")
CUDA = device("cuda", 0)  # the one CUDA device numbagrad uses (what tensors on it report)


def resolve(spec, op: str) -> device:
    """The device a tensor made by `op` lives on: the CPU for None, "cpu", "cpu:0" or a
    cpu device; `CUDA` for "cuda", "cuda:0" or a cuda device when CUDA is available
    (RuntimeError otherwise, and for another index: one device is used); anything that is
    not a device raises as `device(spec)` does."""
    if spec is None or spec is CPU:
        return CPU
    dev = spec if isinstance(spec, device) else device(spec)
    if dev.type == "cuda":
        if not cuda.is_available():
            raise RuntimeError(f"{op}: cannot place a tensor on {str(dev)!r}: "
                               f"{cuda.NOT_COMPILED}")
        if dev.index not in (None, 0):
            raise RuntimeError(f"{op}: CUDA error: invalid device ordinal: {str(dev)!r} "
                               f"(numbagrad uses one CUDA device, cuda:0; "
                               f"device_count() is {cuda.device_count()})")
        return CUDA
    return CPU


def is_dtype(x) -> bool:
    """Whether `x` names a dtype (a numpy dtype, a numpy scalar type, or Python's float,
    int, bool, complex, which PyTorch also accepts as dtypes); strings never do."""
    if isinstance(x, np.dtype):
        return True
    return isinstance(x, builtin_type) and (issubclass(x, np.generic)
                                            or x in (float, int, bool, complex))


def _is_device(x) -> bool:
    return isinstance(x, (device, str)) or (isinstance(x, (int, np.integer))
                                            and not isinstance(x, (bool, np.bool_)))


_TO_SIGNATURES = ("to(device=None, dtype=None, non_blocking=False, copy=False), "
                  "to(dtype, non_blocking=False, copy=False) or "
                  "to(tensor, non_blocking=False, copy=False)")


def parse_to(op: str, args: tuple, kwargs: dict, tensor_type: type):
    """Parse the arguments of `Tensor.to` / `Module.to` as PyTorch's `_parse_to` does:
    ``(device, dtype, non_blocking, copy)``; device is checked (`resolve`) and returned
    as a `device` or None, dtype as a numpy dtype or None."""
    kwargs = dict(kwargs)
    dev = dtype = None
    flags: list = []
    rest = list(args)
    if rest and isinstance(rest[0], tensor_type):
        other = rest.pop(0)
        dev, dtype = other.device, other.dtype
        if "device" in kwargs or "dtype" in kwargs:
            raise TypeError(f"{op}: device= and dtype= cannot be given with a tensor; "
                            f"expected {_TO_SIGNATURES}")
    elif rest and (rest[0] is None or _is_device(rest[0])):
        dev = rest.pop(0)
        if rest and (rest[0] is None or is_dtype(rest[0])):
            dtype = rest.pop(0)
    elif rest and is_dtype(rest[0]):
        dtype = rest.pop(0)
    flags = rest
    if len(flags) > 2 or not all(isinstance(f, (bool, np.bool_)) for f in flags):
        raise TypeError(f"{op}: received an invalid combination of arguments "
                        f"{tuple(_describe(a) for a in args)}; expected {_TO_SIGNATURES}")
    non_blocking = flags[0] if flags else kwargs.pop("non_blocking", False)
    copy = flags[1] if len(flags) > 1 else kwargs.pop("copy", False)
    if "device" in kwargs:
        if dev is not None:
            raise TypeError(f"{op}: device given twice (positionally and as device=)")
        dev = kwargs.pop("device")
    if "dtype" in kwargs:
        if dtype is not None:
            raise TypeError(f"{op}: dtype given twice (positionally and as dtype=)")
        dtype = kwargs.pop("dtype")
        if dtype is not None and not is_dtype(dtype):
            raise TypeError(f"{op}: dtype must be a dtype (e.g. autograd.float32), got "
                            f"{_describe(dtype)}")
    kwargs.pop("memory_format", None)  # one memory layout here: accepted, nothing to do
    if kwargs:
        raise TypeError(f"{op}: unexpected keyword argument(s) {sorted(kwargs)}; expected "
                        f"{_TO_SIGNATURES}")
    dev = None if dev is None else resolve(dev, op)
    return dev, (None if dtype is None else np.dtype(dtype)), bool(non_blocking), bool(copy)


def _describe(x) -> str:
    return repr(x) if isinstance(x, (str, bool, int, float, device)) else builtin_type(x).__name__
