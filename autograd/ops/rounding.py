"""Piecewise elementwise ops: sign, floor, ceil, round, trunc, frac, nan_to_num, and the
tests isnan / isinf / isfinite / logical_not (bool results, no gradient).

Rounding keeps the input's dtype (integers come back unchanged, as PyTorch's); its gradient
is an exact zero (PyTorch's), frac's is the incoming gradient, nan_to_num's is the incoming
gradient where the input was finite.
"""
from __future__ import annotations

import numpy as np

from .. import kernels as K
from ..function import Function
from ..wrap import wrap
from .registry import elementwise, method


def _zeros(g):
    return wrap(np.zeros_like(g.data))  # on g's device


def _no_bool(op: str, x: np.ndarray) -> None:
    if x.dtype == np.bool_:
        raise NotImplementedError(f"{op}: not implemented for bool tensors")


class _Step(Function):
    """A piecewise-constant op: its gradient is 0 everywhere (PyTorch's convention)."""

    def backward(self, g):
        return _zeros(g)


def _rounding(name: str, kernel, doc: str) -> type:
    class Op(_Step):
        def forward(self, x):
            _no_bool(name, x)
            return kernel(x) if x.dtype.kind == "f" else x.copy()

    Op.__name__ = Op.__qualname__ = name.capitalize()
    Op.__doc__ = doc
    return elementwise(name, floating=False)(Op)


Floor = _rounding("floor", K.floor, "largest integer <= x (integers unchanged); gradient 0")
Ceil = _rounding("ceil", K.ceil, "smallest integer >= x (integers unchanged); gradient 0")
Trunc = _rounding("trunc", K.trunc, "x rounded towards 0 (integers unchanged); gradient 0")


@elementwise("sign", floating=False)
class Sign(_Step):
    """-1, 0 or +1 in x's dtype (bool stays bool, NaN stays NaN); gradient 0."""

    def forward(self, x):
        return x.copy() if x.dtype == np.bool_ else K.sign(x)


@elementwise("frac", floating=False)
class Frac(Function):
    """x - trunc(x), sign of x; gradient 1. Floating tensors only (as PyTorch)."""

    def forward(self, x):
        if x.dtype.kind != "f":
            raise NotImplementedError(f"frac: not implemented for {x.dtype} tensors "
                                      f"(floating point only)")
        return K.frac(x)

    def backward(self, g):
        return g


class Round(_Step):
    def forward(self, x, decimals=0):
        return K.round_decimals(x, decimals)


@method("round")
def round_(self, decimals: int = 0):
    """x rounded half to even (at `decimals` decimal digits; negative rounds left of the
    point); integers unchanged when decimals is 0; gradient 0."""
    _no_bool("round", self.data)
    if not isinstance(decimals, (int, np.integer)) or isinstance(decimals, bool):
        raise TypeError(f"round: decimals must be an int, got {type(decimals).__name__}")
    if self.data.dtype.kind != "f":
        if decimals != 0:
            raise NotImplementedError(f"round: decimals={decimals} is not implemented for "
                                      f"{self.data.dtype} tensors")
        return wrap(self.data.copy())
    return Round.apply(self, decimals=int(decimals))


class NanToNum(Function):
    def forward(self, x, nan=0.0, posinf=None, neginf=None):
        self.finite = np.isfinite(x)
        return K.nan_to_num(x, nan, posinf, neginf)

    def backward(self, g):
        return g * wrap(self.finite.astype(g.dtype))


@method("nan_to_num")
def nan_to_num_(self, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None):
    """NaN -> nan, +inf -> posinf, -inf -> neginf (default: the dtype's largest and lowest
    finite values); integer and bool tensors come back unchanged. Gradient 1 where x was
    finite, 0 elsewhere."""
    if self.data.dtype.kind != "f":
        return wrap(self.data.copy())
    return NanToNum.apply(self, nan=nan, posinf=posinf, neginf=neginf)


def _test(name: str, ufunc, doc: str):
    def test(self):
        return wrap(ufunc(self.data))

    test.__doc__ = doc
    return method(name)(test)


isnan = _test("isnan", np.isnan, "a bool tensor: where x is NaN")
isinf = _test("isinf", np.isinf, "a bool tensor: where x is +inf or -inf")
isfinite = _test("isfinite", np.isfinite, "a bool tensor: where x is neither NaN nor inf")
logical_not = _test("logical_not", np.logical_not, "a bool tensor: where x is zero (False)")
