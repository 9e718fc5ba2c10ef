"""numba reductions: any contiguous block of axes of a C-contiguous float array.

Reducing axes (a..b) of a C-contiguous array is a reduction over the middle axis of its
(outer, r, inner) reshape, so one kernel per reduction covers them all:
- inner == 1 (the last axes): each output is a dot-free running sum over a contiguous row;
- inner > 1 (leading/middle axes, e.g. a bias gradient): rows of x are added into an
  output row, vectorised along inner.
Other axis sets, dtypes and small arrays (`policy.REDUCE`) go to numpy (the reference).
The three reductions share one loop nest: their op code is a compile-time branch outside
the inner loops, so each loop still vectorises.
"""
from __future__ import annotations

import numpy as np
from numba import prange, types

from .. import policy
from .. import reduce as ref
from ..registry import register
from ._common import arr, lazy_njit, same_float_arrays

RD = policy.REDUCE
SUM, MAX, MIN = range(3)


def _normalise_axes(x, axis):
    if axis is None:
        return tuple(range(x.ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -x.ndim <= a < x.ndim:
            raise ValueError(f"axis {a} is out of bounds for an array of dimension {x.ndim}")
        out.append(a % x.ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"duplicate value in axis {axis}")
    return tuple(sorted(out))


def _three_d(x, axes):
    """(outer, r, inner) when `axes` is a non-empty contiguous block of x's axes, else None."""
    if not axes or axes != tuple(range(axes[0], axes[-1] + 1)):
        return None
    shape = x.shape
    outer = int(np.prod(shape[:axes[0]], dtype=np.int64))
    r = int(np.prod(shape[axes[0]:axes[-1] + 1], dtype=np.int64))
    inner = int(np.prod(shape[axes[-1] + 1:], dtype=np.int64))
    return outer, r, inner


def _out_shape(x, axes, keepdims):
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(x.shape))
    return tuple(n for i, n in enumerate(x.shape) if i not in axes)


def _reduce_sig(dt):
    return types.void(arr(dt, 3, "C", True), arr(dt, 2), types.int64)


def _rows_fit(x, *outs) -> bool:
    """Each output (outer, inner) for x (outer, r, inner), and r >= 1 where x[o, 0] is read."""
    outer, r, inner = x.shape
    return all(o.shape == (outer, inner) for o in outs) and (r >= 1 or outer * inner == 0)


@lazy_njit(_reduce_sig, fastmath={"contract"},
           check=lambda x, out, op: _rows_fit(x, out) and (x.shape[1] >= 1 or x.shape[0] == 0))
def _reduce3(x, out, op):
    """out[o, i] = reduce_k x[o, k, i] (sum, or max/min with NaN propagating)."""
    outer, r, inner = x.shape
    zero = np.zeros(1, x.dtype)[0]  # a 0 of x's dtype (sums stay in it, as numpy's)
    if inner == 1:
        for o in prange(outer):
            row = x[o, :, 0]
            if op == SUM:
                # 8 partial sums: vectorisable without fastmath reassociation, and more
                # accurate than one running sum; kept in locals (an accumulator array here
                # was a heap allocation per row: 1024 rows of 128 took 109 us, ~4x numpy)
                a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = zero
                k8 = r - r % 8
                for k in range(0, k8, 8):
                    a0 += row[k]
                    a1 += row[k + 1]
                    a2 += row[k + 2]
                    a3 += row[k + 3]
                    a4 += row[k + 4]
                    a5 += row[k + 5]
                    a6 += row[k + 6]
                    a7 += row[k + 7]
                s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7  # the order acc.sum() had
                for k in range(k8, r):
                    s += row[k]
                out[o, 0] = s
            else:
                m = row[0]
                # branch-free selects (unpredictable branches cost 5-20x here)
                if op == MAX:
                    for k in range(1, r):
                        v = row[k]
                        m = v if ((v > m) | np.isnan(v)) & ~np.isnan(m) else m
                else:
                    for k in range(1, r):
                        v = row[k]
                        m = v if ((v < m) | np.isnan(v)) & ~np.isnan(m) else m
                out[o, 0] = m
    else:
        for o in prange(outer):
            dst = out[o]
            dst[:] = x[o, 0]
            for k in range(1, r):
                src = x[o, k]
                if op == SUM:
                    for i in range(inner):
                        dst[i] += src[i]
                elif op == MAX:
                    for i in range(inner):
                        v = src[i]
                        m = dst[i]
                        dst[i] = v if ((v > m) | np.isnan(v)) & ~np.isnan(m) else m
                else:
                    for i in range(inner):
                        v = src[i]
                        m = dst[i]
                        dst[i] = v if ((v < m) | np.isnan(v)) & ~np.isnan(m) else m


def _reduce(op, x, axis, keepdims, fallback, out):
    # the size first: small arrays (numpy's reduction) need no other check (issue 15)
    if not (getattr(x, "size", 0) >= RD.numpy_below and x.size and same_float_arrays(x)):
        return fallback(x, axis, keepdims, out=out)
    axes = _normalise_axes(x, axis)
    if out is None and not x.flags.c_contiguous:
        res = _reduce_permuted(op, x, axes, keepdims, fallback)
        if res is not None:
            return res
    shape3 = _three_d(x, axes)
    if shape3 is None:
        return fallback(x, axis, keepdims, out=out)
    outer, r, inner = shape3
    shape = _out_shape(x, axes, keepdims)
    if out is not None and not (out.shape == shape and out.dtype == x.dtype
                                and out.flags.c_contiguous):
        return fallback(x, axis, keepdims, out=out)
    if outer == 1 and inner > 1 and op == SUM and r * inner > RD.parallel_above:
        # a single output row (a bias gradient): split r over the threads, add the halves
        h = r // 2
        flat = np.ascontiguousarray(x).reshape(r, inner)
        parts = np.empty((2, inner), x.dtype)
        fn = _reduce3.get(x.dtype, True)
        top = np.ascontiguousarray(flat[:2 * h].reshape(2, h, inner))
        fn(top, parts, SUM)
        res = np.add(parts[0], parts[1], out=None if out is None else out.reshape(inner))
        if r % 2:
            res += flat[-1]
        return res.reshape(shape) if out is None else out
    res = np.empty((outer, inner), x.dtype) if out is None else out.reshape(outer, inner)
    _reduce3.get(x.dtype, RD.parallel(x.size))(
        np.ascontiguousarray(x).reshape(outer, r, inner), res, op)
    return res.reshape(shape) if out is None else out


def _reduce_permuted(op, x, axes, keepdims, fallback):
    """x a permutation of a C-contiguous array (a transposed gradient, e.g. (tokens, batch,
    features) viewed as (batch, tokens, features)): reduce that array over the same axes in
    its own order, without the copy `ascontiguousarray` would make, when they form a block
    there; None otherwise."""
    order = tuple(sorted(range(x.ndim), key=lambda i: -x.strides[i]))
    xt = x.transpose(order)
    if not xt.flags.c_contiguous:
        return None
    axes_t = tuple(sorted(order.index(a) for a in axes))
    if _three_d(xt, axes_t) is None:
        return None
    res = _reduce(op, xt, axes_t, True, fallback, None).transpose(np.argsort(order))
    res = res.reshape(_out_shape(x, axes, keepdims))
    return res if res.flags.c_contiguous else res.copy()


def _index_add_rows_sig(dt):
    return types.void(arr(dt, 2), arr(types.int64, 1, "C", True), arr(dt, 2, "C", True))


@lazy_njit(_index_add_rows_sig, fastmath={"contract"},
           check=lambda out, index, src: src.shape == (index.size, out.shape[1]))
def _index_add_rows(out, index, src):
    n, d = out.shape
    for i in range(index.size):
        r = index[i]
        if r < 0:
            r += n
        dst = out[r]
        row = src[i]
        for j in range(d):
            dst[j] += row[j]


@register("numba", "index_add_rows")
def index_add_rows(out, index, src):
    """One pass in index order (numpy's `np.add.at` took ~1 ms for a 1024-token embedding's
    backward: issue 15's tiny GPT); other dtypes and layouts go to the reference."""
    if not (same_float_arrays(out, src) and out.ndim == 2 and out.flags.c_contiguous
            and isinstance(index, np.ndarray) and index.dtype == np.int64 and index.ndim == 1
            and src.shape == (index.size, out.shape[1]) and src.flags.c_contiguous):
        return ref.index_add_rows.reference(out, index, src)
    n = out.shape[0]
    if index.size and (index.min() < -n or index.max() >= n):  # numpy's IndexError
        return ref.index_add_rows.reference(out, index, src)
    _index_add_rows.get(out.dtype)(out, index, src)
    return out


@register("numba", "sum")
def sum(x, axis=None, keepdims=False, out=None):
    if getattr(x, "size", 0) < RD.numpy_below:  # small: numpy's, one frame less (issue 15)
        return ref.sum.reference(x, axis, keepdims, out=out)
    return _reduce(SUM, x, axis, keepdims, ref.sum.reference, out)


@register("numba", "amax")
def amax(x, axis=None, keepdims=False, out=None):
    if isinstance(x, np.ndarray) and x.size == 0:
        return ref.amax.reference(x, axis, keepdims, out=out)
    return _reduce(MAX, x, axis, keepdims, ref.amax.reference, out)


@register("numba", "amin")
def amin(x, axis=None, keepdims=False, out=None):
    if isinstance(x, np.ndarray) and x.size == 0:
        return ref.amin.reference(x, axis, keepdims, out=out)
    return _reduce(MIN, x, axis, keepdims, ref.amin.reference, out)


@register("numba", "sum_to_shape")
def sum_to_shape(g, shape):
    """Sum a broadcast gradient back to `shape`; the leading-axes case (a bias) in numba."""
    shape = tuple(shape)
    if not isinstance(g, np.ndarray) or g.shape == shape:
        return ref.sum_to_shape.reference(g, shape)
    lead = g.ndim - len(shape)
    if lead >= 0 and g.shape[lead:] == shape:
        return sum(g, tuple(range(lead)) if lead else None, False).reshape(shape) if lead \
            else g
    return ref.sum_to_shape.reference(g, shape)
