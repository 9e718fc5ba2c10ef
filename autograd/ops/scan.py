"""Scans along one dim: cumsum, cumprod, cummax / cummin, logcumsumexp.

Integer and bool inputs of cumsum / cumprod give int64 (as PyTorch); `dtype=` casts first.
Gradients are written in Tensor ops (reverse cumulative sums, gathers, masked pairwise
terms), so they differentiate again.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..function import Function
from ..kernels.cuda.array import from_host
from ..wrap import wrap
from .binary import Where, _const
from .device import on_cuda
from .gather import Gather
from .reduce import normalize_dims
from .registry import method

CumResult = namedtuple("CumResult", ["values", "indices"])


def _axis(op: str, t, dim) -> int:
    if dim is None:
        raise TypeError(f"{op}: missing the required argument 'dim'")
    (axis,) = normalize_dims(op, dim, t.ndim)
    return axis


def _cast(t, dtype):
    """t in `dtype` if given, else integers and bool as int64 (PyTorch's accumulation)."""
    if dtype is not None:
        return t.astype(dtype)
    if t.data.dtype.kind in "iub" and t.data.dtype != np.int64:
        return t.astype(np.int64)
    return t


class CumSum(Function):
    def forward(self, x, axis):
        self.axis = axis
        return np.cumsum(x, axis=axis) if x.ndim else x.copy()

    def backward(self, g):
        return RevCumSum.apply(g, axis=self.axis)


class RevCumSum(Function):
    """Sums from each position to the end of the dim (cumsum's adjoint)."""

    def forward(self, x, axis):
        self.axis = axis
        if not x.ndim:
            return x.copy()
        return np.flip(np.cumsum(np.flip(x, axis), axis=axis), axis).copy()

    def backward(self, g):
        return CumSum.apply(g, axis=self.axis)


@method("cumsum")
def cumsum(self, dim=None, *, dtype=None):
    """Running sums along dim; gradient: the reverse running sums of the gradient."""
    axis = _axis("cumsum", self, dim)
    return CumSum.apply(_cast(self, dtype), axis=axis)


class CumProd(Function):
    """Running products. d out_j / d x_i = prod_{k <= j, k != i} x_k (j >= i): with no zero
    in x that is out_j / x_i, so the gradient is revcumsum(g out) / x; otherwise the
    products of the others are formed pairwise (n x n per row), exact at zeros."""
    save_inputs = True
    save_output = True

    def forward(self, x, axis):
        self.axis = axis
        return np.cumprod(x, axis=axis) if x.ndim else x.copy()

    def backward(self, g):
        (x,) = self.inputs
        if x.ndim == 0:
            return g
        if (x.data != 0).all():
            return RevCumSum.apply(g * self.output(), axis=self.axis) / x
        n = x.shape[self.axis]
        xt, gt = x.transpose(self.axis, -1), g.transpose(self.axis, -1)
        eye, triu = np.eye(n, dtype=bool), np.triu(np.ones((n, n), dtype=x.dtype))
        if on_cuda(x.data):
            eye, triu = from_host(eye), from_host(triu)
        rows = Where.apply(_const(np.ones((), x.dtype)), xt.unsqueeze(-2).expand(
            *xt.shape[:-1], n, n), cond=eye)  # rows[..., i, k] = x_k, with x_i -> 1
        others = CumProd.apply(rows, axis=rows.ndim - 1)
        mask = _const(triu)  # j >= i
        return (gt.unsqueeze(-2) * others * mask).sum(-1).transpose(self.axis, -1)


@method("cumprod")
def cumprod(self, dim=None, *, dtype=None):
    """Running products along dim (exact gradients also where x has zeros)."""
    axis = _axis("cumprod", self, dim)
    return CumProd.apply(_cast(self, dtype), axis=axis)


def _cum_extreme(op: str, self, dim, better):
    axis = _axis(op, self, dim)
    x = self.data
    if x.ndim == 0:
        return CumResult(self.clone(), wrap(np.zeros((), np.int64)))
    values = better.accumulate(x, axis=axis)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    pos = np.arange(x.shape[axis]).reshape(shape)
    if on_cuda(x):
        pos = from_host(pos)
    with np.errstate(invalid="ignore"):
        hit = (x == values) | (np.isnan(x) if x.dtype.kind == "f" else False)
    indices = np.maximum.accumulate(np.where(hit, pos, 0), axis=axis).astype(np.int64)
    return CumResult(Gather.apply(self, index=indices, dim=axis), wrap(indices))


@method("cummax")
def cummax(self, dim):
    """(values, indices): the running maximum along dim and where it was attained (the last
    position on ties; NaN propagates); the gradient goes to those positions."""
    return _cum_extreme("cummax", self, dim, np.maximum)


@method("cummin")
def cummin(self, dim):
    """(values, indices): the running minimum along dim (see cummax)."""
    return _cum_extreme("cummin", self, dim, np.minimum)


class LogCumSumExp(Function):
    """log(cumsum(exp(x))) along dim, exact (np.logaddexp.accumulate, never overflows).
    d out_j / d x_i = exp(x_i - out_j) for j >= i (<= 1): formed pairwise, n x n per row."""
    save_inputs = True
    save_output = True

    def forward(self, x, axis):
        self.axis = axis
        if x.ndim == 0:
            return x.copy()
        if x.shape[axis] == 0:
            return x.copy()
        return np.logaddexp.accumulate(x, axis=axis)

    def backward(self, g):
        (x,) = self.inputs
        if x.ndim == 0:
            return g
        n = x.shape[self.axis]
        xt = x.transpose(self.axis, -1)
        ot = self.output().transpose(self.axis, -1)
        gt = g.transpose(self.axis, -1)
        diff = xt.unsqueeze(-1) - ot.unsqueeze(-2)  # [..., i, j] = x_i - out_j
        keep = np.triu(np.ones((n, n), dtype=bool))
        if on_cuda(x.data):
            keep = from_host(keep)
        weight = Where.apply(diff, _const(np.asarray(-np.inf, x.dtype)), cond=keep).exp()
        return (weight * gt.unsqueeze(-2)).sum(-1).transpose(self.axis, -1)


@method("logcumsumexp")
def logcumsumexp(self, dim):
    """log(cumsum(exp(x))) along dim, without overflow; floating tensors only."""
    axis = _axis("logcumsumexp", self, dim)
    if self.data.dtype.kind != "f":
        raise NotImplementedError(f"logcumsumexp: not implemented for {self.data.dtype} "
                                  f"tensors (floating point only)")
    return LogCumSumExp.apply(self, axis=axis)
