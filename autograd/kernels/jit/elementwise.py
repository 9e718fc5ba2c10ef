"""numba elementwise kernels: binary ops with the common broadcasts, unary ops, fused forms.

Which path an array takes (measured by `python -m bench --only threshold`):
- fewer than NUMPY_BELOW elements: numpy itself. A numba call costs ~1 us of Python wrapper
  and argument unboxing, more than numpy's whole ufunc on a small array.
- up to PARALLEL_ABOVE elements: the serial compilation of the kernel;
- beyond: the `prange` compilation. A parallel launch costs ~48 us here: numba's OpenMP
  threads sleep between regions (passive waiting, so they never fight OpenBLAS), and
  waking them is that slow. Measured on a quiet 2-core machine: relu on 262,144 floats
  takes 24 us serial vs 64 us parallel, on 1,048,576 94 vs 101 us; a*b+c 45 vs 76 us and
  223 vs 154 us; hence parallel only above 2^19 elements.
Shapes numba does not handle here (general broadcasting, mixed dtypes, ints) go to numpy.

Transcendentals: numba calls libm one element at a time unless llvmlite is built with
Intel's SVML patch, which the PyPI wheels are not (only conda's; `numba -s` shows "SVML
Operational: False" here even with Intel's runtime installed). exp, tanh and sigmoid use
the vectorisable versions in `_math.py` (polynomial + bit tricks: ~1.7x numpy's AVX-512 exp
on one core, and they fuse into softmax, cross-entropy and bias+activation); log, sin and
cos run numpy's own vectorised loops, split across two threads for large arrays (numpy
releases the GIL inside ufuncs).
"""
from __future__ import annotations

import importlib

import numpy as np
from numba import prange, types

ref = importlib.import_module("autograd.kernels.elementwise")  # the module (the package attribute may be the kernel)
from ._common import arr, is_float, lazy_njit
from ._math import exp as vexp
from ._math import sigmoid as vsigmoid
from ._math import tanh as vtanh
from .threads import cpu_count, split_halves

NUMPY_BELOW = 1 << 13
PARALLEL_ABOVE = 1 << 19
THREADED_UFUNC_ABOVE = 1 << 16

# op codes of the binary kernels (one compiled function per broadcast form, not per op)
ADD, SUB, MUL, DIV, MAX, MIN, POW = range(7)


def _binary_sig(dt):
    return types.void(arr(dt, 1, "C", True), arr(dt, 1, "C", True), arr(dt, 1), types.int64)


@lazy_njit(_binary_sig, fastmath={"contract"},
           check=lambda a, b, out, op: a.shape == b.shape == out.shape)
def _binary_flat(a, b, out, op):
    # one loop per op: the branch is outside the loops, so each loop vectorises
    n = out.size
    if op == ADD:
        for i in prange(n):
            out[i] = a[i] + b[i]
    elif op == SUB:
        for i in prange(n):
            out[i] = a[i] - b[i]
    elif op == MUL:
        for i in prange(n):
            out[i] = a[i] * b[i]
    elif op == DIV:
        for i in prange(n):
            out[i] = a[i] / b[i]
    elif op == MAX:
        for i in prange(n):
            x, y = a[i], b[i]
            out[i] = x if ((x >= y) | np.isnan(x)) else y
    elif op == MIN:
        for i in prange(n):
            x, y = a[i], b[i]
            out[i] = x if ((x <= y) | np.isnan(x)) else y
    else:
        for i in prange(n):
            out[i] = a[i] ** b[i]


def _rows_sig(dt):
    return types.void(arr(dt, 2, "C", True), arr(dt, 1, "C", True), arr(dt, 2), types.int64,
                      types.boolean)


@lazy_njit(_rows_sig, fastmath={"contract"},
           check=lambda a, b, out, op, swap: b.shape == a.shape[1:] and out.shape == a.shape)
def _binary_rows(a, b, out, op, swap):
    """out[i, j] = a[i, j] op b[j] (or b[j] op a[i, j] when swap): a vector broadcast over
    rows, e.g. a bias, or a scalar (one column)."""
    rows, cols = a.shape
    for i in prange(rows):
        x = a[i]
        o = out[i]
        if op == ADD:
            for j in range(cols):
                o[j] = x[j] + b[j]
        elif op == MUL:
            for j in range(cols):
                o[j] = x[j] * b[j]
        elif op == SUB:
            if swap:
                for j in range(cols):
                    o[j] = b[j] - x[j]
            else:
                for j in range(cols):
                    o[j] = x[j] - b[j]
        elif op == DIV:
            if swap:
                for j in range(cols):
                    o[j] = b[j] / x[j]
            else:
                for j in range(cols):
                    o[j] = x[j] / b[j]
        elif op == MAX:
            for j in range(cols):
                u, v = x[j], b[j]
                o[j] = u if ((u >= v) | np.isnan(u)) else v
        elif op == MIN:
            for j in range(cols):
                u, v = x[j], b[j]
                o[j] = u if ((u <= v) | np.isnan(u)) else v
        else:
            if swap:
                for j in range(cols):
                    o[j] = b[j] ** x[j]
            else:
                for j in range(cols):
                    o[j] = x[j] ** b[j]


