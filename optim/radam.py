"""RAdam: Adam whose adaptive step is switched on, and rectified, once the variance of the
running second moment is tractable."""
from __future__ import annotations

from typing import Any

import numpy as np

from autograd.kernels import declare

from .optimizer import (
    Optimizer,
    ParamsT,
    check_at_least_zero,
    check_betas,
    decay_and_l2,
    decay_and_update_moments,
)

__all__ = ["RAdam", "radam_update"]


class RAdam(Optimizer):
    r"""RAdam (Liu et al., 2020), PyTorch's update rule.

    With g = ∇f(θ) (negated if maximize) + weight_decay·θ, t the step count (from 1),
    ρ∞ = 2/(1 − β₂) − 1 and ρₜ = ρ∞ − 2t·β₂ᵗ/(1 − β₂ᵗ)::

        m ← m + (1 − β₁)·(g − m)                    (``exp_avg``)
        v ← β₂·v + (1 − β₂)·g²                      (``exp_avg_sq``)
        m̂ = m / (1 − β₁ᵗ)
        ρₜ > 5:  r = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ)),
                 θ ← θ − lr · m̂ · √(1 − β₂ᵗ)/(√v + eps) · r
        else:    θ ← θ − lr · m̂                     (momentum SGD while v is unreliable)

    With decoupled_weight_decay (RAdamW) the decay is applied to θ directly instead:
    θ ← θ·(1 − lr·weight_decay) before the step, and g = ∇f(θ) alone. `foreach` is accepted
    and ignored (there is one implementation).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False) -> None:
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "foreach": foreach,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_at_least_zero(options, lr="learning rate", eps="epsilon value")
        check_betas(options)
        check_at_least_zero(options, weight_decay="weight_decay value")

    def _required_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "exp_avg", "exp_avg_sq")

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        maximize = group["maximize"]
        decay, l2 = decay_and_l2(group)
        for p, param, grad in self._params_with_grad(group):
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(param)
                state["exp_avg_sq"] = np.zeros_like(param)
            state["step"] = step = state["step"] + 1
            bias_correction1 = 1 - beta1 ** step
            bias_correction2 = 1 - beta2 ** step
            rho_inf = 2 / (1 - beta2) - 1
            rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
            rect = (((rho_t - 4) * (rho_t - 2) * rho_inf
                     / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5 if rho_t > 5.0 else 0.0)
            radam_update(param, grad, state["exp_avg"], state["exp_avg_sq"], decay, l2, beta1,
                         beta2, lr, bias_correction1, bias_correction2, rect, eps, maximize)


@declare
def radam_update(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray,
                 exp_avg_sq: np.ndarray, decay: float, weight_decay: float, beta1: float,
                 beta2: float, lr: float, bias_correction1: float, bias_correction2: float,
                 rect: float, eps: float, maximize: bool) -> None:
    """One RAdam step of `param` in place (numpy reference): θ ← θ·decay, then with L2 term
    `weight_decay` the rectified step if `rect` > 0, else the un-adapted momentum step."""
    _, scratch = decay_and_update_moments(param, grad, exp_avg, exp_avg_sq, decay,
                                          weight_decay, beta1, beta2, maximize)
    step = np.divide(exp_avg, bias_correction1, out=np.empty_like(exp_avg))
    step *= lr
    if rect > 0:
        adaptive = np.sqrt(exp_avg_sq, out=scratch)
        adaptive += eps
        np.divide(bias_correction2 ** 0.5, adaptive, out=adaptive)
        step *= adaptive
        step *= rect
    param -= step
