"""Sampling: multinomial, bernoulli, normal (PyTorch's forms). Samples come from
`generator=` (an autograd.Generator) or the global generator that `manual_seed` seeds.
Samples carry no gradient (PyTorch's are zero)."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..kernels.cuda.array import from_host
from ..random import generator as _generator
from ..wrap import is_tensor, wrap
from .device import on_cuda
from .registry import function, method


@method("multinomial")
def multinomial(self, num_samples: int, replacement: bool = False, *, generator=None):
    """Indices drawn from the categories weighted by self (1-D, or 2-D: one draw per row;
    weights need not sum to 1), int64; without replacement each index at most once per row
    (categories of weight 0 come last, as in PyTorch)."""
    w = self.data
    if w.dtype.kind != "f":
        raise RuntimeError(f"multinomial: only supports floating-point dtypes for input, got "
                           f"{w.dtype}")
    if w.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or "
                           "element < 0")
    rows = w.reshape(1, -1) if w.ndim == 1 else w
    n = rows.shape[1]
    if (rows.sum(axis=1) <= 0).any():
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of "
                           "probabilities <= 0)")
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample {num_samples} <= 0 samples")
    if not replacement and num_samples > n:
        raise RuntimeError(f"multinomial: cannot sample n_sample ({num_samples}) > "
                           f"prob_dist.size(-1) ({n}) samples without replacement")
    rng = _generator(generator)
    p = rows / rows.sum(axis=1, keepdims=True)
    device = on_cuda(w)  # the draws come from the CPU generator, then go to the device
    if replacement:
        cdf = np.cumsum(p, axis=1)
        u = rng.random((rows.shape[0], num_samples))
        u = (from_host(u) if device else u) * cdf[:, -1:]
        if device:  # searchsorted(side="right"): how many cdf entries are <= u
            out = np.sum(cdf[:, None, :] <= u[:, :, None], axis=-1)
        else:
            out = np.stack([np.searchsorted(c, r, side="right") for c, r in zip(cdf, u)])
        out = np.minimum(out, n - 1)
    else:  # exponential race: the k smallest of e_i / p_i are a draw without replacement
        e = rng.exponential(size=rows.shape)
        with np.errstate(divide="ignore"):
            keys = (from_host(e) if device else e) / p
        out = np.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    out = out.astype(np.int64)
    return wrap(out[0] if w.ndim == 1 else out)


@method("bernoulli")
def bernoulli(self, p=None, *, generator=None):
    """0 / 1 samples in self's (floating) dtype: 1 with probability self elementwise, or
    with probability p when given."""
    if self.data.dtype.kind != "f":
        raise NotImplementedError(f"bernoulli: not implemented for {self.data.dtype} tensors "
                                  f"(floating point only)")
    prob = self.data if p is None else np.asarray(p.data if hasattr(p, "data") else p)
    if (prob < 0).any() or (prob > 1).any() or np.isnan(prob).any():
        raise RuntimeError("bernoulli: expected every probability in [0, 1]")
    u = _generator(generator).random(self.shape)
    if on_cuda(prob):
        u = from_host(u)  # the CPU generator's draws (seeded alike on both devices)
    return wrap((u < prob).astype(self.data.dtype))


@function("normal")
def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, requires_grad=False,
           device=None):
    """Samples of N(mean, std^2): mean and std tensors (broadcast) or numbers (then `size`
    gives the shape). No gradient flows to mean or std (PyTorch's is zero)."""
    from .. import devices
    devices.resolve(device, "normal")
    m = mean.data if is_tensor(mean) else None
    s = std.data if is_tensor(std) else None
    for x in (m, s):
        if x is not None and x.dtype.kind != "f":
            raise NotImplementedError(f"normal: not implemented for {x.dtype} tensors "
                                      f"(floating point only)")
    if np.any(np.asarray(std if s is None else s) < 0):
        raise RuntimeError(f"normal: expects std >= 0.0, but found std "
                           f"{np.min(std if s is None else s)}")
    if m is None and s is None:
        if size is None:
            raise TypeError("normal: give size when mean and std are numbers")
        shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
        dt = np.dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    else:
        shape = np.broadcast_shapes(*(x.shape for x in (m, s) if x is not None))
        dt = dtypes.result_type(*(x for x in (m, s) if x is not None))
    eps = _generator(generator).standard_normal(shape)
    loc = mean if m is None else m
    scale = std if s is None else s
    out = wrap((loc + scale * eps).astype(dt))
    return out.requires_grad_(True) if requires_grad else out
