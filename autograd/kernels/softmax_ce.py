"""Softmax kernels (numpy references), numerically stable for any input."""
from __future__ import annotations

import numpy as np

from .registry import declare


def _require_array(name: str, x) -> None:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name}: expected a numpy array, got {type(x).__name__}")


@declare
def softmax(x, axis=-1):
    """exp(x - max) / sum(exp(x - max)) along `axis`."""
    _require_array("softmax", x)
    if x.size == 0:
        return x.copy()
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


@declare
def softmax_backward(y, grad, axis=-1):
    """y * (grad - sum(grad * y)) along `axis`: the gradient of a softmax whose output is y
    (attention's weights, `Tensor.softmax`)."""
    return y * (grad - np.sum(grad * y, axis=axis, keepdims=True))


@declare
def log_softmax(x, axis=-1):
    """(x - max) - log(sum(exp(x - max))) along `axis`."""
    _require_array("log_softmax", x)
    if x.size == 0:
        return x.copy()
    z = x - np.max(x, axis=axis, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def _check_targets(logits, target):
    _require_array("cross_entropy", logits)
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: expected (N, C) logits, got shape {logits.shape}")
    if not isinstance(target, np.ndarray) or target.dtype.kind not in "iu":
        raise TypeError("cross_entropy: target must be an integer array of class indices")
    if target.shape != logits.shape[:1]:
        raise ValueError(f"cross_entropy: target shape {target.shape} does not match "
                         f"logits {logits.shape}")
    if target.size and (target.min() < 0 or target.max() >= logits.shape[1]):
        raise ValueError(f"cross_entropy: class index out of range [0, {logits.shape[1]})")


@declare
def cross_entropy(logits, target):
    """Per-sample loss logsumexp(z) - z[target] and the softmax probabilities (saved for the
    backward), from (N, C) logits and (N,) int targets, in one pass."""
    _check_targets(logits, target)
    if logits.size == 0:
        return np.zeros(logits.shape[0], logits.dtype), logits.copy()
    z = logits - np.max(logits, axis=1, keepdims=True)
    e = np.exp(z)
    s = np.sum(e, axis=1, keepdims=True)
    loss = np.log(s[:, 0]) - z[np.arange(z.shape[0]), target]
    return loss.astype(logits.dtype, copy=False), e / s


@declare
def cross_entropy_backward(probs, target, grad):
    """d loss_i / d logits = grad_i * (softmax_i - onehot(target_i)); grad is (N,)."""
    _check_targets(probs, target)
    out = probs * grad[:, None]
    out[np.arange(probs.shape[0]), target] -= grad
    return out.astype(probs.dtype, copy=False)
