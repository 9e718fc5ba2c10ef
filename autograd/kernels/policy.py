"""The kernel policy: which backend runs, and where a numba kernel hands small arrays to numpy
or runs its serial rather than its parallel form (`prange`, or for gemm and the elementwise
kernels task loops on the task pool of jit/tasks.py).

Every threshold lives here, in one vocabulary, per family of kernels:
- `numpy_below`: fewer elements than this go to the numpy reference (a numba call costs ~1 us
  of Python wrapper and unboxing, more than numpy's whole ufunc on a small array);
- `parallel_above`: more elements than this run the parallel form (a `prange` launch costs
  tens of microseconds: numba's threads sleep between regions; a task pool launch ~3 us);
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

# Elementwise kernels run on every thread through the task pool (jit/tasks.py: a ~3 us launch,
# a helper that gets no core claims no part, and each core takes the same block of parts
# launch after launch) above 2^19 elements. Measured on 2 cores, float32, pool / serial kernel:
# - as `python -m bench --only threshold` times them (each candidate in turn, so the helper
#   has slept before each sample): relu 2^17 0.80, 2^18 0.73, 2^20 0.60; mul 0.78, 0.67, 0.51;
# - `a * b + c` on 1e6 float32 against numpy (which writes `+ c` into the product's buffer,
#   ours cannot): 0.6-0.8 through the pool, 1.3 serial; 1.3-1.5 for seconds at a time while
#   the host runs this VM's two cores as the two hardware threads of one physical core (then
#   two threads of independent multiply-adds take 2.0-2.3x one thread's time: that coincided
#   with 117 of the 148 slow samples in a 45 s trace). With a process spinning on one core:
#   1.5-1.6 through the pool, 1.3-1.4 serial;
# - training steps (same-run medians, pool from 2^18 or 2^19 / from 2^21): CNN 28x28 1.01-1.06
#   from 2^18 (its 401,408-element conv1 activations: cold data, and the helper often asleep
#   between launches), so not below 2^19; tiny GPT 0.97-1.00, CNN 3x64x64 0.98-0.99.
# (With `prange`, the elementwise kernels' first parallel form, a launch cost 45-345 us and a
# static split waited for a thread that lost its core: relu on 2^20 floats took 94 us serial,
# 101 us parallel.)
ELEMENTWISE = Thresholds("elementwise", 1 << 13, 1 << 19)
# autograd.compile's fused elementwise kernels (jit/fused.py) still run `prange` in parallel:
# only where the serial loop runs long enough (~1 ms) to amortise a launch, and a scheduler
# slice while another process holds a core (measured on 2 cores under load: LayerNorm's row
# sums over 1024 x 128, 0.1 ms serial, took 0.57 ms parallel; mul on 4,194,304 floats under
# load: 1.28 ms serial, 0.60 ms parallel).
FUSED = Thresholds("fused", 0, 1 << 21)
REDUCE = Thresholds("reduce", 1 << 13, 1 << 20)
SOFTMAX = Thresholds("softmax", 256, 1 << 18)
BATCHNORM = Thresholds("batchnorm", 1 << 10, 1 << 18)
# col2im (im2col is numpy's: faster here). Its "same"-size path (stride 1, 3x3 pad 1 and the
# like) is memory-bound: `prange` over the planes gained nothing below ~10M elements
# (serial / parallel, 2 cores, quiet, float32 cols: 64x72x196 182 / 447 us, 16x576x256
# 471 / 730 us, 16x288x1024 794 / 1192 us, 32x27x16384 4.36 / 4.03 ms, 16x288x4096
# 5.59 / 5.33 ms).
CONV = Thresholds("conv", 0, 1 << 24)
POOL = Thresholds("pool", 0, 1 << 18)
# max pooling's 2x2 stride-2 fast path (jit/pool.py), by input elements: it does far less work
# per element than the general window loop, so a workqueue launch pays only on large inputs
# (serial / parallel, 2 cores, load ~2: 64x8x28x28 567 / 670-945 us, 16x64x32x32 1.48 /
# 1.23-1.85 ms, 32x32x128x128 8.9-9.3 / 4.7-5.4 ms)
POOL_2X2 = Thresholds("pool_2x2", 0, 1 << 22)
OPTIMIZER = Thresholds("optimizer", 0, NEVER)  # fused updates: one serial loop per parameter
# autograd.kernels.gemm, counted in multiply-adds (m * k * n per product, times the batch):
# it never hands off to numpy (it is the numba GEMM, called by name); above 2^21 MACs it runs
# on every core through the task pool (autograd/kernels/jit/tasks.py: no parallel region, no
# thread spinning on a core, and a helper without a core claims no task). Measured on 2 cores
# (time parallel / serial, float32; quiet, then with a process spinning on one core):
# 8 x (64x32 @ 32x64), 2^20 MACs: 1.04, 1.16; 16 x: 2^21: 0.80, 1.09; 128^3, 2^21: 0.82,
# 1.10; 32 x: 2^22: 0.64, 1.05; 128x784 @ 784x64, 2^22.6: 0.66, 1.04; 64 x, 2^23: 0.63,
# 1.03. Where `@`, Linear and attention call it: GEMM_MATMUL and GEMM_LINEAR below.
GEMM = Thresholds("gemm", 0, 1 << 21)

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
# GEMM_MATMUL: `@` and attention's products, from 2^17 multiply-adds per product up to BLAS's
# every-core line, where the output fills the tiles likewise. With gemm's task pool (every
# core, robust under load, see GEMM) against the BLAS call made today (one OpenBLAS thread
# below 2^28), routes table at load ~1: 32 x (128x64 @ (128x64)^T) float32 0.53, float64
# 0.55; 64 x (64x32 @ (64x32)^T) 0.89 / 1.00; 128 x (16x16 @ (16x16)^T), 4,096 MACs each,
# 1.80 (below the line). Training steps, same run, `@` routed / BLAS: MLP 0.82-0.87, tiny
# GPT 0.90-0.91, CNN 28x28 1.00; MLP step with a process spinning on a core 1.31x its quiet
# time (BLAS route: 1.10x; both 1.93 ms loaded). It was BLAS everywhere when gemm's parallel
# runs went through numba's workqueue layer.
GEMM_LINEAR = Thresholds("gemm_linear", 1 << 18, 1 << 28)
GEMM_MATMUL = Thresholds("gemm_matmul", 1 << 17, 1 << 28)
_GEMM_TILE_COLUMNS = {4: 32, 8: 16}  # autograd/kernels/jit/gemm.py's NR, by itemsize


def gemm_route(fam: Thresholds, macs: int, n: int, itemsize: int,
               broadcast_a: bool = False, threads: int = 1) -> bool:
    """Whether `fam` (GEMM_LINEAR, GEMM_MATMUL) sends a product of `macs` multiply-adds per
    product and `n` output columns to numbagrad's gemm rather than BLAS (see above).
    broadcast_a: A's batch is smaller than B's (a conv's weight times its patches): BLAS on
    one thread (`threads`, gemm's thread count), where gemm measured 1.1-1.3x BLAS's time;
    gemm on more. With 2 threads against OpenBLAS's 2 (the batch's total is above
    BLAS.parallel_above), 3x64x64 CNN's convolutions, float32, same-run medians gemm / BLAS:
    forward 0.98 and 0.91, input gradient 0.88 and 0.95; and in a training step more, because
    OpenBLAS's worker spins on the other core for ~0.1 s after each call, so the next gemm
    (a weight gradient) ran at its one-thread speed beside it (3.4 -> 8.0 ms measured): the
    CNN's step 81-83 -> 75-78 ms. `numpy_below=0` (tests, experiments) sends every
    product."""
    if fam.numpy_below == 0:
        return True
    if (broadcast_a and threads == 1) or not fam.numpy_below <= macs <= fam.parallel_above:
        return False
    nr = _GEMM_TILE_COLUMNS.get(itemsize, 16)
    return -(-n // nr) * nr * 8 <= n * 9


FAMILIES = {t.name: t for t in (ELEMENTWISE, FUSED, REDUCE, SOFTMAX, BATCHNORM, CONV, POOL, POOL_2X2,
                                OPTIMIZER,
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
