"""PyTorch's side of every comparison, timed in a child process of its own.

Three thread pools in one process (PyTorch's OpenMP, OpenBLAS's and numba's) on a 2-core
machine spin against each other and distort *both* sides (measured here: our serial
kernels 100x slower next to a spinning PyTorch pool), so the bench times PyTorch in a
fresh interpreter with its default settings, during the same run, with the same timing
helper and the same inputs. `python -m bench.torch_ref SECTION [--quick]` prints JSON.
PyTorch may live in another environment: NUMBAGRAD_BENCH_TORCH_PYTHON names its interpreter
(it needs numpy and this source tree only)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

from . import timing, workloads

PYTHON_ENV = "NUMBAGRAD_BENCH_TORCH_PYTHON"  # an interpreter with torch (e.g. another venv)


def python() -> str:
    """The interpreter that times PyTorch: $NUMBAGRAD_BENCH_TORCH_PYTHON, else this one."""
    return os.environ.get(PYTHON_ENV) or sys.executable


def available() -> bool:
    if os.environ.get(PYTHON_ENV):
        return os.path.exists(os.environ[PYTHON_ENV])
    import importlib.util
    return importlib.util.find_spec("torch") is not None


def run(section: str, quick: bool) -> dict:
    """Times of PyTorch's candidates for `section` ({key: stats}), or {} when unavailable."""
    if not available():
        return {}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [python(), "-m", "bench.torch_ref", section] + (["--quick"] if quick else [])
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=root, timeout=600,
                         check=False)
    if out.returncode:
        print(f"(PyTorch child failed for {section}: {out.stderr.strip()[-300:]})")
        return {}
    return json.loads(out.stdout.strip().splitlines()[-1])


def torch_stats(section: str):
    """PyTorch's times for `section` ({key: stats}) with a line saying where they come from,
    or None (and a line saying why) when PyTorch is not there."""
    res = run(section, timing.QUICK[0])
    if not res:
        print(timing.TORCH_MISSING if not available() else "(no PyTorch rows)")
        return None
    print(f"PyTorch {res['torch']['version']} ({res['torch']['threads']} threads), timed in a "
          f"child process (see bench/torch_ref.py)")
    return res["stats"]


def _matmul(torch, quick):
    cands = {}
    rng = np.random.default_rng(0)
    for dt in (np.float32, np.float64):
        for n in workloads.matmul_sizes():
            a = torch.from_numpy(rng.standard_normal((n, n)).astype(dt))
            b = torch.from_numpy(rng.standard_normal((n, n)).astype(dt))
            cands[f"{np.dtype(dt).name}/{n}"] = (lambda a=a, b=b: torch.mm(a, b))
    return cands


def _elementwise_fns(torch, x, y, z, pos, X, bias, yt) -> dict:
    return {"add": lambda: x + y, "mul": lambda: x * y,
            "exp": lambda: torch.exp(x), "log": lambda: torch.log(pos),
            "tanh": lambda: torch.tanh(x), "relu": lambda: torch.relu(x),
            "bias_add": lambda: X + bias,
            "tanh_bwd": lambda: x * (1 - yt * yt), "sum0": lambda: X.sum(0),
            "softmax": lambda: torch.softmax(X, -1)}


def _elementwise(torch, quick):
    cands = {}
    for dt in ((np.float32,) if quick else (np.float32, np.float64)):
        x, y, z, pos, X, bias, yt = (torch.from_numpy(v) for v in workloads.elementwise_inputs(dt))
        name = np.dtype(dt).name
        fns = _elementwise_fns(torch, x, y, z, pos, X, bias, yt)
        cands.update({f"{name}/{k}": f for k, f in fns.items()})
    return cands


def _conv(torch, quick):
    x, w, b = (torch.tensor(v, requires_grad=True) for v in workloads.conv_inputs())

    def step():
        x.grad = w.grad = b.grad = None
        torch.nn.functional.conv2d(x, w, b, padding=1).sum().backward()
    return {"conv": step}


def _overhead(torch, quick):
    xv, cv = workloads.chain_inputs()
    x = torch.tensor(xv, requires_grad=True)
    c = torch.tensor(cv)

    def step():
        x.grad = None
        workloads.chain(x, c).sum().backward()
    return {"chain": step}


def _training(torch, quick):
    return {kind: workloads.torch_step(torch, kind) for kind in workloads.MODELS}


def _load(torch, quick):
    """The MLP step quiet, then while another process spins on a core (timed in `main`)."""
    return {"quiet": workloads.torch_step(torch, "mlp")}


SECTIONS = {"matmul": _matmul, "elementwise": _elementwise, "conv": _conv,
            "overhead": _overhead, "training": _training, "load": _load}


def main() -> None:
    import torch

    section = sys.argv[1]
    timing.QUICK[0] = "--quick" in sys.argv
    cands = SECTIONS[section](torch, timing.QUICK[0])
    opts = {"training": {"target": 0.05}, "conv": {"target": 0.05},
            "load": {"target": 0.05}}.get(section, {})
    res = {}
    for k, fn in cands.items():   # one at a time, like the parent's per-shape groups
        res.update(timing.compare({k: fn}, **opts))
    if section == "load":
        with timing.Spinner():
            res["loaded"] = timing.compare({"loaded": cands["quiet"]}, **opts)["loaded"]
    info = {"version": torch.__version__, "threads": torch.get_num_threads()}
    print(json.dumps({"torch": info, "stats": res}))


if __name__ == "__main__":
    main()
