"""Elementwise kernels (numpy references). Arrays in, arrays out; broadcasting as numpy's."""
from __future__ import annotations

import numpy as np

from .backend import kernel


def _stable_sigmoid(x: np.ndarray) -> np.ndarray:
    # exp(-|x|) never overflows: sigmoid(x) = 1/(1+e^-x) for x >= 0, e^x/(1+e^x) otherwise.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


@kernel
def add(a, b):
    return np.add(a, b)


@kernel
def sub(a, b):
    return np.subtract(a, b)


@kernel
def mul(a, b):
    return np.multiply(a, b)


@kernel
def div(a, b):
    return np.divide(a, b)


@kernel
def neg(x):
    return np.negative(x)


@kernel
def exp(x):
    return np.exp(x)


@kernel
def log(x):
    return np.log(x)


@kernel
def sqrt(x):
    return np.sqrt(x)


@kernel
def sin(x):
    return np.sin(x)


@kernel
def cos(x):
    return np.cos(x)


@kernel
def tanh(x):
    return np.tanh(x)


@kernel
def sigmoid(x):
    return _stable_sigmoid(x)


@kernel
def relu(x):
    return np.maximum(x, 0)


@kernel
def leaky_relu(x, negative_slope):
    return np.where(x > 0, x, x * x.dtype.type(negative_slope))


def _fast_power(a, b):
    """a ** b as multiplications, reciprocals and square roots when a is a float array and b a
    scalar in {0, +-0.5, +-1, +-2, 3, 4} of a's dtype (PyTorch's pow takes the same shortcuts);
    None otherwise. The general pow is ~100-700x slower than x*x*x on 1e6 float32s."""
    if (not isinstance(a, np.ndarray) or a.dtype.kind != "f" or a.ndim == 0 or np.ndim(b) != 0
            or np.result_type(a, b) != a.dtype):
        return None
    e = float(b)
    if e == 2 or e == 3 or e == 4:
        out = np.multiply(a, a)
        if e == 3:
            out *= a
        elif e == 4:
            out *= out
        return out
    if e == -2:  # (1/a)^2, not 1/a^2: a^2 would overflow or lose bits for |a| > ~1e19 (f32)
        out = np.reciprocal(a)
        out *= out
        return out
    if e == 0.5 or e == -0.5:
        out = np.sqrt(a)
        return np.reciprocal(out, out=out) if e < 0 else out
    if e == -1:
        return np.reciprocal(a)
    if e == 1:
        return a.copy()
    if e == 0:
        return np.ones_like(a)
    return None


@kernel
def power(a, b):
    """a ** b with numpy's broadcasting and dtypes (small scalar exponents take a fast path
    that keeps the dtype)."""
    out = _fast_power(a, b)
    return np.power(a, b) if out is None else out


@kernel
def maximum(a, b):
    return np.maximum(a, b)


@kernel
def minimum(a, b):
    return np.minimum(a, b)


@kernel
def where(cond, a, b):
    return np.where(cond, a, b)


@kernel
def absolute(x):
    return np.abs(x)


@kernel
def clip(x, lo=None, hi=None):
    if lo is None and hi is None:
        return x.copy()
    return np.clip(x, lo, hi).astype(x.dtype, copy=False)


# ---- fused kernels: one pass over memory instead of two or three ----------------------------

ACTIVATIONS = ("identity", "relu", "tanh", "sigmoid")


def _check_activation(act: str) -> None:
    if act not in ACTIVATIONS:
        raise ValueError(f"unknown activation {act!r}; choose one of {ACTIVATIONS}")


@kernel
def fma(a, b, c):
    """a * b + c with broadcasting (one pass, no temporary)."""
    return np.add(np.multiply(a, b), c)


@kernel
def bias_act(x, bias, act="identity"):
    """act(x + bias), bias broadcast along the last axis (the Linear layer's epilogue)."""
    _check_activation(act)
    z = np.add(x, bias)
    if act == "relu":
        return np.maximum(z, 0)
    if act == "tanh":
        return np.tanh(z)
    if act == "sigmoid":
        return _stable_sigmoid(z)
    return z


@kernel
def act_backward(grad, y, act):
    """grad * f'(x) written with the activation's output y = f(x):
    relu: y > 0;  tanh: 1 - y^2;  sigmoid: y (1 - y);  identity: 1."""
    _check_activation(act)
    if act == "relu":
        return np.where(y > 0, grad, np.zeros((), grad.dtype))
    if act == "tanh":
        return grad * (1 - y * y)
    if act == "sigmoid":
        return grad * (y * (1 - y))
    return grad.copy()
