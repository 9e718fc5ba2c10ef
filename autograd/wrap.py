"""wrap: how the layers below `autograd.tensor` make and recognise Tensors.

Ops (`autograd/ops/`), Function and the engine hand arrays back as Tensors, but `tensor.py`
imports them, so they cannot import `tensor.py` without an import circle. Instead
`tensor.py` registers the Tensor class here once, right after defining it, and the lower
layers call `wrap(array)`, `is_tensor(x)` and `to_tensor(x)`; nothing below tensor.py
ever names the class.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .kernels.cuda.array import CudaArray

_tensor: Any = None  # the Tensor class, registered once by autograd.tensor
_new = object.__new__


def register(tensor_class: type) -> None:
    """Called once by autograd.tensor with the Tensor class."""
    global _tensor
    _tensor = tensor_class


def wrap(array, requires_grad: bool = False, grad_fn=None, version=None):
    """A Tensor holding the array itself, without copying or checking: the ops' fast path
    (also `Tensor.wrap`). Every op result passes here, so it is written out in full rather
    than calling a Tensor method (one Python frame less per op)."""
    t = _new(_tensor)
    t.data = array if type(array) is np.ndarray or type(array) is CudaArray or \
        isinstance(array, np.ndarray) else np.asarray(array)
    t._grad, t.requires_grad, t.grad_fn, t._hooks, t._base = None, requires_grad, grad_fn, \
        None, None
    t._version = [0] if version is None else version
    return t


def is_tensor(x) -> bool:
    """Whether x is a Tensor (a Parameter included)."""
    return isinstance(x, _tensor)


def to_tensor(x):
    """x itself when it is a Tensor, else `Tensor(x)` (a list, a number, an array copy)."""
    return x if isinstance(x, _tensor) else _tensor(x)
