"""Adagrad: a per-coordinate step size that shrinks with the sum of past squared gradients."""
from __future__ import annotations

from typing import Any

import numpy as np

from autograd import Tensor
from autograd.kernels import declare

from .optimizer import Optimizer, ParamsT, check_non_negative, effective_grad

__all__ = ["Adagrad", "adagrad_update"]


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011), PyTorch's update rule.

    With g = ∇f(θ) (negated if maximize) + weight_decay·θ and t the step count (from 1)::

        s ← s + g²                                   (s₀ = initial_accumulator_value)
        θ ← θ − lr / (1 + (t − 1)·lr_decay) · g / (√s + eps)

    State per parameter: ``sum`` (s) and ``step`` (t). As in PyTorch it is created when the
    optimiser is built, so `state_dict()` lists every parameter from the start.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "maximize": maximize}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_non_negative(options, "lr", "lr_decay", "weight_decay",
                           "initial_accumulator_value", "eps")

    def _required_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "sum")

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = self.state[p]
        state["step"] = 0
        state["sum"] = np.full_like(p.data, group["initial_accumulator_value"])
        return state

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
        weight_decay, maximize = group["weight_decay"], group["maximize"]
        for p, param, grad in self._params_with_grad(group):
            state = self.state[p] or self._init_state(p, group)  # a group added later
            state["step"] += 1
            clr = lr / (1 + (state["step"] - 1) * lr_decay)
            adagrad_update(param, grad, state["sum"], clr, weight_decay, eps, maximize)


@declare
def adagrad_update(param: np.ndarray, grad: np.ndarray, state_sum: np.ndarray, clr: float,
                   weight_decay: float, eps: float, maximize: bool) -> None:
    """One Adagrad step of `param` in place with step size `clr` (numpy reference)."""
    g = effective_grad(param, grad, weight_decay, maximize)
    state_sum += g * g
    std = np.sqrt(state_sum, out=np.empty_like(state_sum))  # out=: an array even for 0-d
    std += eps
    np.divide(g, std, out=std)
    std *= clr
    param -= std
