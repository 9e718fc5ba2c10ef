"""Elementwise kernels (declarations; the numpy references are the specification). Arrays in,
arrays out; broadcasting, dtypes and `out=` as numpy's ufuncs."""
from __future__ import annotations

import math

import numpy as np

from .registry import declare


def _deliver(result: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    """result, or result copied into `out` (numpy's casting rules) and `out` returned."""
    if out is None:
        return result
    np.copyto(out, result, casting="same_kind")
    return out


FORMULAS: dict = {}


def formula(fn):
    """Declare a unary kernel by a formula written with operators, `abs` and numpy functions
    that work on arrays and on scalars alike: applied to arrays it is the numpy reference;
    the numba backend compiles the same function per element (jit/elementwise.py)."""
    def reference(x, out=None):
        return _deliver(fn(x), out)

    reference.__name__ = reference.__qualname__ = fn.__name__
    reference.__doc__ = fn.__doc__
    FORMULAS[fn.__name__] = fn
    return declare(reference, out=True)


def _stable_sigmoid(x: np.ndarray) -> np.ndarray:
    # exp(-|x|) never overflows: sigmoid(x) = 1/(1+e^-x) for x >= 0, e^x/(1+e^x) otherwise.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


@declare(out=True)
def add(a, b, out=None):
    return np.add(a, b, out=out)


@declare(out=True)
def sub(a, b, out=None):
    return np.subtract(a, b, out=out)


@declare(out=True)
def mul(a, b, out=None):
    return np.multiply(a, b, out=out)


@declare(out=True)
def div(a, b, out=None):
    return np.divide(a, b, out=out)


@declare(out=True)
def neg(x, out=None):
    return np.negative(x, out=out)


@declare(out=True)
def exp(x, out=None):
    return np.exp(x, out=out)


@declare(out=True)
def log(x, out=None):
    return np.log(x, out=out)


@declare(out=True)
def sqrt(x, out=None):
    return np.sqrt(x, out=out)


@declare(out=True)
def sin(x, out=None):
    return np.sin(x, out=out)


@declare(out=True)
def cos(x, out=None):
    return np.cos(x, out=out)


@declare(out=True)
def tanh(x, out=None):
    return np.tanh(x, out=out)


@declare(out=True)
def sigmoid(x, out=None):
    return _deliver(_stable_sigmoid(x), out)


@declare(out=True)
def relu(x, out=None):
    return np.maximum(x, 0, out=out)


@declare(out=True)
def leaky_relu(x, negative_slope, out=None):
    return _deliver(np.where(x > 0, x, x * x.dtype.type(negative_slope)), out)


def _fast_power(a, b):
    """a ** b as multiplications, reciprocals and square roots when a is a float array and b a
    scalar in {0, +-0.5, +-1, +-2, 3, 4} of a's dtype (PyTorch's pow takes the same shortcuts);
    None otherwise. The general pow is ~100-700x slower than x*x*x on 1e6 float32s."""
    if (not isinstance(a, np.ndarray) or a.dtype.kind != "f" or a.ndim == 0 or np.ndim(b) != 0
            or np.result_type(a, b) != a.dtype):
        return None
    e = float(b)
    if e == 2 or e == 3 or e == 4:
        out = np.multiply(a, a)
        if e == 3:
            out *= a
        elif e == 4:
            out *= out
        return out
    if e == -2:  # (1/a)^2, not 1/a^2: a^2 would overflow or lose bits for |a| > ~1e19 (f32)
        out = np.reciprocal(a)
        out *= out
        return out
    if e == 0.5 or e == -0.5:
        out = np.sqrt(a)
        return np.reciprocal(out, out=out) if e < 0 else out
    if e == -1:
        return np.reciprocal(a)
    if e == 1:
        return a.copy()
    if e == 0:
        return np.ones_like(a)
    return None


@declare(out=True)
def power(a, b, out=None):
    """a ** b with numpy's broadcasting and dtypes (small scalar exponents take a fast path
    that keeps the dtype)."""
    res = _fast_power(a, b) if out is None else None
    return np.power(a, b, out=out) if res is None else res


@declare(out=True)
def maximum(a, b, out=None):
    return np.maximum(a, b, out=out)


@declare(out=True)
def minimum(a, b, out=None):
    return np.minimum(a, b, out=out)


@declare
def where(cond, a, b):
    return np.where(cond, a, b)


@declare(out=True)
def absolute(x, out=None):
    return np.abs(x, out=out)


@declare
def clip(x, lo=None, hi=None):
    if lo is None and hi is None:
        return x.copy()
    return np.clip(x, lo, hi).astype(x.dtype, copy=False)



@formula
def softsign(x):
    """x / (1 + |x|)"""
    return x / (1 + abs(x))


# ---- fused kernels: one pass over memory instead of two or three ----------------------------

ACTIVATIONS = ("identity", "relu", "tanh", "sigmoid")
_ONES = {np.dtype(t): np.ones((), t) for t in (np.float32, np.float64)}  # read only


def _check_activation(act: str) -> None:
    if act not in ACTIVATIONS:
        raise ValueError(f"unknown activation {act!r}; choose one of {ACTIVATIONS}")


@declare(out=True)
def act_backward(grad, y, act, out=None):
    """grad * f'(x) written with the activation's output y = f(x):
    relu: y > 0;  tanh: 1 - y^2;  sigmoid: y (1 - y);  identity: 1."""
    one = _ONES.get(y.dtype, 1)  # a 0-d array of y's dtype: numpy converts a Python 1 in
    # ~0.3 us, a quarter of this kernel on a small array (issue 15); same values
    if act == "tanh":  # checked in order of use; an unknown name raises below
        res = grad * (one - y * y)
    elif act == "relu":
        res = np.where(y > 0, grad, np.zeros((), grad.dtype))
    elif act == "sigmoid":
        res = grad * (y * (one - y))
    else:
        _check_activation(act)
        res = grad.copy()
    return res if out is None else _deliver(res, out)


# ---- more unary kernels (PyTorch's elementwise surface): numpy references ------------------

def _ufunc(name: str, ufunc, doc: str):
    """Declare the kernel `name` as numpy's `ufunc` (its reference; numpy's dtypes)."""
    def reference(x, out=None):
        return ufunc(x, out=out)

    reference.__name__ = reference.__qualname__ = name
    reference.__doc__ = doc
    return declare(reference, out=True)


tan = _ufunc("tan", np.tan, "tangent")
asin = _ufunc("asin", np.arcsin, "inverse sine")
acos = _ufunc("acos", np.arccos, "inverse cosine")
atan = _ufunc("atan", np.arctan, "inverse tangent")
sinh = _ufunc("sinh", np.sinh, "hyperbolic sine")
cosh = _ufunc("cosh", np.cosh, "hyperbolic cosine")
asinh = _ufunc("asinh", np.arcsinh, "inverse hyperbolic sine")
acosh = _ufunc("acosh", np.arccosh, "inverse hyperbolic cosine")
atanh = _ufunc("atanh", np.arctanh, "inverse hyperbolic tangent")
exp2 = _ufunc("exp2", np.exp2, "2 ** x")
expm1 = _ufunc("expm1", np.expm1, "e^x - 1, accurate near 0")
log2 = _ufunc("log2", np.log2, "base-2 logarithm")
log10 = _ufunc("log10", np.log10, "base-10 logarithm")
log1p = _ufunc("log1p", np.log1p, "log(1 + x), accurate near 0")
reciprocal = _ufunc("reciprocal", np.reciprocal, "1 / x")
floor = _ufunc("floor", np.floor, "largest integer <= x")
ceil = _ufunc("ceil", np.ceil, "smallest integer >= x")
trunc = _ufunc("trunc", np.trunc, "x rounded towards 0")
sign = _ufunc("sign", np.sign, "-1, 0 or 1 (NaN stays NaN)")


@declare(out=True)
def rsqrt(x, out=None):
    """1 / sqrt(x)"""
    return np.reciprocal(np.sqrt(x, out=out), out=out)


@declare(out=True)
def frac(x, out=None):
    """x - trunc(x) (keeps x's sign)"""
    return _deliver(x - np.trunc(x), out)


@declare
def round_decimals(x, decimals=0):
    """x rounded half to even at `decimals` digits (negative: left of the point)."""
    return np.round(x, decimals)


_ERF = np.frompyfunc(math.erf, 1, 1)
_ERFC = np.frompyfunc(math.erfc, 1, 1)


@declare(out=True)
def erf(x, out=None):
    """the error function 2/sqrt(pi) * integral_0^x e^(-t^2) dt (math.erf per element)"""
    return _deliver(np.asarray(_ERF(x), dtype=x.dtype), out)


@declare(out=True)
def erfc(x, out=None):
    """1 - erf(x), accurate where erf(x) is near 1 (math.erfc per element)"""
    return _deliver(np.asarray(_ERFC(x), dtype=x.dtype), out)


_SQRT_HALF = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327


@declare(out=True)
def gelu(x, out=None):
    """x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), GELU's exact form in one kernel (erf as the
    `erf` kernel's; the numba kernel's float32 1 + erf is within ~2e-7, as PyTorch's)"""
    return _deliver(0.5 * x * (1 + erf.reference(x * _SQRT_HALF)), out)


@declare(out=True)
def gelu_backward(grad, x, out=None):
    """grad * d/dx gelu(x) = grad (Phi(x) + x phi(x)), phi the standard normal density"""
    cdf = 0.5 * (1 + erf.reference(x * _SQRT_HALF))
    return _deliver(grad * (cdf + x * (np.exp(-0.5 * x * x) * _INV_SQRT_2PI)), out)


@declare
def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """NaN -> nan, +inf -> posinf, -inf -> neginf (default: the dtype's largest / lowest)."""
    return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


# ---- more binary kernels ----------------------------------------------------------------------

def _integer_zero_check(op: str, a, b) -> None:
    if np.asarray(a).dtype.kind in "iub" and np.any(np.asarray(b) == 0):
        raise RuntimeError(f"{op}: ZeroDivisionError (integer division by zero)")


@declare
def floor_divide(a, b):
    """a / b rounded down (Python's //; integer division by zero raises)"""
    _integer_zero_check("floor_divide", a, b)
    return np.floor_divide(a, b)


@declare
def trunc_divide(a, b):
    """a / b rounded towards zero (C's integer division; integer division by zero raises)"""
    if np.asarray(a).dtype.kind in "iub":
        _integer_zero_check("div", a, b)
        return (a - np.fmod(a, b)) // b
    return np.trunc(np.divide(a, b))


@declare
def fmod(a, b):
    """C's fmod: a - trunc(a / b) b, the sign of a (integer division by zero raises)"""
    _integer_zero_check("fmod", a, b)
    return np.fmod(a, b)


@declare
def remainder(a, b):
    """Python's %: a - floor(a / b) b, the sign of b (integer division by zero raises)"""
    _integer_zero_check("remainder", a, b)
    return np.remainder(a, b)


@declare
def atan2(a, b):
    """the angle of the point (b, a), in (-pi, pi]"""
    return np.arctan2(a, b)


@declare
def hypot(a, b):
    """sqrt(a^2 + b^2) without overflow"""
    return np.hypot(a, b)


@declare
def logaddexp(a, b):
    """log(e^a + e^b) without overflow"""
    return np.logaddexp(a, b)
