"""`numbagrad gradcheck EXPR --shape x=3,4 ...`: gradient-check an expression in float64.

Results go to stdout; every error is one line on stderr with exit status 2 (1 means the
check ran and a gradient disagreed). Inputs, the expression's cost and the time it may take
are bounded, so no expression can hang the command or exhaust memory.
"""
from __future__ import annotations

import argparse
import keyword
import math
import re
import time
import warnings

import numpy as np

import autograd
from autograd.gradcheck import analytic_jacobian, excess_over_tolerance, numerical_jacobian

from .arguments import float_in, int_in, one_line, report
from .expression import FUNCTIONS, ExpressionError, compile_expression

PROG = "numbagrad gradcheck"
MAX_INPUT_ELEMENTS = 10_000   # all inputs together: the numerical Jacobian runs 2 forwards each
MAX_JACOBIAN = 10 ** 7        # output elements x input elements
MAX_DIMS = 8
FIRST_EVALUATION_S = 600.0    # at least this long for the first evaluation (compiling kernels)
DOMAINS = {
    "normal": "standard normal values (the default)",
    "positive": "uniform in [0.5, 2): for log, sqrt, pow with fractional exponents",
}


def add_arguments(check: argparse.ArgumentParser) -> None:
    check.add_argument("expression")
    check.add_argument("--shape", action="append", default=[], metavar="NAME=D1,D2",
                       help="an input and its shape, repeated for each input (NAME= alone is "
                            f"a 0-d scalar; at most {MAX_INPUT_ELEMENTS:,} elements in all)")
    check.add_argument("--domain", choices=sorted(DOMAINS), default="normal",
                       help="where inputs are drawn: "
                            + "; ".join(f"{k}: {v}" for k, v in DOMAINS.items())
                            + " (default: %(default)s)")
    check.add_argument("--seed", type=int_in(0, 2 ** 32 - 1), default=0,
                       help="seed of the drawn inputs (default: %(default)s)")
    check.add_argument("--eps", type=float_in(0.0, 1.0, lo_open=True), default=1e-6,
                       help="finite-difference step (default: %(default)s)")
    check.add_argument("--atol", type=float_in(0.0), default=1e-5,
                       help="absolute tolerance (default: %(default)s)")
    check.add_argument("--rtol", type=float_in(0.0), default=1e-3,
                       help="relative tolerance (default: %(default)s)")
    check.add_argument("--time-limit", type=float_in(0.0, 86400.0, lo_open=True), default=60.0,
                       metavar="SECONDS",
                       help="refuse or stop a check that would take longer (default: "
                            "%(default)s)")


def parse_shapes(specs: list[str]) -> dict[str, tuple]:
    """`["x=3,4", "w=4"]` -> {"x": (3, 4), "w": (4,)}, every name and size validated."""
    shapes: dict[str, tuple] = {}
    for spec in specs:
        name, eq, dims = spec.partition("=")
        shown = spec if len(spec) <= 60 else spec[:59] + "…"
        if not eq or not name.isidentifier() or not name.isascii():
            raise ExpressionError(f"--shape {shown!r}: expected NAME=D1,D2,... (e.g. x=3,4)")
        if keyword.iskeyword(name) or name in FUNCTIONS or name.startswith("_"):
            raise ExpressionError(f"--shape {shown!r}: {name!r} cannot name an input (a Python "
                                  f"keyword, a function or starting with '_')")
        if name in shapes:
            raise ExpressionError(f"--shape {shown!r}: input {name!r} is given twice")
        parts = [d.strip() for d in dims.split(",")] if dims.strip() else []
        if len(parts) > MAX_DIMS:
            raise ExpressionError(f"--shape {shown!r}: at most {MAX_DIMS} dimensions")
        for d in parts:
            if not re.fullmatch(r"[0-9]+", d):
                raise ExpressionError(f"--shape {shown!r}: dimension {d[:30]!r} is not a "
                                      f"non-negative integer")
            if len(d) > 9 or int(d) > MAX_INPUT_ELEMENTS:
                raise ExpressionError(f"--shape {shown!r}: dimension {d[:30]} is too large "
                                      f"(inputs hold at most {MAX_INPUT_ELEMENTS:,} elements "
                                      f"in all)")
        shapes[name] = tuple(int(d) for d in parts)
    total = sum(math.prod(s) for s in shapes.values())
    if total > MAX_INPUT_ELEMENTS:
        raise ExpressionError(f"the inputs hold {total:,} elements in all (at most "
                              f"{MAX_INPUT_ELEMENTS:,}: each costs two evaluations)")
    return shapes


def draw(shape: tuple, domain: str, rng: np.random.Generator) -> np.ndarray:
    if domain == "positive":
        return rng.uniform(0.5, 2.0, shape)
    return rng.standard_normal(shape)


