"""numbagrad's autograd: tensors, reverse-mode differentiation, gradient checking."""
from . import data, functional, kernels
from .anomaly import detect_anomaly
from .dtypes import get_default_dtype, set_default_dtype
from .engine import grad
from .factories import (arange, empty, eye, from_numpy, full, linspace, ones, ones_like, rand,
                        randint, randn, tensor, zeros, zeros_like)
from .functions import cat, matmul, maximum, minimum, stack, where
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .kernels.backend import get_backend, set_backend
from .random import manual_seed
from .serialization import load, save
from .tensor import Tensor

__all__ = ["Tensor", "tensor", "from_numpy", "set_default_dtype", "get_default_dtype", "zeros",
           "ones", "full", "empty", "zeros_like", "ones_like", "arange", "linspace", "eye",
           "rand", "randn", "randint", "manual_seed", "maximum", "minimum", "where", "cat",
           "stack", "matmul", "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled",
           "grad", "detect_anomaly", "gradcheck", "gradgradcheck", "GradcheckError",
           "functional", "kernels", "set_backend", "get_backend", "data", "save", "load"]
