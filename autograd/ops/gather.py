"""Indexed reads and writes along one dim: gather and its adjoint, the scatter-add into
zeros (each the other's backward, so both differentiate to any order), and the Tensor methods
built on them: gather, scatter, scatter_add, scatter_reduce, index_select, index_add,
masked_fill."""
from __future__ import annotations

import numpy as np

from ..function import Function
from ..kernels.cuda.array import kernel
from ..wrap import wrap
from .device import on_cuda
from .reduce import normalize_dims
from .registry import method


def along(index: np.ndarray, dim: int) -> tuple:
    """The full index tuple that addresses `index` along `dim` (other dims: positions)."""
    idx = list(np.indices(index.shape, sparse=True))
    idx[dim] = index
    return tuple(idx)


def _at(name: str, out, index, dim: int, src) -> None:
    """np.<name>.at(out, along(index, dim), src) in place ("set": assignment), on out's
    device (cuda: scatter.py's ordered, race-free kernel)."""
    if on_cuda(out):
        kernel("scatter", "along")(out, index, src, dim, name)
    elif name == "set":
        out[along(index, dim)] = src
    else:
        getattr(np, name).at(out, along(index, dim), src)


class Gather(Function):
    """out[..., i, ...] = x[..., index[..., i, ...], ...] along dim (np.take_along_axis)."""

    def forward(self, x, index, dim):
        self.index, self.dim, self.shape = index, dim, x.shape
        return x[along(index, dim)]

    def backward(self, g):
        return ScatterAddInto.apply(g, index=self.index, dim=self.dim, shape=self.shape)


class ScatterAddInto(Function):
    """zeros(shape) with src added at `index` along dim (repeated indices accumulate)."""

    def forward(self, src, index, dim, shape):
        self.index, self.dim = index, dim
        out = np.zeros_like(src, shape=shape)  # on src's device (cuda: index.py's scatter-add)
        np.add.at(out, along(index, dim), src)
        return out

    def backward(self, g):
        return Gather.apply(g, index=self.index, dim=self.dim)


# ---- the Tensor methods: gather, scatter, index_select, index_add, masked_fill ---------------

def _index(op: str, index) -> np.ndarray:
    idx = index.data if hasattr(index, "data") else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected an integer index tensor, got {idx.dtype}")
    return idx


def _dim(op: str, t, dim) -> int:
    (axis,) = normalize_dims(op, dim, t.ndim)
    return axis


def _check_along(op: str, t, idx: np.ndarray, axis: int, src=None) -> None:
    """PyTorch's rules: index has self's number of dims, fits self outside dim (and src
    everywhere), and its entries are in range along dim."""
    if idx.ndim != max(t.ndim, 1):
        raise RuntimeError(f"{op}: index tensor must have the same number of dimensions as "
                           f"the input tensor (index {idx.shape}, input {tuple(t.shape)})")
    shape = t.shape if t.ndim else (1,)
    for d, n in enumerate(idx.shape):
        if d != axis and n > shape[d]:
            raise RuntimeError(f"{op}: index {idx.shape} is larger than the input "
                               f"{tuple(t.shape)} in dim {d}")
        if src is not None and n > src.shape[d]:
            raise RuntimeError(f"{op}: index {idx.shape} is larger than src "
                               f"{tuple(src.shape)} in dim {d}")
    if idx.size and (idx.min() < -shape[axis] or idx.max() >= shape[axis]):
        bad = idx.max() if idx.max() >= shape[axis] else idx.min()
        raise RuntimeError(f"{op}: index {int(bad)} is out of bounds for dimension {axis} "
                           f"with size {shape[axis]}")


@method("gather")
def gather(self, dim: int, index):
    """out[i][j] = self[i][index[i][j]] (dim = 1); differentiable in self."""
    axis = _dim("gather", self, dim)
    idx = _index("gather", index)
    _check_along("gather", self, idx, axis)
    return Gather.apply(self, index=idx, dim=axis)


def _src(op: str, self, src, idx):
    """src as a tensor of self's dtype cut to index's shape (a number fills it)."""
    if not hasattr(src, "data"):
        return wrap(np.full_like(self.data, src, shape=idx.shape))
    if src.ndim != idx.ndim:
        raise RuntimeError(f"{op}: src of shape {tuple(src.shape)} must have the dims of "
                           f"index {idx.shape}")
    src = src.astype(self.data.dtype)
    if tuple(src.shape) == idx.shape:
        return src
    return src[tuple(slice(0, n) for n in idx.shape)]


