"""Adamax: Adam with the running RMS of the gradient replaced by a running infinity norm."""
from __future__ import annotations

from typing import Any

import numpy as np

from autograd.kernels import declare

from .optimizer import Optimizer, ParamsT, check_at_least_zero, check_betas, effective_grad

__all__ = ["Adamax", "adamax_update"]


class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba, 2015, section 7), PyTorch's update rule.

    With g = ∇f(θ) (negated if maximize) + weight_decay·θ and t the step count (from 1)::

        m ← m + (1 − β₁)·(g − m)                    (``exp_avg``)
        u ← max(β₂·u, |g| + eps)                    (``exp_inf``)
        θ ← θ − lr/(1 − β₁ᵗ) · m / u

    `foreach` is accepted and ignored (there is one implementation).
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False) -> None:
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_at_least_zero(options, lr="learning rate", eps="epsilon value")
        check_betas(options)
        check_at_least_zero(options, weight_decay="weight_decay value")

    def _required_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "exp_avg", "exp_inf")

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        weight_decay, maximize = group["weight_decay"], group["maximize"]
        for p, param, grad in self._params_with_grad(group):
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(param)
                state["exp_inf"] = np.zeros_like(param)
            state["step"] = step = state["step"] + 1
            clr = lr / (1 - beta1 ** step)
            adamax_update(param, grad, state["exp_avg"], state["exp_inf"], clr, beta1, beta2,
                          eps, weight_decay, maximize)


@declare
def adamax_update(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray,
                  exp_inf: np.ndarray, clr: float, beta1: float, beta2: float, eps: float,
                  weight_decay: float, maximize: bool) -> None:
    """One Adamax step of `param` in place with step size clr = lr / (1 − β₁ᵗ) (numpy
    reference)."""
    g = effective_grad(param, grad, weight_decay, maximize)
    scratch = np.subtract(g, exp_avg, out=np.empty_like(exp_avg))  # out=: an array even for 0-d
    scratch *= 1 - beta1
    exp_avg += scratch
    exp_inf *= beta2
    np.abs(g, out=scratch)
    scratch += eps
    np.maximum(exp_inf, scratch, out=exp_inf)
    np.divide(exp_avg, exp_inf, out=scratch)
    scratch *= clr
    param -= scratch
