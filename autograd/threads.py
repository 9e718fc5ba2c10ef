"""How many threads the kernels use: numba's pool and the OpenBLAS behind numpy's matmul.

numbagrad leaves OpenBLAS's process-wide thread count alone: the user's own numpy calls keep
whatever count OpenBLAS started with (every core, or OPENBLAS_NUM_THREADS). numbagrad's own
BLAS calls pick a count per call by size (`autograd/kernels/blas.py`): one thread for small
products (a second thread buys little there and OpenBLAS's workers spin after each call,
stealing a core from the next kernel or from another process: an MLP step was measured
15-40x slower under load with two threads on every product), every core for large ones,
and the count they found is put back after the call.

`autograd.set_num_threads(n)` (as torch.set_num_threads) sets the width of numbagrad's
large BLAS calls and of numba's parallel kernels, and OpenBLAS's process-wide count too
(the user's explicit choice, as PyTorch does for its own BLAS).
"""
from __future__ import annotations

import os
import sys

from . import allocator
from .kernels import blas

_ENV = blas.ENV


def get_blas_threads() -> int | None:
    """Threads of the OpenBLAS numpy uses (None if it cannot be found)."""
    return blas.get_threads()


def set_blas_threads(n: int) -> None:
    """Set the process-wide OpenBLAS thread count (no-op without OpenBLAS)."""
    blas.set_threads(n)


class blas_threads:
    """Context manager: OpenBLAS with n threads inside (process-wide), the old count after."""

    def __init__(self, n: int | None = None):
        self.n = n

    def __enter__(self):
        self.old = get_blas_threads()
        n = self.n or self.old
        if self.old is not None and n:
            set_blas_threads(n)
        return self

    def __exit__(self, *exc):
        if self.old is not None:
            set_blas_threads(self.old)


def set_num_threads(n: int) -> None:
    """Threads for numpy's OpenBLAS and for numba's parallel kernels (as torch.set_num_threads)."""
    if int(n) < 1:
        raise ValueError(f"set_num_threads: need at least 1 thread, got {n}")
    set_blas_threads(n)
    blas.set_width(n)
    _numba_threads[0] = int(n)
    if "numba" in sys.modules:
        import numba
        numba.set_num_threads(min(int(n), numba.config.NUMBA_NUM_THREADS))


def get_num_threads() -> int:
    """The count last given to set_num_threads, else the number of usable cores."""
    if _numba_threads[0]:
        return _numba_threads[0]
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


_numba_threads = [0]


def apply_default() -> None:
    """The process-wide defaults `import autograd` applies: none for threads any more
    (OpenBLAS's count stays the user's, see the module docstring), and glibc's malloc
    thresholds for large arrays (`autograd/allocator.py`; NUMBAGRAD_MALLOC=default opts out)."""
    allocator.apply_default()