_UFUNCS = {ADD: np.add, SUB: np.subtract, MUL: np.multiply, DIV: np.divide,
           MAX: np.maximum, MIN: np.minimum, POW: np.power}
_COMMUTES = (ADD, MUL, MAX, MIN)


def _binary(op: int, a, b):
    """Dispatch one binary op: numba for same-shape and vector/scalar broadcasts of one float
    dtype, numpy for everything else (which is exactly the reference)."""
    try:  # the common tiny case first: numpy's own call is cheaper than any check
        if a.size < NUMPY_BELOW and b.size < NUMPY_BELOW:
            return _UFUNCS[op](a, b)
    except AttributeError:  # Python scalars, lists
        return _UFUNCS[op](a, b)
    if not (is_float(a, b) and a.size and b.size):
        return _UFUNCS[op](a, b)
    if a.shape == b.shape:
        out = np.empty(a.shape, a.dtype)
        par = a.size > PARALLEL_ABOVE
        _binary_flat.get(a.dtype, par)(np.ravel(a), np.ravel(b), out.reshape(-1), op)
        return out
    swap = False
    if a.size < b.size:
        a, b, swap = b, a, True
    # b must be a scalar or match a's trailing dims (leading 1s aside), no more dims than a
    bshape = b.shape
    while bshape and bshape[0] == 1:
        bshape = bshape[1:]
    if b.ndim > a.ndim or (b.size != 1 and a.shape[a.ndim - len(bshape):] != bshape):
        return _UFUNCS[op](b, a) if swap else _UFUNCS[op](a, b)
    cols = b.size
    if b.size == 1:   # scalar: one row per element is wasteful, use rows of 1024
        if a.size % 1024:
            return _UFUNCS[op](b, a) if swap else _UFUNCS[op](a, b)
        cols = 1024
        b = np.full(cols, b.reshape(()), a.dtype)
    out = np.empty(a.shape, a.dtype)
    a2 = np.ascontiguousarray(a).reshape(-1, cols)
    _binary_rows.get(a.dtype, a.size > PARALLEL_ABOVE)(
        a2, np.ascontiguousarray(b).reshape(-1), out.reshape(-1, cols), op, swap)
    return out


def add(a, b):
    return _binary(ADD, a, b)


def sub(a, b):
    return _binary(SUB, a, b)


def mul(a, b):
    return _binary(MUL, a, b)


def div(a, b):
    return _binary(DIV, a, b)


def maximum(a, b):
    return _binary(MAX, a, b)


def minimum(a, b):
    return _binary(MIN, a, b)


# ---- unary -----------------------------------------------------------------------------------

NEG, SQRT, ABS, RELU, LEAKY, EXP, TANH, SIGMOID = range(8)


def _unary_sig(dt):
    return types.void(arr(dt, 1, "C", True), arr(dt, 1), types.int64, dt)


@lazy_njit(_unary_sig, fastmath={"contract"},
           check=lambda x, out, op, alpha: x.shape == out.shape)
def _unary_flat(x, out, op, alpha):
    n = out.size
    zero = alpha - alpha
    if op == NEG:
        for i in prange(n):
            out[i] = -x[i]
    elif op == SQRT:
        for i in prange(n):
            out[i] = np.sqrt(x[i])
    elif op == ABS:
        for i in prange(n):
            out[i] = abs(x[i])
    elif op == RELU:
        for i in prange(n):
            v = x[i]
            out[i] = v if ((v > zero) | np.isnan(v)) else zero
    elif op == LEAKY:
        for i in prange(n):
            v = x[i]
            out[i] = v if ((v > zero) | np.isnan(v)) else v * alpha
    elif op == EXP:
        for i in prange(n):
            out[i] = vexp(x[i])
    elif op == TANH:
        for i in prange(n):
            out[i] = vtanh(x[i])
    else:
        for i in prange(n):
            out[i] = vsigmoid(x[i])


def _unary(op: int, x, alpha, fallback):
    if not (getattr(x, "size", 0) >= NUMPY_BELOW and x.size and is_float(x)):
        return fallback(x)
    out = np.empty(x.shape, x.dtype)
    _unary_flat.get(x.dtype, x.size > PARALLEL_ABOVE)(np.ravel(x), out.reshape(-1), op,
                                                       x.dtype.type(alpha))
    return out


def neg(x):
    return _unary(NEG, x, 0, ref.neg.reference)


def sqrt(x):
    return _unary(SQRT, x, 0, ref.sqrt.reference)


def absolute(x):
    return _unary(ABS, x, 0, ref.absolute.reference)


def relu(x):
    return _unary(RELU, x, 0, ref.relu.reference)


def leaky_relu(x, negative_slope):
    return _unary(LEAKY, x, negative_slope,
                  lambda v: ref.leaky_relu.reference(v, negative_slope))


