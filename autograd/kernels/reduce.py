"""Reduction kernels (declarations; numpy references): sums, extrema, log-sum-exp, and
broadcasting's undo. `out=` as numpy's reductions."""
from __future__ import annotations

import numpy as np

from .registry import declare


@declare(out=True)
def sum(x, axis=None, keepdims=False, out=None):
    return np.add.reduce(x, axis=axis, keepdims=keepdims, out=out)


@declare(out=True)
def amax(x, axis=None, keepdims=False, out=None):
    return np.max(x, axis=axis, keepdims=keepdims, out=out)


@declare(out=True)
def amin(x, axis=None, keepdims=False, out=None):
    return np.min(x, axis=axis, keepdims=keepdims, out=out)


@declare(out=True)
def prod(x, axis=None, keepdims=False, out=None):
    return np.prod(x, axis=axis, keepdims=keepdims, out=out)


@declare
def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) computed as m + log(sum(exp(x - m))) so it never overflows."""
    if x.size == 0:
        return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


@declare
def index_add_rows(out, index, src):
    """out[index[i]] += src[i] for each i, in place (a repeated row accumulates), returning
    out: the backward of picking rows by integer indices (an embedding). out (n, d),
    index (m,) integers, src (m, d)."""
    np.add.at(out, index, src)
    return out


@declare
def sum_to_shape(g, shape):
    """Sum a broadcast gradient back to `shape` (the one place broadcasting is undone)."""
    if g.shape == tuple(shape):
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1)
    out = np.sum(g, axis=axes, keepdims=True) if axes else g
    return out.reshape(shape)

