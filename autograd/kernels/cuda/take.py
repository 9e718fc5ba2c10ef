"""np.take along an axis and np.roll on cuda (`ufuncs.FUNCTIONS`): the sort ops pick their
first k / k-th / middle positions with np.take, and Roll rolls with np.roll.

Both are one launch of the same gather: a thread per output element reads
x[o, idx[q], i] of the (outer, r, inner) block along the axis, for host positions idx
(checked here, then copied to the device); a roll is a take of the shifted positions.
"""
from __future__ import annotations

import numpy as np
from numba import cuda

from . import ufuncs
from .array import CudaArray
from .runtime import around, empty, launch_1d, to_device
from .sort import _axis


@cuda.jit(cache=True)
def _take(x, idx, out, n, r, k, inner):
    """out[o, q, i] = x[o, idx[q], i] for the (outer, k, inner) output."""
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < n:
        i = t % inner
        rest = t // inner
        q = rest % k
        o = rest // k
        out[t] = x[(o * r + idx[q]) * inner + i]
        t += step


def take(x, indices, axis=None, out=None, mode="raise") -> CudaArray:
    """np.take(x, indices, axis) for host indices (an int, a list or a numpy array, checked
    here) along an axis: one launch."""
    if out is not None or mode != "raise" or isinstance(indices, CudaArray):
        return NotImplemented
    axis = _axis("take", x, axis)
    idx = np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise IndexError(f"take: indices must be integers, got dtype {idx.dtype}")
    n = x.shape[axis]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"take: index {int(idx.max() if idx.max() >= n else idx.min())} is "
                         f"out of bounds for axis {axis} with size {n}")
    flat = (idx.reshape(-1) % max(n, 1)).astype(np.int64)
    _, r, inner = around(x.shape, axis)
    shape = x.shape[:axis] + idx.shape + x.shape[axis + 1:]
    res = empty(shape, x.dtype)
    if res.size:
        launch_1d(_take, res.size, x.dev, to_device(flat).dev, res.dev, res.size, r, flat.size,
                  inner)
    return res


def roll(x, shift, axis=None) -> CudaArray:
    """np.roll(x, shift, axis): one launch per rolled axis (axis=None rolls the flattened
    array, as numpy)."""
    if not isinstance(x, CudaArray):
        return NotImplemented
    if axis is None:
        flat = x.reshape(x.size)
        return roll(flat, shift, 0).reshape(x.shape) if x.size else x.copy()
    shifts = np.atleast_1d(np.asarray(shift, dtype=np.int64))
    axes = np.atleast_1d(np.asarray(axis, dtype=np.int64))
    shifts, axes = np.broadcast_arrays(shifts, axes)
    res = x
    for s, a in zip(shifts.tolist(), axes.tolist()):
        n = x.shape[_axis("roll", x, a)]
        res = take(res, (np.arange(n) - s) % max(n, 1), axis=a)
    return res.copy() if res is x else res


ufuncs.FUNCTIONS.update({"take": take, "roll": roll})
