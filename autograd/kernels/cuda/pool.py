"""Max and average pooling on cuda: max pooling's forward (values and the flat in-plane
argmax) and backward, average pooling's forward and backward (at the end).

Max pooling's forward is one thread per output, scanning its window in the reference's order:
first real pixel, then any larger one (a NaN wins over a number), padding never. The
backward scatter-adds each output gradient to its argmax pixel with an atomic add (windows
overlap only when the stride is smaller than the window).
"""
from __future__ import annotations

import math

import numpy as np
from numba import cuda

from ..conv import conv_output_size
from ..registry import register
from .runtime import empty, launch_1d


@cuda.jit(cache=True)
def _max_pool(x, out, argmax, total, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, floating):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        ox = t % ow
        r = t // ow
        oy = r % oh
        plane = r // oh
        base = plane * h * w
        best = -1
        cur = x[base]
        for i in range(kh):
            y = oy * sh - ph + i * dh
            if y < 0 or y >= h:
                continue
            for j in range(kw):
                xx = ox * sw - pw + j * dw
                if xx < 0 or xx >= w:
                    continue
                v = x[base + y * w + xx]
                better = best < 0 or v > cur
                if floating and not better:
                    better = math.isnan(v) and not math.isnan(cur)
                if better:
                    cur = v
                    best = y * w + xx
        out[t] = cur
        argmax[t] = best
        t += step


@register("cuda", "max_pool2d")
def max_pool2d(x, kh, kw, sh, sw, ph, pw, dh, dw):
    n, c, h, w = x.shape
    oh, ow = conv_output_size(h, kh, sh, ph, dh), conv_output_size(w, kw, sw, pw, dw)
    out, argmax = empty((n, c, oh, ow), x.dtype), empty((n, c, oh, ow), np.int64)
    launch_1d(_max_pool, out.size, x.dev, out.dev, argmax.dev, out.size, h, w, oh, ow, kh, kw,
              sh, sw, ph, pw, dh, dw, x.dtype.kind == "f")
    return out, argmax


@cuda.jit(cache=True)
def _max_pool_backward(g, argmax, gx, total, hw, plane_outputs):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        k = argmax[t]
        if k >= 0:
            cuda.atomic.add(gx, (t // plane_outputs) * hw + k, g[t])
        t += step


@register("cuda", "max_pool2d_backward")
def max_pool2d_backward(grad_out, argmax, H, W):
    n, c, oh, ow = grad_out.shape
    gx = empty((n, c, H, W), grad_out.dtype)
    gx.fill(0)
    launch_1d(_max_pool_backward, grad_out.size, grad_out.dev, argmax.dev, gx.dev,
              grad_out.size, H * W, oh * ow)
    return gx


# ---- average pooling: a thread per output (forward) and per input pixel (backward: the
# outputs whose windows hold the pixel, so no atomics) ---------------------------------------

@cuda.jit(device=True)
def _avg_divisor(oy, ox, h, w, kh, kw, sh, sw, ph, pw, count_include_pad):
    """kh * kw, or the number of real pixels in window (oy, ox)."""
    if count_include_pad:
        return kh * kw
    y0, x0 = oy * sh - ph, ox * sw - pw
    rows = min(y0 + kh, h) - max(y0, 0)
    cols = min(x0 + kw, w) - max(x0, 0)
    return rows * cols


@cuda.jit(cache=True)
def _avg_pool(x, out, total, h, w, oh, ow, kh, kw, sh, sw, ph, pw, count_include_pad):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        ox = t % ow
        r = t // ow
        oy = r % oh
        base = (r // oh) * h * w
        acc = x[base] - x[base]  # a zero of x's dtype
        for i in range(kh):
            y = oy * sh - ph + i
            if 0 <= y < h:
                for j in range(kw):
                    xx = ox * sw - pw + j
                    if 0 <= xx < w:
                        acc += x[base + y * w + xx]
        out[t] = acc / _avg_divisor(oy, ox, h, w, kh, kw, sh, sw, ph, pw, count_include_pad)
        t += step


@cuda.jit(cache=True)
def _avg_pool_backward(g, gx, total, h, w, oh, ow, kh, kw, sh, sw, ph, pw, count_include_pad):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        xx = t % w
        r = t // w
        y = r % h
        base = (r // h) * oh * ow
        acc = g[base] - g[base]
        # the outputs oy with oy * sh - ph <= y < oy * sh - ph + kh
        oy_hi = min((y + ph) // sh, oh - 1)
        oy = max(y + ph - kh + sh, 0) // sh  # ceil((y + ph - kh + 1) / sh), at least 0
        while oy <= oy_hi:
            ox_hi = min((xx + pw) // sw, ow - 1)
            ox = max(xx + pw - kw + sw, 0) // sw
            while ox <= ox_hi:
                acc += g[base + oy * ow + ox] / _avg_divisor(oy, ox, h, w, kh, kw, sh, sw, ph,
                                                             pw, count_include_pad)
                ox += 1
            oy += 1
        gx[t] = acc
        t += step


def _check_pool(op: str, x, kh, kw, sh, sw) -> None:
    if x.ndim != 4 or x.dtype.kind != "f":
        raise ValueError(f"cuda {op}: expected a floating (N, C, H, W) array, got shape "
                         f"{x.shape} and dtype {x.dtype}")
    if min(kh, kw, sh, sw) <= 0:
        raise ValueError(f"cuda {op}: kernel ({kh}, {kw}) and stride ({sh}, {sw}) must be "
                         f"positive")


@register("cuda", "avg_pool2d")
def avg_pool2d(x, kh, kw, sh, sw, ph, pw, count_include_pad=True):
    _check_pool("avg_pool2d", x, kh, kw, sh, sw)
    n, c, h, w = x.shape
    oh, ow = conv_output_size(h, kh, sh, ph, 1), conv_output_size(w, kw, sw, pw, 1)
    out = empty((n, c, oh, ow), x.dtype)
    launch_1d(_avg_pool, out.size, x.dev, out.dev, out.size, h, w, oh, ow, kh, kw, sh, sw, ph,
              pw, bool(count_include_pad))
    return out


@register("cuda", "avg_pool2d_backward")
def avg_pool2d_backward(grad_out, H, W, kh, kw, sh, sw, ph, pw, count_include_pad=True):
    _check_pool("avg_pool2d_backward", grad_out, kh, kw, sh, sw)
    n, c, oh, ow = grad_out.shape
    gx = empty((n, c, H, W), grad_out.dtype)
    launch_1d(_avg_pool_backward, gx.size, grad_out.dev, gx.dev, gx.size, H, W, oh, ow, kh, kw,
              sh, sw, ph, pw, bool(count_include_pad))
    return gx
