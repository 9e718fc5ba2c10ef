"""Reduction kernels (numpy references): sums, extrema, log-sum-exp, and broadcasting's undo."""
from __future__ import annotations

import numpy as np

from .backend import kernel


@kernel
def sum(x, axis=None, keepdims=False):
    return np.add.reduce(x, axis=axis, keepdims=keepdims)


@kernel
def amax(x, axis=None, keepdims=False):
    return np.max(x, axis=axis, keepdims=keepdims)


@kernel
def amin(x, axis=None, keepdims=False):
    return np.min(x, axis=axis, keepdims=keepdims)


@kernel
def prod(x, axis=None, keepdims=False):
    return np.prod(x, axis=axis, keepdims=keepdims)


@kernel
def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) computed as m + log(sum(exp(x - m))) so it never overflows."""
    if x.size == 0:
        return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


@kernel
def sum_to_shape(g, shape):
    """Sum a broadcast gradient back to `shape` (the one place broadcasting is undone)."""
    if g.shape == tuple(shape):
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1)
    out = np.sum(g, axis=axes, keepdims=True) if axes else g
    return out.reshape(shape)


@kernel
def max_argmax(x, axis=-1, keepdims=False):
    """(max, argmax) along one axis in one pass; argmax is int64, the first maximum wins and
    a NaN is the maximum (as np.max / np.argmax)."""
    return (np.max(x, axis=axis, keepdims=keepdims),
            np.argmax(x, axis=axis, keepdims=keepdims).astype(np.int64, copy=False))


@kernel
def mean_var(x, axis=None, keepdims=False, ddof=0):
    """(mean, var) along `axis` in one pass over x (var divides by n - ddof)."""
    return (np.mean(x, axis=axis, keepdims=keepdims),
            np.var(x, axis=axis, keepdims=keepdims, ddof=ddof))
