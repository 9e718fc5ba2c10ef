"""gradcheck / gradgradcheck: analytic gradients against central finite differences."""
from __future__ import annotations

import numpy as np

from .engine import grad
from .grad_mode import enable_grad
from .tensor import Tensor


class GradcheckError(RuntimeError):
    """Raised by gradcheck when an analytic and a numerical derivative disagree."""


def _as_tuple(x) -> tuple:
    return x if isinstance(x, tuple) else (x,) if isinstance(x, Tensor) else tuple(x)


def _to_float64(inputs: tuple) -> tuple:
    """float64 versions of the floating inputs (float64 ones are used as they are)."""
    out = []
    for t in inputs:
        if isinstance(t, Tensor) and t.dtype != np.float64 and np.issubdtype(t.dtype,
                                                                              np.floating):
            t = Tensor.wrap(t.data.astype(np.float64)).requires_grad_(t.requires_grad)
        out.append(t)
    return tuple(out)


def _outputs(fn, inputs) -> tuple:
    out = _as_tuple(fn(*inputs))
    return tuple(o for o in out if isinstance(o, Tensor) and np.issubdtype(o.dtype, np.floating))


def analytic_jacobian(outputs, wrt) -> list:
    """jac[o][i]: (outputs[o].size, wrt[i].size) Jacobian, one backward per output element."""
    jac = [[np.zeros((o.data.size, x.data.size)) for x in wrt] for o in outputs]
    for oi, o in enumerate(outputs):
        if not o.requires_grad:
            continue
        for k in range(o.data.size):
            onehot = np.zeros(o.data.size, dtype=o.dtype)
            onehot[k] = 1
            gs = grad(o, wrt, Tensor.wrap(onehot.reshape(o.shape)), retain_graph=True,
                      allow_unused=True)
            for i, g in enumerate(gs):
                if g is not None:
                    jac[oi][i][k] = np.broadcast_to(g.data, wrt[i].shape).ravel()
    return jac


def numerical_jacobian(fn, inputs, wrt, n_out, eps) -> list:
    """Central differences of fn, evaluated as the caller's grad mode has it (as PyTorch
    does), so a fn that registers hooks on its intermediates runs unchanged."""
    jac = [[None] * len(wrt) for _ in range(n_out)]
    for i, x in enumerate(wrt):
        flat = x.data.reshape(-1)  # a view: perturbing it perturbs x
        cols = []
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + eps
            plus = [o.data.ravel().copy() for o in _outputs(fn, inputs)]
            flat[k] = orig - eps
            minus = [o.data.ravel().copy() for o in _outputs(fn, inputs)]
            flat[k] = orig
            cols.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
        for o in range(n_out):
            jac[o][i] = (np.stack([c[o] for c in cols], 1) if cols
                         else np.zeros((0, 0)))
    return jac


def excess_over_tolerance(analytic: np.ndarray, numerical: np.ndarray, atol: float,
                          rtol: float) -> np.ndarray:
    """|analytic - numerical| - (atol + rtol |numerical|): positive where the check fails
    (and +inf where either is NaN)."""
    excess = np.abs(analytic - numerical) - (atol + rtol * np.abs(numerical))
    return np.where(np.isnan(analytic) | np.isnan(numerical), np.inf, excess)


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """Check d fn / d inputs against central differences (f(x+eps) - f(x-eps)) / 2 eps, in
    float64. Returns True, or raises GradcheckError naming the input, the output, the worst
    element and both values (returns False instead when raise_exception=False)."""
    inputs = _to_float64(_as_tuple(inputs))
    wrt = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: no input requires grad")
    outputs = _outputs(fn, inputs)
    analytic = analytic_jacobian(outputs, wrt)
    numerical = numerical_jacobian(fn, inputs, wrt, len(outputs), eps)
    positions = [i for i, t in enumerate(inputs) if any(t is x for x in wrt)]
    for oi, o in enumerate(outputs):
        for i, x in enumerate(wrt):
            a, n = analytic[oi][i], numerical[oi][i].reshape(analytic[oi][i].shape)
            excess = excess_over_tolerance(a, n, atol, rtol)
            if excess.size and excess.max() > 0:
                r, c = np.unravel_index(np.argmax(excess), excess.shape)
                oidx = np.unravel_index(r, o.shape) if o.ndim else ()
                iidx = np.unravel_index(c, x.shape) if x.ndim else ()
                msg = (f"gradcheck: Jacobian mismatch for output {oi} with respect to input "
                       f"{positions[i]} (shape {x.shape}): at output index "
                       f"{tuple(map(int, oidx))}, input index {tuple(map(int, iidx))} the "
                       f"analytical derivative is {a[r, c]:.10g} but the numerical one is "
                       f"{n[r, c]:.10g} (atol={atol}, rtol={rtol})")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True, seed: int = 0) -> bool:
    """gradcheck of the first derivative: checks the second derivatives of fn.

    The vector v of the vector-Jacobian product v^T J is random (fixed seed) unless given,
    and is itself checked as an input, as PyTorch does."""
    inputs = _to_float64(_as_tuple(inputs))
    n_in = len(inputs)
    outs = _outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = tuple(Tensor.wrap(rng.standard_normal(o.shape)).requires_grad_()
                             for o in outs)
    else:
        grad_outputs = _to_float64(_as_tuple(grad_outputs))

    @enable_grad()
    def first_derivative(*args):
        xs, vs = args[:n_in], args[n_in:]
        wrt = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        out = _outputs(fn, xs)
        used = [(o, v) for o, v in zip(out, vs) if o.requires_grad]
        if not used:
            return tuple(Tensor.wrap(np.zeros(x.shape)) for x in wrt)
        gs = grad([o for o, _ in used], wrt, [v for _, v in used], create_graph=True,
                  allow_unused=True)
        return tuple(Tensor.wrap(np.zeros(x.shape)) if g is None else g
                     for g, x in zip(gs, wrt))

    return gradcheck(first_derivative, inputs + tuple(grad_outputs), eps, atol, rtol,
                     raise_exception)
