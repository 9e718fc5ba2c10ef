"""Optimizer: the base class of every optimiser, with PyTorch's parameter groups and state.

An optimiser holds `param_groups`, a list of dicts, each with its own ``"params"`` (a list of
Tensors) and its own options (``"lr"``, ``"momentum"``, ...; the ones a group leaves out come
from `defaults`), and `state`, a dict from each parameter to what the update rule keeps
between steps (numpy arrays of the parameter's shape and dtype, and a Python int ``"step"``).

A subclass writes `_update_group(group)`: one step for the parameters of one group, in place on
their ``.data`` arrays, skipping those whose ``.grad`` is None. `step` calls it for each group,
under `no_grad`, after running the optional closure. Each update rule is a kernel of
`autograd.kernels` declared in the optimiser's module by its numpy reference; its fused numba
version (`optim.fused`) runs under the "numba" backend where the arrays allow, chosen as every
kernel is (`autograd.kernels.policy`).
"""
from __future__ import annotations

import copy
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from autograd import Tensor, enable_grad, no_grad, trace
from autograd.kernels import backend_module
from autograd.kernels.cuda.array import CudaArray, from_host

__all__ = ["Optimizer"]

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


class Optimizer:
    """Base class: parameter groups, per-parameter state, zero_grad, step, checkpoints."""

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        if isinstance(params, (Tensor, dict)):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {type(params).__name__}")
        self._check_options(defaults)
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []

        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def _check_options(self, options: dict[str, Any]) -> None:
        """Raise ValueError for an invalid option; subclasses check their own."""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join(lines) + "\n)"

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Append a group; options it leaves out are taken from `defaults`.

        Raises TypeError for anything but Tensors, ValueError for a parameter that is already
        optimised (in this group or another) or for an invalid option.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        group = {**param_group, "params": list(params)}

        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params "
                                f"is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
            if id(p) in seen:
                raise ValueError("a parameter appears more than once in the optimizer's "
                                 "parameter groups")
            seen.add(id(p))

        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._check_options(group)
        self.param_groups.append(group)

    @staticmethod
    def _params_with_grad(group: dict):
        """(parameter, its array, its gradient's array) for each parameter that has a
        gradient; parameters whose .grad is None are skipped, as in PyTorch. RuntimeError for
        a gradient of another shape (its array replaced behind the ``.grad`` setter's back):
        numpy would broadcast it silently."""
        for p in group["params"]:
            grad = p.grad
            if grad is not None:
                param, g = p.data, grad.data
                if g.shape != param.shape:
                    raise RuntimeError(f"optimizer step: the gradient has shape {g.shape} but "
                                       f"its parameter has shape {param.shape}")
                yield p, param, g

    @trace.replayable
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set each ``.grad`` to None, or (set_to_none=False) to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if grad.grad_fn is not None:  # a gradient made with create_graph=True
                        p.grad = grad = grad.detach()
                    grad.data.fill(0)

    @trace.replayable
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, once.

        `closure`, if given, re-evaluates the model (zero_grad, forward, backward) and returns
        the loss; it runs with grad enabled before the update, and its loss is returned.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._update_group(group)
                for p in group["params"]:
                    if p.grad is not None:
                        p.mark_modified()  # an in-place write: stale graphs must not use p
        return loss

    def _update_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not implement an update rule")

    # ------------------------------------------------------------------ checkpoints

    def state_dict(self) -> dict[str, Any]:
        """The optimiser's state in PyTorch's layout, as a snapshot (arrays are copied).

        ``{"state": {index: {name: value}}, "param_groups": [{option: value, "params":
        [index, ...]}]}``, where a parameter's index is its position counting through all
        groups in order. Values are numpy arrays and plain Python numbers.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: {name: _copy_value(v) for name, v in s.items()}
                 for p, s in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a `state_dict()`: the groups' options and each parameter's state.

        The groups must match this optimiser's in number and size. Everything is deep-copied
        (the dict passed in is never aliased), and floating arrays are cast to their
        parameter's dtype, so that the restored optimiser continues exactly where the saved
        one was.

        Everything is validated before anything changes, since a checkpoint may be damaged
        or hostile and the fused kernels index every buffer by its parameter's size: each
        state array must have its parameter's shape and a real floating dtype, ``step``
        must be a finite number >= 0, the groups' options must pass the constructor's
        checks, and the buffers the options need must be there. ValueError otherwise,
        naming the parameter (its index, group and position in the group).
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError("load_state_dict: expected a dict with 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        saved_state = state_dict["state"]
        # A damaged checkpoint is a bad value, whatever the type inside: ValueError throughout.
        if not isinstance(saved_groups, (list, tuple)) or not isinstance(saved_state, dict):
            msg = "load_state_dict: 'param_groups' must be a list and 'state' a dict"
            raise ValueError(msg)  # noqa: TRY004
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(not isinstance(s, dict) or not isinstance(s.get("params"), (list, tuple))
               for s in saved_groups):
            raise ValueError("load_state_dict: each saved parameter group must be a dict with "
                             "a 'params' list")
        if any(len(g["params"]) != len(s["params"])
               for g, s in zip(self.param_groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")

        # index -> (parameter, its group, a description for error messages)
        params_by_index: dict[int, tuple[Tensor, dict[str, Any], str]] = {}
        groups: list[dict[str, Any]] = []
        for gi, (g, s) in enumerate(zip(self.param_groups, saved_groups)):
            group = {**{k: copy.deepcopy(v) for k, v in s.items() if k != "params"},
                     "params": g["params"]}
            for name, default in self.defaults.items():
                group.setdefault(name, copy.deepcopy(default))
            try:
                self._check_options(group)
            except (TypeError, ValueError) as e:
                raise ValueError(f"load_state_dict: parameter group {gi}: {e}") from None
            groups.append(group)
            for j, (i, p) in enumerate(zip(s["params"], g["params"])):
                index = _as_index(i)
                if index is None or index in params_by_index:
                    raise ValueError(f"load_state_dict: parameter group {gi} lists "
                                     f"{'a repeated' if index is not None else 'an invalid'} "
                                     f"parameter index {i!r} at position {j}")
                params_by_index[index] = (p, group, f"parameter {index} (group {gi}, index {j})")

        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for i, saved in saved_state.items():
            index = _as_index(i)
            if index not in params_by_index:
                raise ValueError(f"load_state_dict: state for parameter index {i!r}, which no "
                                 f"parameter group lists")
            p, group, where = params_by_index[index]
            if not isinstance(saved, dict):
                msg = f"load_state_dict: the state of {where} must be a dict, got {type(saved)}"
                raise ValueError(msg)  # noqa: TRY004
            restored = {name: _restore_value(name, v, p.data, where) for name, v in saved.items()}
            if restored:
                missing = [n for n in self._required_state(group) if restored.get(n) is None]
                if missing:
                    raise ValueError(f"load_state_dict: the state of {where} lacks "
                                     f"{', '.join(map(repr, missing))}, which its group's "
                                     f"options need")
            state[p] = restored
        self.state = state
        self.param_groups = groups

    def _required_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        """The state entries that a parameter's non-empty state must hold under `group`'s
        options (checked by `load_state_dict`); subclasses name theirs."""
        return ()


def _copy_value(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray | CudaArray) else copy.deepcopy(value)


# Per-parameter buffers of the optimisers here (and PyTorch's): arrays of the parameter's
# shape. SGD's momentum_buffer may be None (PyTorch saves None before the first step).
_BUFFERS = frozenset({"exp_avg", "exp_avg_sq", "max_exp_avg_sq", "momentum_buffer", "sum",
                      "square_avg", "grad_avg", "acc_delta", "exp_inf"})
# Per-parameter scalars other than ``step``: finite Python floats (NAdam's running product
# of momentum coefficients; PyTorch saves it as a 0-d tensor).
_SCALARS = frozenset({"mu_product"})
_MAX_STEP = 2 ** 53  # beyond, a float step count is not exact (and beta ** step is 0 anyway)


def _as_index(i: Any) -> int | None:
    """A saved parameter index as an int (JSON-style string keys too), or None."""
    if isinstance(i, (bool, np.bool_)):
        return None
    if isinstance(i, (int, np.integer)):
        return int(i)
    if isinstance(i, str) and i.isdigit():
        return int(i)
    return None


def _restore_value(name: str, value: Any, param: np.ndarray, where: str) -> Any:
    """A private, validated copy of one saved state value: ``step`` an int, arrays of the
    parameter's shape in the parameter's dtype (C order, as the fused kernels need)."""
    if isinstance(value, Tensor):
        value = value.data
    if name == "step":
        return _restore_step(value, where)
    if name in _SCALARS:
        return _restore_scalar(name, value, where)
    if value is None and name == "momentum_buffer":
        return None
    if isinstance(value, np.ndarray | CudaArray):
        if value.shape != param.shape:
            raise ValueError(f"load_state_dict: '{name}' of {where} has shape {value.shape}, "
                             f"but the parameter has shape {param.shape}")
        if value.dtype.kind != "f":
            raise ValueError(f"load_state_dict: '{name}' of {where} has dtype {value.dtype}; "
                             f"optimiser state must be real floating point (the parameter is "
                             f"{param.dtype})")
        dtype = param.dtype if param.dtype.kind == "f" else value.dtype
        if isinstance(param, CudaArray):  # the state lives on its parameter's device
            return value.astype(dtype) if isinstance(value, CudaArray) else \
                from_host(np.array(value, dtype=dtype, order="C"))
        if isinstance(value, CudaArray):
            value = value.get()
        return np.array(value, dtype=dtype, order="C")
    if name in _BUFFERS:
        raise ValueError(f"load_state_dict: '{name}' of {where} must be an array of shape "
                         f"{param.shape}, got {type(value).__name__}")
    return copy.deepcopy(value)


def _restore_step(value: Any, where: str) -> int:
    """The saved step count as an int: a number (or 0-d array, as PyTorch saves it) that is
    finite, >= 0 and whole."""
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    ok = isinstance(value, (int, float, np.integer, np.floating)) and \
        not isinstance(value, (bool, np.bool_))
    if ok:
        if isinstance(value, (int, np.integer)):
            ok = 0 <= int(value) <= _MAX_STEP
        else:
            ok = math.isfinite(value) and 0 <= value <= _MAX_STEP and float(value).is_integer()
    if not ok:
        shown = f"an array of shape {value.shape}" if isinstance(value, np.ndarray) else repr(value)
        raise ValueError(f"load_state_dict: 'step' of {where} must be a whole number in "
                         f"[0, 2**53], got {shown}")
    return int(value)


def _restore_scalar(name: str, value: Any, where: str) -> float:
    """A saved per-parameter scalar (a number or 0-d array) as a finite Python float."""
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    ok = isinstance(value, (int, float, np.integer, np.floating)) and \
        not isinstance(value, (bool, np.bool_)) and math.isfinite(value)
    if not ok:
        shown = f"an array of shape {value.shape}" if isinstance(value, np.ndarray) else repr(value)
        raise ValueError(f"load_state_dict: '{name}' of {where} must be a finite number, "
                         f"got {shown}")
    return float(value)


def check_non_negative(options: dict[str, Any], *names: str) -> None:
    """ValueError unless each named option is >= 0 (NaN fails too)."""
    for name in names:
        if not options[name] >= 0:
            raise ValueError(f"Invalid {name} value: {options[name]}")


def check_at_least_zero(options: dict[str, Any], **messages: str) -> None:
    """ValueError ``"Invalid <what>: <value>"`` unless each named option is >= 0 (NaN fails
    too), in PyTorch's words: ``check_at_least_zero(group, lr="learning rate")``."""
    for name, what in messages.items():
        if not options[name] >= 0:
            raise ValueError(f"Invalid {what}: {options[name]}")


