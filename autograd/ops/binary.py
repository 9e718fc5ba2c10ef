"""Elementwise binary ops with numpy broadcasting.

Each backward sums its gradients back to the input shapes with `Tensor.sum_to`, the one
place where broadcasting is undone.
"""
from __future__ import annotations

import numpy as np

from .. import kernels as K
from ..function import Function


def check_broadcast(op: str, a: np.ndarray, b: np.ndarray) -> None:
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast "
                         f"together") from None


class _Binary(Function):
    def forward(self, a, b):
        if a.shape != b.shape:
            check_broadcast(type(self).__name__.lower(), a, b)
        self.shapes = (a.shape, b.shape)
        return self.compute(a, b)


class Add(_Binary):
    compute = staticmethod(K.add)

    def backward(self, g):
        sa, sb = self.shapes
        return g.sum_to(sa), g.sum_to(sb)


class Sub(_Binary):
    compute = staticmethod(K.sub)

    def backward(self, g):
        sa, sb = self.shapes
        return g.sum_to(sa), (-g).sum_to(sb)


class Mul(_Binary):
    save_inputs = True
    compute = staticmethod(K.mul)

    def backward(self, g):
        sa, sb = self.shapes
        na, nb = self.next
        return ((g * self.saved_input(1)).sum_to(sa) if na is not None else None,
                (g * self.saved_input(0)).sum_to(sb) if nb is not None else None)


class Div(_Binary):
    """d(a/b) = da / b - a db / b^2."""
    save_inputs = True
    compute = staticmethod(K.div)

    def backward(self, g):
        sa, sb = self.shapes
        na, nb = self.next
        b = self.saved_input(1)
        ga = g / b
        return (ga.sum_to(sa) if na is not None else None,
                (-ga * self.saved_input(0) / b).sum_to(sb) if nb is not None else None)


class Pow(_Binary):
    """a^b with a tensor exponent: d/da = b a^(b-1), d/db = a^b log a (0 where a <= 0)."""
    save_inputs = True
    compute = staticmethod(K.power)

    def backward(self, g):
        a, b = self.inputs
        na, nb = self.next
        ga = gb = None
        if na is not None:
            ga = (g * b * a ** (b - 1)).sum_to(a.shape)
        if nb is not None:
            one = _const(np.ones((), dtype=a.dtype))
            safe_log = Where.apply(a, one, cond=a.data > 0).log()
            gb = (g * a ** b * safe_log).sum_to(b.shape)
        return ga, gb


class _Select(_Binary):
    """maximum / minimum: the gradient goes to the selected input, split evenly on ties."""

    def backward(self, g):
        sa, sb = self.shapes
        return (g * self.share_a).sum_to(sa), (g * (1 - self.share_a)).sum_to(sb)


class Maximum(_Select):
    def compute(self, a, b):
        self.share_a = np.where(a > b, 1.0, np.where(a == b, 0.5, 0.0)).astype(
            np.result_type(a, b))
        return K.maximum(a, b)


class Minimum(_Select):
    def compute(self, a, b):
        self.share_a = np.where(a < b, 1.0, np.where(a == b, 0.5, 0.0)).astype(
            np.result_type(a, b))
        return K.minimum(a, b)


class Where(Function):
    """where(cond, a, b): the gradient flows to a where cond holds and to b elsewhere.

    The unselected branch gets an exact zero (never 0 * inf = NaN)."""

    def forward(self, a, b, cond):
        try:
            shape = np.broadcast_shapes(cond.shape, a.shape, b.shape)
        except ValueError:
            raise ValueError(f"where: condition {cond.shape}, input {a.shape} and other "
                             f"{b.shape} cannot be broadcast together") from None
        self.cond, self.shapes = np.broadcast_to(cond, shape), (a.shape, b.shape)
        return K.where(cond, a, b)

    def backward(self, g):
        sa, sb = self.shapes
        zero = np.zeros((), dtype=g.dtype)
        return (Where.apply(g, _const(zero), cond=self.cond).sum_to(sa),
                Where.apply(_const(zero), g, cond=self.cond).sum_to(sb))


def _const(a):
    from ..tensor import Tensor
    return Tensor._make(a)
