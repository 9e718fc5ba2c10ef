"""im2col / col2im on cuda: the patch matrix behind Conv2d, and its adjoint.

The layout is the numpy reference's (autograd/kernels/conv.py): cols (N, C*kh*kw, OH*OW),
row c*kh*kw + i*kw + j, column oh*OW + ow, 0 where the window reads padding. im2col is one
thread per entry of cols; col2im is one thread per input pixel, which gathers the entries
read from it (no atomics: the sum is in a fixed order, so results are deterministic).
"""
from __future__ import annotations

from numba import cuda

from ..conv import conv_output_size
from ..registry import register
from .runtime import empty, launch_1d


@cuda.jit(cache=True)
def _im2col(x, cols, total, c, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        ox = t % ow
        r = t // ow
        oy = r % oh
        r //= oh
        j = r % kw
        r //= kw
        i = r % kh
        r //= kh
        ch = r % c
        n = r // c
        y = oy * sh - ph + i * dh
        xx = ox * sw - pw + j * dw
        if 0 <= y < h and 0 <= xx < w:
            cols[t] = x[((n * c + ch) * h + y) * w + xx]
        else:
            cols[t] = 0
        t += step


@register("cuda", "im2col")
def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw):
    n, c, h, w = x.shape
    oh, ow = conv_output_size(h, kh, sh, ph, dh), conv_output_size(w, kw, sw, pw, dw)
    oh, ow = max(oh, 0), max(ow, 0)
    cols = empty((n, c * kh * kw, oh * ow), x.dtype)
    launch_1d(_im2col, cols.size, x.dev, cols.dev, cols.size, c, h, w, oh, ow, kh, kw, sh, sw,
              ph, pw, dh, dw)
    return cols


@cuda.jit(cache=True)
def _col2im(cols, x, total, c, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        xx = t % w
        r = t // w
        y = r % h
        r //= h
        ch = r % c
        n = r // c
        acc = cols[0] - cols[0]  # a zero of the dtype
        for i in range(kh):
            ty = y + ph - i * dh
            if ty < 0 or ty % sh != 0 or ty // sh >= oh:
                continue
            oy = ty // sh
            for j in range(kw):
                tx = xx + pw - j * dw
                if tx < 0 or tx % sw != 0 or tx // sw >= ow:
                    continue
                row = (ch * kh + i) * kw + j
                acc += cols[(n * c * kh * kw + row) * oh * ow + oy * ow + tx // sw]
        x[t] = acc
        t += step


@register("cuda", "col2im")
def col2im(cols, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw):
    n = cols.shape[0]
    oh, ow = conv_output_size(H, kh, sh, ph, dh), conv_output_size(W, kw, sw, pw, dw)
    x = empty((n, C, H, W), cols.dtype)
    if cols.size == 0:
        x.fill(0)
        return x
    launch_1d(_col2im, x.size, cols.dev, x.dev, x.size, C, H, W, max(oh, 0), max(ow, 0), kh,
              kw, sh, sw, ph, pw, dh, dw)
    return x
