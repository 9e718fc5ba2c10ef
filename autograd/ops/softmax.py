"""softmax and log_softmax along one dim, stable for any input."""
from __future__ import annotations

import numpy as np

from .. import kernels as K
from ..function import Function
from ..grad_mode import _state as _grad_mode
from ..wrap import wrap
from .reduce import normalize_dims


class Softmax(Function):
    """dx = y * (g - sum(g * y))."""
    save_output = True

    def forward(self, x, dim):
        (self.dim,) = normalize_dims("softmax", dim, x.ndim) or (0,)
        return K.softmax(x, self.dim)

    def backward(self, g):
        if not _grad_mode.enabled and type(g.data) is np.ndarray:
            # a plain backward on the host: one fused kernel (same formula)
            y = self.output_array()
            if type(y) is np.ndarray and y.ndim:  # (a 0-d softmax keeps the op's path)
                return wrap(K.softmax_backward(y, g.data, self.dim))
        y = self.output()
        return y * (g - (g * y).sum(self.dim, keepdim=True))


class LogSoftmax(Function):
    """dx = g - softmax(x) * sum(g) = g - exp(y) * sum(g)."""
    save_output = True

    def forward(self, x, dim):
        (self.dim,) = normalize_dims("log_softmax", dim, x.ndim) or (0,)
        return K.log_softmax(x, self.dim)

    def backward(self, g):
        y = self.output()
        return g - y.exp() * g.sum(self.dim, keepdim=True)
