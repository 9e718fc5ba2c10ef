"""Kernels: plain functions of numpy arrays, declared once with their numpy reference
(`registry.declare`), implemented per backend (`registry.register`), chosen by `policy`.

Each name here is a dispatcher; `fn.reference` is the numpy reference (the specification),
`fn.implementation(backend)` a backend's version, `fn.spec` the declaration. The numba
implementations live in `autograd/kernels/jit/` and are imported on first use.
"""
from . import policy
from .elementwise import (
    absolute,
    act_backward,
    add,
    clip,
    cos,
    div,
    exp,
    leaky_relu,
    log,
    maximum,
    minimum,
    mul,
    neg,
    power,
    relu,
    sigmoid,
    sin,
    sqrt,
    sub,
    tanh,
    where,
)
from .gemm import gemm
from .linalg import matmul
from .policy import get_backend, set_backend
from .reduce import amax, amin, logsumexp, prod, sum, sum_to_shape
from .registry import REGISTRY, backend_module, declare, register
from .softmax_ce import cross_entropy, cross_entropy_backward, log_softmax, softmax

__all__ = [
                          "REGISTRY",
                          "absolute",
                          "act_backward",
                          "add",
                          "amax",
                          "amin",
                          "backend_module",
                          "clip",
                          "cos",
                          "cross_entropy",
                          "cross_entropy_backward",
                          "declare",
                          "div",
                          "exp",
                          "gemm",
                          "get_backend",
                          "leaky_relu",
                          "log",
                          "log_softmax",
                          "logsumexp",
                          "matmul",
                          "maximum",
                          "minimum",
                          "mul",
                          "neg",
                          "policy",
                          "power",
                          "prod",
                          "register",
                          "relu",
                          "set_backend",
                          "sigmoid",
                          "sin",
                          "softmax",
                          "sqrt",
                          "sub",
                          "sum",
                          "sum_to_shape",
                          "tanh",
                          "where",
]


def __getattr__(name: str):
    """Every declared kernel is `autograd.kernels.<name>`, also those not imported above
    (a kernel added with `elementwise.formula` needs no edit here)."""
    spec = REGISTRY.get(name)
    if spec is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return spec.dispatch
