"""How many threads the kernels use: numba's pool and the OpenBLAS behind numpy's matmul.

numbagrad gives OpenBLAS one thread by default (unless OPENBLAS_NUM_THREADS, OMP_NUM_THREADS
or MKL_NUM_THREADS says otherwise): with its default of one thread per core, OpenBLAS spins
after each call, and on a machine where anything else runs, small training steps were
measured 15-40x slower (MLP 784-256-128-10 step: 84 ms with 2 BLAS threads under load,
1.9 ms with one). Large matrix products lose up to half their speed; call
`autograd.set_num_threads(n)` to trade back. OpenBLAS is reached through ctypes, so no
extra dependency is needed.
"""
from __future__ import annotations

import ctypes
import glob
import os
import sys

import numpy as np

_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


_lib: dict = {}


def _openblas():
    """(set_num_threads, get_num_threads) of the OpenBLAS numpy uses, or None."""
    if "lib" in _lib:
        return _lib["lib"]
    found = None
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
                    found = (getattr(lib, set_name), getattr(lib, get_name))
                    break
            if found:
                break
        if found:
            break
    _lib["lib"] = found
    return found


def get_blas_threads() -> int | None:
    """Threads of the OpenBLAS numpy uses (None if it cannot be found)."""
    lib = _openblas()
    return None if lib is None else int(lib[1]())


def set_blas_threads(n: int) -> None:
    lib = _openblas()
    if lib is not None:
        lib[0](int(n))


class blas_threads:
    """Context manager: OpenBLAS with n threads inside."""

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
    """One OpenBLAS thread unless the environment chose a count (see the module docstring)."""
    if not any(name in os.environ for name in _ENV):
        set_blas_threads(1)
