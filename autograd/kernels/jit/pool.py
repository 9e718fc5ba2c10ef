"""numba 2-D pooling: one (n, c) plane per parallel iteration, padding as a bounds test.
Same signatures and semantics as kernels/pool.py (first maximum wins, NaN is selected,
argmax is the flat index h*W + w within the plane)."""
from __future__ import annotations

import numpy as np
from numba import njit, prange, types

from .. import conv as _conv
from .. import policy
from .. import pool as ref
from ..registry import register
from ._common import arr, lazy_njit, require_shapes, same_float_arrays

PL = policy.POOL
i64 = types.int64


def _valid(*sizes) -> bool:
    return min(sizes[:4]) >= 1 and min(sizes[4:6]) >= 0 and min(sizes[6:]) >= 1


def _max_sig(dt):
    return types.void(arr(dt, 4, "C", True), arr(dt, 4), arr(i64, 4), i64, i64, i64, i64,
                      i64, i64, i64, i64)


@njit(inline="always")
def _range(start, size, k, d):
    """Window offsets t in [lo, hi) with 0 <= start + t*d < size."""
    lo = 0 if start >= 0 else (-start + d - 1) // d
    hi = min(k, (size - 1 - start) // d + 1) if size - 1 - start >= 0 else 0
    return lo, max(hi, lo)


@njit(inline="always")
def _take(v, m):
    """Whether pixel v replaces the window's maximum so far, m: v is greater, or v is NaN
    and m is not (the first maximum wins, the first NaN is selected). Two compares: the
    equivalent `(v > m) | (np.isnan(v) & ~np.isnan(m))` made the 2x2 kernel ~1.4x slower
    where rows are too short to vectorise (64 x 8 x 28 x 28 float32: 566 -> 398 us)."""
    return (not (v <= m)) & (not np.isnan(m))


@lazy_njit(_max_sig)
def _max_pool(x, out, idx, kh, kw, sh, sw, ph, pw, dh, dw):
    """Per (n, c) plane: each window's valid rows/columns are computed once, so the scan
    has no bounds test; the first maximum wins and the first NaN is selected."""
    n, c, h, w = x.shape
    oh, ow = out.shape[2], out.shape[3]
    # window bounds per output row / column, computed once (integer divisions are slow)
    ilos = np.empty(oh, np.int64)
    ihis = np.empty(oh, np.int64)
    for y in range(oh):
        ilos[y], ihis[y] = _range(y * sh - ph, h, kh, dh)
    jlos = np.empty(ow, np.int64)
    jhis = np.empty(ow, np.int64)
    for xo in range(ow):
        jlos[xo], jhis[xo] = _range(xo * sw - pw, w, kw, dw)
    ninf = out.dtype.type(-np.inf)
    for p in prange(n * c):
        b, ch = p // c, p % c
        for y in range(oh):
            y0 = y * sh - ph
            ilo, ihi = ilos[y], ihis[y]
            for xo in range(ow):
                x0 = xo * sw - pw
                jlo, jhi = jlos[xo], jhis[xo]
                m = ninf
                # the window's first real pixel is taken first (PyTorch's initial index)
                best = (y0 + ilo * dh) * w + x0 + jlo * dw if ilo < ihi and jlo < jhi else -1
                for i in range(ilo, ihi):
                    iy = y0 + i * dh
                    for j in range(jlo, jhi):
                        v = x[b, ch, iy, x0 + j * dw]
                        # branch-free (selects): with `if v > m or ...` the unpredictable
                        # branches made this loop 5-20x slower
                        take = _take(v, m)
                        m = v if take else m
                        best = iy * w + x0 + j * dw if take else best
                out[b, ch, y, xo] = m
                idx[b, ch, y, xo] = best


def _max2_sig(dt):
    return types.void(arr(dt, 4, "C", True), arr(dt, 4), arr(i64, 4))


def _max2_fits(x, out, idx) -> bool:
    n, c, h, w = x.shape
    return out.shape == (n, c, h // 2, w // 2) and idx.shape == out.shape


@lazy_njit(_max2_sig, check=_max2_fits)
def _max_pool_2x2(x, out, idx):
    """The 2x2, stride-2 window without padding or dilation (most CNNs' pooling): four
    loads and three selects per output in the general kernel's order (row by row, the
    first maximum wins, a NaN is selected), no window bounds; LLVM vectorises it."""
    n, c, w = x.shape[0], x.shape[1], x.shape[3]
    oh, ow = out.shape[2], out.shape[3]
    for p in prange(n * c):
        b, ch = p // c, p % c
        for y in range(oh):
            r0 = x[b, ch, 2 * y]
            r1 = x[b, ch, 2 * y + 1]
            o = out[b, ch, y]
            ix = idx[b, ch, y]
            base = 2 * y * w
            for xo in range(ow):
                j = 2 * xo
                m = r0[j]
                best = base + j
                v = r0[j + 1]
                take = _take(v, m)
                m = v if take else m
                best = base + j + 1 if take else best
                v = r1[j]
                take = _take(v, m)
                m = v if take else m
                best = base + w + j if take else best
                v = r1[j + 1]
                take = _take(v, m)
                m = v if take else m
                best = base + w + j + 1 if take else best
                o[xo] = m
                ix[xo] = best


@register("numba", "max_pool2d")
def max_pool2d(x, kh, kw, sh, sw, ph, pw, dh, dw):
    if not (same_float_arrays(x) and x.ndim == 4 and x.size and _valid(kh, kw, sh, sw, ph, pw, dh, dw)):
        return ref.max_pool2d.reference(x, kh, kw, sh, sw, ph, pw, dh, dw)
    n, c, h, w = x.shape
    oh = _conv.conv_output_size(h, kh, sh, ph, dh)
    ow = _conv.conv_output_size(w, kw, sw, pw, dw)
    if oh <= 0 or ow <= 0:
        return ref.max_pool2d.reference(x, kh, kw, sh, sw, ph, pw, dh, dw)
    out = np.empty((n, c, oh, ow), x.dtype)
    idx = np.empty((n, c, oh, ow), np.int64)
    if kh == kw == sh == sw == 2 and ph == pw == 0 and dh == dw == 1:
        _max_pool_2x2.get(x.dtype, policy.POOL_2X2.parallel(x.size))(
            np.ascontiguousarray(x), out, idx)
        return out, idx
    _max_pool.get(x.dtype, PL.parallel(x.size))(np.ascontiguousarray(x), out, idx, kh, kw, sh, sw, ph, pw, dh,
                                                     dw)
    return out, idx


def _max_bwd_sig(dt):
    return types.void(arr(dt, 4, "A", True), arr(i64, 4, "A", True), arr(dt, 4))


@lazy_njit(_max_bwd_sig)
def _max_pool_backward(g, idx, gx):
    n, c, oh, ow = g.shape
    for p in prange(n * c):
        # the plane flat: argmax is its flat index (row and column by division cost 3.5x:
        # 64 x 8 x 14 x 14 float32 gradients, 291 -> 82 us)
        dst = gx[p // c, p % c].reshape(-1)
        dst[:] = 0
        src = g[p // c, p % c]
        ix = idx[p // c, p % c]
        for y in range(oh):
            for xo in range(ow):
                k = ix[y, xo]
                if k >= 0:
                    dst[k] += src[y, xo]


@register("numba", "max_pool2d_backward")
def max_pool2d_backward(grad_out, argmax, H, W):
    if not (same_float_arrays(grad_out) and grad_out.ndim == 4 and isinstance(argmax, np.ndarray)
            and argmax.shape == grad_out.shape and grad_out.size and H > 0 and W > 0):
        return ref.max_pool2d_backward.reference(grad_out, argmax, H, W)
    # the kernel scatters to gx[n, c].flat[argmax]: every index must lie in the plane (-1 marks
    # a window with no pixel, skipped)
    if argmax.min() < -1 or argmax.max() >= H * W:
        raise ValueError(f"max_pool2d_backward: argmax {argmax.shape} holds indices outside "
                         f"[-1, {H * W}), the pixels of an {H}x{W} input plane")
    n, c = grad_out.shape[:2]
    gx = np.empty((n, c, H, W), grad_out.dtype)
    _max_pool_backward.get(grad_out.dtype, PL.parallel(grad_out.size))(
        grad_out, argmax.astype(np.int64, copy=False), gx)
    return gx


def _avg_sig(dt):
    return types.void(arr(dt, 4, "A", True), arr(dt, 4), i64, i64, i64, i64, i64, i64,
                      types.boolean, types.boolean)


@lazy_njit(_avg_sig, fastmath={"contract"})
def _avg_pool(src4, dst4, kh, kw, sh, sw, ph, pw, include_pad, backward):
    """Forward: dst = window means of src. Backward (src = grad_out, dst = grad_x): each
    output gradient divided by its window's count, spread over the window."""
    if backward:
        n, c, oh, ow = src4.shape
        h, w = dst4.shape[2], dst4.shape[3]
    else:
        n, c, h, w = src4.shape
        oh, ow = dst4.shape[2], dst4.shape[3]
    for p in prange(n * c):
        src = src4[p // c, p % c]
        dst = dst4[p // c, p % c]
        if backward:
            dst[:, :] = 0
        for y in range(oh):
            y0 = y * sh - ph
            r0 = max(y0, 0)
            r1 = min(y0 + kh, h)
            for xo in range(ow):
                x0 = xo * sw - pw
                c0 = max(x0, 0)
                c1 = min(x0 + kw, w)
                cnt = kh * kw if include_pad else (r1 - r0) * (c1 - c0)
                if backward:
                    g = src[y, xo] / cnt
                    for iy in range(r0, r1):
                        for jx in range(c0, c1):
                            dst[iy, jx] += g
                else:
                    s = src[0, 0] * 0
                    for iy in range(r0, r1):
                        for jx in range(c0, c1):
                            s += src[iy, jx]
                    dst[y, xo] = s / cnt


@register("numba", "avg_pool2d")
def avg_pool2d(x, kh, kw, sh, sw, ph, pw, count_include_pad=True):
    if not (same_float_arrays(x) and x.ndim == 4 and x.size and _valid(kh, kw, sh, sw, ph, pw, 1, 1)):
        return ref.avg_pool2d.reference(x, kh, kw, sh, sw, ph, pw, count_include_pad)
    n, c, h, w = x.shape
    oh = _conv.conv_output_size(h, kh, sh, ph, 1)
    ow = _conv.conv_output_size(w, kw, sw, pw, 1)
    if oh <= 0 or ow <= 0:
        return ref.avg_pool2d.reference(x, kh, kw, sh, sw, ph, pw, count_include_pad)
    out = np.empty((n, c, oh, ow), x.dtype)
    _avg_pool.get(x.dtype, PL.parallel(x.size))(x, out, kh, kw, sh, sw, ph, pw,
                                                     bool(count_include_pad), False)
    return out


@register("numba", "avg_pool2d_backward")
def avg_pool2d_backward(grad_out, H, W, kh, kw, sh, sw, ph, pw, count_include_pad=True):
    if not (same_float_arrays(grad_out) and grad_out.ndim == 4 and grad_out.size and H > 0 and W > 0
            and _valid(kh, kw, sh, sw, ph, pw, 1, 1)):
        return ref.avg_pool2d_backward.reference(grad_out, H, W, kh, kw, sh, sw, ph, pw,
                                                 count_include_pad)
    n, c, oh, ow = grad_out.shape
    require_shapes("avg_pool2d_backward", (oh, ow) == (_conv.conv_output_size(H, kh, sh, ph, 1),
                                                       _conv.conv_output_size(W, kw, sw, pw, 1)),
                   grad_out=grad_out, input=(n, c, H, W))
    gx = np.empty((n, c, H, W), grad_out.dtype)
    _avg_pool.get(grad_out.dtype, PL.parallel(grad_out.size))(
        grad_out, gx, kh, kw, sh, sw, ph, pw, bool(count_include_pad), True)
    return gx
