"""SGD: stochastic gradient descent, with optional (Nesterov) momentum and weight decay."""
from __future__ import annotations

from typing import Any

import numpy as np

from autograd.kernels import declare

from .optimizer import Optimizer, ParamsT, check_non_negative, effective_grad

__all__ = ["SGD", "sgd_update"]


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
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_non_negative(options, "lr", "momentum", "weight_decay")
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay, nesterov = group["weight_decay"], group["nesterov"]
        maximize = group["maximize"]
        for p, param, grad in self._params_with_grad(group):
            buf, first = param, False  # without momentum the buffer is not used: any array does
            if momentum != 0:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                first = buf is None
                if first:
                    buf = state["momentum_buffer"] = np.empty_like(param)
            sgd_update(param, grad, buf, lr, momentum, dampening, weight_decay, nesterov, maximize,
                   first)


@declare
def sgd_update(param: np.ndarray, grad: np.ndarray, momentum_buffer: np.ndarray, lr: float,
               momentum: float, dampening: float, weight_decay: float, nesterov: bool,
               maximize: bool, first: bool) -> None:
    """One SGD step of `param` in place (numpy reference); `first` starts the buffer at g."""
    d_p = effective_grad(param, grad, weight_decay, maximize)
    if momentum != 0:
        buf = momentum_buffer
        if first:
            buf[...] = d_p
        else:
            buf *= momentum
            buf += d_p if dampening == 0 else (1 - dampening) * d_p
        d_p = d_p + momentum * buf if nesterov else buf
    param -= lr * d_p
