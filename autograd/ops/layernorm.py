"""Fused layer normalisation over the trailing `dims` dimensions of x (the rows of x viewed
as (M, D), D the product of those dims):

    xhat = (x - mean) / sqrt(var + eps),     y = xhat * weight + bias      (var biased)
    dx   = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)),   gh = g * weight
    dweight = sum(g * xhat),   dbias = sum(g)

One kernel pass each way (`kernels/layernorm.py`) instead of the dozen elementwise and
reduction ops of the composition (issue 15's tiny GPT). First-order backward calls the fused
kernel on the arrays saved by forward; under create_graph the same formula is written with
Tensor ops, recomputing the statistics from x, so that it is itself differentiable.
"""
from __future__ import annotations

import numpy as np

from ..function import Function
from ..grad_mode import is_grad_enabled
from ..kernels.layernorm import layer_norm_backward, layer_norm_forward
from ..wrap import wrap


class LayerNorm(Function):
    """Layer norm of x over its last `dims` dims; inputs x, then the weight and the bias
    (each of the normalised shape) where `weight` / `bias` say they are given."""
    save_inputs = True

    def forward(self, x, *affine, dims: int, eps: float, weight: bool, bias: bool):
        d = int(np.prod(x.shape[x.ndim - dims:]))
        self.shape, self.dims, self.eps = x.shape, dims, eps
        self.has = (weight, bias)
        self.ones = np.ones(d, x.dtype) if not weight else None  # gh = g without a weight
        w = affine[0].reshape(d) if weight else self.ones
        b = affine[-1].reshape(d) if bias else np.zeros(d, x.dtype)
        y, self.xhat, self.rstd = layer_norm_forward(x.reshape(-1, d), w, b, eps)
        return y.reshape(x.shape)

    def backward(self, g):
        x, *affine = self.inputs
        need = [n is not None for n in self.next]
        if is_grad_enabled():
            return self._backward_differentiable(x, affine, g, need)
        d = self.xhat.shape[1]
        # kernels only (no numpy on arrays): a compiled step records them one by one
        w = affine[0].data.reshape(d) if self.has[0] else self.ones
        dx, dw, db = layer_norm_backward(g.reshape(-1, d).data, self.xhat, self.rstd, w)
        grads = [wrap(dx.reshape(self.shape)) if need[0] else None]
        if self.has[0]:
            grads.append(wrap(dw.reshape(affine[0].shape)) if need[1] else None)
        if self.has[1]:
            grads.append(wrap(db.reshape(affine[-1].shape)) if need[len(grads)] else None)
        return tuple(grads) if len(grads) > 1 else grads[0]

    def _backward_differentiable(self, x, affine, g, need):
        dims = tuple(range(len(self.shape) - self.dims, len(self.shape)))
        centred = x - x.mean(dims, keepdim=True)
        rstd = ((centred * centred).mean(dims, keepdim=True) + self.eps) ** -0.5
        xhat = centred * rstd
        gh = g * affine[0] if self.has[0] else g
        gx = None
        if need[0]:
            gx = rstd * (gh - gh.mean(dims, keepdim=True)
                         - xhat * (gh * xhat).mean(dims, keepdim=True))
        grads = [gx]
        if self.has[0]:
            grads.append((g * xhat).sum_to(affine[0].shape) if need[len(grads)] else None)
        if self.has[1]:
            grads.append(g.sum_to(affine[-1].shape) if need[len(grads)] else None)
        return tuple(grads) if len(grads) > 1 else grads[0]
