"""numba softmax / log-softmax / cross-entropy along the last axis: one row per iteration,
max, exp-sum and normalisation fused (x is read twice, written once). Other axes, dtypes and
tiny inputs go to the numpy reference."""
from __future__ import annotations

import numpy as np
from numba import njit, prange, types

from .. import policy
from .. import softmax_ce as ref
from ..registry import register
from ._common import arr, lazy_njit, same_float_arrays
from ._math import exp as vexp

SM = policy.SOFTMAX


def _rows_sig(dt):
    return types.void(arr(dt, 2, "C", True), arr(dt, 2), types.boolean)


@njit(inline="always")
def _sum8(v):
    """Sum of a row with 8 partial sums (vectorisable without fastmath reassociation)."""
    n = v.size
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = v.dtype.type(0)
    n8 = n - n % 8
    for j in range(0, n8, 8):
        s0 += v[j]
        s1 += v[j + 1]
        s2 += v[j + 2]
        s3 += v[j + 3]
        s4 += v[j + 4]
        s5 += v[j + 5]
        s6 += v[j + 6]
        s7 += v[j + 7]
    s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    for j in range(n8, n):
        s += v[j]
    return s


@njit(inline="always")
def _row_max(xr):
    """Max of a row, 8 partial maxima (vectorisable). A NaN is not propagated here, and
    need not be: exp(NaN - m) makes the row's sum, hence every output, NaN anyway."""
    n = xr.size
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = xr[0]
    n8 = n - n % 8
    for j in range(0, n8, 8):
        m0 = max(m0, xr[j])
        m1 = max(m1, xr[j + 1])
        m2 = max(m2, xr[j + 2])
        m3 = max(m3, xr[j + 3])
        m4 = max(m4, xr[j + 4])
        m5 = max(m5, xr[j + 5])
        m6 = max(m6, xr[j + 6])
        m7 = max(m7, xr[j + 7])
    m = max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))
    for j in range(n8, n):
        m = max(m, xr[j])
    return m


@lazy_njit(_rows_sig, fastmath={"contract"},
           check=lambda x, out, log: out.shape == x.shape and (x.shape[1] >= 1 or x.shape[0] == 0))
def _softmax_rows(x, out, log):
    """Per row: the max, then exp(x - max) into out (a vectorised loop), its sum, then
    the normalisation (x read twice, out written twice, all in cache for one row)."""
    rows, cols = x.shape
    for r in prange(rows):
        xr = x[r]
        o = out[r]
        m = _row_max(xr)
        for j in range(cols):
            o[j] = vexp(xr[j] - m)
        s = _sum8(o)
        if log:
            ls = np.log(s)
            for j in range(cols):
                o[j] = (xr[j] - m) - ls
        else:
            inv = o.dtype.type(1) / s
            for j in range(cols):
                o[j] = o[j] * inv


def _backward_sig(dt):
    return types.void(arr(dt, 2, "C", True), arr(dt, 2, "C", True), arr(dt, 2))


@lazy_njit(_backward_sig, fastmath={"contract"},
           check=lambda y, g, out: y.shape == g.shape == out.shape)
def _softmax_backward_rows(y, g, out):
    """Per row: s = sum g y (8 partial sums), then y (g - s); one row in cache at a time."""
    rows, cols = y.shape
    for r in prange(rows):
        yr = y[r]
        gr = g[r]
        o = out[r]
        for j in range(cols):
            o[j] = gr[j] * yr[j]
        s = _sum8(o)
        for j in range(cols):
            o[j] = yr[j] * (gr[j] - s)


@register("numba", "softmax_backward")
def softmax_backward(y, grad, axis=-1):
    """Fused along the last axis (issue 15: attention's backward ran four numpy passes and a
    short-row reduction); other axes, mixed dtypes and tiny inputs take the reference."""
    if not (_last_axis(y, axis) and same_float_arrays(y, grad) and grad.shape == y.shape):
        return ref.softmax_backward.reference(y, grad, axis)
    cols = y.shape[-1]
    out = np.empty(y.shape, y.dtype)
    _softmax_backward_rows.get(y.dtype, SM.parallel(y.size))(
        np.ascontiguousarray(y).reshape(-1, cols), np.ascontiguousarray(grad).reshape(-1, cols),
        out.reshape(-1, cols))
    return out


