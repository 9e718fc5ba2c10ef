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
    activation; every message names gemm and the shapes. The common cases (float arrays of
    one dtype, 2-D or equal batch dims) take a short path: ~1 us of a call's cost."""
    nd = np.ndarray
    if not (type(a) is nd and type(b) is nd and (bias is None or type(bias) is nd)
            and (out is None or type(out) is nd)):
        for name, x in {"a": a, "b": b, "bias": bias, "out": out}.items():
            if x is not None and not isinstance(x, np.ndarray):
                raise TypeError(f"gemm: {name} must be a numpy array, got {type(x).__name__}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"gemm: unknown activation {activation!r}; choose one of "
                         f"{ACTIVATIONS}")
    dt = a.dtype
    if (dt not in _FLOATS or b.dtype != dt or (bias is not None and bias.dtype != dt)
            or (out is not None and out.dtype != dt)):
        dts = {name: x.dtype for name, x in {"a": a, "b": b, "bias": bias, "out": out}.items()
               if x is not None}
        shown = ", ".join(f"{n}: {d}" for n, d in dts.items())
        raise TypeError(f"gemm: expected float32 or float64 arrays of one dtype, got {shown}")
    sa, sb = a.shape, b.shape
    if len(sa) < 2 or len(sb) < 2:
        raise ValueError(f"gemm: expected arrays with at least 2 dims, got a: {sa} and "
                         f"b: {sb}")
    m, k = sa[-2:]
    n = sb[-1]
    if sb[-2] != k:
        raise ValueError(f"gemm: shapes a: {sa} and b: {sb} are not aligned "
                         f"({k} != {sb[-2]})")
    if len(sb) == 2 or sa[:-2] == sb[:-2]:
        batch = sa[:-2]
    elif len(sa) == 2:
        batch = sb[:-2]
    else:
        try:
            batch = np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise ValueError(f"gemm: batch dims of a: {sa} and b: {sb} cannot be "
                             f"broadcast") from None
    if bias is not None and bias.shape != (n,):
        raise ValueError(f"gemm: bias must have shape ({n},) for a: {sa} @ b: {sb}, got "
                         f"{bias.shape}")
    if out is not None and out.shape != batch + (m, n):
        raise ValueError(f"gemm: out must have shape {batch + (m, n)} for a: {sa} @ "
                         f"b: {sb}, got {out.shape}")
    return batch, m, k, n, dt


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
