"""numbagrad's own GEMM (declaration, numpy reference): a matrix multiply with a fused
epilogue, `act(a @ b + bias)`, 2-D or batched with broadcast batch dims.

The reference is the specification: numpy's matmul, then the bias, then the activation, in
three passes over the output. The numba implementation (`autograd/kernels/jit/gemm.py`)
applies the epilogue to each output tile while it is still in cache. Both validate their
inputs the same way (`check_gemm`), so bad input fails with the same message before any
arithmetic runs.
"""
from __future__ import annotations

import numpy as np

from .elementwise import erf, sigmoid
from .registry import declare

ACTIVATIONS = (None, "relu", "tanh", "sigmoid", "gelu")
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def check_gemm(a, b, bias, activation, out) -> tuple:
    """Validate gemm's arguments; returns (batch shape, m, k, n, dtype). TypeError for
    non-arrays, ints or mixed dtypes; ValueError for shapes that do not fit or an unknown
    activation; every message names gemm and the shapes."""
    arrays = {"a": a, "b": b, "bias": bias, "out": out}
    for name, x in arrays.items():
        if x is not None and not isinstance(x, np.ndarray):
            raise TypeError(f"gemm: {name} must be a numpy array, got {type(x).__name__}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"gemm: unknown activation {activation!r}; choose one of "
                         f"{ACTIVATIONS}")
    dts = {name: x.dtype for name, x in arrays.items() if x is not None}
    if a.dtype not in _FLOATS or len(set(dts.values())) != 1:
        shown = ", ".join(f"{n}: {d}" for n, d in dts.items())
        raise TypeError(f"gemm: expected float32 or float64 arrays of one dtype, got {shown}")
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(f"gemm: expected arrays with at least 2 dims, got a: {a.shape} and "
                         f"b: {b.shape}")
    m, k = a.shape[-2:]
    n = b.shape[-1]
    if b.shape[-2] != k:
        raise ValueError(f"gemm: shapes a: {a.shape} and b: {b.shape} are not aligned "
                         f"({k} != {b.shape[-2]})")
    try:
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(f"gemm: batch dims of a: {a.shape} and b: {b.shape} cannot be "
                         f"broadcast") from None
    if bias is not None and bias.shape != (n,):
        raise ValueError(f"gemm: bias must have shape ({n},) for a: {a.shape} @ b: "
                         f"{b.shape}, got {bias.shape}")
    if out is not None and out.shape != batch + (m, n):
        raise ValueError(f"gemm: out must have shape {batch + (m, n)} for a: {a.shape} @ "
                         f"b: {b.shape}, got {out.shape}")
    return batch, m, k, n, a.dtype


def apply_activation(y: np.ndarray, activation: str | None) -> np.ndarray:
    """The epilogue's activation on y, in place where numpy allows (the reference's)."""
    if activation == "relu":
        np.maximum(y, 0, out=y)
    elif activation == "tanh":
        np.tanh(y, out=y)
    elif activation == "sigmoid":
        sigmoid.reference(y, out=y)
    elif activation == "gelu":  # exact (erf) form, PyTorch's default: x/2 (1 + erf(x/sqrt 2))
        y[...] = 0.5 * y * (1 + erf.reference(y * y.dtype.type(1 / np.sqrt(2))))
    return y


@declare(out=True)
def gemm(a, b, bias=None, activation=None, out=None):
    """act(a @ b + bias) for float arrays (m, k) @ (k, n), or batched (..., m, k) @
    (..., k, n) with broadcast batch dims; bias of shape (n,) or None; act in None, "relu",
    "tanh", "sigmoid", "gelu" (exact, erf-based)."""
    check_gemm(a, b, bias, activation, out)
    y = np.matmul(a, b)
    if bias is not None:
        y += bias
    apply_activation(y, activation)
    if out is None:
        return y
    out[...] = y
    return out
