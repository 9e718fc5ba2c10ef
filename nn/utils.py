"""nn.utils: gradient clipping and flattening parameters to / from one vector."""
from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from autograd import Tensor, cat, no_grad

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters"]


def _params(parameters) -> list:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Scale all gradients in place so their joint norm is at most max_norm:
    total = (sum_p ||g_p||^q)^(1/q) (max |g| for q = inf), g *= max_norm / (total + 1e-6)
    when that factor is below 1. Returns the total norm (before clipping) as a Tensor."""
    grads = [p.grad for p in _params(parameters) if p.grad is not None]
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not grads:
        return Tensor(0.0)
    dtype = np.result_type(*[g.dtype for g in grads])
    if grads[0].is_cuda:
        return _clip_on_device(grads, max_norm, norm_type, error_if_nonfinite, dtype)
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g.data))) if g.data.size else 0.0 for g in grads)
    else:
        total = float(sum(np.sum(np.abs(g.data.astype(np.float64)) ** norm_type)
                          for g in grads) ** (1.0 / norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           f"`parameters` is non-finite, so it cannot be clipped. To disable "
                           f"this error and scale the gradients by the non-finite norm anyway, "
                           f"set `error_if_nonfinite=False`")
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        with no_grad():
            for g in grads:
                g.data *= g.dtype.type(coef)
    return Tensor(np.asarray(total, dtype=dtype)).to(grads[0].device)  # as PyTorch's


def _clip_on_device(grads: list, max_norm: float, norm_type: float,
                    error_if_nonfinite: bool, dtype) -> Tensor:
    """clip_grad_norm_ for gradients on a device, as PyTorch's: the norm and the factor
    min(max_norm / (total + 1e-6), 1) stay there as 0-d arrays (no copy to the host, unless
    error_if_nonfinite asks), and every gradient is multiplied by the factor."""
    total = None
    for g in grads:
        if g.data.size == 0:
            continue
        a = np.abs(g.data.astype(np.float64))
        part = a.max() if math.isinf(norm_type) else (a ** norm_type).sum()
        total = part if total is None else (
            np.maximum(total, part) if math.isinf(norm_type) else total + part)
    if total is None:
        return Tensor(np.asarray(0.0, dtype=dtype)).to(grads[0].device)
    if not math.isinf(norm_type):
        total = total ** (1.0 / norm_type)
    if error_if_nonfinite and not bool(np.isfinite(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           f"`parameters` is non-finite, so it cannot be clipped. To disable "
                           f"this error and scale the gradients by the non-finite norm anyway, "
                           f"set `error_if_nonfinite=False`")
    coef = np.minimum(max_norm / (total + 1e-6), 1.0)
    with no_grad():
        for g in grads:
            g.data *= coef.astype(g.dtype)
    return Tensor.wrap(total.astype(dtype))


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float,
                     foreach=None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for p in _params(parameters):
        if p.grad is not None:
            g = p.grad.data
            if isinstance(g, np.ndarray):
                np.clip(g, -clip_value, clip_value, out=g)
            else:  # a cuda array: the clip kernel, then a copy into the gradient
                g[...] = np.clip(g, -clip_value, clip_value)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D Tensor (differentiable)."""
    params = _params(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D vec into the parameters, in place."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected vec to be a Tensor, but got: {type(vec).__name__}")
    params = _params(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise ValueError(f"vector_to_parameters: expected a 1-D vector of {total} elements, got "
                         f"shape {tuple(vec.shape)}")
    start = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(Tensor.wrap(vec.data[start:start + n].reshape(p.shape)))  # vec's device
            start += n
