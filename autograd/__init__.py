"""numbagrad's autograd: tensors, reverse-mode differentiation, gradient checking."""
from . import backends, cuda, data, functional, kernels, utils, viz
from .anomaly import detect_anomaly
from .compiled import compile
from .devices import device
from .dtype_names import DTYPES as _DTYPES
from .dtypes import get_default_dtype, set_default_dtype
from .engine import grad
from .factories import (
                        BoolTensor,
                        ByteTensor,
                        DoubleTensor,
                        FloatTensor,
                        HalfTensor,
                        IntTensor,
                        LongTensor,
                        ShortTensor,
                        arange,
                        empty,
                        empty_like,
                        eye,
                        from_numpy,
                        full,
                        full_like,
                        linspace,
                        logspace,
                        ones,
                        ones_like,
                        rand,
                        rand_like,
                        randint,
                        randint_like,
                        randn,
                        randn_like,
                        tensor,
                        zeros,
                        zeros_like,
)
from .functions import DECLARED as _DECLARED
from .functions import cat, matmul, maximum, minimum, stack, where
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .kernels.policy import get_backend, set_backend
from .random import Generator, manual_seed
from .serialization import load, save
from .tensor import Tensor
from .tensor_functions import FUNCTIONS as _TENSOR_FUNCTIONS
from .threads import apply_default as _default_threads
from .threads import get_num_threads, set_num_threads

__all__ = [
                        "BoolTensor",
                        "ByteTensor",
                        "DoubleTensor",
                        "FloatTensor",
                        "Generator",
                        "GradcheckError",
                        "HalfTensor",
                        "IntTensor",
                        "LongTensor",
                        "ShortTensor",
                        "Tensor",
                        "arange",
                        "backends",
                        "cat",
                        "compile",
                        "cuda",
                        "data",
                        "detect_anomaly",
                        "device",
                        "empty",
                        "empty_like",
                        "enable_grad",
                        "eye",
                        "from_numpy",
                        "full",
                        "full_like",
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
                        "logspace",
                        "manual_seed",
                        "matmul",
                        "maximum",
                        "minimum",
                        "no_grad",
                        "ones",
                        "ones_like",
                        "rand",
                        "rand_like",
                        "randint",
                        "randint_like",
                        "randn",
                        "randn_like",
                        "save",
                        "set_backend",
                        "set_default_dtype",
                        "set_grad_enabled",
                        "set_num_threads",
                        "stack",
                        "tensor",
                        "utils",
                        "viz",
                        "where",
                        "zeros",
                        "zeros_like",
]

# autograd.exp, autograd.tanh, ...: made from the op declarations (ops/registry.py)
globals().update(_DECLARED)
__all__.extend(sorted(_DECLARED))

# autograd.max(x, 1), autograd.flatten(x, 1), ...: Tensor methods PyTorch also offers as
# torch.NAME (a declared op of the same name wins)
for _name, _function in _TENSOR_FUNCTIONS.items():
    if _name not in globals():
        globals()[_name] = _function
        __all__.append(_name)
del _name, _function

# autograd.float32, autograd.long, ...: numpy dtypes under PyTorch's names
globals().update(_DTYPES)
__all__.extend(_DTYPES)

_default_threads()


# The porting facade (`import autograd as torch`): torch.nn, torch.optim, ... resolve to the
# higher packages on first use, so `import autograd` imports neither nn nor optim.
_LAZY = {"distributed": ".distributed", "nn": "nn", "optim": "optim"}


def __getattr__(name: str):
    """`autograd.distributed`, `autograd.nn` (nn.functional, nn.init, nn.utils) and
    `autograd.optim` (optim.lr_scheduler) load on first use; `autograd.autograd` is this
    module itself, so `torch.autograd.grad` works after `import autograd as torch`."""
    if name == "autograd":  # torch.autograd.grad, torch.autograd.functional.jacobian, ...
        import sys
        return sys.modules[__name__]
    if name in _LAZY:
        import importlib
        module = importlib.import_module(_LAZY[name], __name__ if name == "distributed"
                                         else None)
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
