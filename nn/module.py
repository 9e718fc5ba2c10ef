"""Module: the base class of every layer, with PyTorch's bookkeeping.

Assigning a Parameter, a Module or (after register_buffer) a Tensor as an attribute files
it in an ordered dict (`_parameters`, `_modules`, `_buffers`), which is what parameters(),
state_dict(), to() and friends walk. Names in state_dict are dotted paths as in PyTorch
(`0.weight`, `block.1.running_mean`).
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from autograd import Tensor, from_numpy, no_grad, trace
from autograd.devices import parse_to, resolve

from .hooks import BackwardHookCall
from .parameter import Parameter

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


# the errors the functional ops raise for bad input; Module.__call__ names the layer in them
_NAMED_ERRORS = (ValueError, TypeError, IndexError, RuntimeError)


def _name_layer(error: BaseException, module: Module) -> None:
    """Put the one-line repr of the innermost module whose forward raised `error` in front of
    its message ("Conv2d(3, 8, ...): conv2d: expected input with 3 channels, ..."), keeping
    the exception's class and traceback. Outer modules leave it alone, and so does every
    module for an error whose args are not one message."""
    if getattr(error, "_nn_layer", None) is not None:
        return
    if len(error.args) != 1 or not isinstance(error.args[0], str):
        return
    name = f"{module._get_name()}({module.extra_repr()})".replace("\n", ", ")
    try:
        error._nn_layer = name
    except AttributeError:  # an exception class without a __dict__: left as it is
        return
    error.args = (f"{name}: {error.args[0]}",)


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    return lines[0] if len(lines) == 1 else "\n".join(
        [lines[0]] + [" " * spaces + line for line in lines[1:]])


class Module:
    """Base class of layers: subclass it, assign sub-layers and Parameters in __init__
    (after super().__init__()), and write forward()."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())

    # ---- forward ---------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  f'"forward" function')

    def __call__(self, *args: Any, **kwargs: Any):
        if trace.ACTIVE[0] is not None:  # autograd.compile guards the modules' training flags
            trace.module_called(self)
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        backward_hooks = self.__dict__.get("_backward_hooks")
        call = None
        if backward_hooks and BackwardHookCall.active(backward_hooks):
            call = BackwardHookCall(self, backward_hooks)
            args = call.wrap_inputs(args)
        try:
            out = self.forward(*args, **kwargs)
        except _NAMED_ERRORS as error:
            _name_layer(error, self)
            raise
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, out)
            if result is not None:
                out = result
        return out if call is None else call.wrap_outputs(out)

    def register_forward_pre_hook(self, hook: Callable):
        """hook(module, args) runs before forward; it may return replacement args."""
        return _RemovableHandle(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook: Callable):
        """hook(module, args, output) runs after forward; it may return a new output."""
        return _RemovableHandle(self._forward_hooks, hook)

    def register_full_backward_hook(self, hook: Callable):
        """hook(module, grad_input, grad_output) runs in backward once the gradients with
        respect to the module's tensor inputs are computed (None for inputs that need no
        grad); grad_output holds the gradients with respect to its outputs. It may return
        a replacement grad_input. Returns a handle with remove()."""
        if "_backward_hooks" not in self.__dict__:
            object.__setattr__(self, "_backward_hooks", OrderedDict())
        return _RemovableHandle(self._backward_hooks, hook)

    # ---- registration ----------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            if name not in params:  # a re-assigned parameter keeps its place (as PyTorch)
                self._forget(name)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                f"(nn.Parameter or None expected)")
            params[name] = None
            return
        modules = self.__dict__.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            if name not in modules:  # a re-assigned module keeps its place
                self._forget(name)
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (nn.Module or None expected)")
            modules[name] = None
            return
        buffers = self.__dict__.get("_buffers")
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                f"(Tensor or None expected)")
            buffers[name] = value
            return
        object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        """Remove `name` from every store (before re-registering it in another)."""
        self.__dict__.pop(name, None)
        for store in ("_parameters", "_buffers", "_modules"):
            self.__dict__[store].pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __getattr__(self, name: str) -> Any:
        # only called when ordinary lookup fails: look in the registries
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(store, {}):
                del self.__dict__[store][name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    @staticmethod
    def _check_name(kind: str, name: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if "." in name or name == "":
            raise KeyError(f'{kind} name can\'t contain "." or be empty, got {name!r}')

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a Parameter (or None: a declared but absent parameter, like bias=False)."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_name("parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (nn.Parameter or None required)")
        if name in self.__dict__ or name in self._buffers or name in self._modules:
            self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a non-learnable state Tensor (e.g. running_mean); persistent buffers appear in
        state_dict."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_name("buffer", name)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer "
                            f"'{name}' (Tensor or None required)")
        if name in self._parameters or name in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name("module", name)
        if name in self._parameters or name in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        self.__dict__.pop(name, None)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        mod = self
        for item in target.split(".") if target else []:
            if item not in mod._modules or mod._modules[item] is None:
                raise AttributeError(f"{type(mod).__name__} has no submodule `{item}`")
            mod = mod._modules[item]
        return mod

    # ---- traversal -------------------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module and every descendant, each once."""
        memo = set() if memo is None else memo
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, child in self._modules.items():
            if child is None:
                continue
            yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                           remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, child in self._modules.items():
            if child is not None and child not in seen:
                seen.add(child)
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_members(self, store: str, prefix: str, recurse: bool, remove_duplicate: bool):
        seen = set()
        mods = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                if recurse else [(prefix, self)])
        for mod_prefix, mod in mods:
            for name, value in getattr(mod, store).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) pairs; a Parameter shared by two layers appears once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---- modes and gradients -------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (batch statistics, active dropout) here and in every child."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")  # noqa: TRY004 - as PyTorch
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: running statistics, dropout off. Same as train(False)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's .grad: to None (default) or to zeros in place."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                if p.grad.grad_fn is not None:
                    p.grad = p.grad.detach()
                p.grad.data[...] = 0

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call fn on every submodule (children first) and then on self; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---- state -----------------------------------------------------------------------------
    def state_dict(self, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict:
        """Parameters and persistent buffers by dotted name; values are detached Tensors
        sharing memory with the module (keep_vars=True keeps the Parameters themselves)."""
        out = OrderedDict() if destination is None else destination
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                out[prefix + name] = b if keep_vars else b.detach()
        for name, child in self._modules.items():
            if child is not None:
                child.state_dict(out, prefix + name + ".", keep_vars)
        return out

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values from state_dict into the parameters and buffers, in place.

        Shape mismatches always raise RuntimeError; with strict=True so do missing and
        unexpected keys (all problems are listed in one message). Returns
        (missing_keys, unexpected_keys)."""
        if not hasattr(state_dict, "items"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value.data if isinstance(value, Tensor) else np.asarray(value)
            if array.shape != target.shape:
                mismatched.append(f"size mismatch for {key}: copying a param with shape "
                                  f"{tuple(array.shape)} from checkpoint, the shape in current "
                                  f"model is {tuple(target.shape)}.")
        errors = list(mismatched)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        with no_grad():
            for key, target in own.items():
                if key in state_dict:
                    value = state_dict[key]
                    target.copy_(value if isinstance(value, Tensor)
                                 else from_numpy(np.asarray(value)))
        return IncompatibleKeys(missing, unexpected)

    # ---- dtype -----------------------------------------------------------------------------
    def _apply_to_floats(self, dtype) -> Module:
        """Cast every floating parameter and buffer (and gradient) to dtype, in place, so the
        Parameter objects (and optimisers holding them) stay the same."""
        dtype = np.dtype(dtype)
        for mod in self.modules():
            for store in (mod._parameters, mod._buffers):
                for t in store.values():
                    if t is None or not np.issubdtype(t.dtype, np.floating):
                        continue
                    if t.dtype != dtype:
                        t.data = t.data.astype(dtype)
                        t.mark_modified()
                    if t.grad is not None and t.grad.dtype != dtype:
                        t.grad = from_numpy(t.grad.data.astype(dtype))
        return self

    def _apply_to_device(self, dev) -> Module:
        """Move every parameter and buffer (and gradient) to device `dev`, in place: the
        Parameter objects (and optimisers holding them) stay the same, as in PyTorch."""
        for mod in self.modules():
            for store in (mod._parameters, mod._buffers):
                for t in store.values():
                    if t is None or t.device == dev:
                        continue
                    t.data = t.detach().to(dev).data
                    t.mark_modified()
                    if t.grad is not None:
                        t.grad = t.grad.detach().to(dev)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Move and / or cast floating parameters and buffers, in place, as PyTorch's:
        to(device), to(dtype), to(device, dtype), to(tensor), with device= / dtype= /
        non_blocking= keywords. A CUDA device needs `autograd.cuda.is_available()`
        (RuntimeError otherwise); an integer dtype raises TypeError."""
        dev, dtype, _, _ = parse_to("nn.Module.to", args, kwargs, Tensor)
        if dev is not None:
            self._apply_to_device(dev)
        if dtype is None:
            return self
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got "
                            f"desired dtype={dtype}")
        return self._apply_to_floats(dtype)

    def float(self) -> Module:
        return self._apply_to_floats(np.float32)

    def double(self) -> Module:
        return self._apply_to_floats(np.float64)

    def half(self) -> Module:
        return self._apply_to_floats(np.float16)

    def cpu(self) -> Module:
        """Move every parameter and buffer to the CPU, in place."""
        return self._apply_to_device(resolve("cpu", "nn.Module.cpu"))

    def cuda(self, device: Any = None) -> Module:
        """Move every parameter and buffer to the CUDA device, in place; RuntimeError when
        `autograd.cuda.is_available()` is False (as a CPU-only PyTorch build)."""
        return self._apply_to_device(
            resolve(f"cuda:{device}" if isinstance(device, int) else "cuda", "nn.Module.cuda"))

    # ---- repr ------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr (layers override it)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, child in self._modules.items():
            lines.append(f"({name}): " + _addindent(repr(child), 2))
        if not self._modules and len(lines) <= 1:
            return f"{self._get_name()}({extra})"
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class _RemovableHandle:
    _next_id = 0

    def __init__(self, hooks: OrderedDict, hook: Callable):
        self.hooks, self.id = hooks, _RemovableHandle._next_id
        _RemovableHandle._next_id += 1
        hooks[self.id] = hook

    def remove(self) -> None:
        self.hooks.pop(self.id, None)
