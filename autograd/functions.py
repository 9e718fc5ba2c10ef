"""Free functions of several tensors: where, maximum, minimum, cat, stack."""
from __future__ import annotations

import numpy as np

from .ops import binary, shape
from .ops.reduce import normalize_dims
from .tensor import Tensor, as_tensor_pair, matmul

__all__ = ["cat", "matmul", "maximum", "minimum", "stack", "where"]


def where(condition, input, other) -> Tensor:
    """Elementwise `input` where condition holds, else `other`; differentiable in both."""
    a, b = as_tensor_pair(input, other)
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    return binary.Where.apply(a, b, cond=cond.astype(bool, copy=False))


def maximum(a, b) -> Tensor:
    """Elementwise maximum; on ties the gradient is split evenly between a and b."""
    return binary.Maximum.apply(*as_tensor_pair(a, b))


def minimum(a, b) -> Tensor:
    """Elementwise minimum; on ties the gradient is split evenly between a and b."""
    return binary.Minimum.apply(*as_tensor_pair(a, b))


def cat(tensors, dim: int = 0) -> Tensor:
    """Concatenate along an existing dim; the gradient is split back into the pieces."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    ref = tensors[0]
    (axis,) = normalize_dims("cat", dim, ref.ndim) or (0,)
    for t in tensors[1:]:
        if t.ndim != ref.ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, ref.shape))
                                     if i != axis):
            raise ValueError(f"cat: shapes {[tuple(x.shape) for x in tensors]} do not match "
                             f"outside dim {dim}")
    dtype = np.result_type(*[t.dtype for t in tensors])
    return shape.Cat.apply(*[t.astype(dtype) for t in tensors], dim=axis)


def stack(tensors, dim: int = 0) -> Tensor:
    """Join tensors of one shape along a new dim."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors must have the same shape, got "
                         f"{[t.shape for t in tensors]}")
    dim = dim if dim >= 0 else dim + tensors[0].ndim + 1
    return cat([t.unsqueeze(dim) for t in tensors], dim)
