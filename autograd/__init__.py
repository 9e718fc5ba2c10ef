"""numbagrad's autograd: tensors, reverse-mode differentiation, gradient checking."""
from . import data, functional, kernels
from .anomaly import detect_anomaly
from .dtypes import get_default_dtype, set_default_dtype
from .engine import grad
from .factories import (
                        arange,
                        empty,
                        eye,
                        from_numpy,
                        full,
                        linspace,
                        ones,
                        ones_like,
                        rand,
                        randint,
                        randn,
                        tensor,
                        zeros,
                        zeros_like,
)
from .functions import cat, matmul, maximum, minimum, stack, where
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .kernels.backend import get_backend, set_backend
from .random import manual_seed
from .serialization import load, save
from .tensor import Tensor
from .threads import apply_default as _default_threads
from .threads import get_num_threads, set_num_threads

__all__ = [
                        "GradcheckError",
                        "Tensor",
                        "arange",
                        "cat",
                        "data",
                        "detect_anomaly",
                        "empty",
                        "enable_grad",
                        "eye",
                        "from_numpy",
                        "full",
                        "functional",
                        "get_backend",
                        "get_default_dtype",
                        "get_num_threads",
                        "grad",
                        "gradcheck",
                        "gradgradcheck",
                        "is_grad_enabled",
                        "kernels",
                        "linspace",
                        "load",
                        "manual_seed",
                        "matmul",
                        "maximum",
                        "minimum",
                        "no_grad",
                        "ones",
                        "ones_like",
                        "rand",
                        "randint",
                        "randn",
                        "save",
                        "set_backend",
                        "set_default_dtype",
                        "set_grad_enabled",
                        "set_num_threads",
                        "stack",
                        "tensor",
                        "where",
                        "zeros",
                        "zeros_like",
]

_default_threads()
