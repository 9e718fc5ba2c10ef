"""The cuda device tests, run on numba's CUDA simulator.

numba reads NUMBA_ENABLE_CUDASIM when numba.cuda is first imported, so each group of cuda
tests (the sim_*.py files next to this one: ops, cnn, training, errors, surface, tables,
gpt, rest) runs in its own pytest subprocess with NUMBA_ENABLE_CUDASIM=1; nothing in this process
changes how numba behaves for the rest of the suite. Each subprocess must pass every one of
its tests, none skipped.
Skipped only when numba-cuda is not installed (the `cuda` and `test` extras install it).
"""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

pytestmark = pytest.mark.skipif(importlib.util.find_spec("numba_cuda") is None,
                                reason="numba-cuda is not installed (pip install numbagrad[cuda])")


GROUPS = ("sim_ops.py", "sim_cnn.py", "sim_training.py", "sim_errors.py",
          "sim_surface.py", "sim_tables.py", "sim_gpt.py", "sim_rest.py")
_running: dict = {}


def _start_all() -> None:
    """Start every group's subprocess at once (the simulator is single-threaded Python: on a
    machine with several cores they run side by side); each test then waits for its own."""
    if _running:
        return
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=str(ROOT))
    for name in GROUPS:
        _running[name] = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-o", "addopts=", "-q", "-p", "no:cacheprovider",
             "-p", "no:randomly", str(HERE / name)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.fixture(scope="module", autouse=True)
def _stop_leftovers():
    """Groups started but not waited for (deselected with -k) are stopped at the end."""
    yield
    for proc in _running.values():
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    _running.clear()


def run_on_simulator(name: str, timeout: float = 400) -> str:
    _start_all()
    proc = _running[name]
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"{name} ran past {timeout} s on the CUDA simulator:\n{out[-3000:]}")
    assert proc.returncode == 0, f"{name} failed on the CUDA simulator:\n{out[-6000:]}"
    summary = re.search(r"(\d+) passed", out)
    assert summary and int(summary.group(1)) > 0, out[-3000:]
    assert "skipped" not in out and "xfail" not in out, out[-3000:]
    return out


@pytest.mark.parametrize("name", GROUPS)
def test_cuda_device_on_simulator(name: str) -> None:
    run_on_simulator(name)


def test_bench_gpu_counts_the_mlp_step_launches_on_the_simulator() -> None:
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "bench.gpu", "--launches", "--timeout", "120"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    launches = int(re.search(r"step: (\d+) kernel launches", proc.stdout).group(1))
    assert 20 <= launches <= 42, proc.stdout  # 42 measured: report any growth


def test_bench_gpu_without_cuda_says_so() -> None:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env["PYTHONPATH"] = str(ROOT)
    code = ("import autograd; autograd.cuda._state['available'] = False; "
            "import bench.gpu as g; g.main(['--quick'])")
    proc = subprocess.run([sys.executable, "-c", code],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "is_available() is False" in proc.stdout


def test_simulator_setting_stays_in_the_subprocess() -> None:
    """This process never turned the simulator on (the subprocesses above did)."""
    assert os.environ.get("NUMBA_ENABLE_CUDASIM", "0") in ("", "0")
    numba_cuda = sys.modules.get("numba.cuda")
    if numba_cuda is not None:
        from numba import config
        assert not config.ENABLE_CUDASIM
