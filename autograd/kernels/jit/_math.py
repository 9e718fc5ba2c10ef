"""Vectorisable exp / expm1 / tanh / sigmoid for numba loops.

numba calls libm's scalar `exp` per element: LLVM can only vectorise transcendentals through
Intel's SVML, and the PyPI llvmlite is not built with the SVML patch (`numba -s`: "SVML
Operational: False", even with Intel's runtime installed). These are written with only
arithmetic, floor and a bit cast, so LLVM vectorises the loops that call them (AVX-512:
16 f32 lanes). Accuracy: a few ulp (exp: Cody-Waite reduction x = k ln2 + r,
|r| <= ln2/2, Taylor polynomial of degree 7 (f32) or 13 (f64), times 2^k built from bits in
two halves so that results down to the subnormals and up to overflow come out right).
"""
from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload


@intrinsic
def _bits_to_float(typingctx, bits):
    if bits == types.int32:
        sig, llty = types.float32(types.int32), ir.FloatType()
    elif bits == types.int64:
        sig, llty = types.float64(types.int64), ir.DoubleType()
    else:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llty)
    return sig, codegen


def exp(x):
    pass


def expm1(x):
    pass


def _poly_consts(bits):
    if bits == 32:
        return (np.float32(1.4426950408889634), np.float32(0.693359375),
                np.float32(-2.12194440e-4), np.float32(-104.0), np.float32(89.0),
                [np.float32(1.0 / f) for f in (5040, 720, 120, 24, 6, 2, 1)],
                np.int32, 127, 23)
    return (1.4426950408889634, 0.693145751953125, 1.42860682030941723212e-6, -746.0, 710.0,
            [1.0 / f for f in (6227020800, 479001600, 39916800, 3628800, 362880, 40320, 5040,
                               720, 120, 24, 6, 2, 1)],
            np.int64, 1023, 52)


def _make(bits, minus_one):
    LOG2E, C1, C2, LO, HI, coef, ity, bias, shift = _poly_consts(bits)
    ftype = np.float32 if bits == 32 else np.float64
    one = ftype(1.0)
    c = tuple(coef)
    if bits == 32:
        c0, c1, c2, c3, c4, c5, c6 = c

        def poly(r):  # Horner, written out (a loop over the tuple upsets numba's SSA)
            return ((((((c0 * r + c1) * r + c2) * r + c3) * r + c4) * r + c5) * r + c6) * r
    else:
        d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12 = c

        def poly(r):
            q = ((((((d0 * r + d1) * r + d2) * r + d3) * r + d4) * r + d5) * r + d6)
            return ((((((q * r + d7) * r + d8) * r + d9) * r + d10) * r + d11) * r + d12) * r
    poly = njit(inline="always")(poly)

    @njit(inline="always")
    def reduce(x):
        """(2^(k//2), 2^(k - k//2), expm1(r)) with x = k ln2 + r."""
        xc = min(max(x, LO), HI)
        k = np.floor(xc * LOG2E + ftype(0.5))
        r = (xc - k * C1) - k * C2
        ki = ity(k)
        h = ki >> 1
        s1 = _bits_to_float(ity((h + bias) << shift))
        s2 = _bits_to_float(ity((ki - h + bias) << shift))
        return s1, s2, poly(r)  # poly(r) = r + r^2/2! + ... = expm1(r), exact near 0

    if minus_one:
        def impl(x):
            s1, s2, q = reduce(x)
            # 2^k (1 + q) - 1 = 2^k q + (2^k - 1): no cancellation when k = 0
            res = (q * s1) * s2 + ((s1 * s2) - one)
            return x if np.isnan(x) else res
    else:
        def impl(x):
            s1, s2, q = reduce(x)
            res = ((q + one) * s1) * s2
            return x if np.isnan(x) else res
    return impl


_IMPLS = {(32, False): _make(32, False), (64, False): _make(64, False),
          (32, True): _make(32, True), (64, True): _make(64, True)}


@overload(exp, jit_options={"fastmath": {"contract"}, "error_model": "numpy"})
def _exp_overload(x):
    if x == types.float32:
        return _IMPLS[(32, False)]
    if x == types.float64:
        return _IMPLS[(64, False)]
    return None


@overload(expm1, jit_options={"fastmath": {"contract"}, "error_model": "numpy"})
def _expm1_overload(x):
    if x == types.float32:
        return _IMPLS[(32, True)]
    if x == types.float64:
        return _IMPLS[(64, True)]
    return None


