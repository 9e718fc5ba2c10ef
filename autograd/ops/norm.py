"""Fused batch normalisation for training mode (batch statistics).

x is (N, C, *) and is viewed as (N, C, L); statistics are per channel over N and L:

    xhat = (x - mean) / sqrt(var + eps),     y = xhat * weight + bias      (var biased)
    dx   = invstd * (gh - mean(gh) - xhat * mean(gh * xhat)),   gh = g * weight
    dweight = sum(g * xhat),   dbias = sum(g)

First-order backward (the engine runs it under no_grad) calls the fused kernel on the
arrays saved by forward. Under create_graph the same formula is written with Tensor ops,
recomputing mean and invstd from x, so that it is itself differentiable (Hessians and
gradgradcheck are correct) at the cost of a few extra passes.

The op never writes into running statistics: given a list as `batch_stats`, forward appends
the batch mean and biased variance (per channel) to it, and the layer updates its running
statistics from them (nn.functional.batch_norm).
"""
from __future__ import annotations

import numpy as np

from .. import kernels as K
from ..function import Function
from ..grad_mode import is_grad_enabled
from ..kernels.batchnorm import (
    batch_norm_backward,
    batch_norm_backward_affine,
    batch_norm_forward,
    batch_norm_forward_affine,
)
from ..wrap import wrap


class BatchNorm(Function):
    """Training-mode batch norm of x (N, C, *) with optional affine weight and bias (C,)."""
    save_inputs = True

    def forward(self, x, *affine, eps: float = 1e-5, batch_stats: list | None = None):
        n, c = x.shape[:2]
        x3 = x.reshape(n, c, int(np.prod(x.shape[2:])))
        self.shape, self.eps = x.shape, eps
        if affine and isinstance(x, np.ndarray):  # one kernel (the cuda backend: two ops)
            y, self.xhat, self.mean, self.var, self.invstd = batch_norm_forward_affine(
                x3, eps, *affine)
        else:
            self.xhat, self.mean, self.var, self.invstd = batch_norm_forward(x3, eps)
            y = self.xhat * affine[0][:, None] + affine[1][:, None] if affine else self.xhat
        if batch_stats is not None:  # an output buffer for the caller
            batch_stats[:] = (self.mean, self.var)
        return y.reshape(x.shape)

    def backward(self, g):
        x, *affine = self.inputs
        n, c = self.shape[:2]
        g3 = g.reshape(n, c, int(np.prod(self.shape[2:])))
        need = [nx is not None for nx in self.next]
        if is_grad_enabled():
            return self._backward_differentiable(x, affine, g3, need)
        # kernels only (no numpy on arrays): a compiled step records them one by one
        gd = g3.data
        if affine and isinstance(gd, np.ndarray):
            # one kernel for all three (the cuda backend composes the ones below)
            gx, gw, gb = batch_norm_backward_affine(gd, self.xhat, self.invstd,
                                                    affine[0].data)
            return (wrap(gx.reshape(self.shape)) if need[0] else None,
                    wrap(gw) if need[1] else None, wrap(gb) if need[2] else None)
        gh = K.mul(gd, affine[0].data[:, None]) if affine else gd
        gx = (wrap(batch_norm_backward(gh, self.xhat, self.invstd).reshape(self.shape))
              if need[0] else None)
        if not affine:
            return gx
        gw = wrap(K.sum(K.mul(gd, self.xhat), axis=(0, 2))) if need[1] else None
        gb = wrap(K.sum(gd, axis=(0, 2))) if need[2] else None
        return gx, gw, gb

    def _backward_differentiable(self, x, affine, g3, need):
        n, c = self.shape[:2]
        x3 = x.reshape(n, c, int(np.prod(self.shape[2:])))
        centred = x3 - x3.mean((0, 2), keepdim=True)
        invstd = ((centred * centred).mean((0, 2), keepdim=True) + self.eps) ** -0.5
        xhat = centred * invstd
        gh = g3 * affine[0].reshape(1, c, 1) if affine else g3
        gx = None
        if need[0]:
            gx = invstd * (gh - gh.mean((0, 2), keepdim=True)
                           - xhat * (gh * xhat).mean((0, 2), keepdim=True))
            gx = gx.reshape(self.shape)
        if not affine:
            return gx
        gw = (g3 * xhat).sum((0, 2)) if need[1] else None
        gb = g3.sum((0, 2)) if need[2] else None
        return gx, gw, gb