def _last_axis(x, axis):
    ref._require_array("softmax", x)
    return same_float_arrays(x) and x.ndim >= 1 and x.size and x.size >= SM.numpy_below and axis in (-1, x.ndim - 1)


def _run(x, log):
    cols = x.shape[-1]
    out = np.empty(x.shape, x.dtype)
    _softmax_rows.get(x.dtype, SM.parallel(x.size))(
        np.ascontiguousarray(x).reshape(-1, cols), out.reshape(-1, cols), log)
    return out


@register("numba", "softmax")
def softmax(x, axis=-1):
    if not _last_axis(x, axis):
        return ref.softmax.reference(x, axis)
    return _run(x, False)


@register("numba", "log_softmax")
def log_softmax(x, axis=-1):
    if not _last_axis(x, axis):
        return ref.log_softmax.reference(x, axis)
    return _run(x, True)


def _ce_sig(dt):
    return types.void(arr(dt, 2, "C", True), arr(types.int64, 1, "C", True), arr(dt, 1),
                      arr(dt, 2))


# The class indices' range is checked once by the public functions (`_check_targets`), not
# again per launch: the shapes below are what a wrong caller could get wrong by accident.
@lazy_njit(_ce_sig, fastmath={"contract"},
           check=lambda z, target, loss, probs: (target.shape == loss.shape == z.shape[:1]
                                                 and probs.shape == z.shape
                                                 and (z.shape[1] >= 1 or z.shape[0] == 0)))
def _cross_entropy_rows(z, target, loss, probs):
    rows, cols = z.shape
    for r in prange(rows):
        zr = z[r]
        p = probs[r]
        m = _row_max(zr)
        for j in range(cols):
            p[j] = vexp(zr[j] - m)
        s = _sum8(p)
        inv = p.dtype.type(1) / s
        for j in range(cols):
            p[j] = p[j] * inv
        loss[r] = np.log(s) - (zr[target[r]] - m)


@register("numba", "cross_entropy")
def cross_entropy(logits, target):
    ref._check_targets(logits, target)
    if not (same_float_arrays(logits) and logits.size and logits.size >= SM.numpy_below):
        return ref.cross_entropy.reference(logits, target)
    n, c = logits.shape
    loss = np.empty(n, logits.dtype)
    probs = np.empty((n, c), logits.dtype)
    _cross_entropy_rows.get(logits.dtype, SM.parallel(logits.size))(
        np.ascontiguousarray(logits), np.ascontiguousarray(target, dtype=np.int64), loss, probs)
    return loss, probs


def _ce_bwd_sig(dt):
    return types.void(arr(dt, 2, "C", True), arr(types.int64, 1, "C", True),
                      arr(dt, 1, "C", True), arr(dt, 2))


@lazy_njit(_ce_bwd_sig, fastmath={"contract"},
           check=lambda probs, target, grad, out: (target.shape == grad.shape == probs.shape[:1]
                                                   and out.shape == probs.shape
                                                   and (probs.shape[1] >= 1
                                                        or probs.shape[0] == 0)))
def _cross_entropy_backward_rows(probs, target, grad, out):
    rows, cols = probs.shape
    for r in prange(rows):
        g = grad[r]
        for j in range(cols):
            out[r, j] = probs[r, j] * g
        out[r, target[r]] -= g


@register("numba", "cross_entropy_backward")
def cross_entropy_backward(probs, target, grad):
    ref._check_targets(probs, target)
    if not (same_float_arrays(probs, grad) and probs.size and probs.size >= SM.numpy_below
            and grad.shape == probs.shape[:1]):
        return ref.cross_entropy_backward.reference(probs, target, grad)
    out = np.empty(probs.shape, probs.dtype)
    _cross_entropy_backward_rows.get(probs.dtype, SM.parallel(probs.size))(
        np.ascontiguousarray(probs), np.ascontiguousarray(target, dtype=np.int64),
        np.ascontiguousarray(grad), out)
    return out
