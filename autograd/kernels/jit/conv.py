"""numba im2col and col2im: one (n, c) plane per parallel iteration, so col2im's scatter-add
of overlapping windows has no race; padding is a bounds test on the input index (no padded
copy). Same layout and signature as the reference (see kernels/conv.py).

Stride 1 with an output of the input's size ("same" padding: 3x3 pad 1, 5x5 pad 2, ...)
takes a flat path both ways: each window offset (i, j) shifts the whole plane by one flat
offset, so it is one long vectorised copy (im2col) or add (col2im), with the columns that
would wrap into the next row masked. Measured on one core, float32, 3x3 pad 1, against the
numpy reference's 9 strided block copies and the row-by-row numba loop (rows of 14-28
pixels are too short to vectorise): im2col 64x8x14x14 438 -> 220 us, 16x32x32x32 2.2 ->
1.1 ms; col2im 64x8x14x14 598 -> 142 us. Other geometries: im2col is the reference's
(a numba loop over short rows measured slower: 151 / 570 us against 122 / 307 us on the
28x28 CNN's shapes), col2im the row-by-row loop (156 / 559 us against numpy's 291 / 776)."""
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


@njit(inline="always")
def _keep_columns(w, hw, kw, pw, dw):
    """keep[j, t]: whether flat pixel t of an output plane (stride 1, the input's size) reads
    a real input column at window column j (else the column would wrap into the next row)."""
    keep = np.zeros((kw, hw), np.bool_)
    for j in range(kw):
        xlo, xhi = _valid(w, w, j * dw - pw, 1)
        for t in range(hw):
            keep[j, t] = xlo <= t % w < xhi
    return keep


@njit(inline="always")
def _shifted(h, w, i, j, ph, pw, dh, dw):
    """For window offset (i, j) of a stride-1 "same"-size convolution: the flat shift from
    an output pixel to the input pixel it reads, and the output range [lo, hi) that reads
    inside the plane (the positions cut off at either end are all wrapped columns), within
    [0, h*w] even where the whole shift leaves the plane (a 5x5 window on a 1x1 image)."""
    hw = h * w
    ylo, yhi = _valid(h, h, i * dh - ph, 1)
    shift = (i * dh - ph) * w + j * dw - pw
    lo = min(max(ylo * w, -shift), hw)
    hi = max(lo, min(yhi * w, hw - shift))
    return shift, lo, hi


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
    keep = _keep_columns(w, hw, kw if same else 0, pw, dw)
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
                    shift, lo, hi = _shifted(h, w, i, j, ph, pw, dh, dw)
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


def _im2col_sig(dt):
    return types.void(arr(dt, 4, "C", True), arr(dt, 6), i64, i64, i64, i64)


def _im2col_fits(x, cols, ph, pw, dh, dw) -> bool:
    return _conv_fits(x, cols, 1, 1, ph, pw, dh, dw) and cols.shape[4:] == x.shape[2:]


@lazy_njit(_im2col_sig, check=_im2col_fits)
def _im2col_same(x, cols, ph, pw, dh, dw):
    """im2col for stride 1 and an output of the input's size: each window offset (i, j) is
    the input plane shifted by one flat offset, copied in one vectorised loop, with the
    wrapped columns and the rows beyond the plane set to 0 (the padding)."""
    n, c, h, w = x.shape
    kh, kw = cols.shape[2], cols.shape[3]
    hw = h * w
    xf = x.reshape(-1)
    cf = cols.reshape(-1)
    keep = _keep_columns(w, hw, kw, pw, dw)
    zero = x.dtype.type(0)
    for p in prange(n * c):
        src = xf[p * hw:(p + 1) * hw]
        for i in range(kh):
            for j in range(kw):
                shift, lo, hi = _shifted(h, w, i, j, ph, pw, dh, dw)
                dbase = ((p * kh + i) * kw + j) * hw
                dst = cf[dbase:dbase + hw]
                for t in range(lo):
                    dst[t] = zero
                part, k, d = src[lo + shift:hi + shift], keep[j, lo:hi], dst[lo:hi]
                for t in range(hi - lo):  # (slices: an index t + shift < 0 would wrap)
                    d[t] = part[t] if k[t] else zero
                for t in range(hi, hw):
                    dst[t] = zero


@register("numba", "im2col")
def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw):
    """numba for stride 1 with a same-size output (`_im2col_same`); every other geometry
    takes the reference's strided block copies (faster than a numba loop over short rows,
    see the module docstring)."""
    if not (same_float_arrays(x) and x.ndim == 4 and x.size and sh == sw == 1
            and min(kh, kw, dh, dw) >= 1 and min(ph, pw) >= 0):
        return ref.im2col.reference(x, kh, kw, sh, sw, ph, pw, dh, dw)
    n, c, h, w = x.shape
    if (ref.conv_output_size(h, kh, 1, ph, dh), ref.conv_output_size(w, kw, 1, pw, dw)) != (h, w):
        return ref.im2col.reference(x, kh, kw, sh, sw, ph, pw, dh, dw)
    cols = np.empty((n, c, kh, kw, h, w), x.dtype)
    _im2col_same.get(x.dtype, CV.parallel(cols.size))(np.ascontiguousarray(x), cols, ph, pw,
                                                       dh, dw)
    return cols.reshape(n, c * kh * kw, h * w)


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
