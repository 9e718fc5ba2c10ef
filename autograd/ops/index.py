"""Indexing: t[idx] and its adjoint, a scatter-add (repeated indices accumulate)."""
from __future__ import annotations

import numpy as np

from ..function import Function


def is_basic(idx) -> bool:
    """True when idx uses only ints, slices, None and Ellipsis (numpy returns a view)."""
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis
               for i in items)


def check_index(x: np.ndarray, idx):
    try:
        return x[idx]
    except IndexError as e:
        raise IndexError(f"index: {e} (indexing a tensor of shape {x.shape} with {idx!r})") \
            from None


class GetItem(Function):
    def forward(self, x, idx):
        self.idx, self.in_shape = idx, x.shape
        return check_index(x, idx)

    def backward(self, g):
        return IndexAdd.apply(g, idx=self.idx, shape=self.in_shape)


class IndexAdd(Function):
    """zeros(shape) with g added at idx (np.add.at, so repeated indices accumulate)."""

    def forward(self, g, idx, shape):
        self.idx = idx
        out = np.zeros(shape, dtype=g.dtype)
        if is_basic(idx):
            out[idx] = g
        else:
            np.add.at(out, idx, g)
        return out

    def backward(self, gg):
        return gg[self.idx]


def put(x: np.ndarray, idx, v: np.ndarray) -> None:
    """x[idx] = v in place, with an error that names the op and both shapes."""
    try:
        x[idx] = v
    except (IndexError, ValueError) as e:
        raise type(e)(f"setitem: cannot assign a value of shape {np.shape(v)} to index "
                      f"{idx!r} of a tensor of shape {x.shape}: {e}") from None


class IndexPut(Function):
    """x with x[idx] = v (the out-of-place form of t[idx] = v)."""

    def forward(self, x, v, idx):
        self.idx, self.v_shape = idx, v.shape
        out = x.copy()
        put(out, idx, v)
        self.keep = np.ones(x.shape, dtype=x.dtype)
        self.keep[idx] = 0
        return out

    def backward(self, g):
        gv = g[self.idx]
        return g * self.keep, gv.sum_to(self.v_shape) if gv.shape != self.v_shape else gv
