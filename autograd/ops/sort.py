"""Sorting and selection: sort, argsort, topk, kthvalue, unique, nonzero, masked_select.

Values come back with a gather along the dim (ops/gather.py), so their gradient is the
scatter-add of the incoming gradient to the chosen positions. Sorting is stable; NaN sorts
as the largest value (PyTorch's). unique, nonzero and indices have no gradient.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..wrap import wrap
from .gather import Gather, bool_mask
from .reduce import normalize_dims
from .registry import method

SortResult = namedtuple("SortResult", ["values", "indices"])


def _axis(op: str, t, dim) -> int:
    (axis,) = normalize_dims(op, dim, t.ndim)
    return axis


def _order(x: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Stable sort order along axis (equal values keep their order either way)."""
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    n = x.shape[axis]
    flipped = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
    return (n - 1 - np.flip(flipped, axis)).astype(np.int64)


def _select(self, indices: np.ndarray, axis: int):
    return SortResult(Gather.apply(self, index=indices, dim=axis), wrap(indices))


@method("sort")
def sort(self, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """(values, indices) sorted along dim, ascending unless `descending`; stable always."""
    if self.ndim == 0:
        _axis("sort", self, dim)
        return SortResult(self.clone(), wrap(np.zeros((), np.int64)))
    axis = _axis("sort", self, dim)
    return _select(self, _order(self.data, axis, descending).astype(np.int64), axis)


@method("argsort")
def argsort(self, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """The indices that sort self along dim (stable)."""
    if self.ndim == 0:
        _axis("argsort", self, dim)
        return wrap(np.zeros((), np.int64))
    axis = _axis("argsort", self, dim)
    return wrap(_order(self.data, axis, descending).astype(np.int64))


@method("topk")
def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """(values, indices) of the k largest (or smallest) elements along dim, in order."""
    axis = _axis("topk", self, dim) if self.ndim else 0
    n = self.shape[axis] if self.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: selected index k={k} out of range for dim {dim} of size "
                           f"{n} (shape {tuple(self.shape)})")
    if self.ndim == 0:
        return sort(self) if k else SortResult(self.reshape(-1)[:0], wrap(
            np.zeros(0, np.int64)))
    order = _order(self.data, axis, largest)
    return _select(self, np.take(order, np.arange(k), axis=axis).astype(np.int64), axis)


@method("kthvalue")
def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False):
    """(values, indices) of the k-th smallest element (k from 1) along dim."""
    axis = _axis("kthvalue", self, dim) if self.ndim else 0
    n = self.shape[axis] if self.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue: selected number k={k} out of range for dim {dim} of "
                           f"size {n} (shape {tuple(self.shape)})")
    if self.ndim == 0:
        return SortResult(self.clone(), wrap(np.zeros((), np.int64)))
    order = _order(self.data, axis, False)
    idx = np.take(order, [k - 1], axis=axis).astype(np.int64)
    values, indices = _select(self, idx, axis)
    if keepdim:
        return SortResult(values, indices)
    return SortResult(values.squeeze(axis), wrap(np.squeeze(idx, axis)))


@method("unique")
def unique(self, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None):
    """The distinct elements (sorted), or distinct slices along dim; with the inverse
    indices (where each element went) and the counts when asked. No gradient."""
    axis = None if dim is None else _axis("unique", self, dim)
    values, inverse, counts = np.unique(self.data, return_inverse=True, return_counts=True,
                                        axis=axis)
    out = [wrap(values)]
    if return_inverse:
        out.append(wrap(inverse.reshape(self.shape if axis is None else -1)
                              .astype(np.int64)))
    if return_counts:
        out.append(wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


@method("nonzero")
def nonzero(self, *, as_tuple: bool = False):
    """The indices of the non-zero elements: an (n, ndim) int64 tensor, or (as_tuple) one
    1-D tensor per dim."""
    found = np.nonzero(np.atleast_1d(self.data))
    if as_tuple:
        return tuple(wrap(i.astype(np.int64)) for i in found)
    if self.ndim == 0:
        return wrap(np.zeros((int(bool(self.data)), 0), np.int64))
    return wrap(np.stack(found, axis=1).astype(np.int64))


@method("masked_select")
def masked_select(self, mask):
    """The elements where mask (bool, broadcastable) holds, as a 1-D tensor;
    differentiable (the gradient goes back to those elements)."""
    m = bool_mask("masked_select", mask)
    try:
        shape = np.broadcast_shapes(self.shape, m.shape)
    except ValueError:
        raise RuntimeError(f"masked_select: mask of shape {m.shape} cannot be broadcast to "
                           f"the tensor of shape {tuple(self.shape)}") from None
    x = self if tuple(self.shape) == shape else self.expand(*shape)
    return x[np.broadcast_to(m, shape)]
