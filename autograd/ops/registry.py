"""Op declarations: an elementwise op is declared once, on its Function class, and that
declaration yields its Tensor method and its `autograd.NAME` function.

    @elementwise("tanh")              # Tensor.tanh() and autograd.tanh(t)
    class Tanh(Function):
        def forward(self, x): return K.tanh(x)          # the kernel
        def backward(self, g): ...                      # the derivative, in Tensor ops

`autograd/tensor.py` installs `METHODS` on Tensor and `autograd/functions.py` makes the
functions, so adding an op touches its declaration, its kernel (if it needs a new one) and
its test, nothing else (README: "How to add an op").
"""
from __future__ import annotations

from collections.abc import Callable

from .. import dtypes

METHODS: dict[str, Callable] = {}


def elementwise(name: str, *, floating: bool = True) -> Callable:
    """Class decorator: register `Tensor.<name>()` (and so `autograd.<name>(t)`) as
    `cls.apply(t)`. With `floating` (float-valued ops: exp, tanh, ...) integer and bool
    inputs become the default float dtype first, as PyTorch does."""
    def deco(cls):
        if name in METHODS:
            raise ValueError(f"elementwise: op {name!r} is already declared")

        def method(self):
            if floating and self.data.dtype.kind != "f":
                self = self.astype(dtypes.get_default_dtype())
            return cls.apply(self)

        method.__name__ = name
        method.__qualname__ = f"Tensor.{name}"
        method.__doc__ = cls.__doc__
        METHODS[name] = method
        return cls
    return deco
