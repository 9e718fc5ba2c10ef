"""numba elementwise kernels: binary ops with the common broadcasts, unary ops, activation
backward; each loop is written once as a template and compiled per op (`specialised`).

Which path an array takes is `policy.ELEMENTWISE`'s decision: below `numpy_below` elements
numpy itself, up to `parallel_above` the serial compilation, beyond it the `prange` one.
Shapes numba does not handle here (general broadcasting, mixed dtypes, ints) go to numpy.

Transcendentals: numba calls libm one element at a time unless llvmlite is built with
Intel's SVML patch, which the PyPI wheels are not (only conda's; `numba -s` shows "SVML
Operational: False" here even with Intel's runtime installed). exp, tanh and sigmoid use
the vectorisable versions in `_math.py` (polynomial + bit tricks: ~1.7x numpy's AVX-512 exp
on one core, and they fuse into softmax and cross-entropy); log, sin and cos run numpy's own
vectorised loops, split across two threads for large arrays (numpy releases the GIL inside
ufuncs).

Adding an op: a kernel declared with `elementwise.formula` (kernels/elementwise.py) gets its
numba implementation here automatically (`_register_formulas`); a hand-written scalar
function goes through `unary` / `binary` below.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange, types

from .. import elementwise as ref
from .. import policy
from ..registry import register
from ._common import arr, lazy_njit, same_float_arrays
from ._math import exp as vexp
from ._math import one_plus_erf, typed
from ._math import sigmoid as vsigmoid
from ._math import tanh as vtanh
from .helper_thread import cpu_count, split_halves

EW = policy.ELEMENTWISE
BINARY: dict = {}  # name -> (flat, rows) compiled kernels
UNARY: dict = {}   # name -> compiled kernel
# name -> (arity, scalar function) of every kernel above: autograd.compile's fused kernels
# (jit/fused.py) call the same scalar functions, so fused and unfused results agree
SCALARS: dict = {}


def SCALAR(*args):  # replaced per op in each specialised copy of a template
    raise NotImplementedError


# ---- templates: one loop each, compiled per op -----------------------------------------------

def _binary_sig(dt):
    return types.void(arr(dt, 1, "C", True), arr(dt, 1, "C", True), arr(dt, 1))


def _binary_flat(a, b, out):
    # in place (out is a or b: `a.add_(b)`, `out=` an operand) the loop
    # reads the output itself: with three pointers LLVM's overlap test sends the vectorised
    # loop to its scalar fallback on exact aliasing (4x slower, measured)
    if out.ctypes.data == a.ctypes.data:
        for i in prange(out.size):
            out[i] = SCALAR(out[i], b[i])
    elif out.ctypes.data == b.ctypes.data:
        for i in prange(out.size):
            out[i] = SCALAR(a[i], out[i])
    else:
        for i in prange(out.size):
            out[i] = SCALAR(a[i], b[i])


def _rows_sig(dt):
    return types.void(arr(dt, 2, "C", True), arr(dt, 1, "C", True), arr(dt, 2), types.boolean)


def _binary_rows(a, b, out, swap):
    """out[i, j] = a[i, j] op b[j] (or b[j] op a[i, j] when swap): a vector broadcast over
    rows, e.g. a bias, or a scalar (one column)."""
    rows, cols = a.shape
    for i in prange(rows):
        x = a[i]
        o = out[i]
        if swap:
            for j in range(cols):
                o[j] = SCALAR(b[j], x[j])
        else:
            for j in range(cols):
                o[j] = SCALAR(x[j], b[j])


def _unary_sig(dt):
    return types.void(arr(dt, 1, "C", True), arr(dt, 1), dt)


def _unary_flat(x, out, alpha):
    for i in prange(out.size):
        out[i] = SCALAR(x[i], alpha)


def _flat_fits(a, b, out):
    return a.shape == b.shape == out.shape


def _rows_fit(a, b, out, swap):
    return b.shape == a.shape[1:] and out.shape == a.shape


def binary_kernels(name: str, scalar) -> tuple:
    """(flat, rows) compiled kernels of `scalar(x, y)` (see `_binary_flat`, `_binary_rows`)."""
    names = {"SCALAR": scalar}
    flat = lazy_njit(_binary_sig, fastmath={"contract"}, check=_flat_fits, specialise=names,
                     suffix=name)(_binary_flat)
    rows = lazy_njit(_rows_sig, fastmath={"contract"}, check=_rows_fit, specialise=names,
                     suffix=name)(_binary_rows)
    return flat, rows


def unary_kernel(name: str, scalar):
    """The compiled kernel of `scalar(x, alpha)` over a flat array (see `_unary_flat`)."""
    return lazy_njit(_unary_sig, fastmath={"contract"},
                     check=lambda x, out, alpha: x.shape == out.shape,
                     specialise={"SCALAR": scalar}, suffix=name)(_unary_flat)


def _fits(out, shape, dtype) -> bool:
    """Whether numba can write straight into `out` (else numpy's ufunc takes it)."""
    return out.shape == shape and out.dtype == dtype and out.flags.c_contiguous


def binary(name: str, scalar, ufunc) -> None:
    """Register the numba implementation of the binary kernel `name`: numba for same-shape
    and vector/scalar broadcasts of one float dtype, `ufunc` (numpy's) for everything else."""
    flat, rows = BINARY[name] = binary_kernels(name, scalar)
    SCALARS[name] = (2, scalar)

    def run(a, b, out=None):
        try:  # the common tiny case first: numpy's own call is cheaper than any check
            if a.size < EW.numpy_below and b.size < EW.numpy_below:
                # (without `out=None`: numpy parses a keyword in ~40 ns, 15% of a tiny op)
                return ufunc(a, b) if out is None else ufunc(a, b, out=out)
        except AttributeError:  # Python scalars, lists
            return ufunc(a, b, out=out)
        if not (same_float_arrays(a, b) and a.size and b.size):
            return ufunc(a, b, out=out)
        if a.shape == b.shape:
            if EW.numpy_below and not EW.parallel(a.size):
                # numpy's own loop is 10-20% faster than the serial kernel here (add, mul,
                # maximum on 2^14..2^20 floats, measured): numba keeps the broadcasts below
                # (a bias row: ~2x numpy's) and the parallel launches. `numpy_below=0`
                # (policy.override: numba for every size) still reaches the serial kernel.
                return ufunc(a, b, out=out)
            if out is None:
                out = np.empty(a.shape, a.dtype)
            elif not _fits(out, a.shape, a.dtype):
                return ufunc(a, b, out=out)
            flat.get(a.dtype, EW.parallel(a.size))(np.ravel(a), np.ravel(b), out.reshape(-1))
            return out
        swap = False
        if a.size < b.size:
            a, b, swap = b, a, True
        # b must be a scalar or match a's trailing dims (leading 1s aside), no more dims
        bshape = b.shape
        while bshape and bshape[0] == 1:
            bshape = bshape[1:]
        if b.ndim > a.ndim or (b.size != 1 and a.shape[a.ndim - len(bshape):] != bshape):
            return ufunc(b, a, out=out) if swap else ufunc(a, b, out=out)
        cols = b.size
        if b.size == 1:   # scalar: one row per element is wasteful, use rows of 1024
            if a.size % 1024:
                return ufunc(b, a, out=out) if swap else ufunc(a, b, out=out)
            cols = 1024
            b = np.full(cols, b.reshape(()), a.dtype)
        if out is None:
            out = np.empty(a.shape, a.dtype)
        elif not _fits(out, a.shape, a.dtype):
            return ufunc(b, a, out=out) if swap else ufunc(a, b, out=out)
        rows.get(a.dtype, EW.parallel(a.size))(
            np.ascontiguousarray(a).reshape(-1, cols), np.ascontiguousarray(b).reshape(-1),
            out.reshape(-1, cols), swap)
        return out

    run.__name__ = name
    register("numba", name)(run)


def unary(name: str, scalar, fallback=None) -> None:
    """Register the numba implementation of the unary kernel `name` (x, [alpha,] out=None):
    `scalar(v, alpha)` per element; other dtypes and small arrays take `fallback` (default:
    the kernel's numpy reference)."""
    kernel = UNARY[name] = unary_kernel(name, scalar)
    SCALARS[name] = (1, scalar)
    fallback = fallback or getattr(ref, name).reference

    def run(x, *alpha, out=None):
        if not (getattr(x, "size", 0) >= EW.numpy_below and x.size and same_float_arrays(x)):
            return fallback(x, *alpha, out=out)
        if out is None:
            out = np.empty(x.shape, x.dtype)
        elif not _fits(out, x.shape, x.dtype):
            return fallback(x, *alpha, out=out)
        kernel.get(x.dtype, EW.parallel(x.size))(
            np.ravel(x), out.reshape(-1), x.dtype.type(alpha[0] if alpha else 0))
        return out

    run.__name__ = name
    run.kernel = kernel
    register("numba", name)(run)


def threaded_ufunc(name: str, ufunc) -> None:
    """Register numpy's own `ufunc` for `name`, run on two threads for large float arrays."""

    def run(x, out=None):
        if (getattr(x, "size", 0) <= policy.threaded_ufunc_above() or not same_float_arrays(x)
                or cpu_count() < 2):
            return ufunc(x, out=out)
        if out is None:
            out = np.empty(x.shape, x.dtype)
        elif not _fits(out, x.shape, x.dtype):
            return ufunc(x, out=out)
        flat_in, flat_out = np.ravel(x), out.reshape(-1)
        h = (x.size // 2) & ~63
        split_halves(lambda a, o: ufunc(a, out=o), (flat_in[:h], flat_out[:h]),
                     (flat_in[h:], flat_out[h:]))
        return out

    run.__name__ = name
    register("numba", name)(run)


# ---- the scalar functions: one line per op ---------------------------------------------------

inline = njit(inline="always")


@inline
def _add(x, y):
    return x + y


@inline
def _sub(x, y):
    return x - y


@inline
def _mul(x, y):
    return x * y


@inline
def _div(x, y):
    return x / y


@inline
def _max(x, y):
    return x if ((x >= y) | np.isnan(x)) else y


@inline
def _min(x, y):
    return x if ((x <= y) | np.isnan(x)) else y


@inline
def _neg(v, alpha):
    return -v


@inline
def _sqrt(v, alpha):
    return np.sqrt(v)


@inline
def _abs(v, alpha):
    return abs(v)


@inline
def _relu(v, alpha):
    zero = alpha - alpha
    return v if ((v > zero) | np.isnan(v)) else zero


@inline
def _leaky_relu(v, alpha):
    zero = alpha - alpha
    return v if ((v > zero) | np.isnan(v)) else v * alpha


@inline
def _exp(v, alpha):
    return vexp(v)


@inline
def _tanh(v, alpha):
    return vtanh(v)


@inline
def _sigmoid(v, alpha):
    return vsigmoid(v)


@inline
def _erf(v, alpha):
    return math.erf(v)


@inline
def _erfc(v, alpha):
    return math.erfc(v)


binary("add", _add, np.add)
binary("sub", _sub, np.subtract)
binary("mul", _mul, np.multiply)
binary("div", _div, np.divide)
binary("maximum", _max, np.maximum)
binary("minimum", _min, np.minimum)
unary("neg", _neg)
unary("sqrt", _sqrt)
unary("absolute", _abs)
unary("relu", _relu)
unary("leaky_relu", _leaky_relu)
unary("exp", _exp, np.exp)
unary("tanh", _tanh, np.tanh)
unary("sigmoid", _sigmoid)
unary("erf", _erf)  # the reference calls math.erf per element from Python (~50x slower)
unary("erfc", _erfc)
threaded_ufunc("log", np.log)
threaded_ufunc("sin", np.sin)
threaded_ufunc("cos", np.cos)


# ---- activation backward: g * f'(x) from the output y = f(x) --------------------------------

@inline
def _relu_backward(g, y):
    zero = typed(y, 0)
    return g if y > zero else zero


@inline
def _tanh_backward(g, y):
    return g * (typed(y, 1) - y * y)


@inline
def _sigmoid_backward(g, y):
    return g * (y * (typed(y, 1) - y))


@inline
def _identity_backward(g, y):
    return g


_ACT_SCALARS = (("identity", _identity_backward), ("relu", _relu_backward),
                ("tanh", _tanh_backward), ("sigmoid", _sigmoid_backward))
ACT_BACKWARD = {act: binary_kernels(f"{act}_backward", fn)[0] for act, fn in _ACT_SCALARS}
SCALARS.update({f"act_backward:{act}": (2, fn) for act, fn in _ACT_SCALARS})


@register("numba", "act_backward")
def act_backward(grad, y, act, out=None):
    """grad * f'(x) from the activation's output y, in one pass."""
    kernels = ACT_BACKWARD.get(act)
    if kernels is None:
        ref._check_activation(act)  # raises, naming the activations
    # small arrays first (numpy's loops, the cheapest check): issue 15's per-op overhead
    if (getattr(grad, "size", 0) < EW.numpy_below or not grad.size
            or not (same_float_arrays(grad, y) and grad.shape == y.shape)):
        return ref.act_backward.reference(grad, y, act, out=out)
    if out is None:
        out = np.empty(grad.shape, grad.dtype)
    elif not _fits(out, grad.shape, grad.dtype):
        return ref.act_backward.reference(grad, y, act, out=out)
    kernels.get(grad.dtype, EW.parallel(grad.size))(np.ravel(grad), np.ravel(y), out.reshape(-1))
    return out


# ---- GELU (exact form) in one pass each way: issue 15's tiny GPT ran it as five ops -------------

@inline
def _gelu(v, alpha):
    return typed(v, 0.5) * v * one_plus_erf(v * typed(v, 0.7071067811865476))


@inline
def _gelu_backward(g, v):
    # d/dx x Phi(x) = Phi(x) + x phi(x)
    pdf = typed(v, 0.3989422804014327) * vexp(typed(v, -0.5) * v * v)
    return g * (typed(v, 0.5) * one_plus_erf(v * typed(v, 0.7071067811865476)) + v * pdf)


GELU = unary_kernel("gelu", _gelu)
GELU_BACKWARD = binary_kernels("gelu_backward", _gelu_backward)[0]
SCALARS.update({"gelu": (1, _gelu), "gelu_backward": (2, _gelu_backward)})


@register("numba", "gelu")
def gelu(x, out=None):
    """numba at every size (its float32 erf differs from the reference's by up to 1.5e-7:
    one kernel for all sizes keeps a tensor's values independent of its size)."""
    if not (getattr(x, "size", 0) and same_float_arrays(x)):
        return ref.gelu.reference(x, out=out)
    if out is None:
        out = np.empty(x.shape, x.dtype)
    elif not _fits(out, x.shape, x.dtype):
        return ref.gelu.reference(x, out=out)
    GELU.get(x.dtype, EW.parallel(x.size))(np.ravel(x), out.reshape(-1), x.dtype.type(0))
    return out


@register("numba", "gelu_backward")
def gelu_backward(grad, x, out=None):
    if not (getattr(x, "size", 0) and same_float_arrays(grad, x) and grad.shape == x.shape):
        return ref.gelu_backward.reference(grad, x, out=out)
    if out is None:
        out = np.empty(x.shape, x.dtype)
    elif not _fits(out, x.shape, x.dtype):
        return ref.gelu_backward.reference(grad, x, out=out)
    GELU_BACKWARD.get(x.dtype, EW.parallel(x.size))(np.ravel(grad), np.ravel(x),
                                                    out.reshape(-1))
    return out


# ---- kernels declared by a formula (kernels/elementwise.py: `formula`) -----------------------

def _register_formulas() -> None:
    for name, fn in ref.FORMULAS.items():
        scalar = njit(inline="always")(fn)
        unary(name, _formula_scalar(scalar))


def _formula_scalar(scalar):
    @njit(inline="always")
    def call(v, alpha):
        return scalar(v)
    return call


_register_formulas()
