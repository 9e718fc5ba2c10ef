"""Adam and AdamW: momentum on the gradient, scaled by a running RMS of the gradient."""
from __future__ import annotations

from typing import Any

import numpy as np

from autograd.kernels import declare

from .optimizer import (
    Optimizer,
    ParamsT,
    check_non_negative,
    decay_and_l2,
    decay_and_update_moments,
)

__all__ = ["Adam", "AdamW", "adam_update"]


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), PyTorch's update rule.

    With g = ∇f(θ) (negated if maximize) + weight_decay·θ and t the step count (from 1)::

        m ← m + (1 − β₁)·(g − m)                    (``exp_avg``)
        v ← β₂·v + (1 − β₂)·g²                      (``exp_avg_sq``)
        amsgrad: v̂ ← max(v̂, v), used in place of v  (``max_exp_avg_sq``)
        θ ← θ − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)

    With decoupled_weight_decay (AdamW) the decay is applied to θ directly instead:
    θ ← θ·(1 − lr·weight_decay) before the step, and g = ∇f(θ) alone.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *,
                 maximize: bool = False, decoupled_weight_decay: bool = False) -> None:
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_non_negative(options, "lr", "eps", "weight_decay")
        betas = options["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Invalid betas: expected two coefficients, got {betas!r}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")

    def _required_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if group["amsgrad"]
                                                    else ())

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        amsgrad = group["amsgrad"]
        maximize = group["maximize"]
        # AdamW shrinks θ by a factor; Adam adds λθ to the gradient.
        decay, l2 = decay_and_l2(group)
        for p, param, grad in self._params_with_grad(group):
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(param)
                state["exp_avg_sq"] = np.zeros_like(param)
                if amsgrad:
                    state["max_exp_avg_sq"] = np.zeros_like(param)
            state["step"] = step = state["step"] + 1
            step_size = lr / (1 - beta1 ** step)
            bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
            exp_avg_sq = state["exp_avg_sq"]
            max_exp_avg_sq = state["max_exp_avg_sq"] if amsgrad else exp_avg_sq  # unused then
            adam_update(param, grad, state["exp_avg"], exp_avg_sq, max_exp_avg_sq, decay, l2,
                        beta1, beta2, step_size, bias_correction2_sqrt, eps, amsgrad, maximize)


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay.

    θ ← θ·(1 − lr·weight_decay), then the Adam step on g = ∇f(θ). Default weight_decay 1e-2.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)


@declare
def adam_update(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray,
                exp_avg_sq: np.ndarray, max_exp_avg_sq: np.ndarray, decay: float,
                weight_decay: float, beta1: float, beta2: float, step_size: float,
                bias_correction2_sqrt: float, eps: float, amsgrad: bool, maximize: bool) -> None:
    """One Adam step of `param` in place (numpy reference): θ ← θ·decay, then the Adam step
    with L2 term `weight_decay` and step_size = lr / (1 − β₁ᵗ)."""
    _, scratch = decay_and_update_moments(param, grad, exp_avg, exp_avg_sq, decay,
                                          weight_decay, beta1, beta2, maximize)
    if amsgrad:
        exp_avg_sq = np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
    denom = np.sqrt(exp_avg_sq, out=scratch)
    denom /= bias_correction2_sqrt
    denom += eps
    np.divide(exp_avg, denom, out=denom)
    denom *= step_size
    param -= denom
