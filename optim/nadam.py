"""NAdam: Adam with Nesterov momentum, and a momentum coefficient that warms up."""
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

__all__ = ["NAdam", "nadam_update"]


class NAdam(Optimizer):
    r"""NAdam (Dozat, 2016), PyTorch's update rule.

    With g = ∇f(θ) (negated if maximize) + weight_decay·θ, t the step count (from 1) and
    μₜ = β₁·(1 − ½·0.96^(t·momentum_decay)), Πₜ = μ₁⋯μₜ (``mu_product``)::

        m ← m + (1 − β₁)·(g − m)                    (``exp_avg``)
        v ← β₂·v + (1 − β₂)·g²                      (``exp_avg_sq``)
        d = √(v / (1 − β₂ᵗ)) + eps
        θ ← θ − lr·(1 − μₜ)/(1 − Πₜ) · g/d − lr·μₜ₊₁/(1 − Πₜ·μₜ₊₁) · m/d

    With decoupled_weight_decay (NAdamW) the decay is applied to θ directly instead:
    θ ← θ·(1 − lr·weight_decay) before the step, and g = ∇f(θ) alone. `foreach` is accepted
    and ignored (there is one implementation).
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach}
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_at_least_zero(options, lr="learning rate", eps="epsilon value")
        check_betas(options)
        check_at_least_zero(options, weight_decay="weight_decay value",
                            momentum_decay="momentum_decay value")

    def _required_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "mu_product", "exp_avg", "exp_avg_sq")

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        momentum_decay = group["momentum_decay"]
        maximize = group["maximize"]
        decay, l2 = decay_and_l2(group)
        for p, param, grad in self._params_with_grad(group):
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["mu_product"] = 1.0
                state["exp_avg"] = np.zeros_like(param)
                state["exp_avg_sq"] = np.zeros_like(param)
            state["step"] = step = state["step"] + 1
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
            state["mu_product"] = mu_product = state["mu_product"] * mu
            grad_coef = lr * (1.0 - mu) / (1.0 - mu_product)
            avg_coef = lr * mu_next / (1.0 - mu_product * mu_next)
            nadam_update(param, grad, state["exp_avg"], state["exp_avg_sq"], decay, l2, beta1,
                         beta2, 1 - beta2 ** step, eps, grad_coef, avg_coef, maximize)


@declare
def nadam_update(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray,
                 exp_avg_sq: np.ndarray, decay: float, weight_decay: float, beta1: float,
                 beta2: float, bias_correction2: float, eps: float, grad_coef: float,
                 avg_coef: float, maximize: bool) -> None:
    """One NAdam step of `param` in place (numpy reference): θ ← θ·decay, then with L2 term
    `weight_decay`, θ ← θ − grad_coef·g/d − avg_coef·m/d."""
    g, scratch = decay_and_update_moments(param, grad, exp_avg, exp_avg_sq, decay,
                                          weight_decay, beta1, beta2, maximize)
    denom = np.divide(exp_avg_sq, bias_correction2, out=scratch)
    np.sqrt(denom, out=denom)
    denom += eps
    step = np.divide(g, denom, out=np.empty_like(denom))
    step *= grad_coef
    param -= step
    np.divide(exp_avg, denom, out=step)
    step *= avg_coef
    param -= step
