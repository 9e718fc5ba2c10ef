"""Batch-norm kernels (numpy references): the training-mode normalisation and its input
gradient, each one fused pass over (N, C, L) data (statistics per channel C, over N and L).

    mean_c   = mean(x[:, c, :])
    var_c    = mean((x[:, c, :] - mean_c)^2)           (biased: the one used to normalise)
    invstd_c = 1 / sqrt(var_c + eps)
    xhat     = (x - mean_c) * invstd_c

Given g = dLoss/dxhat (the upstream gradient already multiplied by the affine weight),

    dx = invstd_c * (g - mean(g) - xhat * mean(g * xhat))      (means over N and L)

With the affine weight w and bias (y = xhat * w + bias), from g = dLoss/dy in one kernel:

    dx = invstd_c * w_c * (g - mean(g) - xhat * mean(g * xhat)),
    dw = sum(g * xhat),   dbias = sum(g)                            (sums over N and L)

Signatures (x and g are (N, C, L); the ops reshape any (N, C, *) input to that):
    batch_norm_forward(x, eps) -> (xhat, mean (C,), var (C,), invstd (C,))
    batch_norm_forward_affine(x, eps, weight, bias) -> (y, xhat, mean, var, invstd)
    batch_norm_backward(grad_xhat, xhat, invstd) -> grad_x
    batch_norm_backward_affine(grad_y, xhat, invstd, weight) -> (grad_x, grad_w, grad_bias)
"""
from __future__ import annotations

import numpy as np

from .registry import declare


@declare
def batch_norm_forward(x, eps):
    """Normalise each channel of (N, C, L) x by its batch statistics."""
    mean = x.mean(axis=(0, 2))
    centred = x - mean[None, :, None]
    var = np.mean(centred * centred, axis=(0, 2))
    invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
    return centred * invstd[None, :, None], mean, var, invstd


@declare
def batch_norm_forward_affine(x, eps, weight, bias):
    """batch_norm_forward, and y = xhat * weight + bias (per channel) first."""
    xhat, mean, var, invstd = batch_norm_forward.reference(x, eps)
    return xhat * weight[None, :, None] + bias[None, :, None], xhat, mean, var, invstd


@declare
def batch_norm_backward(grad_xhat, xhat, invstd):
    """dx = invstd * (g - mean(g) - xhat * mean(g * xhat)), means per channel."""
    mean_g = grad_xhat.mean(axis=(0, 2), keepdims=True)
    mean_gx = np.mean(grad_xhat * xhat, axis=(0, 2), keepdims=True)
    return invstd[None, :, None] * (grad_xhat - mean_g - xhat * mean_gx)


@declare
def batch_norm_backward_affine(grad_y, xhat, invstd, weight):
    """(dx, dweight, dbias) of y = xhat * weight + bias: batch_norm_backward of
    grad_y * weight, sum(grad_y * xhat) and sum(grad_y) per channel (the numba kernel takes
    all three from the same two sums)."""
    dx = batch_norm_backward.reference(grad_y * weight[None, :, None], xhat, invstd)
    return dx, np.sum(grad_y * xhat, axis=(0, 2)), grad_y.sum(axis=(0, 2))
