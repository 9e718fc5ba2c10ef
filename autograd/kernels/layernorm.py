"""Layer-norm kernels (numpy references): the normalisation of each row of (M, D) data and
its gradients, each one fused pass (the layer's input viewed as rows of its normalised dims).

    mean_i = mean(x[i]),  var_i = mean((x[i] - mean_i)^2)   (biased: the one used to normalise)
    rstd_i = 1 / sqrt(var_i + eps),   xhat = (x - mean_i) rstd_i,   y = xhat weight + bias

Given g = dLoss/dy and gh = g weight,

    dx = rstd_i (gh - mean(gh) - xhat mean(gh xhat))     (means along the row)
    dweight = sum_i g xhat,   dbias = sum_i g

Signatures (weight and bias are (D,) arrays: ones and zeros for a layer without them):
    layer_norm_forward(x, weight, bias, eps) -> (y, xhat, rstd (M, 1))
    layer_norm_backward(grad, xhat, rstd, weight) -> (grad_x, grad_weight, grad_bias)
"""
from __future__ import annotations

import numpy as np

from .registry import backend_module, declare


@declare
def layer_norm_forward(x, weight, bias, eps):
    """Normalise each row of (M, D) x, then scale by weight and shift by bias (D,)."""
    mean = x.mean(axis=1, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=1, keepdims=True)
    rstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
    xhat = centred * rstd
    return xhat * weight + bias, xhat, rstd


@declare
def layer_norm_backward(grad, xhat, rstd, weight):
    """(dx, dweight, dbias) of y = xhat weight + bias for (M, D) grad and xhat, (M, 1) rstd."""
    gh = grad * weight
    dx = rstd * (gh - gh.mean(axis=1, keepdims=True)
                 - xhat * np.mean(gh * xhat, axis=1, keepdims=True))
    return dx, np.sum(grad * xhat, axis=0), np.sum(grad, axis=0)


backend_module("numba", "autograd.kernels.jit.layernorm")
