"""Differentiable ops that nn's activations need and that are not plain compositions of
Tensor methods: the error function (behind GELU).

Forward runs on arrays; backward is written in Tensor ops, so derivatives of any order
follow. nn reaches these only through `autograd.nn_ops`.
"""
from __future__ import annotations

import math

import numpy as np

from ..function import Function

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_erf_scalar = np.frompyfunc(math.erf, 1, 1)


def erf_array(x: np.ndarray) -> np.ndarray:
    """erf elementwise in x's float dtype (math.erf per element: float64-accurate)."""
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    return np.asarray(_erf_scalar(x), dtype=x.dtype).reshape(x.shape)


class Erf(Function):
    """erf(x) = 2/sqrt(pi) int_0^x e^(-t^2) dt;  d/dx = 2/sqrt(pi) e^(-x^2)."""
    save_inputs = True

    def forward(self, x):
        return erf_array(x)

    def backward(self, g):
        (x,) = self.inputs
        return g * ((-(x * x)).exp() * _TWO_OVER_SQRT_PI)
