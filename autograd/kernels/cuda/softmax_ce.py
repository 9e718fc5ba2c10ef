"""Softmax, log-softmax (along any axis) and the fused cross-entropy on cuda: one thread
per row.

Each row subtracts its max before exponentiating (stable for any logits), as the numpy
references do; sums accumulate in float64.
"""
from __future__ import annotations

import math

import numpy as np
from numba import cuda

from ..registry import register
from .array import CudaArray, device_error
from .runtime import around, empty, launch_1d


@cuda.jit(cache=True)
def _softmax(x, out, lines, n, inner, log):
    """x viewed as (outer, n, inner), softmax along n: one thread per (outer, inner) line,
    reading with stride inner (the last axis is inner == 1; along another axis neighbouring
    threads read neighbouring elements)."""
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < lines:
        o = t // inner
        base = o * n * inner + (t - o * inner)
        m = x[base]
        for j in range(1, n):
            m = max(m, x[base + j * inner])
        s = 0.0
        for j in range(n):
            s += math.exp(x[base + j * inner] - m)
        if log:
            ls = math.log(s)
            for j in range(n):
                out[base + j * inner] = (x[base + j * inner] - m) - ls
        else:
            for j in range(n):
                out[base + j * inner] = math.exp(x[base + j * inner] - m) / s
        t += step


def _softmax_like(name: str, x: CudaArray, axis: int, log: bool) -> CudaArray:
    """softmax (log: log_softmax) of x along `axis`, any axis, in one launch."""
    if x.ndim == 0:
        raise device_error(f"{name} along axis {axis} of shape {x.shape} (cuda: an array "
                           f"with dims)")
    _, n, inner = around(x.shape, int(axis) % x.ndim)
    lines = x.size // n if n else 0
    out = empty(x.shape, x.dtype)
    launch_1d(_softmax, lines, x.dev, out.dev, lines, n, inner, log)
    return out


@register("cuda", "softmax")
def softmax(x, axis=-1):
    return _softmax_like("softmax", x, axis, False)


@register("cuda", "log_softmax")
def log_softmax(x, axis=-1):
    return _softmax_like("log_softmax", x, axis, True)


@cuda.jit(cache=True)
def _cross_entropy(x, target, loss, probs, rows, c):
    r = cuda.grid(1)
    step = cuda.gridsize(1)
    while r < rows:
        base = r * c
        m = x[base]
        for j in range(1, c):
            m = max(m, x[base + j])
        s = 0.0
        for j in range(c):
            e = math.exp(x[base + j] - m)
            probs[base + j] = e
            s += e
        for j in range(c):
            probs[base + j] = probs[base + j] / s
        loss[r] = math.log(s) - (x[base + target[r]] - m)
        r += step


@cuda.jit(cache=True)
def _cross_entropy_backward(probs, target, grad, out, rows, c):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < rows * c:
        r = i // c
        v = probs[i] * grad[r]
        if i - r * c == target[r]:
            v -= grad[r]
        out[i] = v
        i += step


def _check(logits: CudaArray, target) -> None:
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: expected (N, C) logits, got shape {logits.shape}")
    if not isinstance(target, CudaArray) or target.dtype.kind not in "iu":
        raise TypeError("cross_entropy: target must be an integer cuda array of class indices")
    if target.shape != logits.shape[:1]:
        raise ValueError(f"cross_entropy: target shape {target.shape} does not match "
                         f"logits {logits.shape}")


@register("cuda", "cross_entropy")
def cross_entropy(logits, target):
    """(per-row loss, softmax probabilities); the class indices are checked by the caller
    (`class_weights`), as a device-side check would need a sync per call."""
    _check(logits, target)
    rows, c = logits.shape
    loss, probs = empty((rows,), logits.dtype), empty(logits.shape, logits.dtype)
    launch_1d(_cross_entropy, rows, logits.dev, target.dev, loss.dev, probs.dev, rows, c)
    return loss, probs


@register("cuda", "cross_entropy_backward")
def cross_entropy_backward(probs, target, grad):
    _check(probs, target)
    rows, c = probs.shape
    out = empty(probs.shape, probs.dtype)
    launch_1d(_cross_entropy_backward, rows * c, probs.dev, target.dev, grad.dev, out.dev,
              rows, c)
    return out


@cuda.jit(cache=True)
def _class_weights(t, weight, safe, w, bad, n, c, ignore_index, weighted):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        v = t[i]
        if v == ignore_index:
            safe[i] = 0
            w[i] = 0
        else:
            if v < 0 or v >= c:
                bad[0] = 1
                bad[1] = v
                v = 0
            safe[i] = v
            w[i] = weight[v] if weighted else 1
        i += step


@register("cuda", "class_weights")
def class_weights(t, c, weight, ignore_index, dtype):
    n = t.size
    safe, w = empty((n,), np.int64), empty((n,), dtype)
    bad = empty((2,), np.int64)
    bad.fill(0)
    weighted = weight is not None
    launch_1d(_class_weights, n, t.dev, (weight if weighted else w).dev, safe.dev, w.dev,
              bad.dev, n, c, ignore_index, weighted)
    flag, value = bad.get()  # one sync: PyTorch's device-side assert, as an exception here
    if flag:
        raise IndexError(f"target {int(value)} is out of bounds for {c} classes")
    return safe, w
