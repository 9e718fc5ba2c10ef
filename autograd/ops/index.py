"""Indexing: t[idx] and its adjoint, a scatter-add (repeated indices accumulate)."""
from __future__ import annotations

import numpy as np

from .. import kernels as K
from ..function import Function
from .device import on_cuda


def is_basic(idx) -> bool:
    """True when idx uses only ints, slices, None and Ellipsis (numpy returns a view)."""
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(isinstance(i, slice) or _is_int(i) or i is None or i is Ellipsis
               for i in items)


def _is_int(i) -> bool:
    """An int-like index entry: Python / numpy int, or a 0-d integer array (PyTorch treats a
    0-d integer tensor as an int)."""
    if isinstance(i, (bool, np.bool_)):
        return False
    return isinstance(i, (int, np.integer)) or (
        isinstance(i, np.ndarray) and i.ndim == 0 and i.dtype.kind in "iu")


def torch_parts(idx) -> tuple:
    """PyTorch's indexing as two numpy steps: (basic, advanced).

    PyTorch applies ints, slices, None and ... first (a view) and only then the index
    arrays, so an int never counts as an index array: x[0, :, idx] of x (2, 3, 4) is (3, 2),
    where numpy's rule for an int and an array separated by a slice gives (2, 3). `advanced`
    is None when there are no index arrays; `basic` is None when numpy alone gives PyTorch's
    result (no int-like entries, no None)."""
    if type(idx) is int or type(idx) is slice:  # the common case
        return idx, None
    if idx is None:  # x[None]: a new leading dim (a bare None basic would mean "no step")
        return (None,), None
    items = idx if isinstance(idx, tuple) else (idx,)
    arrays = [isinstance(i, np.ndarray) and not _is_int(i) for i in items]
    if not any(arrays):
        if any(isinstance(i, np.ndarray) for i in items):  # 0-d int arrays: ints (a view)
            idx = tuple(int(i) if isinstance(i, np.ndarray) else i for i in items)
        return idx, None
    if any(isinstance(i, np.ndarray) and i.ndim == 0 and i.dtype == bool for i in items):
        return None, idx  # x[True]-style entries: numpy's rule
    if not any(_is_int(i) or i is None for i in items):
        return None, idx
    basic, advanced = [], []
    for item, is_array in zip(items, arrays):
        if is_array:  # kept for step 2; step 1 keeps the dims it indexes
            basic.extend([slice(None)] * (item.ndim if item.dtype == bool else 1))
            advanced.append(item)
        elif _is_int(item):  # step 1 removes the dim
            basic.append(int(item))
        elif item is Ellipsis:
            basic.append(item)
            advanced.append(item)
        else:  # a slice or None: applied in step 1, a full dim in step 2
            basic.append(item)
            advanced.append(slice(None))
    return tuple(basic), tuple(advanced)


def _error(x: np.ndarray, idx, e: Exception) -> IndexError:
    return IndexError(f"index: {e} (indexing a tensor of shape {x.shape} with {idx!r})")


def view_of(x: np.ndarray, idx) -> tuple:
    """(x after the basic step, the advanced index or None), errors naming the shape."""
    basic, advanced = torch_parts(idx)
    try:
        return (x if basic is None else x[basic]), advanced
    except IndexError as e:
        raise _error(x, idx, e) from None


def check_index(x: np.ndarray, idx):
    """x[idx] with PyTorch's rules (see `torch_parts`)."""
    if on_cuda(x):  # the device's gather, PyTorch's rule in one step (cuda index arrays too)
        return x[idx]
    view, advanced = view_of(x, idx)
    if advanced is None:
        return view
    try:
        return view[advanced]
    except IndexError as e:
        raise _error(x, idx, e) from None


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
        out = np.zeros_like(g, shape=shape)  # on g's device
        basic, advanced = torch_parts(idx)
        if on_cuda(g):  # the device's scatter-add, PyTorch's rule in one step
            np.add.at(out, idx, g)
        elif advanced is None:
            out[basic] = g
        elif (basic is None and type(advanced) is np.ndarray and advanced.dtype.kind in "iu"
              and len(shape) == 2 and g.shape == advanced.shape + (shape[1],)):
            # rows picked by an integer array (an embedding): one kernel pass, repeated rows
            # accumulating in index order
            K.index_add_rows(out, advanced.reshape(-1).astype(np.int64, copy=False),
                             g.reshape(advanced.size, shape[1]))
        else:  # repeated indices accumulate; the basic step is a view into out
            np.add.at(out if basic is None else out[basic], advanced, g)
        return out

    def backward(self, gg):
        return gg[self.idx]


def put(x: np.ndarray, idx, v: np.ndarray) -> None:
    """x[idx] = v in place, with an error that names the op and both shapes."""
    if on_cuda(x):  # a cuda array has no views: its own indexed assignment, in one step
        x[idx] = v
        return
    try:
        basic, advanced = torch_parts(idx)
        if advanced is None:
            x[basic] = v
        else:  # the basic step is a view into x
            (x if basic is None else x[basic])[advanced] = v
    except (IndexError, ValueError) as e:
        kind = IndexError if isinstance(e, IndexError) else RuntimeError
        raise kind(f"setitem: cannot assign a value of shape {np.shape(v)} to index "
                   f"{idx!r} of a tensor of shape {x.shape}: {e}") from None


class IndexPut(Function):
    """x with x[idx] = v (the out-of-place form of t[idx] = v)."""

    def forward(self, x, v, idx):
        self.idx, self.v_shape = idx, v.shape
        out = x.copy()
        put(out, idx, v)
        self.keep = np.ones_like(x)  # on x's device
        put(self.keep, idx, np.zeros((), x.dtype))
        return out

    def backward(self, g):
        gv = g[self.idx]
        return g * self.keep, gv.sum_to(self.v_shape) if gv.shape != self.v_shape else gv
