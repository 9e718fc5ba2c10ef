"""numba implementations of the kernels; imported lazily (never by `import autograd`).

Each module here mirrors a reference module in `autograd/kernels/` and defines functions of
the same names and signatures; `backend.kernel` picks them up on first use. Every entry
point is a Python wrapper that validates its inputs, sends small or unusual inputs to the
numpy reference, and calls `njit(cache=True)` kernels compiled per dtype on first use
(`_common.lazy_njit`).

Thread pools (see `threads.py`): before numba starts its OpenMP pool we make its threads
passive (they sleep as soon as a parallel region ends instead of spinning), so a BLAS call
right after a numba kernel finds the cores free; OpenBLAS's thread count is set in
`autograd/threads.py` (one thread by default).
"""
from __future__ import annotations

import os

# libgomp: passive waiting = sleep on a futex right after the region instead of spinning.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GOMP_SPINCOUNT", "0")
