"""The kernel policy: which backend runs, and where a numba kernel hands small arrays to numpy
or runs its serial rather than its parallel (`prange`) compilation.

Every threshold lives here, in one vocabulary, per family of kernels:
- `numpy_below`: fewer elements than this go to the numpy reference (a numba call costs ~1 us
  of Python wrapper and unboxing, more than numpy's whole ufunc on a small array);
- `parallel_above`: more elements than this run the `prange` compilation (a parallel launch
  costs tens of microseconds: numba's OpenMP threads sleep between regions);
- `threaded_ufunc_above`: numpy ufuncs without a numba kernel (log, sin, cos) split larger
  arrays over two threads.
The measurements behind the numbers are printed by `python -m bench --only threshold`.
Tests and experiments change them through `override`, never by editing attributes:

    with policy.override(numpy_below=0, parallel_above=-1):   # numba, parallel, any size
        ...
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

BACKENDS = ("numba", "numpy")
_backend = ["numba"]


def set_backend(name: str) -> None:
    """Select the kernel implementations: "numba" (default) or "numpy" (the reference)."""
    if name not in BACKENDS:
        raise ValueError(f"set_backend: unknown backend {name!r}; choose one of {BACKENDS}")
    _backend[0] = name


def get_backend() -> str:
    return _backend[0]


class Thresholds:
    """The size thresholds of one family of kernels (see the module docstring)."""

    __slots__ = ("name", "numpy_below", "parallel_above")

    def __init__(self, name: str, numpy_below: int, parallel_above: int) -> None:
        self.name = name
        self.numpy_below = numpy_below
        self.parallel_above = parallel_above

    def path(self, n: int) -> str:
        """"numpy", "serial" or "parallel" for an input of n elements."""
        if n < self.numpy_below:
            return "numpy"
        return "parallel" if n > self.parallel_above else "serial"

    def parallel(self, n: int) -> bool:
        return n > self.parallel_above

    def __repr__(self) -> str:
        return (f"Thresholds({self.name!r}, numpy_below={self.numpy_below}, "
                f"parallel_above={self.parallel_above})")


NEVER = 1 << 62  # a parallel_above that no array reaches

# Measured on a quiet 2-core machine (`python -m bench --only threshold`): relu on 262,144
# floats 24 us serial vs 64 us parallel, on 1,048,576 94 vs 101 us: parallel above 2^19.
ELEMENTWISE = Thresholds("elementwise", 1 << 13, 1 << 19)
REDUCE = Thresholds("reduce", 1 << 13, 1 << 16)
SOFTMAX = Thresholds("softmax", 256, 1 << 15)
BATCHNORM = Thresholds("batchnorm", 1 << 10, 1 << 15)
CONV = Thresholds("conv", 0, 1 << 14)          # col2im (im2col is numpy's: faster here)
POOL = Thresholds("pool", 0, 1 << 14)
OPTIMIZER = Thresholds("optimizer", 0, NEVER)  # fused updates: one serial loop per parameter
# autograd.kernels.gemm, counted in multiply-adds (m * k * n per product): it never hands off
# to numpy (it is the numba GEMM, called by name); a product above 2^21 MACs (~128^3) runs
# parallel, and a batch of products each below that runs one product per thread. `@`,
# Linear and attention do not call it: BLAS measured faster (`python -m bench --only gemm`).
GEMM = Thresholds("gemm", 0, 1 << 21)

FAMILIES = {t.name: t for t in (ELEMENTWISE, REDUCE, SOFTMAX, BATCHNORM, CONV, POOL, OPTIMIZER,
                                GEMM)}
_ufunc = {"threaded_ufunc_above": 1 << 16}


def threaded_ufunc_above() -> int:
    return _ufunc["threaded_ufunc_above"]


def family(name: str) -> Thresholds:
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"policy: unknown kernel family {name!r}; choose one of "
                         f"{sorted(FAMILIES)}") from None


def describe() -> dict:
    """Every threshold, as {family: {name: value}} (printed by the bench)."""
    out = {t.name: {"numpy_below": t.numpy_below, "parallel_above": t.parallel_above}
           for t in FAMILIES.values()}
    out["ufunc"] = dict(_ufunc)
    return out


@contextmanager
def override(*, numpy_below: int | None = None, parallel_above: int | None = None,
             threaded_ufunc_above: int | None = None,
             families: tuple[str, ...] | None = None) -> Iterator[None]:
    """Set thresholds for the duration of a `with` block (every family unless `families`
    names some), restoring them after, even on error. `numpy_below=0` sends every size to
    numba; `parallel_above=-1` makes every launch parallel, `policy.NEVER` none."""
    chosen = [family(n) for n in families] if families is not None else list(FAMILIES.values())
    saved = [(t, t.numpy_below, t.parallel_above) for t in chosen]
    saved_ufunc = dict(_ufunc)
    try:
        for t in chosen:
            if numpy_below is not None:
                t.numpy_below = numpy_below
            if parallel_above is not None:
                t.parallel_above = parallel_above
        if threaded_ufunc_above is not None:
            _ufunc["threaded_ufunc_above"] = threaded_ufunc_above
        yield
    finally:
        for t, below, above in saved:
            t.numpy_below, t.parallel_above = below, above
        _ufunc.update(saved_ufunc)
