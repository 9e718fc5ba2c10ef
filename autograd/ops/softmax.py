"""softmax and log_softmax along one dim, stable for any input."""
from __future__ import annotations

from .. import kernels as K
from ..function import Function
from .reduce import normalize_dims


class Softmax(Function):
    """dx = y * (g - sum(g * y))."""
    save_output = True

    def forward(self, x, dim):
        (self.dim,) = normalize_dims("softmax", dim, x.ndim) or (0,)
        return K.softmax(x, self.dim)

    def backward(self, g):
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
