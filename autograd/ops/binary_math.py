"""More elementwise binary ops: atan2, hypot, logaddexp, lerp, fmod, remainder,
floor_divide, div(rounding_mode=), clamp_min / clamp_max, and the operators // and %.

Operands are promoted as PyTorch's (`binary.promote`); gradients are summed back to the
input shapes with `sum_to` and written in Tensor ops, so they differentiate again.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from .. import kernels as K
from ..wrap import wrap
from .binary import Where, _Binary
from .binary import as_tensor_pair as _pair
from .registry import method


def _floats(op: str, a: np.ndarray, b: np.ndarray, *, ints: str = "promote") -> tuple:
    """a and b in a floating dtype: integers promoted to the default float dtype, or (with
    ints="raise") refused as PyTorch's kernels refuse them."""
    if a.dtype.kind == "f":
        return a, b
    if ints == "raise":
        raise NotImplementedError(f"{op}: not implemented for {a.dtype} tensors "
                                  f"(floating point only)")
    dtype = dtypes.get_default_dtype()
    return a.astype(dtype), b.astype(dtype)


class Atan2(_Binary):
    """atan2(a, b): d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2)."""
    save_inputs = True

    def compute(self, a, b):
        return K.atan2(*_floats("atan2", a, b))

    def backward(self, g):
        a, b = self.inputs
        sa, sb = self.shapes
        scale = g / (a * a + b * b)
        return (scale * b).sum_to(sa), (-scale * a).sum_to(sb)


class Hypot(_Binary):
    """hypot(a, b) = sqrt(a^2 + b^2): d/da = a / hypot, d/db = b / hypot."""
    save_inputs = True
    save_output = True

    def compute(self, a, b):
        return K.hypot(*_floats("hypot", a, b, ints="raise"))

    def backward(self, g):
        a, b = self.inputs
        sa, sb = self.shapes
        scale = g / self.output()
        return (scale * a).sum_to(sa), (scale * b).sum_to(sb)


class LogAddExp(_Binary):
    """log(e^a + e^b): d/da = e^(a - out), d/db = e^(b - out)."""
    save_inputs = True
    save_output = True

    def compute(self, a, b):
        return K.logaddexp(*_floats("logaddexp", a, b, ints="raise"))

    def backward(self, g):
        a, b = self.inputs
        sa, sb = self.shapes
        y = self.output()
        return (g * (a - y).exp()).sum_to(sa), (g * (b - y).exp()).sum_to(sb)


class Fmod(_Binary):
    """a - trunc(a / b) b: d/da = 1, d/db = -trunc(a / b) (PyTorch's)."""
    save_inputs = True
    compute = staticmethod(K.fmod)

    def backward(self, g):
        a, b = self.inputs
        sa, sb = self.shapes
        return g.sum_to(sa), (-g * a.div(b, rounding_mode="trunc")).sum_to(sb)


class Remainder(_Binary):
    """a - floor(a / b) b: d/da = 1, d/db = -floor(a / b) (PyTorch's)."""
    save_inputs = True
    compute = staticmethod(K.remainder)

    def backward(self, g):
        a, b = self.inputs
        sa, sb = self.shapes
        return g.sum_to(sa), (-g * a.div(b, rounding_mode="floor")).sum_to(sb)


class FloorDivide(_Binary):
    """a // b; PyTorch defines no derivative for floor_divide (div(rounding_mode="floor")
    has a zero one)."""
    compute = staticmethod(K.floor_divide)

    def backward(self, g):
        raise RuntimeError("floor_divide: the derivative of floor_divide is not implemented "
                           "(as in PyTorch); use div(..., rounding_mode='floor'), whose "
                           "gradient is zero")


class RoundedDiv(_Binary):
    """div with rounding_mode "trunc" or "floor": a piecewise-constant op, gradient 0."""

    def forward(self, a, b, mode):
        self.mode = mode
        return super().forward(a, b)

    def compute(self, a, b):
        return K.trunc_divide(a, b) if self.mode == "trunc" else K.floor_divide(a, b)

    def backward(self, g):
        sa, sb = self.shapes
        return wrap(np.zeros_like(g.data, shape=sa)), wrap(np.zeros_like(g.data, shape=sb))


def _binary_method(name: str, op: type, doc: str, *, reflected: str | None = None,
                   operator: str | None = None):
    """Declare `Tensor.<name>(other)` and `autograd.<name>(t, other)`, and the operator
    `Tensor.<operator>` with its reflected form."""
    def fn(self, other):
        return op.apply(*_pair(self, other))

    fn.__doc__ = doc
    method(name)(fn)
    if operator is not None:
        method(operator, function=False)(lambda self, other: op.apply(*_pair(self, other)))
        method(reflected, function=False)(lambda self, other: op.apply(*_pair(other, self)))
    return fn


atan2 = _binary_method("atan2", Atan2, "the angle of (other, self) in (-pi, pi]")
hypot = _binary_method("hypot", Hypot, "sqrt(self^2 + other^2), floating tensors only")
logaddexp = _binary_method("logaddexp", LogAddExp, "log(e^self + e^other), floating only")
fmod = _binary_method("fmod", Fmod, "C's remainder: self - trunc(self / other) other, the "
                                    "sign of self")
remainder = _binary_method("remainder", Remainder, "Python's %: self - floor(self / other) "
                                                   "other, the sign of other",
                           operator="__mod__", reflected="__rmod__")
floor_divide = _binary_method("floor_divide", FloorDivide, "self / other rounded down "
                                                           "(Python's //); not differentiable",
                              operator="__floordiv__", reflected="__rfloordiv__")


@method("div")
def div(self, other, *, rounding_mode: str | None = None):
    """self / other: true division (rounding_mode=None, integers give the default float
    dtype), or rounded towards zero ("trunc") or down ("floor") in the promoted dtype."""
    if rounding_mode is None:
        return self / other
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or "
                           f"'floor' but found {rounding_mode!r}")
    a, b = _pair(self, other)
    return RoundedDiv.apply(a, b, mode=rounding_mode)


@method("lerp")
def lerp(self, end, weight):
    """self + weight (end - self); weight a number or a tensor. self and end must be floating
    tensors of one dtype (as PyTorch)."""
    if not hasattr(end, "data") or self.data.dtype.kind != "f":
        raise NotImplementedError(f"lerp: expected floating point tensors for start and end, "
                                  f"got {self.data.dtype} and {type(end).__name__}")
    if end.data.dtype != self.data.dtype:
        raise RuntimeError(f"lerp: expected dtype {self.data.dtype} for `end` but got dtype "
                           f"{end.data.dtype}")
    return self + weight * (end - self)


def _clamp_one(op: str, self, bound, keep_above: bool):
    if bound is None:
        raise TypeError(f"{op}: the bound must be a number or a tensor, got None")
    a, b = _pair(self, bound)
    ad, bd = a.data, b.data
    with np.errstate(invalid="ignore"):
        cond = ~(ad < bd) if keep_above else ~(ad > bd)  # NaN in self stays NaN
    return Where.apply(a, b, cond=cond)


@method("clamp_min")
def clamp_min(self, min):
    """max(self, min) elementwise; the gradient goes to self where self >= min, else to min
    (PyTorch's, no split on ties)."""
    return _clamp_one("clamp_min", self, min, keep_above=True)


@method("clamp_max")
def clamp_max(self, max):
    """min(self, max) elementwise; the gradient goes to self where self <= max, else to
    max."""
    return _clamp_one("clamp_max", self, max, keep_above=False)
