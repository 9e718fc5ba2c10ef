"""Reductions over any set of dims: sum, amax / amin, prod, logsumexp, the p-norm.

mean and var are compositions of these in `Tensor` (their gradients follow); std is var
followed by `Std`, a square root whose gradient is 0 where the deviation is 0.
"""
from __future__ import annotations

import numpy as np

from .. import kernels as K
from .. import trace
from ..function import Function
from ..grad_mode import _state as _grad_mode
from ..wrap import wrap
from .binary import Where, _const


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
        self.axes = None if dim is None else normalize_dims(type(self).__name__.lower(), dim,
                                                            x.ndim)
        self.in_shape, self.keepdim = x.shape, keepdim
        return self.axes

    @property
    def kshape(self) -> tuple:
        """The keepdim shape of the result (made when a backward asks, not per forward)."""
        return kept_shape(self.in_shape, self.axes)

    def expand_grad(self, g):
        """Reshape the output gradient to the keepdim shape (broadcastable to the input)."""
        return g if self.keepdim else g.reshape(self.kshape)


class Sum(_Reduce):
    def forward(self, x, dim=None, keepdim=False):
        axes = self.setup(x, dim, keepdim)
        out = K.sum(x, axes, keepdim)
        return np.asarray(out) if isinstance(out, np.generic) else out  # a cuda array stays

    def backward(self, g):
        if self.axes is None:  # a 0-d (or all-ones) gradient broadcasts as it is
            gd = g.data
            if (not _grad_mode.enabled and type(gd) is np.ndarray and gd.size == 1
                    and gd.shape != self.in_shape and gd.ndim <= len(self.in_shape)
                    and trace.ACTIVE[0] is None):
                # a plain backward (no graph, no recording): BroadcastTo's own forward for a
                # one-element gradient (np.full) without the op's bookkeeping (issue 15)
                return wrap(np.full(self.in_shape, gd.reshape(()), dtype=gd.dtype))
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
        self.share = np.zeros_like(x)  # on x's device
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
        return _array(K.prod(x, axes, keepdim))

    def backward(self, g):
        (x,) = self.inputs
        gk = self.expand_grad(g)
        if (x.data != 0).all():
            out = self.output()
            return gk * (out if self.keepdim else out.reshape(self.kshape)) / x
        return gk * _product_of_others(x.data, self.axes)


def _array(r):
    """A kernel's result as an array: numpy's 0-d scalars wrapped, arrays (a cuda array
    included: np.asarray would refuse it) as they are."""
    return np.asarray(r) if isinstance(r, np.generic | int | float) else r


def _product_of_others(x: np.ndarray, axes) -> np.ndarray:
    """For each element, the product of the other elements of its reduction group."""
    axes = tuple(range(x.ndim)) if axes is None else axes
    rest = [i for i in range(x.ndim) if i not in axes]
    moved = np.transpose(x, rest + list(axes))
    flat = moved.reshape(int(np.prod([x.shape[i] for i in rest])), -1)
    n = flat.shape[1]
    first, rev = np.arange(n), np.arange(n - 1, -1, -1)
    # exclusive running products from the left and from the right, written with numpy
    # functions that cuda arrays have too (pad, cumprod, take)
    before = np.take(np.cumprod(np.pad(flat, ((0, 0), (1, 0)), constant_values=1), 1), first,
                     axis=1)
    after = np.take(np.cumprod(np.pad(np.take(flat, rev, axis=1), ((0, 0), (1, 0)),
                                      constant_values=1), 1), rev, axis=1)
    others = (before * after).reshape(moved.shape)
    return np.transpose(others, np.argsort(rest + list(axes)))


class LogSumExp(_Reduce):
    """d/dx logsumexp(x) = softmax(x) = exp(x - logsumexp(x))."""
    save_inputs = True
    save_output = True

    def forward(self, x, dim=None, keepdim=False):
        axes = self.setup(x, dim, keepdim)
        out = K.logsumexp(x, axes, keepdim)
        return np.asarray(out) if isinstance(out, np.generic) else out  # a cuda array stays

    def backward(self, g):
        (x,) = self.inputs
        out = self.output()
        return self.expand_grad(g) * (x - (out if self.keepdim else out.reshape(self.kshape))).exp()