# ---- transcendentals: numpy's vectorised loops, on two threads when large -------------------
def _threaded_ufunc(ufunc, x):
    if getattr(x, "size", 0) <= THREADED_UFUNC_ABOVE or not is_float(x) or cpu_count() < 2:
        return ufunc(x)
    out = np.empty(x.shape, x.dtype)
    flat_in, flat_out = np.ravel(x), out.reshape(-1)
    h = (x.size // 2) & ~63
    split_halves(lambda a, o: ufunc(a, out=o), (flat_in[:h], flat_out[:h]),
                 (flat_in[h:], flat_out[h:]))
    return out


def exp(x):
    return _unary(EXP, x, 0, np.exp)


def log(x):
    return _threaded_ufunc(np.log, x)


def tanh(x):
    return _unary(TANH, x, 0, np.tanh)


def sin(x):
    return _threaded_ufunc(np.sin, x)


def cos(x):
    return _threaded_ufunc(np.cos, x)


def sigmoid(x):
    return _unary(SIGMOID, x, 0, ref.sigmoid.reference)


# ---- fused -----------------------------------------------------------------------------------

def _fma_sig(dt):
    ro = arr(dt, 1, "C", True)
    return types.void(ro, ro, ro, arr(dt, 1))


@lazy_njit(_fma_sig, fastmath={"contract"},
           check=lambda a, b, c, out: a.shape == b.shape == c.shape == out.shape)
def _fma_flat(a, b, c, out):
    for i in prange(out.size):
        out[i] = a[i] * b[i] + c[i]


def fma(a, b, c):
    """a * b + c in one pass (same shapes); other shapes go to the reference."""
    if not (is_float(a, b, c) and a.shape == b.shape == c.shape and a.size
            and a.size >= NUMPY_BELOW):
        return ref.fma.reference(a, b, c)
    out = np.empty(a.shape, a.dtype)
    _fma_flat.get(a.dtype, a.size > PARALLEL_ABOVE)(np.ravel(a), np.ravel(b), np.ravel(c),
                                                     out.reshape(-1))
    return out


_ACT = {"identity": 0, "relu": 1, "tanh": 2, "sigmoid": 3}


def _bias_act_sig(dt):
    return types.void(arr(dt, 2, "C", True), arr(dt, 1, "C", True), arr(dt, 2), types.int64)


@lazy_njit(_bias_act_sig, fastmath={"contract"},
           check=lambda x, bias, out, act: bias.shape == x.shape[1:] and out.shape == x.shape)
def _bias_act_rows(x, bias, out, act):
    rows, cols = x.shape
    zero = bias.dtype.type(0)
    for i in prange(rows):
        xi = x[i]
        o = out[i]
        if act == 0:
            for j in range(cols):
                o[j] = xi[j] + bias[j]
        elif act == 1:
            for j in range(cols):
                v = xi[j] + bias[j]
                o[j] = v if ((v > zero) | np.isnan(v)) else zero
        elif act == 2:
            for j in range(cols):
                o[j] = vtanh(xi[j] + bias[j])
        else:
            for j in range(cols):
                o[j] = vsigmoid(xi[j] + bias[j])


def bias_act(x, bias, act="identity"):
    """act(x + bias) in one pass."""
    ref._check_activation(act)
    if (not is_float(x, bias) or bias.ndim != 1 or x.ndim < 1 or x.shape[-1] != bias.shape[0]
            or x.size == 0 or x.size < NUMPY_BELOW):
        return ref.bias_act.reference(x, bias, act)
    out = np.empty(x.shape, x.dtype)
    cols = bias.shape[0]
    _bias_act_rows.get(x.dtype, x.size > PARALLEL_ABOVE)(
        np.ascontiguousarray(x).reshape(-1, cols), bias if bias.flags.c_contiguous else
        np.ascontiguousarray(bias), out.reshape(-1, cols), _ACT[act])
    return out


def _act_bwd_sig(dt):
    ro = arr(dt, 1, "C", True)
    return types.void(ro, ro, arr(dt, 1), types.int64)


@lazy_njit(_act_bwd_sig, fastmath={"contract"},
           check=lambda g, y, out, act: g.shape == y.shape == out.shape)
def _act_backward_flat(g, y, out, act):
    one = y.dtype.type(1)
    zero = y.dtype.type(0)
    if act == 1:
        for i in prange(out.size):
            out[i] = g[i] if y[i] > zero else zero
    elif act == 2:
        for i in prange(out.size):
            out[i] = g[i] * (one - y[i] * y[i])
    elif act == 3:
        for i in prange(out.size):
            out[i] = g[i] * (y[i] * (one - y[i]))
    else:
        for i in prange(out.size):
            out[i] = g[i]


def act_backward(grad, y, act):
    """grad * f'(x) from the activation's output y, in one pass."""
    ref._check_activation(act)
    if not (is_float(grad, y) and grad.shape == y.shape and grad.size
            and grad.size >= NUMPY_BELOW):
        return ref.act_backward.reference(grad, y, act)
    out = np.empty(grad.shape, grad.dtype)
    _act_backward_flat.get(grad.dtype, grad.size > PARALLEL_ABOVE)(
        np.ravel(grad), np.ravel(y), out.reshape(-1), _ACT[act])
    return out
