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


def swap_backend(name: str) -> str:
    """Make `name` the current backend, also a wrapping one (`registry.wrapping_backend`,
    e.g. autograd.compile's "trace", which is no user's choice); returns the previous one."""
    previous, _backend[0] = _backend[0], name
    return previous


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

# Parallel only where the serial loop runs long enough (~0.2-1 ms) to amortise a scheduler
# slice: while another process holds a core, each parallel launch waits for its second
# thread (measured on 2 cores under load: LayerNorm's row sums over 1024 x 128, 0.1 ms
# serial, took 0.57 ms parallel, and the tiny GPT step spent most of its time in such
# waits). Quiet, the memory-bound loops gain nothing from a second thread below ~2M floats
# anyway (relu on 1,048,576 floats: 94 us serial, 101 us parallel; mul on 4,194,304 under
# load: 1.28 ms serial, 0.60 ms parallel). `python -m bench --only threshold` measures it.
ELEMENTWISE = Thresholds("elementwise", 1 << 13, 1 << 21)
REDUCE = Thresholds("reduce", 1 << 13, 1 << 20)
SOFTMAX = Thresholds("softmax", 256, 1 << 18)
BATCHNORM = Thresholds("batchnorm", 1 << 10, 1 << 18)
CONV = Thresholds("conv", 0, 1 << 18)          # col2im (im2col is numpy's: faster here)
POOL = Thresholds("pool", 0, 1 << 18)
OPTIMIZER = Thresholds("optimizer", 0, NEVER)  # fused updates: one serial loop per parameter
# autograd.kernels.gemm, counted in multiply-adds (m * k * n per product): it never hands off
# to numpy (it is the numba GEMM, called by name); a product above 2^21 MACs (~128^3) runs
# parallel, and a batch of products each below that runs one product per thread. Parallel
# above 2^26 MACs (~400^3): under load a launch waits for its second thread (Linear
# 128x784x256 float32 with numba's workqueue layer, another process on a core: 0.59 ms
# serial, 0.66 parallel; 256x512x512: 1.5 vs 1.6 ms), though quiet and with OpenMP the same
# Linear ran 0.52 ms serial, 0.33 parallel. Where `@`, Linear and attention call it:
# GEMM_MATMUL and GEMM_LINEAR below.
GEMM = Thresholds("gemm", 0, 1 << 26)

# numpy's matmul (OpenBLAS) inside numbagrad, counted in multiply-adds like GEMM (numpy_below
# unused): a product above 2^28 MACs (~645^3, ~5 ms on one core) gets every core, smaller
# ones one OpenBLAS thread, the user's count restored after each call. Why so high (2-thread
# calls wait for a scheduler slice under load, and OpenBLAS's worker spins ~0.1 s after each
# one): autograd/kernels/blas.py's docstring, with the measurements.
BLAS = Thresholds("blas", 0, 1 << 28)

# Where numbagrad's gemm replaces numpy's BLAS (`gemm_route`), by multiply-adds per product
# (m * k * n): from numpy_below up to parallel_above, i.e. where BLAS would run one thread
# (BLAS.parallel_above); below it the call's fixed cost, above it BLAS's every core win.
# GEMM_LINEAR: Linear's forward with bias (gemm fuses the bias), measured by `python -m
# bench --only gemm` (routes table, same-run medians vs the BLAS call made today, 2-core AMD
# EPYC): float32 0.81-0.91 of BLAS's time from 262,144 to 67M multiply-adds (64x64 -> 64:
# 0.91, 128x784 -> 256: 0.87), float64 0.77-0.97; 64x128 -> 10 (81,920) 1.95. Only where the
# output's width fills gemm's column tiles (32 float32, 16 float64 wide) to within 1/8: a
# partial tile costs a whole one (float32 1024x128 -> 10: 1.28, 256x256 -> 48: 1.12).
# GEMM_MATMUL: `@` and attention's products, BLAS everywhere: attention's q k^T-shaped
# batches measured 0.92-0.98 (BLAS is slow on the transposed B), its P V-shaped ones
# (64 x (64x32 @ 32x64) float32) 1.25-1.28, 128 x (16x16 @ 16x16) 2.0-2.2: no size rule
# wins both, and a plain `@` has no epilogue to fuse.
GEMM_LINEAR = Thresholds("gemm_linear", 1 << 18, 1 << 28)
GEMM_MATMUL = Thresholds("gemm_matmul", NEVER, NEVER)
_GEMM_TILE_COLUMNS = {4: 32, 8: 16}  # autograd/kernels/jit/gemm.py's NR, by itemsize


def gemm_route(fam: Thresholds, macs: int, n: int, itemsize: int) -> bool:
    """Whether `fam` (GEMM_LINEAR, GEMM_MATMUL) sends a product of `macs` multiply-adds per
    product and `n` output columns to numbagrad's gemm rather than BLAS (see above).
    `numpy_below=0` (tests, experiments) sends every product."""
    if fam.numpy_below == 0:
        return True
    if not fam.numpy_below <= macs <= fam.parallel_above:
        return False
    nr = _GEMM_TILE_COLUMNS.get(itemsize, 16)
    return -(-n // nr) * nr * 8 <= n * 9


FAMILIES = {t.name: t for t in (ELEMENTWISE, REDUCE, SOFTMAX, BATCHNORM, CONV, POOL, OPTIMIZER,
                                GEMM, BLAS, GEMM_MATMUL, GEMM_LINEAR)}
_ufunc = {"threaded_ufunc_above": 1 << 20}  # helper thread: the same reasoning


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