def _nonzero_or_one(t, nonzero: np.ndarray):
    """t where `nonzero`, 1 elsewhere: a denominator that is never 0 (differentiable in t,
    with an exact zero gradient where it was replaced)."""
    return Where.apply(t, _const(np.ones((), dtype=t.dtype)), cond=nonzero)


class Norm(_Reduce):
    """The vector p-norm over dims, as torch.linalg.vector_norm: (sum |x|^p)^(1/p) for a real
    p, max |x| for p = inf, min |x| for p = -inf, the count of non-zeros for p = 0.

    Gradients are PyTorch's (norm_backward): 0 where the norm is 0 instead of 0/0; sign(x)
    for p = 1; for p = +-inf the gradient goes to the elements with |x| equal to the norm,
    split evenly between ties; none for p = 0 (zeros). Written in Tensor ops, so higher
    derivatives follow."""
    save_inputs = True
    save_output = True

    def forward(self, x, p, dim=None, keepdim=False):
        axes = self.setup(x, dim, keepdim)
        self.p = p
        if np.isinf(p) and x.size == 0:
            raise RuntimeError(f"norm: cannot compute the {p} norm of an empty tensor (shape "
                               f"{x.shape}): max/min have no identity")
        a = K.absolute(x)
        if p == 2:
            out = K.sqrt(_array(K.sum(K.mul(x, x), axes, keepdim)))
        elif p == np.inf:
            out = K.amax(a, axes, keepdim)
        elif p == -np.inf:
            out = K.amin(a, axes, keepdim)
        elif p == 0:
            out = K.sum((x != 0).astype(x.dtype), axes, keepdim)
        elif p == 1:
            out = K.sum(a, axes, keepdim)
        else:
            q = x.dtype.type(p)
            out = K.power(_array(K.sum(K.power(a, q), axes, keepdim)), 1 / q)
        return _array(out).astype(x.dtype, copy=False)

    def backward(self, g):
        (x,) = self.inputs
        p = self.p
        if p == 0:
            return _const(np.zeros_like(x.data, dtype=g.dtype))
        gk = self.expand_grad(g)
        sign = np.sign(x.data)
        if p == 1:
            return gk * _const(sign)
        out = self.output()
        nk = out if self.keepdim else out.reshape(self.kshape)
        if np.isinf(p):
            a = np.abs(x.data)
            hit = (a == nk.data) | np.isnan(a)
            share = hit / hit.sum(axis=self.axes, keepdims=True) * sign
            return gk * _const(share.astype(x.dtype))
        nonzero = nk.data != 0
        if p == 2:
            return gk * x / _nonzero_or_one(nk, nonzero)
        if p > 1:
            scaled = x * x.abs() ** (p - 2) if p > 2 else _const(sign) * x.abs() ** (p - 1)
            return gk * scaled / _nonzero_or_one(nk, nonzero) ** (p - 1)
        # p < 1: |x|^(p-1) is infinite at x = 0, where PyTorch takes the gradient as 0
        xnz = x.data != 0
        scaled = Where.apply(_const(sign) * _nonzero_or_one(x.abs(), xnz) ** (p - 1),
                             _const(np.zeros((), dtype=x.dtype)), cond=xnz)
        return gk * scaled * nk ** (1 - p)


class Std(Function):
    """sqrt(var): the standard deviation from a variance. Its gradient g / (2 std) is taken
    as 0 where std is 0 (constant input, where d var / dx is 0 too), as PyTorch's
    std_backward does, instead of 0 * inf = NaN."""
    save_output = True

    def forward(self, var):
        return K.sqrt(var)

    def backward(self, g):
        out = self.output()
        nonzero = out.data != 0
        return Where.apply(g / (2 * _nonzero_or_one(out, nonzero)),
                           _const(np.zeros((), dtype=g.dtype)), cond=nonzero)
