"""Data parallelism against threads on the demo CNN: 2 MPI ranks x 1 thread each
(DistributedDataParallel) against 1 process x 2 threads, same model, same global batch of 64,
in samples per second; 1 process x 1 thread alongside as the baseline.

The measurement runs in ``mpiexec -n 2 python -m bench.distributed_worker`` (see there);
this side finds mpiexec (pip's MPICH puts it next to the venv's python), starts the job with
a timeout and prints the row. Without mpi4py or mpiexec the section prints why it is skipped.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys

from .distributed_worker import DDP, ONE, RESULT_TAG, SINGLE
from .timing import QUICK, header, record, table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT_S = 300


def find_mpiexec() -> str | None:
    """The venv's mpiexec (pip's mpich) if there is one, else the one on PATH."""
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return here if os.path.exists(here) else shutil.which("mpiexec")


def unavailable() -> str | None:
    """Why the section cannot run (None when it can)."""
    try:
        import mpi4py  # noqa: F401 - the package only; MPI itself starts in the worker
    except ImportError:
        return "mpi4py is not installed"
    if find_mpiexec() is None:
        return "no mpiexec next to python or on PATH"
    return None


def _loadavg() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def run_worker(steps: int, repeat: int, warmup: int) -> dict:
    """Start the 2-rank job and return rank 0's result; raises RuntimeError with the job's
    output if it fails or runs past TIMEOUT_S (its process group is killed then)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [find_mpiexec(), "-n", "2", sys.executable, "-m", "bench.distributed_worker",
           str(steps), str(repeat), str(warmup)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        raise RuntimeError(f"bench distributed: mpiexec -n 2 ran past {TIMEOUT_S} s:\n"
                           f"{out[-3000:]}") from None
    lines = [ln for ln in out.splitlines() if ln.startswith(RESULT_TAG)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"bench distributed: mpiexec -n 2 failed (exit status "
                           f"{proc.returncode}):\n{out[-3000:]}")
    return json.loads(lines[-1][len(RESULT_TAG):])


def bench_distributed() -> None:
    why = unavailable()
    if why:
        print(f"\ndistributed: skipped, {why} (pip install 'numbagrad[distributed]')")
        return
    quick = QUICK[0]
    steps, repeat, warmup = (20, 3, 3) if quick else (100, 7, 10)
    res = run_worker(steps, repeat, warmup)
    header(f"data parallel vs threads: demo CNN, Adam, global batch {res['global_batch']}, "
           f"{steps} steps per sample, {repeat} samples, samples/s (median, min-max)")
    load = _loadavg()
    rates = res["samples_per_s"]
    med = {k: statistics.median(v) for k, v in rates.items()}
    ratio = med[DDP] / med[SINGLE]
    label = {DDP: f"2 ranks x 1 thread (DDP, batch {res['per_rank_batch']} per rank)",
             SINGLE: f"1 process x {res['threads'][SINGLE]} thread(s) "
                     f"({res['threading_layer']} layer)", ONE: "1 process x 1 thread"}
    rows = [["demo CNN"] + [f"{med[k]:,.0f} ({min(rates[k]):,.0f}-{max(rates[k]):,.0f})"
                            for k in (DDP, SINGLE, ONE)] + [f"{ratio:.2f}", load]]
    table(["model", label[DDP], label[SINGLE], label[ONE], "ranks / threads", "load average"],
          rows)
    print("ranks / threads > 1: two MPI ranks train faster than one process with two threads")
    record("distributed", model="demo cnn", global_batch=res["global_batch"],
           per_rank_batch=res["per_rank_batch"], steps=steps, repeat=repeat,
           threads=res["threads"], threading_layer=res["threading_layer"], samples_per_s=med,
           samples_per_s_min={k: min(v) for k, v in rates.items()},
           samples_per_s_max={k: max(v) for k, v in rates.items()},
           ratio=ratio, loadavg=load)
