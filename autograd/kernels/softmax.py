"""Softmax kernels (numpy references), numerically stable for any input."""
from __future__ import annotations

import numpy as np

from .backend import kernel


@kernel
def softmax(x, axis=-1):
    """exp(x - max) / sum(exp(x - max)) along `axis`."""
    if x.size == 0:
        return x.copy()
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


@kernel
def log_softmax(x, axis=-1):
    """(x - max) - log(sum(exp(x - max))) along `axis`."""
    if x.size == 0:
        return x.copy()
    z = x - np.max(x, axis=axis, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))
