"""wrap: how the layers below `autograd.tensor` make and recognise Tensors.

Ops (`autograd/ops/`), Function and the engine hand arrays back as Tensors, but `tensor.py`
imports them, so they cannot import `tensor.py` without an import circle. Instead
`tensor.py` registers the Tensor class here once, right after defining it, and the lower
layers call `wrap(array)`, `is_tensor(x)` and `to_tensor(x)`; nothing below tensor.py
ever names the class.
"""
from __future__ import annotations

from typing import Any

_tensor: Any = None  # the Tensor class, registered once by autograd.tensor


def register(tensor_class: type) -> None:
    """Called once by autograd.tensor with the Tensor class."""
    global _tensor
    _tensor = tensor_class


def wrap(array, requires_grad: bool = False, grad_fn=None, version=None):
    """A Tensor holding `array` itself (no copy, no checks): `Tensor.wrap`."""
    return _tensor.wrap(array, requires_grad, grad_fn, version)


def is_tensor(x) -> bool:
    """Whether x is a Tensor (a Parameter included)."""
    return isinstance(x, _tensor)


def to_tensor(x):
    """x itself when it is a Tensor, else `Tensor(x)` (a list, a number, an array copy)."""
    return x if isinstance(x, _tensor) else _tensor(x)
