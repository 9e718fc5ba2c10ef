"""Reductions over any set of dims: sum, amax / amin, prod, logsumexp.

mean, var and std are compositions of these in `Tensor` (their gradients follow).
"""
from __future__ import annotations

import numpy as np

from .. import kernels as K
from ..function import Function


def normalize_dims(op: str, dim, ndim: int) -> tuple | None:
    """dim (None, int or tuple, negatives allowed) -> sorted tuple of axes, or None for all."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    lo = -max(ndim, 1)
    out = []
    for d in dims:
        if not lo <= d < max(ndim, 1):
            raise IndexError(f"{op}: dimension out of range (expected to be in range of "
                             f"[{lo}, {max(ndim, 1) - 1}], but got {d})")
        out.append(int(d) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {dim} appears more than once")
    return tuple(sorted(out)) if ndim else None


def kept_shape(shape: tuple, axes: tuple | None) -> tuple:
    """The shape of a keepdim reduction over `axes`."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class _Reduce(Function):
    def setup(self, x, dim, keepdim):
        self.axes = normalize_dims(type(self).__name__.lower(), dim, x.ndim)
        self.in_shape, self.keepdim = x.shape, keepdim
        self.kshape = kept_shape(x.shape, self.axes)
        return self.axes

    def expand_grad(self, g):
        """Reshape the output gradient to the keepdim shape (broadcastable to the input)."""
        return g if self.keepdim else g.reshape(self.kshape)


class Sum(_Reduce):
    def forward(self, x, dim=None, keepdim=False):
        axes = self.setup(x, dim, keepdim)
        return np.asarray(K.sum(x, axes, keepdim))

    def backward(self, g):
        if self.axes is None:  # a 0-d (or all-ones) gradient broadcasts as it is
            return g.broadcast_to(self.in_shape)
        return self.expand_grad(g).broadcast_to(self.in_shape)


class _Extreme(_Reduce):
    """amax / amin: the gradient goes to the extreme elements, split evenly between ties."""
    kernel = None

    def forward(self, x, dim=None, keepdim=False):
        axes = self.setup(x, dim, keepdim)
        if x.size == 0 and (axes is None or any(x.shape[a] == 0 for a in axes)):
            raise ValueError(f"{type(self).__name__.lower()}: cannot reduce over an empty dim "
                             f"(tensor of shape {x.shape}, dim {dim})")
        out = type(self).kernel(x, axes, True)
        hit = (x == out)
        with np.errstate(invalid="ignore"):  # 0/0 only where the result itself is empty
            self.share = (hit / hit.sum(axis=axes, keepdims=True)).astype(x.dtype)
        return out if keepdim else out.reshape(tuple(
            n for i, n in enumerate(x.shape) if axes is not None and i not in axes))

    def backward(self, g):
        return self.expand_grad(g) * self.share


class AMax(_Extreme):
    kernel = staticmethod(K.amax)


class AMin(_Extreme):
    kernel = staticmethod(K.amin)


class SelectAlong(_Reduce):
    """x's values at `index` along one dim (max(dim)/min(dim) values): gradient to those."""

    def forward(self, x, index, dim, keepdim=False):
        (axis,) = self.setup(x, dim, keepdim)
        idx = np.expand_dims(index, axis)
        self.share = np.zeros(x.shape, dtype=x.dtype)
        np.put_along_axis(self.share, idx, 1, axis)
        out = np.take_along_axis(x, idx, axis)
        return out if keepdim else np.squeeze(out, axis)

    def backward(self, g):
        return self.expand_grad(g) * self.share


class Prod(_Reduce):
    """d/dx_i prod x = product of the other elements (exact, also where x has zeros)."""
    save_inputs = True
    save_output = True

    def forward(self, x, dim=None, keepdim=False):
        axes = self.setup(x, dim, keepdim)
        return np.asarray(K.prod(x, axes, keepdim))

    def backward(self, g):
        (x,) = self.inputs
        gk = self.expand_grad(g)
        if (x.data != 0).all():
            out = self.output()
            return gk * (out if self.keepdim else out.reshape(self.kshape)) / x
        return gk * _product_of_others(x.data, self.axes)


def _product_of_others(x: np.ndarray, axes) -> np.ndarray:
    """For each element, the product of the other elements of its reduction group."""
    axes = tuple(range(x.ndim)) if axes is None else axes
    rest = [i for i in range(x.ndim) if i not in axes]
    moved = np.transpose(x, rest + list(axes))
    flat = moved.reshape(int(np.prod([x.shape[i] for i in rest])), -1)
    before = np.cumprod(np.concatenate([np.ones_like(flat[:, :1]), flat[:, :-1]], 1), 1)
    after = np.cumprod(np.concatenate([np.ones_like(flat[:, :1]), flat[:, :0:-1]], 1), 1)[:, ::-1]
    others = (before * after).reshape(moved.shape)
    return np.transpose(others, np.argsort(rest + list(axes)))


class LogSumExp(_Reduce):
    """d/dx logsumexp(x) = softmax(x) = exp(x - logsumexp(x))."""
    save_inputs = True
    save_output = True

    def forward(self, x, dim=None, keepdim=False):
        axes = self.setup(x, dim, keepdim)
        return np.asarray(K.logsumexp(x, axes, keepdim))

    def backward(self, g):
        (x,) = self.inputs
        out = self.output()
        return self.expand_grad(g) * (x - (out if self.keepdim else out.reshape(self.kshape))).exp()
