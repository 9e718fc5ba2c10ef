"""Elementwise binary ops with numpy broadcasting.

Each backward sums its gradients back to the input shapes with `Tensor.sum_to`, the one
place where broadcasting is undone.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from .. import kernels as K
from ..function import Function
from ..kernels.cuda.array import CudaArray
from ..wrap import is_tensor, to_tensor, wrap


def check_broadcast(op: str, a: np.ndarray, b: np.ndarray) -> None:
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast "
                           f"together") from None


def promote(a: np.ndarray, b: np.ndarray) -> tuple:
    """a and b cast to PyTorch's result dtype (`dtypes.result_type`; Python scalars arrive
    as 0-d arrays already of it). The engine casts each gradient back to its input's dtype."""
    if a.dtype == b.dtype:
        return a, b
    dtype = dtypes.result_type(a, b)
    return a.astype(dtype, copy=False), b.astype(dtype, copy=False)


_WRAPPED = (bool, int, float, np.generic, complex)  # scalars that take the op's result dtype


def as_tensor_pair(a, b) -> tuple:
    """Both operands of a binary op as Tensors. A Python / numpy scalar becomes a 0-d array
    of the op's result dtype (PyTorch's `result_type`: it never upcasts a tensor of its kind,
    and an integer tensor with a Python float gives the default float dtype); tensors keep
    their dtype here, and the op itself computes in the result dtype (see `promote`), so
    the graph holds no extra cast nodes, as in PyTorch."""
    if (type(b) is float or type(b) is int) and is_tensor(a) and a.data.dtype.kind == "f":
        return a, wrap(dtypes.scalar_array(b, a.data.dtype))  # the common case
    a_scalar, b_scalar = isinstance(a, _WRAPPED), isinstance(b, _WRAPPED)
    if not a_scalar:
        a = a if is_tensor(a) else _as_tensor(a)
    if not b_scalar:
        b = b if is_tensor(b) else _as_tensor(b)
    if not (a_scalar or b_scalar):
        return a, b
    dtype = dtypes.result_type(a.data if not a_scalar else a, b.data if not b_scalar else b)
    return (wrap(dtypes.scalar_array(a, dtype)) if a_scalar else a,
            wrap(dtypes.scalar_array(b, dtype)) if b_scalar else b)


def _as_tensor(x):
    """A list or array operand as a Tensor (an array keeps its dtype)."""
    return wrap(x) if isinstance(x, (np.ndarray, CudaArray)) else to_tensor(x)


class _Binary(Function):
    def forward(self, a, b):
        if a.shape != b.shape:
            check_broadcast(type(self).__name__.lower(), a, b)
        self.shapes = (a.shape, b.shape)
        if a.dtype is b.dtype:  # the common case, without a call to `promote`
            return self.compute(a, b)
        return self.compute(*promote(a, b))


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
    """d(a/b) = da / b - a db / b^2. True division: integer and bool inputs give the
    default float dtype (as PyTorch), not numpy's float64."""
    save_inputs = True

    @staticmethod
    def compute(a, b):
        if a.dtype.kind not in "fc":
            dtype = dtypes.get_default_dtype()
            a, b = a.astype(dtype), b.astype(dtype)
        return K.div(a, b)

    def backward(self, g):
        sa, sb = self.shapes
        na, nb = self.next
        b = self.saved_input(1)
        ga = g / b
        return (ga.sum_to(sa) if na is not None else None,
                (-ga * self.saved_input(0) / b).sum_to(sb) if nb is not None else None)


class Pow(_Binary):
    """a^b with a tensor exponent, PyTorch's gradients (pow_backward_self / _exponent):
    d/da = b a^(b-1), taken as 0 where b = 0 (so 0^0 has slope 0, not 0 * inf);
    d/db = a^b log a, taken as 0 where a = 0 and b >= 0; log a is -inf at a = 0 (so 0^-0.3
    gives -inf) and NaN for a < 0 (the real power has no derivative in b there)."""
    save_inputs = True
    compute = staticmethod(K.power)

    def backward(self, g):
        a, b = self.inputs
        na, nb = self.next
        ga = gb = None
        zero = _const(np.zeros((), dtype=g.dtype))
        if na is not None:
            ga = Where.apply(zero, g * b * a ** (b - 1), cond=b.data == 0).sum_to(a.shape)
        if nb is not None:
            ad = a.data
            one = _const(np.ones((), dtype=a.dtype))
            log_a = Where.apply(a, one, cond=ad > 0).log()  # finite where a > 0, else 0
            if not (ad > 0).all():  # log 0 = -inf, log of a negative (or NaN) = NaN
                log_a = log_a + _const(np.where(ad == 0, -np.inf, np.where(ad > 0, 0, np.nan))
                                       .astype(log_a.dtype))
            gb = Where.apply(zero, g * a ** b * log_a,
                             cond=(ad == 0) & (b.data >= 0)).sum_to(b.shape)
        return ga, gb


class _Select(_Binary):
    """maximum / minimum: the gradient goes to the selected input, split evenly on ties."""

    def backward(self, g):
        sa, sb = self.shapes
        return (g * self.share_a).sum_to(sa), (g * (1 - self.share_a)).sum_to(sb)


class Maximum(_Select):
    def compute(self, a, b):
        self.share_a = np.where(a > b, 1.0, np.where(a == b, 0.5, 0.0)).astype(a.dtype)
        return K.maximum(a, b)


class Minimum(_Select):
    def compute(self, a, b):
        self.share_a = np.where(a < b, 1.0, np.where(a == b, 0.5, 0.0)).astype(a.dtype)
        return K.minimum(a, b)


class Where(Function):
    """where(cond, a, b): the gradient flows to a where cond holds and to b elsewhere.

    The unselected branch gets an exact zero (never 0 * inf = NaN)."""

    def forward(self, a, b, cond):
        try:
            shape = np.broadcast_shapes(cond.shape, a.shape, b.shape)
        except ValueError:
            raise RuntimeError(f"where: condition {cond.shape}, input {a.shape} and other "
                               f"{b.shape} cannot be broadcast together") from None
        self.cond, self.shapes = np.broadcast_to(cond, shape), (a.shape, b.shape)
        return K.where(cond, *promote(a, b))

    def backward(self, g):
        sa, sb = self.shapes
        zero = np.zeros((), dtype=g.dtype)
        return (Where.apply(g, _const(zero), cond=self.cond).sum_to(sa),
                Where.apply(_const(zero), g, cond=self.cond).sum_to(sb))


def _const(a):
    return wrap(a)
