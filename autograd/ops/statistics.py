"""Order statistics and paired reductions: median(dim), aminmax, count_nonzero, and the
functions var_mean / std_mean (PyTorch has them as torch.* only)."""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..wrap import wrap
from .reduce import SelectAlong, normalize_dims
from .registry import function, method

MedianResult = namedtuple("MedianResult", ["values", "indices"])
MinMaxResult = namedtuple("MinMaxResult", ["min", "max"])


def _median_index(x: np.ndarray, axis: int) -> np.ndarray:
    """The index of the lower median along axis (the first NaN where a row has one, as
    PyTorch's median propagates NaN)."""
    n = x.shape[axis]
    order = np.argsort(x, axis=axis, kind="stable")  # NaNs sort last
    idx = np.take(order, (n - 1) // 2, axis=axis)
    if x.dtype.kind == "f":
        nan = np.isnan(x)
        has = nan.any(axis=axis)
        if has.any():
            idx = np.where(has, np.argmax(nan, axis=axis), idx)
    return idx


@method("median")
def median(self, dim=None, keepdim: bool = False):
    """The lower of the two middle values (no averaging, as PyTorch): of all elements
    without dim, else the named tuple (values, indices) along dim. NaN propagates. The
    gradient goes to the selected element."""
    x = self.data
    if dim is None:
        if x.size == 0:
            return wrap(np.asarray(np.nan, dtype=x.dtype if x.dtype.kind == "f"
                                         else np.float32))
        flat = self.reshape(-1)
        idx = _median_index(x.reshape(-1), 0)
        idx = np.asarray(idx) if isinstance(idx, np.generic | int) else idx  # cuda: as is
        return SelectAlong.apply(flat, index=idx, dim=0, keepdim=False)
    if x.ndim == 0:
        normalize_dims("median", dim, 0)
        return MedianResult(self.clone(), wrap(np.zeros((), np.int64)))
    (axis,) = normalize_dims("median", dim, x.ndim)
    if x.shape[axis] == 0:
        raise IndexError(f"median: cannot compute the median of dim {dim} of size 0 (shape "
                         f"{tuple(x.shape)})")
    idx = _median_index(x, axis)
    values = SelectAlong.apply(self, index=idx, dim=axis, keepdim=keepdim)
    return MedianResult(values, wrap(np.expand_dims(idx, axis) if keepdim else idx))


@method("aminmax")
def aminmax(self, *, dim=None, keepdim: bool = False):
    """The named tuple (min, max) over dim (all elements by default); differentiable as
    amin and amax."""
    if self.data.size == 0:
        raise RuntimeError(f"aminmax: cannot compute the min and max of an empty tensor "
                           f"(shape {tuple(self.shape)})")
    return MinMaxResult(self.amin(dim, keepdim), self.amax(dim, keepdim))


@method("count_nonzero")
def count_nonzero(self, dim=None):
    """The number of non-zero elements (over dim: an int or a tuple of ints), as int64."""
    axes = normalize_dims("count_nonzero", dim, self.ndim)
    count = np.count_nonzero(self.data, axis=axes)
    if isinstance(count, int | np.generic):
        return wrap(np.asarray(count, dtype=np.int64))
    return wrap(count.astype(np.int64, copy=False))  # a numpy or a cuda array


def _moments(op: str, input, dim, unbiased, keepdim, correction, std: bool):
    if not hasattr(input, "data"):
        raise TypeError(f"{op}: argument 'input' must be a Tensor, not "
                        f"{type(input).__name__}")
    if isinstance(dim, bool):  # var_mean(x, False): the positional `unbiased`
        dim, unbiased = None, dim
    spread = (input.std if std else input.var)(dim, unbiased, keepdim, correction=correction)
    return spread, input.mean(dim, keepdim)


@function("var_mean")
def var_mean(input, dim=None, unbiased: bool = True, keepdim: bool = False, *,
             correction: int | None = None):
    """(var, mean) over dim in one call (torch.var_mean); both differentiable."""
    return _moments("var_mean", input, dim, unbiased, keepdim, correction, std=False)


@function("std_mean")
def std_mean(input, dim=None, unbiased: bool = True, keepdim: bool = False, *,
             correction: int | None = None):
    """(std, mean) over dim in one call (torch.std_mean); both differentiable."""
    return _moments("std_mean", input, dim, unbiased, keepdim, correction, std=True)


