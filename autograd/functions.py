"""Free functions: where, maximum, minimum, cat, stack, and `autograd.NAME(t)` for every op
declared with `ops.registry.elementwise` (`DECLARED`, exported by autograd/__init__.py)."""
from __future__ import annotations

import numpy as np

from . import dtypes
from .ops import binary, shape
from .ops import registry as op_registry
from .ops.reduce import normalize_dims
from .tensor import Tensor, as_tensor_pair, matmul

__all__ = ["DECLARED", "cat", "matmul", "maximum", "minimum", "stack", "where"]


def _declared_function(name: str):
    def function(input, *args, **kwargs) -> Tensor:
        return getattr(input if isinstance(input, Tensor) else Tensor(input), name)(*args,
                                                                                    **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = op_registry.METHODS[name].__doc__
    return function


# autograd.exp(t), autograd.tanh(t), ...: one per declared elementwise op
DECLARED = {name: _declared_function(name) for name in op_registry.METHODS
            if name not in op_registry.METHOD_ONLY}
DECLARED.update(op_registry.FUNCTIONS)  # autograd.var_mean, autograd.einsum, ...


def where(condition, input=None, other=None) -> Tensor:
    """Elementwise `input` where condition holds, else `other`; differentiable in both.
    `where(condition)` alone is `condition.nonzero(as_tuple=True)` (PyTorch's)."""
    if input is None and other is None:
        cond = condition if isinstance(condition, Tensor) else Tensor(condition)
        return cond.nonzero(as_tuple=True)
    if input is None or other is None:
        raise TypeError("where: give both input and other, or neither (where(condition))")
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
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"cat: zero-dimensional tensor (at position {i}) cannot be "
                               f"concatenated")
    ref = tensors[0]
    (axis,) = normalize_dims("cat", dim, ref.ndim)
    for t in tensors[1:]:
        if t.ndim != ref.ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, ref.shape))
                                     if i != axis):
            raise RuntimeError(f"cat: shapes {[tuple(x.shape) for x in tensors]} do not "
                               f"match outside dim {dim}")
    dtype = dtypes.result_type(*[t.data for t in tensors])  # PyTorch's promotion
    return shape.Cat.apply(*[t.astype(dtype) for t in tensors], dim=axis)


def stack(tensors, dim: int = 0) -> Tensor:
    """Join tensors of one shape along a new dim."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("stack: expected a non-empty list of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise RuntimeError(f"stack: all tensors must have the same shape, got "
                           f"{[t.shape for t in tensors]}")
    n = tensors[0].ndim + 1
    if not -n <= dim < n:
        raise IndexError(f"stack: dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {dim})")
    dim = dim if dim >= 0 else dim + n
    return cat([t.unsqueeze(dim) for t in tensors], dim)
