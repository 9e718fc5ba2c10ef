"""Eager speed on real workloads (issue 15): the rows no other section measures, and the
closing table of every row with its ratio.

- `x ** 3` on 1e6 float32 against numpy's `x*x*x`;
- `a * b + c` on 1e6 float32 against numpy, in both orders (which one runs first changes
  glibc's allocator state), with minor page faults per call (`ru_minflt`): a fresh 4 MB
  output that is mmap'ed and unmapped on every op faults in ~1,000 pages;
- a 1024 float32 matmul through `Tensor @` against numpy's, in a fresh process (numpy's own
  OpenBLAS default, all cores), so numbagrad's BLAS threading is what is compared;
- the MLP training step while another process spins on one core, against the same step quiet
  (and PyTorch's, timed the same way in its own process);
- peak memory (ru_maxrss of a fresh process) of one training step of the 3 x (conv-BN-ReLU-pool)
  CNN on 32 x 3 x 128 x 128 images, ours and PyTorch's.
The children are `python -m bench.eager CASE ...`, which print one JSON line.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

import numpy as np

from . import timing, torch_ref, workloads
from .timing import Spinner, compare, fmt_time, header, record, table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _child(args: list, python: str | None = None, timeout: float = 600) -> dict:
    """Run `python -m bench.eager ARGS` (our tree first on the path); its JSON line, or {}
    with the error printed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([python or sys.executable, "-m", "bench.eager", *args], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=timeout, check=False)
    if out.returncode:
        print(f"(bench.eager {' '.join(args)} failed: {out.stderr.strip()[-400:]})")
        return {}
    return json.loads(out.stdout.strip().splitlines()[-1])


def faults_per_call(fn, calls: int = 50) -> float:
    """Minor page faults per call of fn (after two warm-up calls)."""
    fn()
    fn()
    r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(calls):
        fn()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0) / calls


def _pow_and_fma() -> list:
    import autograd

    n = 1_000_000
    x, y, z = workloads.elementwise_inputs(np.float32, n)[:3]
    xt, yt, zt = (autograd.tensor(v) for v in (x, y, z))
    rows = []
    st = compare({"ours": lambda: xt ** 3, "numpy": lambda: x * x * x})
    r = st["ours"]["median"] / st["numpy"]["median"]
    rows.append(["x ** 3, 1e6 f32, vs numpy x*x*x", fmt_time(st["ours"]["median"]),
                 fmt_time(st["numpy"]["median"]), f"{r:.2f}", "<= 1.5"])
    record("eager", case="pow3", ratio=r, seconds={k: s["median"] for k, s in st.items()})
    for order in (("ours", "numpy"), ("numpy", "ours")):
        fns = {"ours": lambda: xt * yt + zt, "numpy": lambda: x * y + z}
        faults = {k: faults_per_call(fns[k]) for k in order}
        st = compare({k: fns[k] for k in order})
        r = st["ours"]["median"] / st["numpy"]["median"]
        rows.append([(f"a * b + c, 1e6 f32, {order[0]} first; page faults/call ours "
                     f"{faults['ours']:.0f}, numpy {faults['numpy']:.0f}"),
                     fmt_time(st["ours"]["median"]), fmt_time(st["numpy"]["median"]),
                     f"{r:.2f}", "<= 1.0"])
        record("eager", case=f"fma_{order[0]}_first", ratio=r, faults=faults,
               seconds={k: s["median"] for k, s in st.items()})
    return rows


def _matmul_fresh() -> list:
    res = _child(["matmul"])
    if not res:
        return []
    r = res["ours"]["median"] / res["numpy"]["median"]
    record("eager", case="matmul1024", ratio=r, blas_threads=res["threads"],
           seconds={k: res[k]["median"] for k in ("ours", "numpy")})
    label = (f"matmul 1024 f32, Tensor @ vs numpy on every core, fresh process (OpenBLAS "
             f"left at {res['threads']} threads by import autograd)")
    return [[label, fmt_time(res["ours"]["median"]), fmt_time(res["numpy"]["median"]),
             f"{r:.2f}", "<= 1.1"]]


def _under_load() -> list:
    import autograd
    import nn
    import nn.functional as F
    import optim

    step = workloads.train_step(autograd, nn, F, optim, "mlp")
    quiet = compare({"quiet": step}, target=0.05)["quiet"]
    with Spinner():
        loaded = compare({"loaded": step}, target=0.05)["loaded"]
    r = loaded["median"] / quiet["median"]
    rows = [["MLP step, another process spinning on a core, vs quiet (ours)",
             fmt_time(loaded["median"]), fmt_time(quiet["median"]), f"{r:.2f}", "<= 1.5"]]
    record("eager", case="mlp_under_load", ratio=r,
           seconds={"loaded": loaded["median"], "quiet": quiet["median"]})
    tstats = torch_ref.run("load", timing.QUICK[0])
    if tstats:
        t = tstats["stats"]
        tr = t["loaded"]["median"] / t["quiet"]["median"]
        rows.append(["MLP step under load vs quiet (PyTorch, its own process)",
                     fmt_time(t["loaded"]["median"]), fmt_time(t["quiet"]["median"]),
                     f"{tr:.2f}", "-"])
        record("eager", case="mlp_under_load_torch", ratio=tr,
               seconds={k: t[k]["median"] for k in ("loaded", "quiet")})
    return rows


