"""`numbagrad gradcheck EXPR --shape x=3,4 ...`: gradient-check an expression in float64."""
from __future__ import annotations

import numpy as np

import autograd
from autograd.gradcheck import analytic_jacobian, excess_over_tolerance, numerical_jacobian

from .expression import ExpressionError, compile_expression


def parse_shapes(specs: list[str]) -> dict[str, tuple]:
    shapes = {}
    for spec in specs:
        name, _, dims = spec.partition("=")
        if not name.isidentifier() or not _:
            raise ExpressionError(f"--shape {spec!r}: expected NAME=D1,D2,... (e.g. x=3,4)")
        try:
            shapes[name] = tuple(int(d) for d in dims.split(",") if d.strip())
        except ValueError:
            raise ExpressionError(f"--shape {spec!r}: dimensions must be integers") from None
    return shapes


def run(expression: str, shape_specs: list[str], seed: int, eps: float, atol: float,
        rtol: float) -> int:
    """Print max |analytic - numerical| per input; return 0 if every input passes, else 1."""
    try:
        shapes = parse_shapes(shape_specs)
        if not shapes:
            raise ExpressionError("give at least one input with --shape NAME=D1,D2,...")
        evaluate = compile_expression(expression, set(shapes))
    except ExpressionError as e:
        print(f"error: {e}")
        return 2
    rng = np.random.default_rng(seed)
    names = list(shapes)
    inputs = [autograd.tensor(rng.standard_normal(shapes[n]), requires_grad=True) for n in names]

    def fn(*xs):
        return evaluate(**dict(zip(names, xs)))
    try:
        out = fn(*inputs)
        if not isinstance(out, autograd.Tensor):
            raise ExpressionError(f"the expression returned {type(out).__name__}, not a tensor")
        analytic = analytic_jacobian((out,), inputs)
        numerical = numerical_jacobian(fn, inputs, inputs, 1, eps)
    except ExpressionError as e:
        print(f"error: {e}")
        return 2
    except Exception as e:  # noqa: BLE001 - the expression failed (shapes, domain): report it
        print(f"error: evaluating {expression!r} failed: {type(e).__name__}: {e}")
        return 2
    ok = True
    print(f"gradcheck {expression}  (output shape {out.shape}, float64, eps={eps})")
    for name, x, a, n in zip(names, inputs, analytic[0], numerical[0]):
        n = n.reshape(a.shape)
        abs_err = float(np.max(np.abs(a - n))) if a.size else 0.0
        rel_err = float(np.max(np.abs(a - n) / np.maximum(np.abs(n), 1e-12))) if a.size else 0.0
        passed = not a.size or bool(excess_over_tolerance(a, n, atol, rtol).max() <= 0)
        ok &= passed
        print(f"  {name:>8} {x.shape!s:>12}  max abs err {abs_err:.3e}  "
              f"max rel err {rel_err:.3e}  {'ok' if passed else 'FAILED'}")
    print("passed" if ok else "FAILED")
    return 0 if ok else 1
