"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""
from __future__ import annotations

from typing import Any

import numpy as np

from autograd.kernels import declare

from .optimizer import Optimizer, ParamsT, check_non_negative, effective_grad

__all__ = ["RMSprop", "rmsprop_update"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture 6e), PyTorch's update rule.

    With g = ∇f(θ) (negated if maximize) + weight_decay·θ::

        v ← α·v + (1 − α)·g²                        (``square_avg``)
        centered:  m ← m + (1 − α)·(g − m)           (``grad_avg``),  d = √(v − m²) + eps
        otherwise: d = √v + eps
        momentum μ > 0:  b ← μ·b + g / d,  θ ← θ − lr·b   (``momentum_buffer``)
        otherwise:       θ ← θ − lr·g / d
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
                    "momentum": momentum, "centered": centered, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_non_negative(options, "lr", "eps", "momentum", "weight_decay", "alpha")

    def _required_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        return (("step", "square_avg") + (("momentum_buffer",) if group["momentum"] > 0 else ())
                + (("grad_avg",) if group["centered"] else ()))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
        weight_decay, centered = group["weight_decay"], group["centered"]
        maximize = group["maximize"]
        for p, param, grad in self._params_with_grad(group):
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["square_avg"] = np.zeros_like(param)
                if momentum > 0:
                    state["momentum_buffer"] = np.zeros_like(param)
                if centered:
                    state["grad_avg"] = np.zeros_like(param)
            state["step"] += 1
            square_avg = state["square_avg"]
            # Buffers an option leaves unused are never touched: any array stands in.
            grad_avg = state["grad_avg"] if centered else square_avg
            buf = state["momentum_buffer"] if momentum > 0 else square_avg
            rmsprop_update(param, grad, square_avg, grad_avg, buf, lr, alpha, eps, weight_decay,
                           momentum, centered, maximize)


@declare
def rmsprop_update(param: np.ndarray, grad: np.ndarray, square_avg: np.ndarray,
                   grad_avg: np.ndarray, momentum_buffer: np.ndarray, lr: float, alpha: float,
                   eps: float, weight_decay: float, momentum: float, centered: bool,
                   maximize: bool) -> None:
    """One RMSprop step of `param` in place (numpy reference)."""
    g = effective_grad(param, grad, weight_decay, maximize)
    square_avg *= alpha
    avg = np.multiply(g, g, out=np.empty_like(square_avg))  # scratch, becomes the denominator
    avg *= 1 - alpha
    square_avg += avg
    if centered:
        np.subtract(g, grad_avg, out=avg)
        avg *= 1 - alpha
        grad_avg += avg
        np.multiply(grad_avg, grad_avg, out=avg)
        np.subtract(square_avg, avg, out=avg)
        np.sqrt(avg, out=avg)
    else:
        np.sqrt(square_avg, out=avg)
    avg += eps

    np.divide(g, avg, out=avg)
    if momentum > 0:
        momentum_buffer *= momentum
        momentum_buffer += avg
        np.multiply(momentum_buffer, lr, out=avg)
    else:
        avg *= lr
    param -= avg
