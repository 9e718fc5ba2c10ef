"""The numba backend: implementations of declared kernels, registered explicitly with
`registry.register("numba", name)`; this package is imported on the first kernel call under
the numba backend (never by `import autograd`), and imports every module that registers.

Every entry point is a Python wrapper that validates its inputs, sends small or unusual
inputs to the numpy reference (where `policy` says so), and calls `njit(cache=True)` kernels
compiled per dtype on first use (`_common.lazy_njit`).

Thread pools (see `helper_thread.py`): before numba starts its OpenMP pool we make its threads
passive (they sleep as soon as a parallel region ends instead of spinning), so a BLAS call
right after a numba kernel finds the cores free; numbagrad's own BLAS calls choose their
OpenBLAS thread count per call (`autograd/kernels/blas.py`: one thread unless large), and
numba's threading layer defaults to `workqueue` (below; docs/performance.md). numbagrad's
gemm and the elementwise kernels do not use numba's parallel regions at all: their parallel
runs go through the task pool of `tasks.py` (helper threads that take jobs in native code and
run nogil task loops, claimed dynamically; the elementwise loops by home block, each core its
own block of parts first), whose launch costs ~3 us against workqueue's 60-100 us here and
which never waits for a thread that another process keeps off its core.
"""
from __future__ import annotations

import os

# libgomp: passive waiting = sleep on a futex right after the region instead of spinning.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GOMP_SPINCOUNT", "0")

import numba  # after the OpenMP settings above (libgomp reads them when it loads)

# numba's threading layer: its own `workqueue` unless the user chose one (NUMBA_THREADING_LAYER
# or numba.config.THREADING_LAYER set before the first parallel kernel). With the default
# (OpenMP here, no TBB) two threads were measured 4-10x slower than one while another
# process held a core; workqueue's threads do not wait for each other at the end of a region
# in a spin-then-sleep barrier. Parallel launches are serialised across Python threads
# (`_common._one_launch_at_a_time`), which workqueue needs. Takes effect only if no parallel
# kernel has run yet in this process.
if "NUMBA_THREADING_LAYER" not in os.environ and numba.config.THREADING_LAYER == "default":
    numba.config.THREADING_LAYER = "workqueue"

from . import batchnorm, conv, elementwise, gemm, linalg, pool, reduce, softmax_ce

__all__ = ["batchnorm", "conv", "elementwise", "gemm", "linalg", "pool", "reduce",
           "softmax_ce"]
