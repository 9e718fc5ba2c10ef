"""numba col2im: one (n, c) plane per parallel iteration, so its scatter-add of overlapping
windows has no race; padding is a bounds test on the input index (no padded copy). Same
layout and signature as the reference (see kernels/conv.py).

im2col itself has no numba version: measured on the CNN's shapes (N=64, 28x28 and 14x14
planes, 3x3, pad 1), one core, a numba im2col took 151 / 570 us against the numpy
reference's 9 strided block copies, 122 / 307 us (rows of 14-28 pixels: per-row overhead
dominates), while col2im's scatter-add is faster in numba (156 / 559 us vs 291 / 776 us; since
then its "same"-size path: 47 / 142 us)."""
from __future__ import annotations

import numpy as np
from numba import njit, prange, types

from .. import conv as ref
from .. import policy
from ..registry import register
from ._common import arr, lazy_njit, same_float_arrays

CV = policy.CONV
i64 = types.int64


@njit(inline="always")
def _valid(size, out, offset, stride):
    """Output positions o in [lo, hi) whose input o*stride + offset lies in [0, size)."""
    lo = 0 if offset >= 0 else (-offset + stride - 1) // stride
    hi = (size - 1 - offset) // stride + 1 if size - 1 - offset >= 0 else 0
    hi = min(hi, out)
    lo = min(lo, hi)
    return lo, hi


def _conv_fits(x, cols, sh, sw, ph, pw, dh, dw) -> bool:
    """x (N, C, H, W) and cols (N, C, kh, kw, OH, OW) of the same convolution."""
    n, c, h, w = x.shape
    kh, kw, oh, ow = cols.shape[2:]
    return (cols.shape[:2] == (n, c) and min(sh, sw, dh, dw) >= 1 and min(ph, pw) >= 0
            and oh == ref.conv_output_size(h, kh, sh, ph, dh)
            and ow == ref.conv_output_size(w, kw, sw, pw, dw))


def _col2im_sig(dt):
    return types.void(arr(dt, 6, "C", True), arr(dt, 4), i64, i64, i64, i64, i64, i64)


@lazy_njit(_col2im_sig,
           check=lambda cols, x, sh, sw, ph, pw, dh, dw: _conv_fits(x, cols, sh, sw, ph, pw,
                                                                    dh, dw))
def _col2im(cols, x, sh, sw, ph, pw, dh, dw):
    """The adjoint of im2col: each (n, c) plane is owned by one iteration, so the
    scatter-add of overlapping windows has no race. Contributions reach each pixel in the
    same order (window row i, then column j) on both paths below."""
    n, c, h, w = x.shape
    _, _, kh, kw, oh, ow = cols.shape
    xf = x.reshape(-1)
    cf = cols.reshape(-1)
    hw = h * w
    # Stride 1 and an output of the input's size ("same" padding, the usual 3x3 pad 1): the
    # window offset (i, j) moves the whole plane by one flat shift, so each (i, j) is one
    # long vectorised add. A column that would wrap into the next row is masked (`keep`):
    # adding -0.0 leaves every value as it is, -0.0 and NaN included. The row-by-row path
    # below adds rows of ow pixels: too short to vectorise on small images (64 x 8 x 14 x 14,
    # 3x3, pad 1, float32, one thread: 598 -> 142 us).
    same = sh == 1 and sw == 1 and oh == h and ow == w
    keep = np.zeros((kw if same else 0, hw), np.bool_)
    if same:
        for j in range(kw):
            xlo, xhi = _valid(w, w, j * dw - pw, 1)
            for t in range(hw):
                keep[j, t] = xlo <= t % w < xhi
    skip = x.dtype.type(-0.0)
    for p in prange(n * c):
        sbase = p * hw
        plane = xf[sbase:sbase + hw]
        for t in range(hw):
            plane[t] = 0
        for i in range(kh):
            ylo, yhi = _valid(h, oh, i * dh - ph, sh)
            for j in range(kw):
                off = j * dw - pw
                dbase = ((p * kh + i) * kw + j) * oh * ow
                if same:
                    shift = (i * dh - ph) * w + off
                    lo = max(ylo * w, -shift)  # the ends that would leave the plane are
                    hi = min(yhi * w, hw - shift)  # wrapped columns: masked anyway
                    if lo < hi:
                        src = cf[dbase + lo:dbase + hi]
                        dst = plane[lo + shift:hi + shift]
                        k = keep[j, lo:hi]
                        for t in range(hi - lo):
                            dst[t] += src[t] if k[t] else skip
                    continue
                xlo, xhi = _valid(w, ow, off, sw)
                for y in range(ylo, yhi):
                    crow = cf[dbase + y * ow:dbase + (y + 1) * ow]
                    r0 = (y * sh - ph + i * dh) * w
                    xrow = plane[r0:r0 + w]
                    if sw == 1:
                        part = xrow[xlo + off:xhi + off]
                        cpart = crow[xlo:xhi]
                        for t in range(xhi - xlo):
                            part[t] += cpart[t]
                    else:
                        for t in range(xlo, xhi):
                            xrow[t * sw + off] += crow[t]


@register("numba", "col2im")
def col2im(cols, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw):
    if not same_float_arrays(cols) or cols.ndim != 3:
        return ref.col2im.reference(cols, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw)
    n = cols.shape[0]
    oh = ref.conv_output_size(H, kh, sh, ph, dh)
    ow = ref.conv_output_size(W, kw, sw, pw, dw)
    if (oh <= 0 or ow <= 0 or cols.size == 0 or cols.shape[1:] != (C * kh * kw, oh * ow)
            or min(kh, kw, sh, sw, dh, dw) < 1 or min(ph, pw) < 0):
        return ref.col2im.reference(cols, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw)
    x = np.empty((n, C, H, W), cols.dtype)
    _col2im.get(cols.dtype, CV.parallel(cols.size))(
        np.ascontiguousarray(cols).reshape(n, C, kh, kw, oh, ow), x, sh, sw, ph, pw, dh, dw)
    return x
