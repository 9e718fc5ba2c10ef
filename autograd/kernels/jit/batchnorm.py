"""numba batch norm over (N, C, L): one channel per parallel iteration; the forward's
statistics in one shifted pass (float64 accumulators) and the normalisation in a second,
the backward's two channel means in one pass and dx in a second (one kernel for both
backward kernels: with the affine weight it also returns dweight and dbias, the same sums;
without, it runs with weight 1).

The kernels take C-contiguous arrays (the wrappers copy any other layout) and may reorder
their float64 sums (fastmath "reassoc"): LLVM then vectorises the reductions, which were
one dependent add after another, and the row loops (with run-time strides it could not).
One thread, (16, 32, 4096) float32: forward 3.3 -> 0.94 ms, backward 2.9 -> 1.1 ms, the
same statistics and outputs to the last bit in that case (float64 sums of float32 values)."""
from __future__ import annotations

import numpy as np
from numba import prange, types

from .. import batchnorm as ref
from .. import policy
from ..registry import register
from ._common import arr, lazy_njit, same_float_arrays

BN = policy.BATCHNORM


def _fwd_sig(dt):
    ro1 = arr(dt, 1, "A", True)
    return types.void(arr(dt, 3, "C", True), ro1, ro1, arr(dt, 3), arr(dt, 3), arr(dt, 1),
                      arr(dt, 1), arr(dt, 1), types.float64)


def _fwd_fits(x, weight, bias, xhat, y, mean, var, invstd, eps) -> bool:
    # x[0, ch, 0] is read for every channel: no empty batch or length unless no channels;
    # without an affine weight (size 0) y is empty
    c = x.shape[1:2]
    affine = (weight.shape == bias.shape == c and y.shape == x.shape if weight.size
              else bias.size == y.size == 0)
    return (affine and xhat.shape == x.shape and mean.shape == var.shape == invstd.shape == c
            and (x.size > 0 or x.shape[1] == 0))


@lazy_njit(_fwd_sig, fastmath={"contract", "reassoc"}, check=_fwd_fits)
def _bn_forward(x, weight, bias, xhat, y, mean, var, invstd, eps):
    """xhat, and with an affine weight and bias (not empty) y = xhat * weight + bias, in the
    normalising pass."""
    n, c, l = x.shape
    count = n * l
    for ch in prange(c):
        s = np.float64(x[0, ch, 0])
        a = 0.0
        b = 0.0
        for i in range(n):
            row = x[i, ch]
            for k in range(l):
                d = np.float64(row[k]) - s
                a += d
                b += d * d
        mu = s + a / count
        v = max((b - a * a / count) / count, 0.0)
        mean[ch] = mu
        var[ch] = v
        inv = 1.0 / np.sqrt(v + eps)
        invstd[ch] = inv
        m = mean.dtype.type(mu)
        iv = mean.dtype.type(inv)
        if weight.size:
            w = weight[ch]
            bb = bias[ch]
            for i in range(n):
                row = x[i, ch]
                out = xhat[i, ch]
                yr = y[i, ch]
                for k in range(l):
                    xh = (row[k] - m) * iv
                    out[k] = xh
                    yr[k] = xh * w + bb
        else:
            for i in range(n):
                row = x[i, ch]
                out = xhat[i, ch]
                for k in range(l):
                    out[k] = (row[k] - m) * iv


def _forward(x, eps, weight, bias, y_shape):
    x = np.ascontiguousarray(x)
    c = x.shape[1]
    xhat, y = np.empty(x.shape, x.dtype), np.empty(y_shape, x.dtype)
    mean, var, invstd = (np.empty(c, x.dtype) for _ in range(3))
    _bn_forward.get(x.dtype, BN.parallel(x.size))(x, weight, bias, xhat, y, mean, var, invstd,
                                                  float(eps))
    return y, xhat, mean, var, invstd


def _fits_kernel(x, *params) -> bool:
    return (same_float_arrays(x, *params) and x.ndim == 3 and x.size
            and x.size >= BN.numpy_below and all(p.shape == x.shape[1:2] for p in params))


@register("numba", "batch_norm_forward")
def batch_norm_forward(x, eps):
    if not _fits_kernel(x):
        return ref.batch_norm_forward.reference(x, eps)
    none = np.empty(0, x.dtype)
    return _forward(x, eps, none, none, (0, 0, 0))[1:]


@register("numba", "batch_norm_forward_affine")
def batch_norm_forward_affine(x, eps, weight, bias):
    if not _fits_kernel(x, weight, bias):
        return ref.batch_norm_forward_affine.reference(x, eps, weight, bias)
    return _forward(x, eps, weight, bias, x.shape)


def _fits_backward(g, xhat, *per_channel) -> bool:
    return (_fits_kernel(g, *per_channel) and same_float_arrays(g, xhat)
            and xhat.shape == g.shape)


@register("numba", "batch_norm_backward")
def batch_norm_backward(grad_xhat, xhat, invstd):
    if not _fits_backward(grad_xhat, xhat, invstd):
        return ref.batch_norm_backward.reference(grad_xhat, xhat, invstd)
    # the affine kernel with weight 1 (scale = invstd * 1: the same values to the bit)
    c = grad_xhat.shape[1]
    return _backward(grad_xhat, xhat, invstd, np.ones(c, grad_xhat.dtype))[0]


def _bwd_affine_sig(dt):
    ro3, ro1 = arr(dt, 3, "C", True), arr(dt, 1, "A", True)
    return types.void(ro3, ro3, ro1, ro1, arr(dt, 3), arr(dt, 1), arr(dt, 1))


def _bwd_affine_fits(g, xhat, invstd, weight, dx, dw, db) -> bool:
    return (g.shape == xhat.shape == dx.shape
            and invstd.shape == weight.shape == dw.shape == db.shape == g.shape[1:2])


@lazy_njit(_bwd_affine_sig, fastmath={"contract", "reassoc"}, check=_bwd_affine_fits)
def _bn_backward_affine(g, xhat, invstd, weight, dx, dw, db):
    """dx of g * weight (the two channel means in one pass, dx in a second), with dweight
    and dbias from the same two sums."""
    n, c, l = g.shape
    count = max(n * l, 1)
    for ch in prange(c):
        sg = 0.0
        sgx = 0.0
        for i in range(n):
            gr = g[i, ch]
            xr = xhat[i, ch]
            for k in range(l):
                sg += gr[k]
                sgx += gr[k] * xr[k]
        db[ch] = sg
        dw[ch] = sgx
        mg = dx.dtype.type(sg / count)
        mgx = dx.dtype.type(sgx / count)
        scale = invstd[ch] * weight[ch]
        for i in range(n):
            gr = g[i, ch]
            xr = xhat[i, ch]
            out = dx[i, ch]
            for k in range(l):
                out[k] = scale * (gr[k] - mg - xr[k] * mgx)


@register("numba", "batch_norm_backward_affine")
def batch_norm_backward_affine(grad_y, xhat, invstd, weight):
    if not _fits_backward(grad_y, xhat, invstd, weight):
        return ref.batch_norm_backward_affine.reference(grad_y, xhat, invstd, weight)
    return _backward(grad_y, xhat, invstd, weight)


def _backward(g, xhat, invstd, weight):
    c = g.shape[1]
    dx = np.empty(g.shape, g.dtype)
    dw, db = np.empty(c, g.dtype), np.empty(c, g.dtype)
    _bn_backward_affine.get(dx.dtype, BN.parallel(dx.size))(
        np.ascontiguousarray(g), np.ascontiguousarray(xhat), invstd, weight, dx, dw, db)
    return dx, dw, db
