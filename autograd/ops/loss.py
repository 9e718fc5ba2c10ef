"""Fused, numerically stable loss pieces: cross-entropy from logits, softplus, and binary
cross-entropy with PyTorch's log clamp.

Each backward is written with Tensor ops (recomputing what it needs from the saved inputs
when a graph is being built), so the losses differentiate twice.
"""
from __future__ import annotations

import numpy as np

from .. import kernels as K
from ..function import Function
from ..grad_mode import is_grad_enabled
from ..kernels.cuda.array import from_host
from ..wrap import wrap
from .device import on_cuda


class CrossEntropyIndex(Function):
    """Per-row loss_m = -w_m * log_softmax(x)[m, t_m] for logits x (M, C), class indices
    t (M,) and per-row weights w (M,) (class weight of t_m, 0 for ignored rows).

    Stable for any logits (the fused kernel subtracts the row max); d loss_m / d x_m =
    w_m (softmax(x_m) - onehot(t_m))."""
    save_inputs = True

    def forward(self, x, target, row_weight):
        self.target, self.row_weight = target, row_weight
        loss, self.probs = K.cross_entropy(x, target)
        return loss * row_weight

    def backward(self, g):
        scale = g * wrap(self.row_weight)
        if is_grad_enabled():  # create_graph: softmax recomputed from x, differentiably
            (x,) = self.inputs
            classes = np.arange(x.shape[1])
            if on_cuda(x.data):
                classes = from_host(classes)
            onehot = (self.target.reshape(-1, 1) == classes).astype(x.dtype)
            return scale.unsqueeze(1) * (x.softmax(1) - wrap(onehot))
        return wrap(K.cross_entropy_backward(self.probs, self.target, scale.data))


class Softplus(Function):
    """log(1 + e^x), computed as max(x, 0) + log1p(e^-|x|) (no overflow);
    d/dx = sigmoid(x)."""
    save_inputs = True

    def forward(self, x):
        return np.logaddexp(x.dtype.type(0), x)

    def backward(self, g):
        (x,) = self.inputs
        return g * x.sigmoid()


class BinaryCrossEntropy(Function):
    """-(y log p + (1 - y) log(1 - p)) elementwise, each log clamped at -100 (as PyTorch, so
    p = 0 or 1 gives a finite loss).

    d/dp = (p - y) / max(p (1 - p), 1e-12);  d/dy = log(1 - p) - log(p) (clamped logs)."""
    save_inputs = True

    def forward(self, p, y):
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p), -100)
            log_1p = np.maximum(np.log1p(-p), -100)
        return -(y * log_p + (1 - y) * log_1p)

    def backward(self, g):
        p, y = self.inputs
        gp = gy = None
        if self.next[0] is not None:
            gp = g * (p - y) / (p * (1 - p)).clamp(min=1e-12)
        if self.next[1] is not None:
            with np.errstate(divide="ignore"):
                gy = g * ((1 - p).log().clamp(min=-100) - p.log().clamp(min=-100))
        return gp, gy
