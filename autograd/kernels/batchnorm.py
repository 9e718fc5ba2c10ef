"""Batch-norm kernels (numpy references): the training-mode normalisation and its input
gradient, each one fused pass over (N, C, L) data (statistics per channel C, over N and L).

    mean_c   = mean(x[:, c, :])
    var_c    = mean((x[:, c, :] - mean_c)^2)           (biased: the one used to normalise)
    invstd_c = 1 / sqrt(var_c + eps)
    xhat     = (x - mean_c) * invstd_c

Given g = dLoss/dxhat (the upstream gradient already multiplied by the affine weight),

    dx = invstd_c * (g - mean(g) - xhat * mean(g * xhat))      (means over N and L)

Signatures (x and g are (N, C, L); the ops reshape any (N, C, *) input to that):
    batch_norm_forward(x, eps) -> (xhat, mean (C,), var (C,), invstd (C,))
    batch_norm_backward(grad_xhat, xhat, invstd) -> grad_x
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
def batch_norm_backward(grad_xhat, xhat, invstd):
    """dx = invstd * (g - mean(g) - xhat * mean(g * xhat)), means per channel."""
    mean_g = grad_xhat.mean(axis=(0, 2), keepdims=True)
    mean_gx = np.mean(grad_xhat * xhat, axis=(0, 2), keepdims=True)
    return invstd[None, :, None] * (grad_xhat - mean_g - xhat * mean_gx)
