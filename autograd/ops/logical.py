"""Bitwise and logical ops, and closeness tests: none has a gradient.

`& | ^ ~ << >>` (and `bitwise_and`, ...) work on integer and bool tensors only, with
PyTorch's promotion; `logical_and / or / xor` take any dtypes and give bool tensors;
`isclose` gives a bool tensor, `allclose` and `equal` a Python bool.
"""
from __future__ import annotations

import numpy as np

from ..wrap import wrap
from .binary import as_tensor_pair as _pair
from .binary import check_broadcast, promote
from .registry import method


def _integral(op: str, *arrays: np.ndarray) -> None:
    for x in arrays:
        if x.dtype.kind not in "iub":
            raise NotImplementedError(f"{op}: not implemented for {x.dtype} tensors (integer "
                                      f"and bool tensors only)")


def _bitwise(name: str, ufunc, doc: str, operator: str, reflected: str):
    def compute(a, b):
        _integral(name, a.data, b.data)
        if a.shape != b.shape:
            check_broadcast(name, a.data, b.data)
        return wrap(ufunc(*promote(a.data, b.data)))

    def fn(self, other):
        return compute(*_pair(self, other))

    fn.__doc__ = doc
    method(name)(fn)
    method(operator, function=False)(fn)
    method(reflected, function=False)(lambda self, other: compute(*_pair(other, self)))
    return fn


bitwise_and = _bitwise("bitwise_and", np.bitwise_and, "self & other (integer and bool)",
                       "__and__", "__rand__")
bitwise_or = _bitwise("bitwise_or", np.bitwise_or, "self | other (integer and bool)",
                      "__or__", "__ror__")
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor, "self ^ other (integer and bool)",
                       "__xor__", "__rxor__")
bitwise_left_shift = _bitwise("bitwise_left_shift", np.left_shift, "self << other "
                              "(integer)", "__lshift__", "__rlshift__")
bitwise_right_shift = _bitwise("bitwise_right_shift", np.right_shift, "self >> other "
                               "(integer, arithmetic shift)", "__rshift__", "__rrshift__")


@method("bitwise_not")
def bitwise_not(self):
    """~self: bits flipped (integers), logical not (bool)."""
    if self.data.dtype.kind not in "iub":
        raise TypeError(f"~ (bitwise_not) is only implemented on integer and bool tensors, "
                        f"got {self.data.dtype}")
    return wrap(np.invert(self.data))


method("__invert__", function=False)(lambda self: bitwise_not(self))


def _logical(name: str, ufunc):
    def fn(self, other):
        a, b = _pair(self, other)
        if a.shape != b.shape:
            check_broadcast(name, a.data, b.data)
        return wrap(ufunc(a.data, b.data))

    fn.__doc__ = f"a bool tensor: {name[8:]} of the truth values (non-zero is True)"
    return method(name)(fn)


logical_and = _logical("logical_and", np.logical_and)
logical_or = _logical("logical_or", np.logical_or)
logical_xor = _logical("logical_xor", np.logical_xor)


@method("isclose")
def isclose(self, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
    """A bool tensor: |self - other| <= atol + rtol |other| elementwise (equal infinities
    are close; NaNs only with equal_nan). Both tensors must have one dtype (as PyTorch)."""
    a, b = _pair(self, other)
    if a.data.dtype != b.data.dtype:
        raise RuntimeError(f"isclose: {a.data.dtype} did not match {b.data.dtype}")
    if rtol < 0 or atol < 0:
        raise RuntimeError(f"isclose: rtol and atol must be greater than or equal to zero, "
                           f"got rtol={rtol}, atol={atol}")
    if a.shape != b.shape:
        check_broadcast("isclose", a.data, b.data)
    return wrap(np.isclose(a.data, b.data, rtol=rtol, atol=atol, equal_nan=equal_nan))


@method("allclose")
def allclose(self, other, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True when every element of isclose(self, other, ...) is."""
    return bool(isclose(self, other, rtol, atol, equal_nan).data.all())


@method("equal")
def equal(self, other) -> bool:
    """True when both tensors have one shape and equal elements (dtypes may differ)."""
    a, b = _pair(self, other)
    return a.shape == b.shape and bool(np.array_equal(a.data, b.data))
