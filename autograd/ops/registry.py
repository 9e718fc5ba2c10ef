"""Op declarations: an elementwise op is declared once, on its Function class, and that
declaration yields its Tensor method and its `autograd.NAME` function.

    @elementwise("tanh")              # Tensor.tanh() and autograd.tanh(t)
    class Tanh(Function):
        def forward(self, x): return K.tanh(x)          # the kernel
        def backward(self, g): ...                      # the derivative, in Tensor ops

`autograd/tensor.py` installs `METHODS` on Tensor and `autograd/functions.py` makes the
functions, so adding an op touches its declaration, its kernel (if it needs a new one) and
its test, nothing else (README: "How to add an op").

Ops with arguments are declared on their function: `@method("cumsum")` makes
`Tensor.cumsum(dim)` and `autograd.cumsum(t, dim)` (`function=False` where PyTorch has no
`torch.NAME`, e.g. `Tensor.view_as`; also used for operators such as `__and__`), and
`@function("einsum")` makes a function that is no Tensor method. A module that declares ops
is imported by `autograd/tensor.py` before the methods are installed.
"""
from __future__ import annotations

from collections.abc import Callable

from .. import dtypes

METHODS: dict[str, Callable] = {}
METHOD_ONLY: set = set()  # declared Tensor methods that PyTorch has no torch.NAME for
FUNCTIONS: dict[str, Callable] = {}  # declared functions that are no Tensor method (einsum)


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


def method(name: str, *, function: bool = True) -> Callable:
    """Function decorator for ops that take arguments (`cumsum(dim)`, `flip(dims)`, ...):
    `fn(self, ...)` becomes `Tensor.<name>` and, with `function`, `autograd.<name>(t, ...)`
    (`function=False` where PyTorch has no `torch.<name>`)."""
    def deco(fn):
        if name in METHODS:
            raise ValueError(f"method: op {name!r} is already declared")
        fn.__name__ = name
        fn.__qualname__ = f"Tensor.{name}"
        METHODS[name] = fn
        if not function:
            METHOD_ONLY.add(name)
        return fn
    return deco


def function(name: str) -> Callable:
    """Function decorator: `fn` becomes `autograd.<name>` (no Tensor method: var_mean,
    einsum, meshgrid, ... as in PyTorch)."""
    def deco(fn):
        if name in FUNCTIONS or name in METHODS:
            raise ValueError(f"function: op {name!r} is already declared")
        fn.__name__ = fn.__qualname__ = name
        FUNCTIONS[name] = fn
        return fn
    return deco
