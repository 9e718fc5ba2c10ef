"""OpenBLAS's thread count around numbagrad's own BLAS calls, chosen per call by size.

numpy's matmul runs on OpenBLAS, whose thread count is one process-wide setting. numbagrad
never changes it for the user's own numpy calls: each of its own BLAS calls (the `matmul`
kernel, behind `@`, Linear, conv2d's patch matmul and attention) runs through `call`, which
gives OpenBLAS
- one thread unless the product is large (`policy.BLAS.parallel_above` multiply-adds, ~5 ms
  on one core);
- `width()` threads when it is large: every usable core, or the count the user chose
  (`autograd.set_num_threads(n)`, or OPENBLAS_NUM_THREADS / OMP_NUM_THREADS /
  MKL_NUM_THREADS in the environment),
and puts back the count it found afterwards. Setting the count costs ~0.2 us (measured by
`python -m bench --only threshold`), against >= 1 us for the smallest matmul.

Why only large products get more than one thread (measured on 2 cores): while another
process holds a core, a 2-thread call waits for a scheduler slice for its second half (an
MLP 784-256-128-10 step: 2.1 ms with one thread per product, 39 ms with two; 1024^3 under
the same load: 58 ms on one thread, 32 ms on two). And after every multi-threaded call
OpenBLAS's worker spins for ~0.1 s (measured: 100 ms of CPU during a 0.3 s sleep after one
512^3 product; `openblas_set_num_threads(1)` does not stop it; only OPENBLAS_THREAD_TIMEOUT,
read when numpy loads OpenBLAS, does), taking a core from the numba kernels and numpy ops
between the products: a tiny GPT step ran 68 ms with one thread per product, 220-350 ms
when its mid-size products took two. Only a long product outweighs both.

OpenBLAS is reached through ctypes (no extra dependency); where numpy uses another BLAS,
`call` just calls. Python threads calling BLAS at the same time: the first one in sets the
count, the others run with whatever count is current (never a lost restore).
"""
from __future__ import annotations

import ctypes
import glob
import os
import threading

import numpy as np

from . import policy

ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_UNSET = object()
_state: dict = {"lib": _UNSET, "width": 0}
_lock = threading.Lock()  # held by the one call that has changed the count


def _find():
    """(set_num_threads, get_num_threads) of the OpenBLAS numpy uses, or None."""
    libdirs = [os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs"),
               os.path.join(os.path.dirname(np.__file__), ".libs")]
    names = [("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
             ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
             ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
             ("openblas_set_num_threads", "openblas_get_num_threads")]
    for d in libdirs:
        for path in glob.glob(os.path.join(d, "*openblas*.so*")):
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for set_name, get_name in names:
                if hasattr(lib, set_name) and hasattr(lib, get_name):
                    return getattr(lib, set_name), getattr(lib, get_name)
    return None


def openblas():
    """(set_num_threads, get_num_threads) of numpy's OpenBLAS, or None; found once."""
    lib = _state["lib"]
    if lib is _UNSET:
        lib = _state["lib"] = _find()
    return lib


def get_threads() -> int | None:
    """OpenBLAS's current process-wide thread count (None if it cannot be found)."""
    lib = openblas()
    return None if lib is None else int(lib[1]())


def set_threads(n: int) -> None:
    """Set OpenBLAS's process-wide thread count (no-op without OpenBLAS)."""
    lib = openblas()
    if lib is not None:
        lib[0](int(n))


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _env_width() -> int:
    for name in ENV:
        try:
            n = int(os.environ.get(name, ""))
        except ValueError:
            continue
        if n >= 1:
            return n
    return 0


def width() -> int:
    """Threads a large BLAS call gets: `set_width`'s count, else the environment's, else
    every usable core."""
    n = _state["width"]
    if not n:
        n = _state["width"] = _env_width() or _usable_cores()
    return n


def set_width(n: int) -> None:
    """The thread count of numbagrad's large BLAS calls (autograd.set_num_threads)."""
    _state["width"] = int(n)


def threads_for(macs: int) -> int:
    """OpenBLAS threads for a product of `macs` multiply-adds (see the module docstring)."""
    return width() if macs > policy.BLAS.parallel_above else 1


def matmul_macs(a_shape: tuple, b_shape: tuple, trans_a: bool = False,
                trans_b: bool = False) -> int:
    """Multiply-adds of op(a) @ op(b) for (..., m, k) @ (..., k, n) shapes (batch dims
    broadcast); a rough count is enough to pick a thread count."""
    m, k = (a_shape[-1], a_shape[-2]) if trans_a else (a_shape[-2], a_shape[-1])
    n = b_shape[-2] if trans_b else b_shape[-1]
    ba, bb = a_shape[:-2], b_shape[:-2]
    batch = 1
    for i in range(1, max(len(ba), len(bb)) + 1):
        batch *= max(ba[-i] if i <= len(ba) else 1, bb[-i] if i <= len(bb) else 1)
    return batch * m * k * n


def call(fn, macs: int, *args):
    """fn(*args) with OpenBLAS on `threads_for(macs)` threads, the count found restored after."""
    lib = _state["lib"]
    if lib is _UNSET:
        lib = openblas()
    if lib is None:
        return fn(*args)
    want = width() if macs > policy.BLAS.parallel_above else 1
    if not _lock.acquire(blocking=False):  # another thread has the count: leave it alone
        return fn(*args)
    try:
        have = lib[1]()
        if have == want:
            return fn(*args)
        lib[0](want)
        try:
            return fn(*args)
        finally:
            lib[0](have)
    finally:
        _lock.release()
