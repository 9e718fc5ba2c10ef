"""The numba backend: implementations of declared kernels, registered explicitly with
`registry.register("numba", name)`; this package is imported on the first kernel call under
the numba backend (never by `import autograd`), and imports every module that registers.

Every entry point is a Python wrapper that validates its inputs, sends small or unusual
inputs to the numpy reference (where `policy` says so), and calls `njit(cache=True)` kernels
compiled per dtype on first use (`_common.lazy_njit`).

Thread pools (see `helper_thread.py`): before numba starts its OpenMP pool we make its threads
passive (they sleep as soon as a parallel region ends instead of spinning), so a BLAS call
right after a numba kernel finds the cores free; OpenBLAS's thread count is set in
`autograd/threads.py` (one thread by default).
"""
from __future__ import annotations

import os

# libgomp: passive waiting = sleep on a futex right after the region instead of spinning.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GOMP_SPINCOUNT", "0")

from . import batchnorm, conv, elementwise, gemm, linalg, pool, reduce, softmax_ce

__all__ = ["batchnorm", "conv", "elementwise", "gemm", "linalg", "pool", "reduce",
           "softmax_ce"]
