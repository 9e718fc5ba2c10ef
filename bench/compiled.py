"""autograd.compile: compiled steps against eager numbagrad, numpy and PyTorch's eager mode.

Rows (issue 16's targets): `a*b+c` on 1e6 float32 (one fused pass against numpy's two), the
20-op chain forward+backward per op, each training step of bench/workloads.py compiled, and
the first call (recording + fused kernels loaded from numba's disk cache) in a fresh process.
"""
from __future__ import annotations

import functools
import json
import os
import subprocess
import sys

import numpy as np

from . import workloads
from .timing import compare, fmt_time, header, record, table
from .torch_ref import torch_stats


def compiled_training_step(kind: str):
    """(eager step, compiled step, inputs): the training step of model `kind` as a function
    of its inputs and targets (what autograd.compile records), for two identical models."""
    import autograd
    import nn
    import nn.functional as F
    import optim

    eager = workloads.model_step(autograd, nn, F, optim, kind)
    compiled = autograd.compile(workloads.model_step(autograd, nn, F, optim, kind))
    return eager, compiled, tuple(autograd.tensor(a) for a in workloads.data(kind))


def _elementwise() -> list:
    import autograd

    x, y, z = (np.random.default_rng(k).standard_normal(1_000_000).astype(np.float32)
               for k in range(3))
    a, b, c = (autograd.tensor(v) for v in (x, y, z))
    fused = autograd.compile(lambda a, b, c: a * b + c)
    st = compare({"numpy a*b+c": lambda: x * y + z, "compiled": lambda: fused(a, b, c),
                  "eager": lambda: a * b + c})
    ratio = st["compiled"]["median"] / st["numpy a*b+c"]["median"]
    record("compiled", workload="a*b+c", seconds={k: s["median"] for k, s in st.items()})
    return [["a*b+c, 1e6 float32", fmt_time(st["compiled"]["median"]),
             fmt_time(st["eager"]["median"]), f"numpy {fmt_time(st['numpy a*b+c']['median'])}",
             f"{ratio:.2f}", "<= 0.5"]]


def _chain(tstats) -> list:
    import autograd

    xv, cv = workloads.chain_inputs()
    x = autograd.tensor(xv, requires_grad=True)
    c = autograd.tensor(cv)

    def eager(x0=None):
        x.grad = None
        workloads.chain(x, c).sum().backward()
        return x.grad

    compiled = autograd.compile(lambda: eager())
    st = compare({"compiled": compiled, "eager": eager})
    n = workloads.N_OPS + 1
    row = ["chain of 20 ops on 4x4, fwd+bwd, per op", f"{st['compiled']['median'] / n * 1e6:.2f} us",
           f"{st['eager']['median'] / n * 1e6:.2f} us"]
    if tstats:
        torch_op = tstats["chain"]["median"] / n
        row += [f"torch {torch_op * 1e6:.2f} us",
                f"{st['compiled']['median'] / n / torch_op:.2f}", "<= 0.3"]
    else:
        row += ["-", "-", "<= 0.3"]
    record("compiled", workload="chain", seconds={k: s["median"] for k, s in st.items()})
    return [row]


TARGETS = {"mlp": "<= 0.5", "tiny_gpt": "<= 1.0"}  # issue 16 (per PyTorch eager step)


def _training(tstats) -> list:
    rows = []
    for kind in workloads.MODELS:
        eager, compiled, inputs = compiled_training_step(kind)
        st = compare({"compiled": functools.partial(compiled, *inputs),
                      "eager": functools.partial(eager, *inputs)}, target=0.05)
        row = [f"{kind} training step", fmt_time(st["compiled"]["median"]),
               fmt_time(st["eager"]["median"])]
        if tstats:
            t = tstats[kind]["median"]
            row += [f"torch {fmt_time(t)}", f"{st['compiled']['median'] / t:.2f}"]
        else:
            row += ["-", "-"]
        rows.append(row + [TARGETS.get(kind, "")])
        record("compiled", workload=kind, seconds={k: s["median"] for k, s in st.items()})
    return rows


_FIRST_CALL = """
import json, time, sys
sys.path.insert(0, {root!r})
from bench.compiled import compiled_training_step
eager, compiled, inputs = compiled_training_step("mlp")
eager(*inputs)                      # the eager kernels, compiled or loaded once
t0 = time.perf_counter(); eager(*inputs); one = time.perf_counter() - t0
t0 = time.perf_counter(); compiled(*inputs); first = time.perf_counter() - t0
print(json.dumps({{"eager": one, "first": first}}))
"""


def first_call() -> dict:
    """Seconds of one eager MLP step and of the compiled step's first call (recording and
    fusion), in a fresh process whose fused kernels are in numba's disk cache (a first
    process fills it)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = _FIRST_CALL.format(root=root)
    result = {}
    for _ in range(2):  # the first child may compile the fused kernels; the second loads them
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=600, check=False, cwd=root)
        if out.returncode:
            raise RuntimeError(f"bench compiled: first-call child failed: {out.stderr[-500:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def bench_compiled() -> None:
    header("autograd.compile: compiled steps (ours compiled / ours eager / peer)")
    tover = torch_stats("overhead")
    ttrain = torch_stats("training")
    rows = _elementwise() + _chain(tover) + _training(ttrain)
    table(["workload", "compiled", "eager", "peer", "compiled/peer", "target"], rows)
    first = first_call()
    limit = 2 * first["eager"] + 0.5
    print(f"first call of the compiled MLP step (recording + fused kernels from the disk "
          f"cache), fresh process: {first['first']:.3f} s; one eager step "
          f"{first['eager'] * 1e3:.1f} ms; target <= 2 x eager + 0.5 s = {limit:.3f} s")
    record("compiled", workload="first call", seconds=first)
