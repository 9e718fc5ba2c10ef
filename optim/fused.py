"""Fused optimiser updates: one numba loop per parameter instead of ~10 numpy passes.

Each function here takes the same arguments as its numpy reference in the optimiser's module
(`sgd.sgd_update`, `adagrad.adagrad_update`, `rmsprop.rmsprop_update`, `adam.adam_update`,
`adadelta.adadelta_update`, `adamax.adamax_update`, `nadam.nadam_update`, `radam.radam_update`)
and computes the same thing, element by element, with the same operations in the same order,
so the results agree with the reference bit for bit, in float32 too (the tests check it).

The arrays must be of the parameter's dtype (float32 or float64) and, all but the gradient,
C-contiguous (see `can_fuse`); they are flattened to 1-D views (the gradient, only read, to a
C-ordered copy if need be), so that each kernel compiles once per dtype. The kernels index
every array by the parameter's size and numba checks no bounds, so each entry point first
checks the arrays' shapes, dtypes and layout (`_check`) and raises ValueError if they differ.
Scalars arrive as Python floats (float64) and are rounded to the parameter's dtype inside, as
numpy rounds a Python scalar.

This module imports numba; it registers the numba implementations of the update kernels
(declared with their numpy references in `optim.sgd`, ...), and is imported on the first
update under the "numba" backend (`autograd.set_backend`), never at `import optim`. Arrays
the kernels cannot take (`can_fuse`), or fewer elements than `policy.OPTIMIZER.numpy_below`,
go to the reference.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from autograd.kernels import policy, register
from autograd.kernels.moments import adam_moments

from . import adadelta, adagrad, adam, adamax, nadam, radam, rmsprop, sgd

__all__ = ["adadelta_update", "adagrad_update", "adam_update", "adamax_update", "can_fuse",
           "nadam_update", "radam_update", "rmsprop_update", "sgd_update"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_jit = njit(cache=True, error_model="numpy")  # numpy's error model: x/0 is inf, and loops vectorise
_moments = njit(inline="always")(adam_moments)  # Adam, NAdam, RAdam's common start


def can_fuse(param: np.ndarray, grad: np.ndarray, *buffers: np.ndarray) -> bool:
    """Whether the kernels can update `param` in place: C-contiguous float32/float64, a
    gradient of the same dtype, and `buffers` (the state, if given) C-contiguous arrays of
    that dtype. Anything else takes the numpy reference. Shapes are not looked at here:
    arrays of different shapes are an error on either path, which the kernels raise."""
    dt = param.dtype
    if dt not in _FLOATS or grad.dtype != dt or not param.flags.c_contiguous:
        return False
    return all(b.dtype == dt and b.flags.c_contiguous for b in buffers)


def _check(kernel: str, names: tuple[str, ...], param: np.ndarray, grad: np.ndarray,
           *buffers: np.ndarray) -> None:
    """ValueError, naming the kernel and every array's shape and dtype, unless the arrays fit
    the kernels: they loop over ``param.size`` and index every array with the same flat
    index, writing through 1-D views of `param` and `buffers` (named `names`). So all must be
    arrays of param's shape and dtype (float32/float64), and those written C-contiguous (a
    ravel of anything else is a copy, and the update would be lost). This runs on every
    step, for every parameter: a few attribute compares, the message only on failure."""
    try:
        shape, dt = param.shape, param.dtype
        ok = (dt in _FLOATS and param.flags.c_contiguous and grad.shape == shape
              and grad.dtype == dt)
        for b in buffers:
            ok = ok and b.shape == shape and b.dtype == dt and b.flags.c_contiguous
    except AttributeError:  # not arrays
        ok = False
    if not ok:
        arrays = zip(("param", "grad", *names), (param, grad, *buffers))
        described = ", ".join(f"{name} {_describe(a)}" for name, a in arrays)
        raise ValueError(f"{kernel}: every array must have the parameter's shape and dtype "
                         f"(float32/float64; param and state C-contiguous), got {described}")


def _describe(a: object) -> str:
    if not isinstance(a, np.ndarray):
        return f"of type {type(a).__name__}"
    order = "" if a.flags.c_contiguous else " non-contiguous"
    return f"{a.shape} {a.dtype}{order}"


def sgd_update(param: np.ndarray, grad: np.ndarray, momentum_buffer: np.ndarray, lr: float,
               momentum: float, dampening: float, weight_decay: float, nesterov: bool,
               maximize: bool, first: bool) -> None:
    """`optim.sgd.sgd_update`, fused."""
    _check("sgd_update", ("momentum_buffer",), param, grad, momentum_buffer)
    _sgd(param.ravel(), grad.ravel(), momentum_buffer.ravel(), float(lr), float(momentum),
         float(dampening), float(weight_decay), bool(nesterov), bool(maximize), bool(first))


def adagrad_update(param: np.ndarray, grad: np.ndarray, state_sum: np.ndarray, clr: float,
                   weight_decay: float, eps: float, maximize: bool) -> None:
    """`optim.adagrad.adagrad_update`, fused."""
    _check("adagrad_update", ("state_sum",), param, grad, state_sum)
    _adagrad(param.ravel(), grad.ravel(), state_sum.ravel(), float(clr), float(weight_decay),
             float(eps), bool(maximize))


def rmsprop_update(param: np.ndarray, grad: np.ndarray, square_avg: np.ndarray,
                   grad_avg: np.ndarray, momentum_buffer: np.ndarray, lr: float, alpha: float,
                   eps: float, weight_decay: float, momentum: float, centered: bool,
                   maximize: bool) -> None:
    """`optim.rmsprop.rmsprop_update`, fused."""
    _check("rmsprop_update", ("square_avg", "grad_avg", "momentum_buffer"), param, grad,
           square_avg, grad_avg, momentum_buffer)
    _rmsprop(param.ravel(), grad.ravel(), square_avg.ravel(), grad_avg.ravel(),
             momentum_buffer.ravel(), float(lr), float(alpha), float(eps), float(weight_decay),
             float(momentum), bool(centered), bool(maximize))


def adam_update(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray,
                exp_avg_sq: np.ndarray, max_exp_avg_sq: np.ndarray, decay: float,
                weight_decay: float, beta1: float, beta2: float, step_size: float,
                bias_correction2_sqrt: float, eps: float, amsgrad: bool, maximize: bool) -> None:
    """`optim.adam.adam_update`, fused."""
    _check("adam_update", ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"), param, grad, exp_avg,
           exp_avg_sq, max_exp_avg_sq)
    _adam(param.ravel(), grad.ravel(), exp_avg.ravel(), exp_avg_sq.ravel(),
          max_exp_avg_sq.ravel(), float(decay), float(weight_decay), float(beta1), float(beta2),
          float(step_size), float(bias_correction2_sqrt), float(eps), bool(amsgrad),
          bool(maximize))


def adadelta_update(param: np.ndarray, grad: np.ndarray, square_avg: np.ndarray,
                    acc_delta: np.ndarray, lr: float, rho: float, eps: float,
                    weight_decay: float, maximize: bool) -> None:
    """`optim.adadelta.adadelta_update`, fused."""
    _check("adadelta_update", ("square_avg", "acc_delta"), param, grad, square_avg, acc_delta)
    _adadelta(param.ravel(), grad.ravel(), square_avg.ravel(), acc_delta.ravel(), float(lr),
              float(rho), float(eps), float(weight_decay), bool(maximize))


def adamax_update(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray,
                  exp_inf: np.ndarray, clr: float, beta1: float, beta2: float, eps: float,
                  weight_decay: float, maximize: bool) -> None:
    """`optim.adamax.adamax_update`, fused."""
    _check("adamax_update", ("exp_avg", "exp_inf"), param, grad, exp_avg, exp_inf)
    _adamax(param.ravel(), grad.ravel(), exp_avg.ravel(), exp_inf.ravel(), float(clr),
            float(beta1), float(beta2), float(eps), float(weight_decay), bool(maximize))


def nadam_update(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray,
                 exp_avg_sq: np.ndarray, decay: float, weight_decay: float, beta1: float,
                 beta2: float, bias_correction2: float, eps: float, grad_coef: float,
                 avg_coef: float, maximize: bool) -> None:
    """`optim.nadam.nadam_update`, fused."""
    _check("nadam_update", ("exp_avg", "exp_avg_sq"), param, grad, exp_avg, exp_avg_sq)
    _nadam(param.ravel(), grad.ravel(), exp_avg.ravel(), exp_avg_sq.ravel(), float(decay),
           float(weight_decay), float(beta1), float(beta2), float(bias_correction2), float(eps),
           float(grad_coef), float(avg_coef), bool(maximize))


def radam_update(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray,
                 exp_avg_sq: np.ndarray, decay: float, weight_decay: float, beta1: float,
                 beta2: float, lr: float, bias_correction1: float, bias_correction2: float,
                 rect: float, eps: float, maximize: bool) -> None:
    """`optim.radam.radam_update`, fused."""
    _check("radam_update", ("exp_avg", "exp_avg_sq"), param, grad, exp_avg, exp_avg_sq)
    _radam(param.ravel(), grad.ravel(), exp_avg.ravel(), exp_avg_sq.ravel(), float(decay),
           float(weight_decay), float(beta1), float(beta2), float(lr), float(bias_correction1),
           float(bias_correction2), float(rect), float(eps), bool(maximize))


# Registered implementations: the fused kernel where the arrays allow, else the reference.
_OPT = policy.OPTIMIZER


@register("numba", "sgd_update")
def _sgd_update(param, grad, momentum_buffer, *options) -> None:
    if param.size >= _OPT.numpy_below and can_fuse(param, grad, momentum_buffer):
        sgd_update(param, grad, momentum_buffer, *options)
    else:
        sgd.sgd_update.reference(param, grad, momentum_buffer, *options)


@register("numba", "adagrad_update")
def _adagrad_update(param, grad, state_sum, *options) -> None:
    if param.size >= _OPT.numpy_below and can_fuse(param, grad, state_sum):
        adagrad_update(param, grad, state_sum, *options)
    else:
        adagrad.adagrad_update.reference(param, grad, state_sum, *options)


@register("numba", "rmsprop_update")
def _rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, *options) -> None:
    if (param.size >= _OPT.numpy_below
            and can_fuse(param, grad, square_avg, grad_avg, momentum_buffer)):
        rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, *options)
    else:
        rmsprop.rmsprop_update.reference(param, grad, square_avg, grad_avg, momentum_buffer,
                                         *options)


@register("numba", "adam_update")
def _adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *options) -> None:
    if (param.size >= _OPT.numpy_below
            and can_fuse(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq)):
        adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *options)
    else:
        adam.adam_update.reference(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *options)


def _register_two_buffer(name: str, fused_update, reference) -> None:
    """Register the numba implementation of an update kernel taking (param, grad, buffer,
    buffer, *options): fused where the arrays allow, else the reference."""
    @register("numba", name)
    def implementation(param, grad, buf1, buf2, *options) -> None:
        if param.size >= _OPT.numpy_below and can_fuse(param, grad, buf1, buf2):
            fused_update(param, grad, buf1, buf2, *options)
        else:
            reference(param, grad, buf1, buf2, *options)
    implementation.__name__ = implementation.__qualname__ = f"_{name}"
    globals()[f"_{name}"] = implementation


_register_two_buffer("adadelta_update", adadelta_update, adadelta.adadelta_update.reference)
_register_two_buffer("adamax_update", adamax_update, adamax.adamax_update.reference)
_register_two_buffer("nadam_update", nadam_update, nadam.nadam_update.reference)
_register_two_buffer("radam_update", radam_update, radam.radam_update.reference)


# The kernels. `g` is the effective gradient ±∇f + λθ of `optimizer.effective_grad`; a
# weight decay of 0 adds nothing (not 0·θ, which is NaN for an infinite θ).

@_jit
def _sgd(param, grad, buf, lr, momentum, dampening, weight_decay, nesterov, maximize, first):
    t = param.dtype.type
    lr, momentum, weight_decay = t(lr), t(momentum), t(weight_decay)
    one_minus_dampening, sign = t(1 - dampening), t(-1 if maximize else 1)
    for i in range(param.size):
        g = sign * grad[i]
        if weight_decay != 0:
            g = param[i] * weight_decay + g
        if momentum != 0:
            if first:
                b = g
            elif dampening == 0:
                b = buf[i] * momentum + g
            else:
                b = buf[i] * momentum + one_minus_dampening * g
            buf[i] = b
            g = g + momentum * b if nesterov else b
        param[i] -= lr * g


@_jit
def _adagrad(param, grad, state_sum, clr, weight_decay, eps, maximize):
    t = param.dtype.type
    clr, weight_decay, eps, sign = t(clr), t(weight_decay), t(eps), t(-1 if maximize else 1)
    for i in range(param.size):
        g = sign * grad[i]
        if weight_decay != 0:
            g = param[i] * weight_decay + g
        s = state_sum[i] + g * g
        state_sum[i] = s
        param[i] -= clr * (g / (np.sqrt(s) + eps))


@_jit
def _rmsprop(param, grad, square_avg, grad_avg, buf, lr, alpha, eps, weight_decay, momentum,
             centered, maximize):
    t = param.dtype.type
    one_minus_alpha, sign = t(1 - alpha), t(-1 if maximize else 1)  # 1 − α before rounding α
    lr, alpha, eps, weight_decay, momentum = t(lr), t(alpha), t(eps), t(weight_decay), t(momentum)
    for i in range(param.size):
        g = sign * grad[i]
        if weight_decay != 0:
            g = param[i] * weight_decay + g
        v = square_avg[i] * alpha + g * g * one_minus_alpha
        square_avg[i] = v
        if centered:
            m = grad_avg[i] + (g - grad_avg[i]) * one_minus_alpha
            grad_avg[i] = m
            avg = np.sqrt(v - m * m) + eps
        else:
            avg = np.sqrt(v) + eps
        if momentum > 0:
            b = buf[i] * momentum + g / avg
            buf[i] = b
            param[i] -= b * lr
        else:
            param[i] -= g / avg * lr


@_jit
def _adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, decay, weight_decay, beta1, beta2,
          step_size, bias_correction2_sqrt, eps, amsgrad, maximize):
    t = param.dtype.type
    one_minus_beta1, one_minus_beta2 = t(1 - beta1), t(1 - beta2)  # before rounding β
    decay, weight_decay, beta2, eps = t(decay), t(weight_decay), t(beta2), t(eps)
    step_size, bc2_sqrt, sign = t(step_size), t(bias_correction2_sqrt), t(-1 if maximize else 1)
    for i in range(param.size):
        p, _g, m, v = _moments(param, grad, exp_avg, exp_avg_sq, i, decay, weight_decay,
                               one_minus_beta1, beta2, one_minus_beta2, sign)
        if amsgrad:
            v = np.maximum(max_exp_avg_sq[i], v)
            max_exp_avg_sq[i] = v
        param[i] = p - m / (np.sqrt(v) / bc2_sqrt + eps) * step_size


@_jit
def _adadelta(param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay, maximize):
    t = param.dtype.type
    one_minus_rho, sign = t(1 - rho), t(-1 if maximize else 1)  # 1 − ρ before rounding ρ
    lr, rho, eps, weight_decay = t(lr), t(rho), t(eps), t(weight_decay)
    for i in range(param.size):
        g = sign * grad[i]
        if weight_decay != 0:
            g = param[i] * weight_decay + g
        v = square_avg[i] * rho + g * g * one_minus_rho
        square_avg[i] = v
        delta = np.sqrt(acc_delta[i] + eps) / np.sqrt(v + eps) * g
        acc_delta[i] = acc_delta[i] * rho + delta * delta * one_minus_rho
        param[i] -= delta * lr


@_jit
def _adamax(param, grad, exp_avg, exp_inf, clr, beta1, beta2, eps, weight_decay, maximize):
    t = param.dtype.type
    one_minus_beta1, sign = t(1 - beta1), t(-1 if maximize else 1)  # before rounding β₁
    clr, beta2, eps, weight_decay = t(clr), t(beta2), t(eps), t(weight_decay)
    for i in range(param.size):
        g = sign * grad[i]
        if weight_decay != 0:
            g = param[i] * weight_decay + g
        m = exp_avg[i] + (g - exp_avg[i]) * one_minus_beta1
        exp_avg[i] = m
        u = np.maximum(exp_inf[i] * beta2, np.abs(g) + eps)
        exp_inf[i] = u
        param[i] -= m / u * clr


@_jit
def _nadam(param, grad, exp_avg, exp_avg_sq, decay, weight_decay, beta1, beta2,
           bias_correction2, eps, grad_coef, avg_coef, maximize):
    t = param.dtype.type
    one_minus_beta1, one_minus_beta2 = t(1 - beta1), t(1 - beta2)  # before rounding β
    decay, weight_decay, beta2, eps = t(decay), t(weight_decay), t(beta2), t(eps)
    bc2, grad_coef, avg_coef = t(bias_correction2), t(grad_coef), t(avg_coef)
    sign = t(-1 if maximize else 1)
    for i in range(param.size):
        p, g, m, v = _moments(param, grad, exp_avg, exp_avg_sq, i, decay, weight_decay,
                              one_minus_beta1, beta2, one_minus_beta2, sign)
        denom = np.sqrt(v / bc2) + eps
        p = p - g / denom * grad_coef
        param[i] = p - m / denom * avg_coef


@_jit
def _radam(param, grad, exp_avg, exp_avg_sq, decay, weight_decay, beta1, beta2, lr,
           bias_correction1, bias_correction2, rect, eps, maximize):
    t = param.dtype.type
    one_minus_beta1, one_minus_beta2 = t(1 - beta1), t(1 - beta2)  # before rounding β
    decay, weight_decay, beta2, eps, lr = t(decay), t(weight_decay), t(beta2), t(eps), t(lr)
    bc1, bc2_sqrt, sign = t(bias_correction1), t(bias_correction2 ** 0.5), t(-1 if maximize else 1)
    rectified, rect = rect > 0, t(rect)
    for i in range(param.size):
        p, _g, m, v = _moments(param, grad, exp_avg, exp_avg_sq, i, decay, weight_decay,
                               one_minus_beta1, beta2, one_minus_beta2, sign)
        step = m / bc1 * lr
        if rectified:
            step = step * (bc2_sqrt / (np.sqrt(v) + eps))
            step = step * rect
        param[i] = p - step
