"""`autograd.max(t, 1)`, `autograd.flatten(t, 1)`, ...: Tensor methods that PyTorch also
offers as `torch.NAME(t, ...)`, forwarded to the method (same arguments, same results:
`max(x, 1)` is the `(values, indices)` named tuple). Exported by autograd/__init__.py for
every name the op declarations do not already provide."""
from __future__ import annotations

from .functions import maximum, minimum
from .tensor import Tensor

_NAMES = ("abs", "argmax", "argmin", "amax", "amin", "clamp", "clip", "flatten", "log_softmax",
          "logsumexp", "max", "mean", "min", "norm", "permute", "prod", "reshape", "softmax",
          "squeeze", "std", "sum", "transpose", "unsqueeze", "var", "chunk", "split", "square",
          "neg", "pow", "all", "any", "numel", "clone", "detach", "add", "sub", "mul", "eq",
          "ne", "gt", "ge", "lt", "le", "broadcast_to")


def _forward(name: str):
    method = getattr(Tensor, name)

    def function(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be a Tensor, not "
                            f"{type(input).__name__}")
        if name in _ELEMENTWISE and len(args) == 1 and isinstance(args[0], Tensor):
            return _ELEMENTWISE[name](input, args[0])  # torch.max(a, b): elementwise
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"`autograd.{name}(t, ...)` is `t.{name}(...)`.\n\n{method.__doc__ or ''}"
    return function


_ELEMENTWISE = {"max": maximum, "min": minimum}
FUNCTIONS = {name: _forward(name) for name in _NAMES}
