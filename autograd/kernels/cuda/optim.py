"""Fused optimiser updates on cuda: one launch per parameter, one thread per element, for
SGD, Adagrad, RMSprop, Adam / AdamW, Adadelta, Adamax, NAdam and RAdam.

The same arithmetic, in the same order, as the CPU's fused kernels (optim/fused.py) and
their numpy references (`optim.sgd.sgd_update`, `optim.adam.adam_update`): the scalars are
rounded to the parameter's dtype on the host, as numpy rounds a Python scalar. The update
kernels are declared by the optimisers' modules; importing them here would go up a layer, so
this module registers by name and the declarations exist once `optim` is imported (always,
before an optimiser steps).
"""
from __future__ import annotations

import math

from numba import cuda

from ..moments import adam_moments
from ..registry import REGISTRY, register
from .runtime import launch_1d

_moments = cuda.jit(device=True)(adam_moments)  # Adam, NAdam, RAdam's common start


def _check(kernel: str, param, *arrays) -> None:
    for a in arrays:
        if type(a) is not type(param) or a.shape != param.shape or a.dtype != param.dtype:
            raise ValueError(f"{kernel}: every array must be a cuda array of the parameter's "
                             f"shape {param.shape} and dtype {param.dtype}, got {a!r}")
    if param.dtype.kind != "f":
        raise ValueError(f"{kernel}: expected a float parameter, got {param.dtype}")


@cuda.jit(cache=True)
def _sgd(param, grad, buf, n, lr, momentum, one_minus_dampening, weight_decay, sign, nesterov,
         first, damped):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        g = sign * grad[i]
        if weight_decay != 0:
            g = param[i] * weight_decay + g
        if momentum != 0:
            if first:
                b = g
            elif not damped:
                b = buf[i] * momentum + g
            else:
                b = buf[i] * momentum + one_minus_dampening * g
            buf[i] = b
            g = g + momentum * b if nesterov else b
        param[i] -= lr * g
        i += step


def sgd_update(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov,
               maximize, first) -> None:
    _check("sgd_update", param, grad, momentum_buffer)
    t = param.dtype.type
    launch_1d(_sgd, param.size, param.dev, grad.dev, momentum_buffer.dev, param.size, t(lr),
              t(momentum), t(1 - dampening), t(weight_decay), t(-1 if maximize else 1),
              bool(nesterov), bool(first), dampening != 0)


@cuda.jit(cache=True)
def _adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, n, decay, weight_decay,
          one_minus_beta1, beta2, one_minus_beta2, step_size, bc2_sqrt, eps, sign, amsgrad):
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < n:
        p, _g, m, v = _moments(param, grad, exp_avg, exp_avg_sq, i, decay, weight_decay,
                               one_minus_beta1, beta2, one_minus_beta2, sign)
        if amsgrad:
            v = max(max_exp_avg_sq[i], v)
            max_exp_avg_sq[i] = v
        param[i] = p - m / (math.sqrt(v) / bc2_sqrt + eps) * step_size
        i += stride


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, decay, weight_decay, beta1,
                beta2, step_size, bias_correction2_sqrt, eps, amsgrad, maximize) -> None:
    _check("adam_update", param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq)
    t = param.dtype.type
    launch_1d(_adam, param.size, param.dev, grad.dev, exp_avg.dev, exp_avg_sq.dev,
              max_exp_avg_sq.dev, param.size, t(decay), t(weight_decay), t(1 - beta1), t(beta2),
              t(1 - beta2), t(step_size), t(bias_correction2_sqrt), t(eps),
              t(-1 if maximize else 1), bool(amsgrad))


@cuda.jit(cache=True)
def _adagrad(param, grad, state_sum, n, clr, weight_decay, eps, sign):
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < n:
        g = sign * grad[i]
        if weight_decay != 0:
            g = param[i] * weight_decay + g
        s = state_sum[i] + g * g
        state_sum[i] = s
        param[i] -= clr * (g / (math.sqrt(s) + eps))
        i += stride


def adagrad_update(param, grad, state_sum, clr, weight_decay, eps, maximize) -> None:
    _check("adagrad_update", param, grad, state_sum)
    t = param.dtype.type
    launch_1d(_adagrad, param.size, param.dev, grad.dev, state_sum.dev, param.size, t(clr),
              t(weight_decay), t(eps), t(-1 if maximize else 1))


@cuda.jit(cache=True)
def _rmsprop(param, grad, square_avg, grad_avg, buf, n, lr, alpha, one_minus_alpha, eps,
             weight_decay, momentum, centered, sign):
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < n:
        g = sign * grad[i]
        if weight_decay != 0:
            g = param[i] * weight_decay + g
        v = square_avg[i] * alpha + g * g * one_minus_alpha
        square_avg[i] = v
        if centered:
            m = grad_avg[i] + (g - grad_avg[i]) * one_minus_alpha
            grad_avg[i] = m
            avg = math.sqrt(v - m * m) + eps
        else:
            avg = math.sqrt(v) + eps
        if momentum > 0:
            b = buf[i] * momentum + g / avg
            buf[i] = b
            param[i] -= b * lr
        else:
            param[i] -= g / avg * lr
        i += stride


def rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                   weight_decay, momentum, centered, maximize) -> None:
    _check("rmsprop_update", param, grad, square_avg, grad_avg, momentum_buffer)
    t = param.dtype.type
    launch_1d(_rmsprop, param.size, param.dev, grad.dev, square_avg.dev, grad_avg.dev,
              momentum_buffer.dev, param.size, t(lr), t(alpha), t(1 - alpha), t(eps),
              t(weight_decay), t(momentum), bool(centered), t(-1 if maximize else 1))


