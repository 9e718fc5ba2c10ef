"""The Adam family's common start, for one element: written once in plain Python and compiled
by each backend (inlined by numba in optim/fused.py, a device function in kernels/cuda/optim.py),
so Adam, NAdam and RAdam share it on both devices and round alike."""
from __future__ import annotations


def adam_moments(param, grad, exp_avg, exp_avg_sq, i, decay, weight_decay, one_minus_beta1,
                 beta2, one_minus_beta2, sign):
    """θ·decay (AdamW), the gradient (negated if maximize) plus its L2 term (Adam), and the
    new first and second moments at element i, stored; returns (θ, g, m, v). The order of
    operations is the numpy references' (optim.optimizer.decay_and_update_moments)."""
    p = param[i]
    if decay != 1:
        p = p * decay
    g = sign * grad[i]
    if weight_decay != 0:
        g = p * weight_decay + g
    m = exp_avg[i] + (g - exp_avg[i]) * one_minus_beta1
    v = exp_avg_sq[i] * beta2 + g * g * one_minus_beta2
    exp_avg[i] = m
    exp_avg_sq[i] = v
    return p, g, m, v
