"""Shape ops: reshape, permute, broadcast_to / sum_to_shape (each other's backward), cat."""
from __future__ import annotations

import numpy as np

from .. import kernels as K
from ..function import Function


class Reshape(Function):
    def forward(self, x, shape):
        self.in_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise RuntimeError(f"reshape: shape {tuple(shape)} is invalid for input of shape "
                               f"{x.shape} ({x.size} elements)") from None

    def backward(self, g):
        return g.reshape(self.in_shape)


class Permute(Function):
    def forward(self, x, dims):
        self.dims = dims
        return np.transpose(x, dims)

    def backward(self, g):
        return g.permute(*np.argsort(self.dims))


class BroadcastTo(Function):
    def forward(self, x, shape):
        self.in_shape = x.shape
        if len(shape) < x.ndim:
            raise RuntimeError(f"expand: the tensor of shape {x.shape} cannot be broadcast to "
                               f"{tuple(shape)} (fewer dims)")
        if not isinstance(x, np.ndarray):  # a device array: the device's broadcasting copy
            return K.broadcast_to(x, shape)
        if x.size == 1:  # the common backward of a full reduction: np.full is much cheaper
            return np.full(shape, x.reshape(()), dtype=x.dtype)
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            raise RuntimeError(f"expand: the tensor of shape {x.shape} cannot be broadcast to "
                               f"{tuple(shape)}") from None

    def backward(self, g):
        return g.sum_to(self.in_shape)


class SumToShape(Function):
    """Sum a broadcast tensor back down to `shape` (broadcasting's backward)."""

    def forward(self, x, shape):
        self.in_shape = x.shape
        return K.sum_to_shape(x, shape)

    def backward(self, g):
        return g.broadcast_to(self.in_shape)


class Cat(Function):
    def forward(self, *xs, dim=0):
        self.dim, self.sizes = dim, [x.shape[dim] for x in xs]
        return np.concatenate(xs, axis=dim)

    def backward(self, g):
        out, start = [], 0
        for n in self.sizes:
            index = [slice(None)] * g.ndim
            index[self.dim] = slice(start, start + n)
            out.append(g[tuple(index)])
            start += n
        return tuple(out)
