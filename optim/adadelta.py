"""Adadelta: steps sized by the ratio of running RMS of past updates to that of gradients."""
from __future__ import annotations

from typing import Any

import numpy as np

from autograd.kernels import declare

from .optimizer import Optimizer, ParamsT, check_at_least_zero, effective_grad

__all__ = ["Adadelta", "adadelta_update"]


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012), PyTorch's update rule.

    With g = ∇f(θ) (negated if maximize) + weight_decay·θ::

        v ← ρ·v + (1 − ρ)·g²                       (``square_avg``)
        Δ = √(u + eps) / √(v + eps) · g
        u ← ρ·u + (1 − ρ)·Δ²                       (``acc_delta``)
        θ ← θ − lr·Δ

    `foreach` is accepted and ignored (there is one implementation).
    """

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False) -> None:
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "foreach": foreach}
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_at_least_zero(options, lr="learning rate")
        if not 0.0 <= options["rho"] <= 1.0:
            raise ValueError(f"Invalid rho value: {options['rho']}")
        check_at_least_zero(options, eps="epsilon value", weight_decay="weight_decay value")

    def _required_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "square_avg", "acc_delta")

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, rho, eps = group["lr"], group["rho"], group["eps"]
        weight_decay, maximize = group["weight_decay"], group["maximize"]
        for p, param, grad in self._params_with_grad(group):
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["square_avg"] = np.zeros_like(param)
                state["acc_delta"] = np.zeros_like(param)
            state["step"] += 1
            adadelta_update(param, grad, state["square_avg"], state["acc_delta"], lr, rho, eps,
                            weight_decay, maximize)


@declare
def adadelta_update(param: np.ndarray, grad: np.ndarray, square_avg: np.ndarray,
                    acc_delta: np.ndarray, lr: float, rho: float, eps: float,
                    weight_decay: float, maximize: bool) -> None:
    """One Adadelta step of `param` in place (numpy reference)."""
    g = effective_grad(param, grad, weight_decay, maximize)
    square_avg *= rho
    scratch = np.multiply(g, g, out=np.empty_like(square_avg))  # out=: an array even for 0-d
    scratch *= 1 - rho
    square_avg += scratch
    std = np.add(square_avg, eps, out=scratch)
    np.sqrt(std, out=std)
    delta = np.add(acc_delta, eps, out=np.empty_like(acc_delta))
    np.sqrt(delta, out=delta)
    delta /= std
    delta *= g
    acc_delta *= rho
    np.multiply(delta, delta, out=scratch)
    scratch *= 1 - rho
    acc_delta += scratch
    delta *= lr
    param -= delta
