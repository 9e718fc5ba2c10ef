"""Kernels: plain functions of numpy arrays, dispatched to numba or numpy by the backend switch.

Each name here is a dispatcher (see `backend.kernel`); `fn.reference` is the numpy reference.
"""
from .backend import get_backend, set_backend
from .elementwise import (absolute, add, clip, cos, div, exp, leaky_relu, log, maximum, minimum, mul, neg,
                          power, relu, sigmoid, sin, sqrt, sub, tanh, where)
from .matmul import matmul
from .reduce import amax, amin, logsumexp, prod, sum, sum_to_shape
from .softmax import log_softmax, softmax

__all__ = ["get_backend", "set_backend", "absolute", "add", "clip", "cos", "div", "exp", "leaky_relu", "log",
           "maximum", "minimum", "mul", "neg", "power", "relu", "sigmoid", "sin", "sqrt", "sub",
           "tanh", "where", "matmul", "amax", "amin", "logsumexp", "prod", "sum",
           "sum_to_shape", "log_softmax", "softmax"]
