"""2-D pooling kernels (numpy references): max pool with argmax, average pool, and their
backward scatters.

x is (N, C, H, W); a window of output (oh, ow) covers input rows oh*sh - ph + i*dh for
i < kh (columns likewise), OH = (H + 2 ph - dh (kh - 1) - 1) // sh + 1. Padding is never
materialised: for each kernel offset (i, j) the output positions that read a real pixel
are a strided slice of x.

- max pool: padding is never selected; `argmax` holds, per output, the flat index h*W + w
  of the chosen input pixel within its (n, c) plane. The first real pixel of a window is
  taken first, then the first maximum wins, and NaN propagates (a NaN is always selected),
  as in PyTorch. Any real or integer dtype gives the exact max (a window with no real
  pixel, possible only with dilation, holds the dtype's lowest value, -inf for floats).
- avg pool: the sum over the window divided by kh*kw (count_include_pad=True, PyTorch's
  default: padded zeros count) or by the number of real pixels in the window.

Signatures:
    max_pool2d(x, kh, kw, sh, sw, ph, pw, dh, dw) -> (out, argmax int64)
    max_pool2d_backward(grad_out, argmax, H, W) -> grad_x (N, C, H, W)
    avg_pool2d(x, kh, kw, sh, sw, ph, pw, count_include_pad) -> out
    avg_pool2d_backward(grad_out, H, W, kh, kw, sh, sw, ph, pw, count_include_pad) -> grad_x
"""
from __future__ import annotations

import numpy as np

from .conv import _windows, conv_output_size
from .registry import declare


def lowest(dtype: np.dtype):
    """The smallest value of a dtype (-inf for floats, False for bool): max pool's start."""
    dtype = np.dtype(dtype)
    if dtype.kind in "fc":
        return dtype.type(-np.inf)
    return np.iinfo(dtype).min if dtype.kind in "iu" else dtype.type(0)


@declare
def max_pool2d(x, kh, kw, sh, sw, ph, pw, dh, dw):
    """Max over each window -> (out (N, C, OH, OW), argmax (N, C, OH, OW) int64)."""
    n, c, h, w = x.shape
    oh, ow = conv_output_size(h, kh, sh, ph, dh), conv_output_size(w, kw, sw, pw, dw)
    out = np.full((n, c, oh, ow), lowest(x.dtype), dtype=x.dtype)
    argmax = np.full((n, c, oh, ow), -1, dtype=np.int64)
    floating = x.dtype.kind in "fc"
    rows = np.arange(oh)[:, None] * sh - ph
    cols = np.arange(ow)[None, :] * sw - pw
    for (os_h, os_w), (is_h, is_w), (i, j) in _windows(h, w, oh, ow, kh, kw, sh, sw, ph, pw,
                                                       dh, dw):
        v = x[:, :, is_h, is_w]
        cur = out[:, :, os_h, os_w]
        idx = argmax[:, :, os_h, os_w]
        better = (idx < 0) | (v > cur)  # a window's first real pixel, then any larger one
        if floating:
            better |= np.isnan(v) & ~np.isnan(cur)
        cur[better] = v[better]
        # flat index of the pixel this offset reads, for every output in the slice
        flat = (rows[os_h] + i * dh) * w + (cols[:, os_w] + j * dw)
        idx[better] = np.broadcast_to(flat, v.shape)[better]
    return out, argmax


@declare
def max_pool2d_backward(grad_out, argmax, H, W):
    """Scatter-add each output gradient to the input pixel its max came from."""
    n, c, oh, ow = grad_out.shape
    planes = n * c
    flat = (np.arange(planes)[:, None] * (H * W) + argmax.reshape(planes, oh * ow)).ravel()
    gx = np.bincount(flat, weights=grad_out.reshape(-1), minlength=planes * H * W)
    return gx.astype(grad_out.dtype, copy=False).reshape(n, c, H, W)


def _divisor(h, w, oh, ow, kh, kw, sh, sw, ph, pw, count_include_pad, dtype):
    """Per-output divisor: kh*kw, or the number of real pixels in each window."""
    if count_include_pad:
        return dtype.type(kh * kw)
    rows = np.clip(np.arange(oh) * sh - ph + kh, None, h) - np.clip(np.arange(oh) * sh - ph,
                                                                      0, None)
    cols = np.clip(np.arange(ow) * sw - pw + kw, None, w) - np.clip(np.arange(ow) * sw - pw,
                                                                      0, None)
    return (rows[:, None] * cols[None, :]).astype(dtype)


@declare
def avg_pool2d(x, kh, kw, sh, sw, ph, pw, count_include_pad=True):
    """Mean over each window (padded zeros counted when count_include_pad)."""
    n, c, h, w = x.shape
    oh, ow = conv_output_size(h, kh, sh, ph, 1), conv_output_size(w, kw, sw, pw, 1)
    out = np.zeros((n, c, oh, ow), dtype=x.dtype)
    for (os_h, os_w), (is_h, is_w), _ in _windows(h, w, oh, ow, kh, kw, sh, sw, ph, pw, 1, 1):
        out[:, :, os_h, os_w] += x[:, :, is_h, is_w]
    out /= _divisor(h, w, oh, ow, kh, kw, sh, sw, ph, pw, count_include_pad, x.dtype)
    return out


@declare
def avg_pool2d_backward(grad_out, H, W, kh, kw, sh, sw, ph, pw, count_include_pad=True):
    """The adjoint of avg_pool2d: each output gradient, divided, spread over its window."""
    n, c, oh, ow = grad_out.shape
    g = grad_out / _divisor(H, W, oh, ow, kh, kw, sh, sw, ph, pw, count_include_pad,
                            grad_out.dtype)
    gx = np.zeros((n, c, H, W), dtype=grad_out.dtype)
    for (os_h, os_w), (is_h, is_w), _ in _windows(H, W, oh, ow, kh, kw, sh, sw, ph, pw, 1, 1):
        gx[:, :, is_h, is_w] += g[:, :, os_h, os_w]
    return gx
