"""SGD: stochastic gradient descent, with optional (Nesterov) momentum and weight decay."""
from __future__ import annotations

from typing import Any

from .optimizer import Optimizer, ParamsT, check_non_negative, effective_grad

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, PyTorch's update rule.

    With g = ∇f(θ) (negated if maximize) + weight_decay·θ, and for momentum μ > 0 a buffer
    b (b₁ = g, then b ← μ·b + (1 − dampening)·g, kept as ``state[p]["momentum_buffer"]``)::

        θ ← θ − lr · d,   d = g                (no momentum)
                          d = b                (momentum)
                          d = g + μ·b          (nesterov)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_non_negative(options, "lr", "momentum", "weight_decay")
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
        for p in group["params"]:
            if p.grad is None:
                continue
            param = p.data
            d_p = effective_grad(param, p.grad.data, weight_decay, maximize)
            if momentum != 0:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = d_p.copy()
                else:
                    buf *= momentum
                    buf += d_p if dampening == 0 else (1 - dampening) * d_p
                d_p = d_p + momentum * buf if nesterov else buf
            param -= lr * d_p

