"""Single-process side of the distributed tests.

`test_mpi_tests_pass_under_mpiexec` runs tests/distributed under ``mpiexec -n 2`` in a
subprocess (timeout: a deadlocked collective fails instead of hanging the suite). It fails,
not skips, when mpi4py or mpiexec is missing: CI installs ``numbagrad[distributed]``."""
import os
import shutil
import signal
import subprocess
import sys

import pytest

import autograd
from autograd import distributed as dist

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def mpiexec() -> str:
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")  # pip's mpich: venv bin
    found = here if os.path.exists(here) else shutil.which("mpiexec")
    assert found, "mpiexec not found: pip install numbagrad[distributed] (mpi4py, mpich)"
    return found


def test_mpi_tests_pass_under_mpiexec(tmp_path):
    __import__("mpi4py")  # ImportError here means the extra is missing: install it
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1",
               NUMBAGRAD_MPI_REPORT_DIR=str(tmp_path))
    env.pop("PYTEST_ADDOPTS", None)
    cmd = [mpiexec(), "-n", "2", sys.executable, "-m", "pytest", "tests/distributed",
           "-p", "no:cacheprovider", "-x"]
    # a session of its own, so a deadlocked run is killed with all its ranks
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f"mpiexec -n 2 pytest tests/distributed hung (>600 s): {out[-6000:]}")
    assert proc.returncode == 0, out[-6000:]
    # each rank wrote (exit status, tests collected, tests failed); see conftest.py
    reports = sorted(p.name for p in tmp_path.iterdir())
    assert reports == ["rank0.txt", "rank1.txt"], out[-6000:]
    for name in reports:
        status, collected, failed = map(int, (tmp_path / name).read_text().split())
        assert (status, failed) == (0, 0) and collected >= 30, (name, out[-6000:])


def test_use_before_init_raises():
    assert not dist.is_initialized()
    for call in (dist.get_rank, dist.get_world_size, dist.barrier, dist.destroy_process_group,
                 lambda: dist.all_reduce(autograd.zeros(2)),
                 lambda: dist.broadcast(autograd.zeros(2), 0),
                 lambda: dist.all_gather([autograd.zeros(2)], autograd.zeros(2))):
        with pytest.raises(RuntimeError, match="has not been initialized.*init_process_group"):
            call()
    with pytest.raises(RuntimeError, match="pass num_replicas and rank"):
        autograd.data.DistributedSampler(range(4))
    import nn
    with pytest.raises(RuntimeError, match="has not been initialized"):
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2))


def test_bad_backend_and_missing_mpi4py(monkeypatch):
    with pytest.raises(ValueError, match="unsupported backend 'nccl'; numbagrad supports only"):
        dist.init_process_group("nccl")
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # as if not installed
    with pytest.raises(ImportError, match=r"pip install numbagrad\[distributed\]"):
        dist.init_process_group("mpi")
    assert not dist.is_available()
    assert not dist.is_initialized()


def test_import_autograd_does_not_import_mpi4py():
    code = ("import sys, autograd, autograd.data; "
            "assert 'mpi4py' not in sys.modules and 'autograd.distributed' not in sys.modules; "
            "import nn; autograd.distributed.is_initialized(); "
            "assert 'mpi4py' not in sys.modules; print('ok')")
    proc = subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, PYTHONPATH=ROOT))
    assert proc.stdout.strip() == "ok", proc.stderr


def test_demo_distributed_on_two_ranks(tmp_path):
    """`mpiexec -n 2 numbagrad demo --distributed`: trains, rank 0 alone reports and writes a
    checkpoint of the unwrapped model (loadable by one process)."""
    __import__("mpi4py")
    __import__("sklearn")  # the demo's data
    ckpt = tmp_path / "demo.ckpt"
    env = dict(os.environ, PYTHONPATH=ROOT)
    cmd = [mpiexec(), "-n", "2", sys.executable, "-m", "autograd", "demo", "--distributed",
           "--epochs", "4", "--no-progress", "--out", str(ckpt)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"demo --distributed hung: {out[-3000:]} {err[-3000:]}")
    assert proc.returncode == 0, out + err
    lines = [line for line in out.splitlines() if line.startswith("test accuracy:")]
    assert len(lines) == 1, out                  # printed by rank 0 only
    accuracy = float(lines[0].split()[2].rstrip("%")) / 100
    assert accuracy >= 0.9, out
    assert "distributed: 2 ranks x batch 32 (global batch 64)" in out
    state = autograd.load(str(ckpt))
    from autograd.cli import demo
    model = demo.build_model("cnn")
    model.load_state_dict(state["model"])       # keys without the DDP "module." prefix
    assert all(not k.startswith("module.") for k in state["model"])
