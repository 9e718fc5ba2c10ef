"""Max pooling on cuda: forward (values and the flat in-plane argmax) and its backward.

The forward is one thread per output, scanning its window in the reference's order: the
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
