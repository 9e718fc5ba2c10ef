"""numba layer-norm kernels (references: autograd/kernels/layernorm.py): one pass over the
rows each way, statistics and the gradients' row and column sums accumulated in float64.

Forward runs the rows in parallel above `policy.REDUCE.parallel_above` elements; backward
also sums dweight and dbias over the rows, so it runs serially (issue 15's tiny GPT:
1024 x 128 rows, ~0.05 ms, against ~0.9 ms for the composition of a dozen numpy passes).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange, types

from .. import layernorm as ref
from .. import policy
from ..registry import register
from ._common import arr, lazy_njit, same_float_arrays

RD = policy.REDUCE


def _forward_sig(dt):
    return types.void(arr(dt, 2, "C", True), arr(dt, 1, "C", True), arr(dt, 1, "C", True),
                      types.float64, arr(dt, 2), arr(dt, 2), arr(dt, 2))


def _forward_fits(x, w, b, eps, y, xhat, rstd):
    m, d = x.shape
    return (w.shape == b.shape == (d,) and y.shape == xhat.shape == x.shape
            and rstd.shape == (m, 1))


@njit(inline="always")
def _moments4(a, shift):
    """(sum a, sum (a - shift)^2) over a row, 4 partial float64 sums each (vectorisable
    without fastmath reassociation)."""
    n = a.size
    p0 = p1 = p2 = p3 = q0 = q1 = q2 = q3 = 0.0
    n4 = n - n % 4
    for j in range(0, n4, 4):
        a0, a1, a2, a3 = a[j], a[j + 1], a[j + 2], a[j + 3]
        p0 += a0
        p1 += a1
        p2 += a2
        p3 += a3
        d0, d1, d2, d3 = a0 - shift, a1 - shift, a2 - shift, a3 - shift
        q0 += d0 * d0
        q1 += d1 * d1
        q2 += d2 * d2
        q3 += d3 * d3
    p, q = (p0 + p1) + (p2 + p3), (q0 + q1) + (q2 + q3)
    for j in range(n4, n):
        p += a[j]
        q += (a[j] - shift) * (a[j] - shift)
    return p, q


@njit(inline="always")
def _dots4(g, w, h):
    """(sum g w, sum g w h) over a row, 4 partial float64 sums each."""
    n = g.size
    p0 = p1 = p2 = p3 = q0 = q1 = q2 = q3 = 0.0
    n4 = n - n % 4
    for j in range(0, n4, 4):
        e0, e1, e2, e3 = g[j] * w[j], g[j + 1] * w[j + 1], g[j + 2] * w[j + 2], g[j + 3] * w[j + 3]
        p0 += e0
        p1 += e1
        p2 += e2
        p3 += e3
        q0 += e0 * h[j]
        q1 += e1 * h[j + 1]
        q2 += e2 * h[j + 2]
        q3 += e3 * h[j + 3]
    p, q = (p0 + p1) + (p2 + p3), (q0 + q1) + (q2 + q3)
    for j in range(n4, n):
        e = g[j] * w[j]
        p += e
        q += e * h[j]
    return p, q


@lazy_njit(_forward_sig, fastmath={"contract"}, check=_forward_fits)
def _forward(x, w, b, eps, y, xhat, rstd):
    m, d = x.shape
    for i in prange(m):
        row = x[i]
        s, _ = _moments4(row, 0.0)
        mean = s / d
        _, v = _moments4(row, mean)  # two passes: no cancellation in the variance
        r = 1.0 / math.sqrt(v / d + eps)
        rstd[i, 0] = r
        hrow = xhat[i]
        yrow = y[i]
        for j in range(d):
            hrow[j] = (row[j] - mean) * r  # rounded to x's dtype, then used (as the reference)
            yrow[j] = hrow[j] * w[j] + b[j]


def _backward_sig(dt):
    return types.void(arr(dt, 2, "C", True), arr(dt, 2, "C", True), arr(dt, 2, "C", True),
                      arr(dt, 1, "C", True), arr(dt, 2), arr(dt, 1), arr(dt, 1))


def _backward_fits(g, xhat, rstd, w, dx, dw, db):
    m, d = g.shape
    return (xhat.shape == dx.shape == g.shape and rstd.shape == (m, 1)
            and w.shape == dw.shape == db.shape == (d,))


@lazy_njit(_backward_sig, fastmath={"contract"}, check=_backward_fits, parallel=False)
def _backward(g, xhat, rstd, w, dx, dw, db):
    m, d = g.shape
    accw = np.zeros(d, np.float64)
    accb = np.zeros(d, np.float64)
    for i in range(m):
        grow = g[i]
        hrow = xhat[i]
        for j in range(d):
            gj = grow[j]
            accw[j] += gj * hrow[j]
            accb[j] += gj
        s1, s2 = _dots4(grow, w, hrow)
        m1 = s1 / d
        m2 = s2 / d
        r = rstd[i, 0]
        drow = dx[i]
        for j in range(d):
            drow[j] = r * (grow[j] * w[j] - m1 - hrow[j] * m2)
    for j in range(d):
        dw[j] = accw[j]
        db[j] = accb[j]


def _fits(*arrays) -> bool:
    return same_float_arrays(*arrays) and arrays[0].ndim == 2 and arrays[0].size > 0


@register("numba", "layer_norm_forward")
def layer_norm_forward(x, weight, bias, eps):
    if not (_fits(x, weight, bias) and weight.ndim == bias.ndim == 1):
        return ref.layer_norm_forward.reference(x, weight, bias, eps)
    x = np.ascontiguousarray(x)
    y, xhat = np.empty_like(x), np.empty_like(x)
    rstd = np.empty((x.shape[0], 1), x.dtype)
    _forward.get(x.dtype, RD.parallel(x.size))(x, np.ascontiguousarray(weight),
                                                np.ascontiguousarray(bias), float(eps), y,
                                                xhat, rstd)
    return y, xhat, rstd


@register("numba", "layer_norm_backward")
def layer_norm_backward(grad, xhat, rstd, weight):
    if not (_fits(grad, xhat, rstd, weight) and weight.ndim == 1):
        return ref.layer_norm_backward.reference(grad, xhat, rstd, weight)
    grad = np.ascontiguousarray(grad)
    dx = np.empty_like(grad)
    dw, db = np.empty(grad.shape[1], grad.dtype), np.empty(grad.shape[1], grad.dtype)
    _backward.get(grad.dtype)(grad, np.ascontiguousarray(xhat), np.ascontiguousarray(rstd),
                              np.ascontiguousarray(weight), dx, dw, db)
    return dx, dw, db
