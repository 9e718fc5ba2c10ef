"""im2col / col2im (numpy references): the patch matrix behind Conv2d, and its adjoint.

Layout: x is (N, C, H, W); cols is (N, C*kh*kw, OH*OW), row index c*kh*kw + i*kw + j (the
order of a (C, kh, kw) weight flattened), column index oh*OW + ow, where

    OH = (H + 2 ph - dh (kh - 1) - 1) // sh + 1        (OW likewise)
    cols[n, (c, i, j), (oh, ow)] = x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw]

and 0 where that position falls in the padding. Padding is never materialised: for each
kernel offset (i, j) only the output positions that read a real input pixel are written
(a strided slice of x), the rest of cols stays 0. col2im is the exact adjoint (transpose):
it scatter-adds every column entry back to the pixel it was read from, so overlapping
windows accumulate. Both keep the input dtype (float32 or float64).

Signatures (all sizes are ints, kept flat so the numba versions stay simple):
    im2col(x, kh, kw, sh, sw, ph, pw, dh, dw) -> cols
    col2im(cols, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw) -> x-shaped (N, C, H, W)
"""
from __future__ import annotations

import numpy as np

from .registry import declare


def conv_output_size(size: int, k: int, s: int, p: int, d: int) -> int:
    """floor((size + 2p - d(k-1) - 1) / s) + 1 (may be <= 0 when the kernel does not fit)."""
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def _valid_range(size: int, out: int, offset: int, s: int, p: int) -> tuple:
    """Output positions o in [lo, hi) whose input position o*s - p + offset is in [0, size),
    and that first input position."""
    start = offset - p                     # input position read by output 0
    lo = 0 if start >= 0 else (-start + s - 1) // s
    hi = (size - 1 - start) // s + 1 if size - 1 - start >= 0 else 0
    hi = min(hi, out)
    lo = min(lo, max(hi, 0))
    return lo, max(hi, lo), start + lo * s


def _windows(h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw):
    """Yield, per kernel tap (i, j), ((output slices), (input slices), (i, j)) for the
    output positions whose receptive field reads a real pixel at that tap (padding is
    skipped, never materialised)."""
    for i in range(kh):
        lo_h, hi_h, h0 = _valid_range(h, oh, i * dh, sh, ph)
        if hi_h <= lo_h:
            continue
        for j in range(kw):
            lo_w, hi_w, w0 = _valid_range(w, ow, j * dw, sw, pw)
            if hi_w <= lo_w:
                continue
            yield ((slice(lo_h, hi_h), slice(lo_w, hi_w)),
                   (slice(h0, h0 + (hi_h - lo_h - 1) * sh + 1, sh),
                    slice(w0, w0 + (hi_w - lo_w - 1) * sw + 1, sw)),
                   (i, j))


@declare
def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw):
    """(N, C, H, W) -> (N, C*kh*kw, OH*OW) patch matrix (see the module docstring)."""
    n, c, h, w = x.shape
    oh, ow = conv_output_size(h, kh, sh, ph, dh), conv_output_size(w, kw, sw, pw, dw)
    cols = np.zeros((n, c, kh, kw, max(oh, 0), max(ow, 0)), dtype=x.dtype)
    for (os_h, os_w), (is_h, is_w), (i, j) in _windows(h, w, oh, ow, kh, kw, sh, sw, ph, pw,
                                                         dh, dw):
        cols[:, :, i, j, os_h, os_w] = x[:, :, is_h, is_w]
    return cols.reshape(n, c * kh * kw, max(oh, 0) * max(ow, 0))


@declare
def col2im(cols, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw):
    """(N, C*kh*kw, OH*OW) -> (N, C, H, W): the adjoint of im2col (overlaps accumulate)."""
    n = cols.shape[0]
    oh, ow = conv_output_size(H, kh, sh, ph, dh), conv_output_size(W, kw, sw, pw, dw)
    c6 = cols.reshape(n, C, kh, kw, max(oh, 0), max(ow, 0))
    x = np.zeros((n, C, H, W), dtype=cols.dtype)
    for (os_h, os_w), (is_h, is_w), (i, j) in _windows(H, W, oh, ow, kh, kw, sh, sw, ph, pw,
                                                         dh, dw):
        x[:, :, is_h, is_w] += c6[:, :, i, j, os_h, os_w]
    return x