class Scatter(Function):
    """self with src written at index along dim: the gradient of self is zero where it was
    overwritten, src's is the gather of the gradient."""

    def forward(self, x, src, index, dim):
        self.index, self.dim = index, dim
        out = x.copy()
        _at("set", out, index, dim, src)
        self.keep = np.ones_like(x)
        _at("set", self.keep, index, dim, 0)
        return out

    def backward(self, g):
        return g * wrap(self.keep), Gather.apply(g, index=self.index, dim=self.dim)


_REDUCES = ("sum", "prod", "mean", "amax", "amin")


@method("scatter")
def scatter(self, dim: int, index, src=None, *, value=None, reduce: str | None = None):
    """A copy of self with src (a tensor, or a number) written at index along dim;
    reduce="add" / "multiply" combine instead of overwriting (PyTorch's legacy form)."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter: give src (a tensor) or value (a number)")
    if reduce is not None:
        modes = {"add": "sum", "multiply": "prod"}
        if reduce not in modes:
            raise RuntimeError(f"scatter: reduce argument must be either add or multiply, "
                               f"got {reduce!r}")
        return scatter_reduce(self, dim, index, _src("scatter", self, src,
                                                     _index("scatter", index)), modes[reduce])
    axis = _dim("scatter", self, dim)
    idx = _index("scatter", index)
    _check_along("scatter", self, idx, axis, src if hasattr(src, "data") else None)
    return Scatter.apply(self, _src("scatter", self, src, idx), index=idx, dim=axis)


@method("scatter_add")
def scatter_add(self, dim: int, index, src):
    """self with src added at index along dim (repeated indices accumulate);
    differentiable in self (gradient 1) and src (the gather of the gradient)."""
    return scatter_reduce(self, dim, index, src, "sum")


def _identity(dtype: np.dtype, ufunc) -> np.ndarray:
    """The value that never wins max (ufunc np.maximum) or min in `dtype`."""
    if dtype.kind == "f":
        return np.asarray(-np.inf if ufunc is np.maximum else np.inf, dtype)
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    if info is None:
        return np.asarray(ufunc is np.minimum, dtype)
    return np.asarray(info.min if ufunc is np.maximum else info.max, dtype)


class ScatterExtreme(Function):
    """scatter_reduce with amax / amin: the gradient goes to the elements (of self where it
    takes part, and of src) equal to the result, split evenly between ties (PyTorch's)."""

    def forward(self, x, src, index, dim, ufunc, include_self):
        self.index, self.dim = index, dim
        pos = along(index, dim)
        out = x.copy()
        part = np.ones_like(x, dtype=bool)  # where self takes part in the reduction
        if not include_self:
            _at("set", part, index, dim, False)
            _at("set", out, index, dim, _identity(x.dtype, ufunc)[()])
        _at(ufunc.__name__, out, index, dim, src)
        hit_self = (x == out) & part
        hit_src = src == out[pos]
        count = hit_self.astype(x.dtype)
        _at("add", count, index, dim, hit_src.astype(x.dtype))
        count[count == 0] = 1
        self.share_self = (hit_self / count).astype(x.dtype)
        self.share_src = (hit_src / count[pos]).astype(x.dtype)
        return out

    def backward(self, g):
        return (g * wrap(self.share_self),
                Gather.apply(g, index=self.index, dim=self.dim) * wrap(self.share_src))


class ScatterProd(Function):
    """self with src multiplied in at index: d/dself = g * (the scattered product of src),
    d/dsrc_k = g * out / src_k (inputs without zeros)."""
    save_inputs = True
    save_output = True

    def forward(self, x, src, index, dim):
        self.index, self.dim = index, dim
        self.factor = np.ones_like(x)
        _at("multiply", self.factor, index, dim, src)
        return x * self.factor

    def backward(self, g):
        src = self.saved_input(1)
        if (src.data == 0).any():
            raise RuntimeError("scatter_reduce: the gradient of reduce='prod' where src has "
                               "zeros is not implemented")
        gs = Gather.apply(g * self.output(), index=self.index, dim=self.dim) / src
        return g * wrap(self.factor), gs


@method("scatter_reduce")
def scatter_reduce(self, dim: int, index, src, reduce: str, *, include_self: bool = True):
    """self with src combined in at index along dim by reduce ("sum", "prod", "mean",
    "amax", "amin"); with include_self=False the positions written take only src's values.
    Differentiable in self and src."""
    if reduce not in _REDUCES:
        raise RuntimeError(f"scatter_reduce: reduce argument must be either sum, prod, mean, "
                           f"amax or amin, got {reduce!r}")
    axis = _dim("scatter_reduce", self, dim)
    idx = _index("scatter_reduce", index)
    if not hasattr(src, "data"):
        raise TypeError(f"scatter_reduce: src must be a Tensor, got {type(src).__name__}")
    _check_along("scatter_reduce", self, idx, axis, src)
    src = _src("scatter_reduce", self, src, idx)
    touched = np.zeros_like(self.data, dtype=bool)
    _at("set", touched, idx, axis, True)
    base = self
    if not include_self and reduce != "amax" and reduce != "amin":
        # the written positions start from the identity of the reduction
        keep = wrap((~touched).astype(self.data.dtype))
        base = self * keep
    if reduce in ("sum", "mean"):
        total = base + ScatterAddInto.apply(src, index=idx, dim=axis, shape=self.shape)
        if reduce == "sum":
            return total
        count = np.zeros_like(self.data, dtype=np.int64)
        _at("add", count, idx, axis, 1)
        count = count + touched.astype(np.int64) * int(include_self) + \
            (~touched).astype(np.int64)
        count = count.astype(self.data.dtype) if self.data.dtype.kind == "f" else count
        if self.data.dtype.kind == "f":
            return total / wrap(count)
        return total.div(wrap(count), rounding_mode="floor")
    if reduce == "prod":
        if not include_self:
            base = base + wrap(touched.astype(self.data.dtype))
        return ScatterProd.apply(base, src, index=idx, dim=axis)
    ufunc = np.maximum if reduce == "amax" else np.minimum
    return ScatterExtreme.apply(self, src, index=idx, dim=axis, ufunc=ufunc,
                                include_self=include_self)


@method("index_select")
def index_select(self, dim: int, index):
    """The slices at index (a 1-D integer tensor) along dim; differentiable."""
    axis = _dim("index_select", self, dim)
    idx = _index("index_select", index)
    if idx.ndim > 1:
        raise IndexError(f"index_select: index is supposed to be a vector, got shape "
                         f"{idx.shape}")
    n = self.shape[axis] if self.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError(f"index_select: index out of range for dim {dim} of size {n}")
    if self.ndim == 0:
        return self.reshape(1)[idx.reshape(-1)].reshape(())
    return self[(slice(None),) * axis + (idx.reshape(-1),)]


@method("index_add")
def index_add(self, dim: int, index, source, *, alpha=1):
    """self with alpha * source added at the slices index along dim (repeated indices
    accumulate); differentiable in self and source."""
    from .index import IndexAdd
    axis = _dim("index_add", self, dim)
    idx = _index("index_add", index).reshape(-1)
    if not hasattr(source, "data"):
        raise TypeError(f"index_add: source must be a Tensor, got {type(source).__name__}")
    want = self.shape[:axis] + (len(idx),) + self.shape[axis + 1:]
    if tuple(source.shape) != tuple(want):
        raise RuntimeError(f"index_add: source of shape {tuple(source.shape)} does not match "
                           f"{tuple(want)} (self {tuple(self.shape)}, {len(idx)} indices "
                           f"along dim {dim})")
    if idx.size and (idx.min() < 0 or idx.max() >= self.shape[axis]):
        raise IndexError(f"index_add: index out of range for dim {dim} of size "
                         f"{self.shape[axis]}")
    src = source.astype(self.data.dtype)
    if alpha != 1:
        src = src * alpha
    return self + IndexAdd.apply(src, idx=(slice(None),) * axis + (idx,), shape=self.shape)


def bool_mask(op: str, mask) -> np.ndarray:
    """The mask of masked_fill / masked_select as a bool array (else a clear error)."""
    m = mask.data if hasattr(mask, "data") else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"{op}: expected a bool tensor for mask, got {m.dtype}")
    return m


@method("masked_fill")
def masked_fill(self, mask, value):
    """A copy of self with value (a number or a 0-d tensor, differentiable) where mask
    (bool, broadcastable to self) holds; the gradient of self is zero there."""
    from .binary import Where
    m = bool_mask("masked_fill", mask)
    if hasattr(value, "data"):
        if value.ndim != 0:
            raise RuntimeError(f"masked_fill: only supports a 0-dimensional value tensor, "
                               f"but got a tensor of shape {tuple(value.shape)}")
        value = value.astype(self.data.dtype)
    else:
        value = wrap(np.asarray(value).astype(self.data.dtype))
    try:
        if np.broadcast_shapes(self.shape, m.shape) != tuple(self.shape):
            raise ValueError
    except ValueError:
        raise RuntimeError(f"masked_fill: mask of shape {m.shape} cannot be broadcast to "
                           f"the tensor of shape {tuple(self.shape)}") from None
    return Where.apply(value, self, cond=m)