def _memory() -> list:
    batch = 4 if timing.QUICK[0] else workloads.CNN128["batch"]
    ours = _child(["memory", "ours", str(batch)])
    if not ours:
        return []
    theirs = (_child(["memory", "torch", str(batch)], torch_ref.python())
              if torch_ref.available() else {})
    label = (f"peak memory, CNN step on {batch}x3x{workloads.CNN128['size']}x"
             f"{workloads.CNN128['size']} (peak RSS, GB)")
    record("eager", case="memory", batch=batch, peak_gb={"ours": ours["peak_gb"],
                                                          "torch": theirs.get("peak_gb")})
    if not theirs:
        return [[label, f"{ours['peak_gb']:.2f}", "-", "-", "<= 1.3"]]
    r = ours["peak_gb"] / theirs["peak_gb"]
    return [[label, f"{ours['peak_gb']:.2f}", f"{theirs['peak_gb']:.2f} (torch)", f"{r:.2f}",
             "<= 1.3"]]


def bench_eager() -> None:
    header("eager speed (issue 15): ours against numpy / quiet / PyTorch, ratio = ours / peer")
    rows = _pow_and_fma() + _matmul_fresh() + _under_load() + _memory()
    table(["workload", "ours", "peer", "ratio", "target"], rows)


def summary(results: list) -> list:
    """The issue-15 table from a run's recorded rows: (workload, ratio, target) for every row
    that was measured (training and overhead rows need PyTorch)."""
    out = []
    for r in results:
        if r.get("section") == "eager" and r.get("ratio") is not None:
            out.append((r["case"], r["ratio"]))
        elif r.get("section") == "overhead" and "torch fwd+bwd" in r.get("us_per_op", {}):
            u = r["us_per_op"]
            out.append(("per-op fwd+bwd vs torch", u["ours fwd+bwd"] / u["torch fwd+bwd"]))
        elif r.get("section") == "training" and "torch" in r.get("seconds", {}):
            s = r["seconds"]
            out.append((f"{r['model']} step vs torch", s["ours (numba)"] / s["torch"]))
        elif r.get("section") == "eager" and r.get("case") == "memory":
            pk = r["peak_gb"]
            if pk.get("torch"):
                out.append(("peak memory vs torch", pk["ours"] / pk["torch"]))
    return out


def print_summary(results: list) -> None:
    rows = summary(results)
    if rows:
        print("\nissue 15 rows measured in this run (ratio = ours / peer):")
        table(["row", "ratio"], [[k, f"{v:.2f}"] for k, v in rows])


# ---- children ---------------------------------------------------------------------------------

def _child_matmul() -> dict:
    import autograd
    from autograd.threads import blas_threads, get_blas_threads

    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((1024, 1024)).astype(np.float32) for _ in range(2))
    ta, tb = autograd.tensor(a), autograd.tensor(b)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

    def numpy_all_cores():  # numpy as in a process without numbagrad: every core
        with blas_threads(cores):
            return a @ b
    threads = get_blas_threads()  # what `import autograd` left for the user's numpy
    st = compare({"ours": lambda: ta @ tb, "numpy": numpy_all_cores}, repeat=5)
    return {"threads": threads, **st}


def _child_memory(lib_name: str, batch: int) -> dict:
    """Peak RSS (GB) of a process that builds the 128x128 CNN and runs two training steps."""
    if lib_name == "torch":
        import torch as lib
        nn, optim = lib.nn, lib.optim
        F = lib.nn.functional
    else:
        import autograd as lib
        import nn
        import nn.functional as F
        import optim
    lib.manual_seed(0)
    size = workloads.CNN128["size"]
    model = workloads.cnn64(nn, size)
    opt = optim.SGD(model.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((batch, 3, size, size)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 10, batch))
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return {"peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9}


def main(argv: list) -> None:
    case = argv[0]
    if case == "matmul":
        res = _child_matmul()
    elif case == "memory":
        res = _child_memory(argv[1], int(argv[2]))
    else:
        raise SystemExit(f"bench.eager: unknown case {case!r}")
    print(json.dumps(res))


if __name__ == "__main__":
    main(sys.argv[1:])