def check_betas(options: dict[str, Any]) -> None:
    """ValueError unless ``betas`` is a pair of coefficients in [0, 1)."""
    betas = options["betas"]
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"Invalid betas: expected two coefficients, got {betas!r}")
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")


def effective_grad(param: np.ndarray, grad: np.ndarray, weight_decay: float,
                   maximize: bool) -> np.ndarray:
    """g = ±∇f + λθ: the gradient the update rules see (maximize flips the sign of ∇f, L2
    weight decay λ adds λθ). Returns `grad` itself when there is nothing to add."""
    if weight_decay == 0:
        return -grad if maximize else grad
    g = np.multiply(param, weight_decay)
    if maximize:
        g -= grad
    else:
        g += grad
    return g


def decay_and_l2(group: dict) -> tuple[float, float]:
    """(decay, l2) for the Adam family: decoupled weight decay (AdamW) shrinks θ by
    1 − lr·λ and adds no L2 term; otherwise θ is not shrunk and λθ joins the gradient."""
    lr, weight_decay = group["lr"], group["weight_decay"]
    if group["decoupled_weight_decay"]:
        return 1 - lr * weight_decay, 0
    return 1, weight_decay


def decay_and_update_moments(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray,
                             exp_avg_sq: np.ndarray, decay: float, weight_decay: float,
                             beta1: float, beta2: float,
                             maximize: bool) -> tuple[np.ndarray, np.ndarray]:
    """The step the Adam family shares, in place: θ ← θ·decay, g = ±∇f + λθ,
    m ← m + (1 − β₁)(g − m), v ← β₂v + (1 − β₂)g². Returns g and a scratch array of θ's
    shape."""
    if decay != 1:
        param *= decay
    g = effective_grad(param, grad, weight_decay, maximize)
    scratch = np.subtract(g, exp_avg, out=np.empty_like(exp_avg))  # out=: an array even for 0-d
    scratch *= 1 - beta1
    exp_avg += scratch
    exp_avg_sq *= beta2
    np.multiply(g, g, out=scratch)
    scratch *= 1 - beta2
    exp_avg_sq += scratch
    return g, scratch


# The update rules are kernels (`autograd.kernels.declare` in each optimiser's module, the
# numpy reference); their numba versions register from `optim.fused`, imported with numba on
# the first update under the "numba" backend.
backend_module("numba", "optim.fused")
