"""softmax and log_softmax along one dim, stable for any input."""
from __future__ import annotations

import numpy as np

from .. import kernels as K
from ..function import Function
from ..grad_mode import _state as _grad_mode
from ..wrap import wrap
from .reduce import normalize_dims


def softmax_grad(y, g, dim: int):
    """The gradient through a softmax along `dim` whose output is y, for the output gradient
    g (Tensors): y * (g - sum(g * y)). A plain backward on the host (no graph recorded) runs
    it as one fused kernel pass; with a graph (create_graph), or on a device, as Tensor ops
    (differentiable again). Softmax's backward and attention's."""
    if (not _grad_mode.enabled and type(y.data) is np.ndarray and type(g.data) is np.ndarray
            and y.ndim):  # (a 0-d softmax keeps the Tensor ops)
        return wrap(K.softmax_backward(y.data, g.data, dim))
    return y * (g - (g * y).sum(dim, keepdim=True))


class Softmax(Function):
    """dx = y * (g - sum(g * y))."""
    save_output = True

    def forward(self, x, dim):
        (self.dim,) = normalize_dims("softmax", dim, x.ndim) or (0,)
        return K.softmax(x, self.dim)

    def backward(self, g):
        return softmax_grad(self.output(), g, self.dim)


class LogSoftmax(Function):
    """dx = g - softmax(x) * sum(g) = g - exp(y) * sum(g)."""
    save_output = True

    def forward(self, x, dim):
        (self.dim,) = normalize_dims("log_softmax", dim, x.ndim) or (0,)
        return K.log_softmax(x, self.dim)

    def backward(self, g):
        y = self.output()
        return g - y.exp() * g.sum(self.dim, keepdim=True)
