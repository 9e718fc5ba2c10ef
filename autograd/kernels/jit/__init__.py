"""numba implementations of the kernels; imported lazily (never by `import autograd`).

Before numba starts its thread pool we make both pools polite: OpenMP threads (numba's
"omp" layer) stop spinning as soon as a parallel region ends, so a BLAS call right after a
numba kernel finds the cores free. OpenBLAS was already loaded with numpy, so its own
spin time (OPENBLAS_THREAD_TIMEOUT) is read too late to change here; see `threads.py`.
"""
from __future__ import annotations

import os

# libgomp: passive waiting = sleep on a futex right after the region instead of spinning.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GOMP_SPINCOUNT", "0")