def tanh(x):
    pass


def sigmoid(x):
    pass


def _make_tanh(ftype):
    two, cap = ftype(2), ftype(20)

    def impl(x):
        # tanh |x| = expm1(2|x|) / (expm1(2|x|) + 2): accurate near 0 (no 1 - 2/(e+1)
        # cancellation); |x| capped at 20, where tanh is 1 to within float64 rounding
        ax = min(abs(x), cap)
        em = expm1(ax + ax)
        t = em / (em + two)
        t = t if x >= 0 else -t
        return t if not np.isnan(x) else x
    return impl


def _make_sigmoid(ftype):
    one = ftype(1)

    def impl(x):
        # 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) otherwise: e^-|x| never overflows
        e = exp(-abs(x))
        return one / (one + e) if x >= 0 else e / (one + e)
    return impl


_TANH = {32: _make_tanh(np.float32), 64: _make_tanh(np.float64)}
_SIGMOID = {32: _make_sigmoid(np.float32), 64: _make_sigmoid(np.float64)}


@overload(tanh, jit_options={"fastmath": {"contract"}, "error_model": "numpy"})
def _tanh_overload(x):
    if x in (types.float32, types.float64):
        return _TANH[x.bitwidth]
    return None


@overload(sigmoid, jit_options={"fastmath": {"contract"}, "error_model": "numpy"})
def _sigmoid_overload(x):
    if x in (types.float32, types.float64):
        return _SIGMOID[x.bitwidth]
    return None


def one_plus_erf(x):
    pass


# Abramowitz & Stegun 7.1.26: erfc|x| ~ t (p1 + t (p2 + ...)) e^(-x^2), t = 1 / (1 + p |x|),
# absolute error <= 1.5e-7 (the approximation PyTorch's vectorised float32 erf uses)
_AS_P = 0.3275911
_AS = (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)
# erf x = 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1)): terms to x^13 (|x| < 1/2: the next
# is below 1e-9 of the sum)
_ERF_SERIES = tuple(2 / math.sqrt(math.pi) * (-1) ** n / (math.factorial(n) * (2 * n + 1))
                    for n in range(7))


def _make_one_plus_erf(ftype):
    if ftype is np.float64:
        def exact(x):
            return 1.0 + math.erf(x)  # libm's, float64-accurate (the erf kernel's)
        return exact
    one, two, p, half = ftype(1), ftype(2), ftype(_AS_P), ftype(0.5)
    a5, a4, a3, a2, a1 = (ftype(c) for c in _AS)
    s0, s1, s2, s3, s4, s5, s6 = (ftype(c) for c in _ERF_SERIES)

    def impl(x):
        # 1 + erf x for float32 with arithmetic and the vectorisable exp only (libm's erf
        # is a scalar call per element, ~25x slower here). |x| < 1/2: erf's Taylor series
        # (A&S's polynomial cancels to ~5e-7 in float32 there); else A&S 7.1.26, which for
        # x < 0 is erfc|x| itself, so the left tail keeps its relative accuracy (no
        # 1 - (1 - tiny) cancellation)
        # (both computed, then selected: the loop stays vectorised)
        a = abs(x)
        w = x * x
        series = one + x * ((((((s6 * w + s5) * w + s4) * w + s3) * w + s2) * w + s1) * w + s0)
        t = one / (p * a + one)
        c = ((((a5 * t + a4) * t + a3) * t + a2) * t + a1) * t * exp(-w)
        tail = two - c if x >= 0 else c
        return series if a < half else tail
    return impl


_ONE_PLUS_ERF = {32: _make_one_plus_erf(np.float32), 64: _make_one_plus_erf(np.float64)}


@overload(one_plus_erf, jit_options={"fastmath": {"contract"}, "error_model": "numpy"})
def _one_plus_erf_overload(x):
    """1 + erf(x): float32 by Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7, about
    one float32 ulp of 1 + erf), float64 by libm's erf (GELU's kernels)."""
    if x in (types.float32, types.float64):
        return _ONE_PLUS_ERF[x.bitwidth]
    return None


def typed(x, value):
    pass


@overload(typed, inline="always")
def _typed_overload(x, value):
    """`value` as a constant of x's float type (a bare literal would make float32 math
    float64)."""
    if x in (types.float32, types.float64):
        cast = np.float32 if x == types.float32 else np.float64

        def impl(x, value):
            return cast(value)
        return impl
    return None
