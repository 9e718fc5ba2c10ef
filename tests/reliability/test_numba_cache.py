"""The on-disk numba cache must keep a kernel's serial and parallel variants apart.

Kernels compile the same Python function twice through `jit/_common.py: lazy_njit.get`,
`parallel=False` for small arrays and `parallel=True` for large ones, both with `cache=True`.
numba's cache index is keyed by function and signature, not by the `parallel` flag, so
whichever variant is compiled first is loaded for both afterwards: large arrays then run
serially (or small ones pay a parallel launch), depending on the history of the cache
directory. The probe is a `prange` kernel built with `lazy_njit` in a module of its own
(numba caches only functions that live in files), run in a fresh interpreter with its own
NUMBA_CACHE_DIR.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_PROBE = '''
import numpy as np
from numba import float64, prange, types

from autograd.kernels.jit._common import lazy_njit


@lazy_njit(lambda dt: types.void(types.Array(dt, 1, "C"), types.Array(dt, 1, "C")))
def probe(a, out):
    for i in prange(a.shape[0]):
        out[i] = np.sin(a[i]) * 2.0
'''

_CHILD = """
import sys
sys.path[:0] = [{root!r}, {probe_dir!r}]
import numpy as np, numba
import probe_kernel
a = np.random.rand(100_000)
out = np.empty_like(a)
for parallel in {variants!r}:
    probe_kernel.probe.get(a.dtype, parallel)(a, out)
    assert np.allclose(out, np.sin(a) * 2)
try:
    print(numba.threading_layer())
except ValueError:
    print("none")
"""


def _threads_started(tmp_path, variants) -> bool:
    (tmp_path / "probe_kernel.py").write_text(_PROBE)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    code = _CHILD.format(root=ROOT, probe_dir=str(tmp_path), variants=variants)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip().splitlines()[-1] != "none"


def _lazy_njit_available() -> bool:
    try:
        from autograd.kernels.jit._common import lazy_njit
    except Exception:  # noqa: BLE001
        return False
    import inspect
    return "parallel" in inspect.signature(lazy_njit.get).parameters


pytestmark = pytest.mark.skipif(not _lazy_njit_available(),
                                reason="lazy_njit has no serial/parallel variants")


def test_parallel_variant_is_parallel_on_a_fresh_cache(tmp_path):
    """Control: with nothing cached, the parallel variant launches the thread pool."""
    assert _threads_started(tmp_path, [True])


def test_cached_serial_variant_does_not_replace_the_parallel_one(tmp_path):
    # the serial call compiles and caches the serial variant; the parallel call must still
    # get parallel code (jit/_common.py caches the two under different names)
    assert _threads_started(tmp_path, [False, True])


def test_cached_parallel_variant_does_not_replace_the_serial_one(tmp_path):
    assert _threads_started(tmp_path, [True])       # caches the parallel variant
    assert not _threads_started(tmp_path, [False])  # a fresh process: serial must stay serial
