"""Training-mode batch norm on cuda, over (N, C, L) arrays: one thread per channel computes
the channel's statistics (two passes, float64 sums), then one thread per element writes.
"""
from __future__ import annotations

import math

from numba import cuda

from ..registry import register
from .runtime import empty, launch_1d


@cuda.jit(cache=True)
def _stats(x, mean, var, invstd, n, c, length, eps):
    ch = cuda.grid(1)
    step = cuda.gridsize(1)
    while ch < c:
        s = 0.0
        for b in range(n):
            base = (b * c + ch) * length
            for k in range(length):
                s += x[base + k]
        m = s / (n * length)
        q = 0.0
        for b in range(n):
            base = (b * c + ch) * length
            for k in range(length):
                d = x[base + k] - m
                q += d * d
        v = q / (n * length)
        mean[ch] = m
        var[ch] = v
        invstd[ch] = 1.0 / math.sqrt(v + eps)
        ch += step


@cuda.jit(cache=True)
def _normalise(x, mean, invstd, out, total, c, length):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        ch = (t // length) % c
        out[t] = (x[t] - mean[ch]) * invstd[ch]
        t += step


@register("cuda", "batch_norm_forward")
def batch_norm_forward(x, eps):
    n, c, length = x.shape
    mean, var, invstd = (empty((c,), x.dtype) for _ in range(3))
    launch_1d(_stats, c, x.dev, mean.dev, var.dev, invstd.dev, n, c, length, float(eps))
    xhat = empty(x.shape, x.dtype)
    launch_1d(_normalise, x.size, x.dev, mean.dev, invstd.dev, xhat.dev, x.size, c, length)
    return xhat, mean, var, invstd


@cuda.jit(cache=True)
def _grad_means(g, xhat, mean_g, mean_gx, n, c, length):
    ch = cuda.grid(1)
    step = cuda.gridsize(1)
    while ch < c:
        s = 0.0
        sx = 0.0
        for b in range(n):
            base = (b * c + ch) * length
            for k in range(length):
                s += g[base + k]
                sx += g[base + k] * xhat[base + k]
        mean_g[ch] = s / (n * length)
        mean_gx[ch] = sx / (n * length)
        ch += step


@cuda.jit(cache=True)
def _grad_input(g, xhat, invstd, mean_g, mean_gx, out, total, c, length):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < total:
        ch = (t // length) % c
        out[t] = invstd[ch] * (g[t] - mean_g[ch] - xhat[t] * mean_gx[ch])
        t += step


@register("cuda", "batch_norm_backward")
def batch_norm_backward(grad_xhat, xhat, invstd):
    n, c, length = grad_xhat.shape
    mean_g, mean_gx = empty((c,), grad_xhat.dtype), empty((c,), grad_xhat.dtype)
    launch_1d(_grad_means, c, grad_xhat.dev, xhat.dev, mean_g.dev, mean_gx.dev, n, c, length)
    out = empty(grad_xhat.shape, grad_xhat.dtype)
    launch_1d(_grad_input, out.size, grad_xhat.dev, xhat.dev, invstd.dev, mean_g.dev,
              mean_gx.dev, out.dev, out.size, c, length)
    return out
