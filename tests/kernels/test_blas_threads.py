"""OpenBLAS threads around numbagrad's own matmuls (autograd/kernels/blas.py): one thread for
small products, `width()` for large ones, the count found restored after every call (even on
error), `import autograd` leaving the process-wide count alone, and every BLAS-calling op
(`@`, conv2d, attention) going through it with results equal to numpy's."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import autograd
import nn.functional as F
from autograd.kernels import blas, policy

ROOT = Path(__file__).resolve().parents[2]


def test_openblas_is_found():
    """numpy's wheels bundle OpenBLAS; without it every other test here would test nothing."""
    assert blas.openblas() is not None and blas.get_threads() >= 1


@pytest.fixture
def user_count():
    """The process-wide count set to 2 (the user's choice) for the test, restored after."""
    old = blas.get_threads()
    blas.set_threads(2)
    yield 2
    blas.set_threads(old)


def seen_inside(macs: int) -> int:
    return blas.call(blas.get_threads, macs)


def test_small_calls_get_one_thread_large_ones_the_width(user_count):
    old_width = blas.width()
    blas.set_width(3)
    try:
        with policy.override(parallel_above=1000, families=("blas",)):
            assert seen_inside(10) == 1
            assert blas.get_threads() == user_count
            assert seen_inside(1000) == 1       # at the threshold: still small
            assert seen_inside(1001) == 3
            assert blas.get_threads() == user_count
    finally:
        blas.set_width(old_width)


def test_count_restored_when_the_call_raises(user_count):
    def boom():
        assert blas.get_threads() == 1
        raise ZeroDivisionError("inside BLAS call")
    with pytest.raises(ZeroDivisionError, match="inside BLAS call"):
        blas.call(boom, 1)
    assert blas.get_threads() == user_count


def test_set_num_threads_sets_the_width_of_large_calls(user_count):
    old = blas.width()
    try:
        autograd.set_num_threads(1)
        assert blas.width() == 1
        with policy.override(parallel_above=0, families=("blas",)):
            assert seen_inside(10) == 1
    finally:
        autograd.set_num_threads(old)
    assert blas.width() == old


def test_matmul_macs_broadcasts_batch_dims_and_transposes():
    assert blas.matmul_macs((3, 4), (4, 5)) == 60
    assert blas.matmul_macs((4, 3), (5, 4), True, True) == 60
    assert blas.matmul_macs((5, 1, 3, 4), (2, 4, 6)) == 5 * 2 * 3 * 4 * 6
    assert blas.matmul_macs((7, 3, 4), (4, 6)) == 7 * 72


def test_ops_route_their_matmuls_through_blas_call(monkeypatch):
    calls = []
    real = blas.call

    def spy(fn, macs, *args):
        calls.append(macs)
        return real(fn, macs, *args)
    monkeypatch.setattr(blas, "call", spy)
    rng = np.random.default_rng(0)
    a = autograd.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    b = autograd.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    (a @ b).sum().backward()
    assert calls[0] == 2 * 3 * 4 * 5 and len(calls) == 3  # forward, dA, dB
    calls.clear()
    x = autograd.tensor(rng.standard_normal((2, 3, 6, 6)))
    w = autograd.tensor(rng.standard_normal((4, 3, 3, 3)))
    F.conv2d(x, w, padding=1)
    assert calls == [2 * 4 * 27 * 36]
    calls.clear()
    q, k, v = (autograd.tensor(rng.standard_normal((2, 5, 8))) for _ in range(3))
    F.scaled_dot_product_attention(q, k, v)
    assert calls == [2 * 5 * 8 * 5, 2 * 5 * 5 * 8]


@pytest.mark.parametrize("parallel_above", [-1, policy.NEVER])
def test_results_equal_numpy_whatever_the_thread_count(parallel_above, user_count):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((64, 48)), rng.standard_normal((48, 32))
    ta, tb = autograd.tensor(a, requires_grad=True), autograd.tensor(b, requires_grad=True)
    with policy.override(parallel_above=parallel_above, families=("blas",)):
        y = ta @ tb
        y.backward(autograd.tensor(np.ones((64, 32))))
    np.testing.assert_allclose(y.detach().numpy(), a @ b, rtol=1e-12)
    np.testing.assert_allclose(ta.grad.numpy(), np.ones((64, 32)) @ b.T, rtol=1e-12)
    np.testing.assert_allclose(tb.grad.numpy(), a.T @ np.ones((64, 32)), rtol=1e-12)
    assert blas.get_threads() == user_count


def _child(code: str, **env) -> str:
    e = {k: v for k, v in os.environ.items() if k not in blas.ENV}
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    e.update(env)
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=e, cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_import_autograd_leaves_the_process_count_alone():
    """The user's count set before `import autograd` survives it (the old default pinned
    OpenBLAS to one thread for the whole process), and a matmul through numbagrad."""
    out = _child("""
        import ctypes, glob, os
        import numpy as np
        libs = glob.glob(os.path.join(os.path.dirname(os.path.dirname(np.__file__)),
                                      "numpy.libs", "*openblas*.so*"))
        lib = ctypes.CDLL(libs[0])
        set_n = getattr(lib, "scipy_openblas_set_num_threads64_", None) or \\
            lib.openblas_set_num_threads
        set_n(2)
        import autograd
        from autograd.kernels import blas
        before = blas.get_threads()
        autograd.tensor(np.ones((3, 3))) @ autograd.tensor(np.ones((3, 3)))
        print(before, blas.get_threads())
    """)
    assert out.split() == ["2", "2"]


def test_numba_threading_layer_defaults_to_workqueue_unless_chosen():
    code = """
        import numpy as np
        import autograd
        from autograd.kernels import policy
        x = autograd.tensor(np.ones(4096, np.float32))
        with policy.override(numpy_below=0, parallel_above=-1):
            y = x * x
        import numba
        print(numba.threading_layer(), float(y.sum()))
    """
    assert _child(code) == "workqueue 4096.0"
    assert _child(code, NUMBA_THREADING_LAYER="omp") == "omp 4096.0"