@cuda.jit(cache=True)
def _adadelta(param, grad, square_avg, acc_delta, n, lr, rho, one_minus_rho, eps,
              weight_decay, sign):
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < n:
        g = sign * grad[i]
        if weight_decay != 0:
            g = param[i] * weight_decay + g
        v = square_avg[i] * rho + g * g * one_minus_rho
        square_avg[i] = v
        delta = math.sqrt(acc_delta[i] + eps) / math.sqrt(v + eps) * g
        acc_delta[i] = acc_delta[i] * rho + delta * delta * one_minus_rho
        param[i] -= delta * lr
        i += stride


def adadelta_update(param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay,
                    maximize) -> None:
    _check("adadelta_update", param, grad, square_avg, acc_delta)
    t = param.dtype.type
    launch_1d(_adadelta, param.size, param.dev, grad.dev, square_avg.dev, acc_delta.dev,
              param.size, t(lr), t(rho), t(1 - rho), t(eps), t(weight_decay),
              t(-1 if maximize else 1))


@cuda.jit(cache=True)
def _adamax(param, grad, exp_avg, exp_inf, n, clr, one_minus_beta1, beta2, eps, weight_decay,
            sign):
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < n:
        g = sign * grad[i]
        if weight_decay != 0:
            g = param[i] * weight_decay + g
        m = exp_avg[i] + (g - exp_avg[i]) * one_minus_beta1
        exp_avg[i] = m
        u = max(exp_inf[i] * beta2, abs(g) + eps)
        exp_inf[i] = u
        param[i] -= m / u * clr
        i += stride


def adamax_update(param, grad, exp_avg, exp_inf, clr, beta1, beta2, eps, weight_decay,
                  maximize) -> None:
    _check("adamax_update", param, grad, exp_avg, exp_inf)
    t = param.dtype.type
    launch_1d(_adamax, param.size, param.dev, grad.dev, exp_avg.dev, exp_inf.dev, param.size,
              t(clr), t(1 - beta1), t(beta2), t(eps), t(weight_decay), t(-1 if maximize else 1))


@cuda.jit(cache=True)
def _nadam(param, grad, exp_avg, exp_avg_sq, n, decay, weight_decay, one_minus_beta1, beta2,
           one_minus_beta2, bc2, eps, grad_coef, avg_coef, sign):
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < n:
        p, g, m, v = _moments(param, grad, exp_avg, exp_avg_sq, i, decay, weight_decay,
                              one_minus_beta1, beta2, one_minus_beta2, sign)
        denom = math.sqrt(v / bc2) + eps
        p = p - g / denom * grad_coef
        param[i] = p - m / denom * avg_coef
        i += stride


def nadam_update(param, grad, exp_avg, exp_avg_sq, decay, weight_decay, beta1, beta2,
                 bias_correction2, eps, grad_coef, avg_coef, maximize) -> None:
    _check("nadam_update", param, grad, exp_avg, exp_avg_sq)
    t = param.dtype.type
    launch_1d(_nadam, param.size, param.dev, grad.dev, exp_avg.dev, exp_avg_sq.dev, param.size,
              t(decay), t(weight_decay), t(1 - beta1), t(beta2), t(1 - beta2),
              t(bias_correction2), t(eps), t(grad_coef), t(avg_coef), t(-1 if maximize else 1))


@cuda.jit(cache=True)
def _radam(param, grad, exp_avg, exp_avg_sq, n, decay, weight_decay, one_minus_beta1, beta2,
           one_minus_beta2, lr, bc1, bc2_sqrt, rectified, rect, eps, sign):
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < n:
        p, _g, m, v = _moments(param, grad, exp_avg, exp_avg_sq, i, decay, weight_decay,
                               one_minus_beta1, beta2, one_minus_beta2, sign)
        step = m / bc1 * lr
        if rectified:
            step = step * (bc2_sqrt / (math.sqrt(v) + eps))
            step = step * rect
        param[i] = p - step
        i += stride


def radam_update(param, grad, exp_avg, exp_avg_sq, decay, weight_decay, beta1, beta2, lr,
                 bias_correction1, bias_correction2, rect, eps, maximize) -> None:
    _check("radam_update", param, grad, exp_avg, exp_avg_sq)
    t = param.dtype.type
    launch_1d(_radam, param.size, param.dev, grad.dev, exp_avg.dev, exp_avg_sq.dev, param.size,
              t(decay), t(weight_decay), t(1 - beta1), t(beta2), t(1 - beta2), t(lr),
              t(bias_correction1), t(bias_correction2 ** 0.5), rect > 0, t(rect), t(eps),
              t(-1 if maximize else 1))


UPDATES = {"sgd_update": sgd_update, "adam_update": adam_update,
           "adagrad_update": adagrad_update, "rmsprop_update": rmsprop_update,
           "adadelta_update": adadelta_update, "adamax_update": adamax_update,
           "nadam_update": nadam_update, "radam_update": radam_update}


def register_updates() -> None:
    """Register the updates whose declarations exist (the optimisers' modules declare them)."""
    for name, fn in UPDATES.items():
        if name in REGISTRY and "cuda" not in REGISTRY[name].impls:
            register("cuda", name)(fn)


register_updates()