def _check_output(out: object) -> autograd.Tensor:
    if isinstance(out, tuple) and hasattr(out, "_fields"):
        raise ExpressionError(f"the expression returned a {type(out).__name__} "
                              f"{tuple(out._fields)}, not a tensor: take .values")
    if not isinstance(out, autograd.Tensor):
        raise ExpressionError(f"the expression returned {type(out).__name__}, not a tensor")
    if not np.issubdtype(np.dtype(out.dtype), np.floating):
        raise ExpressionError(f"the expression gives a {np.dtype(out.dtype)} tensor, which has "
                              f"no gradient: gradcheck needs a floating-point result "
                              f"(comparisons, argmax and integer casts are not differentiable)")
    if not out.requires_grad:
        raise ExpressionError("the result does not depend on any input through differentiable "
                              "operations (is it detached?)")
    if not np.all(np.isfinite(out.data)):
        bad = "NaN" if np.isnan(out.data).any() else "infinite"
        raise ExpressionError(f"the function value itself is {bad} at the drawn point, so "
                              f"there is nothing to check (log or sqrt of a negative input? "
                              f"try --domain positive)")
    return out


def run(expression: str, shape_specs: list[str], seed: int = 0, eps: float = 1e-6,
        atol: float = 1e-5, rtol: float = 1e-3, domain: str = "normal",
        time_limit: float = 60.0) -> int:
    """Print max |analytic - numerical| per input; return 0 if every input passes, 1 if one
    fails, 2 (after one line on stderr) if the check cannot run. numpy's warnings are
    silenced: a NaN or infinite value is reported in words instead."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return _run(expression, shape_specs, seed, eps, atol, rtol, domain, time_limit)


def _run(expression: str, shape_specs: list[str], seed: int, eps: float, atol: float,
         rtol: float, domain: str, time_limit: float) -> int:
    try:
        shapes = parse_shapes(shape_specs)
        if not shapes:
            raise ExpressionError("give at least one input with --shape NAME=D1,D2,...")
        evaluate = compile_expression(expression, set(shapes))
    except ExpressionError as e:
        return report(PROG, e)
    rng = np.random.default_rng(seed)
    names = list(shapes)
    inputs = [autograd.tensor(draw(shapes[n], domain, rng), requires_grad=True) for n in names]

    def fn(*xs):
        return evaluate(**dict(zip(names, xs)))
    try:
        # the first evaluation may compile kernels (a cold numba cache): allow for that
        evaluate.deadline = time.monotonic() + max(time_limit, FIRST_EVALUATION_S)
        out = _check_output(fn(*inputs))
        n_in, n_out = sum(x.numel() for x in inputs), out.numel()
        if n_in * n_out > MAX_JACOBIAN:
            raise ExpressionError(f"the Jacobian would have {n_out:,} x {n_in:,} entries (at "
                                  f"most {MAX_JACOBIAN:,}): use smaller shapes or .sum()")
        with autograd.no_grad():  # time one evaluation, now that kernels are compiled
            tick = time.perf_counter()
            fn(*inputs)
            once = time.perf_counter() - tick
        estimate = once * (2 * n_in + 3 * n_out)
        if estimate > time_limit:
            raise ExpressionError(f"the check would take about {estimate:,.0f} s ({2 * n_in:,} "
                                  f"evaluations and {n_out:,} backward passes); use smaller "
                                  f"shapes or raise --time-limit {time_limit:g}")
        evaluate.deadline = time.monotonic() + time_limit
        analytic = analytic_jacobian((out,), inputs)
        numerical = numerical_jacobian(fn, inputs, inputs, 1, eps)
    except ExpressionError as e:
        return report(PROG, e)
    except RecursionError:
        return report(PROG, f"evaluating {expression[:60]!r} recursed too deeply")
    except Exception as e:  # noqa: BLE001 - the expression failed (shapes, domain): report it
        return report(PROG, f"evaluating {expression[:60]!r} failed: {type(e).__name__}: "
                            f"{one_line(e, 200)}")
    ok = True
    print(f"gradcheck {expression}  (output shape {out.shape}, float64, eps={eps}, "
          f"{domain} inputs)")
    for name, x, a, n in zip(names, inputs, analytic[0], numerical[0]):
        n = n.reshape(a.shape)
        abs_err = float(np.max(np.abs(a - n))) if a.size else 0.0
        rel_err = float(np.max(np.abs(a - n) / np.maximum(np.abs(n), 1e-12))) if a.size else 0.0
        passed = not a.size or bool(excess_over_tolerance(a, n, atol, rtol).max() <= 0)
        ok &= passed
        print(f"  {name:>8} {x.shape!s:>12}  max abs err {abs_err:.3e}  "
              f"max rel err {rel_err:.3e}  {'ok' if passed else 'FAILED'}")
        if not np.all(np.isfinite(n)):
            print(f"           finite differences for {name} are not finite: the point is "
                  f"within eps={eps} of the edge of the function's domain")
        elif not np.all(np.isfinite(a)):
            print(f"           the analytic gradient for {name} is not finite")
    print("passed" if ok else "FAILED")
    return 0 if ok else 1
