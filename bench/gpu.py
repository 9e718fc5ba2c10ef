"""python -m bench.gpu [--timeout S] [--quick] [--launches] [--ptx CC]

numbagrad on "cuda" (numba-cuda) against PyTorch CUDA when it is installed, on a machine
with a GPU: the MLP 784-256-128-10 training step (SGD) at batch 128 and 4096, the small CNN
step at batch 64 and 1024, the tiny GPT step, and float32 matmul at 512 and 4096 (TFLOP/s).
Each row is the median of repeated timed runs after warm-up, synchronised on both sides;
a workload whose ops have no cuda kernel yet prints n/a with the op that is missing. The
MLP step's kernel-launch count is printed too.

``--launches`` only counts the launches of one MLP step (same layers, small sizes), which also
works on numba's CUDA simulator: ``NUMBA_ENABLE_CUDASIM=1 python -m bench.gpu --launches``.
``--ptx 9.0`` compiles every kernel of those steps, the tiny GPT step and the indexing and
layout ops to PTX without a GPU (the `cuda` extra's NVVM) and reports any that fail to type
or compile. The whole run stops after
``--timeout`` seconds (default 300), printing what it has.
"""
from __future__ import annotations

import argparse
import itertools
import signal
import statistics
import sys
import time

import numpy as np

from .workloads import MODELS, data

MLP_SIZES = (784, 256, 128, 10)


FIRST_CALL: dict = {}  # (library, workload) -> seconds of the first call (compiles kernels)


def _median_time(step, sync, repeat: int, warmup: int = 3, name: str = "") -> float:
    start = time.perf_counter()
    step()
    sync()
    if name:
        FIRST_CALL[name] = time.perf_counter() - start
    for _ in range(warmup - 1):
        step()
    sync()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _step(lib, nn, F, optim, kind: str, batch: int, device: str):
    """One training step of workload `kind` on `device` (the model and data moved there)."""
    lib.manual_seed(0)
    model = MODELS[kind](nn).to(device)
    opt = (optim.AdamW(model.parameters(), lr=3e-4) if kind == "tiny_gpt"
           else optim.SGD(model.parameters(), lr=0.01))
    arrays = data(kind)
    if kind != "tiny_gpt":
        reps = -(-batch // len(arrays[0]))
        arrays = tuple(np.concatenate([a] * reps)[:batch] for a in arrays)
    *inputs, y = (lib.tensor(a, device=device) for a in arrays)
    y = y.reshape(-1)

    def step():
        opt.zero_grad()
        out = model(*inputs)
        if out.ndim == 3:
            out = out.reshape(-1, out.shape[-1])
        F.cross_entropy(out, y).backward()
        opt.step()
    return step


def _libraries() -> dict:
    import autograd
    import nn
    import optim
    libs = {"numbagrad": (autograd, nn, nn.functional, optim, autograd.cuda.synchronize)}
    try:
        import torch
        if torch.cuda.is_available():
            libs["torch"] = (torch, torch.nn, torch.nn.functional, torch.optim,
                             torch.cuda.synchronize)
    except ImportError:
        pass
    return libs


def launches_per_mlp_step(sizes=MLP_SIZES, batch: int = 128) -> int:
    """Kernels one MLP training step launches (the same count on a GPU and the simulator)."""
    import autograd
    import nn
    import optim
    from autograd.kernels.cuda import runtime
    autograd.manual_seed(0)
    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers += ([nn.ReLU()] if i else []) + [nn.Linear(n_in, n_out)]
    model = nn.Sequential(*layers).to("cuda")
    opt = optim.SGD(model.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    x = autograd.tensor(rng.standard_normal((batch, sizes[0])).astype(np.float32),
                        device="cuda")
    y = autograd.tensor(rng.integers(0, sizes[-1], batch), device="cuda")
    counts = []
    for _ in range(3):
        start = runtime.launch_count()
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        counts.append(runtime.launch_count() - start)
    return counts[-1]


def ptx_check(cc: tuple = (9, 0)) -> tuple:
    """Compile every kernel that MLP, CNN and tiny GPT training steps (every optimiser,
    float32 and float64) and the indexing and layout ops launch to PTX for compute
    capability `cc`, with numba-cuda's real compiler (NVVM, from the `cuda` extra) and no
    GPU: device memory is host memory and no kernel runs, so the Python side proceeds while
    each launch compiles. What the simulator cannot tell (it runs kernels as Python) this
    does: that they type and compile for a GPU.
    Returns (kernel instantiations compiled, failures)."""
    import types

    import numba
    from numba import cuda
    from numba.cuda import dispatcher

    import autograd
    import nn
    import optim
    from autograd.kernels.cuda import runtime

    class Host(np.ndarray):  # stands in for a device array
        def copy_to_host(self):
            return np.asarray(self).copy()

    cuda.device_array = lambda n, dtype: np.zeros(n, dtype).view(Host)
    cuda.to_device = lambda a: np.array(a).view(Host)
    dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=cc)
    autograd.cuda._state["available"] = True
    seen, failures = set(), []

    def compile_instead(kernel, blocks, threads, *args):
        sig = tuple(numba.typeof(np.asarray(a) if isinstance(a, Host) else a) for a in args)
        if (kernel.py_func, sig) not in seen:
            seen.add((kernel.py_func, sig))
            try:
                cuda.compile_ptx(kernel.py_func, sig, cc=cc)
            except Exception as e:  # noqa: BLE001 - reported, with the kernel and its types
                failures.append(f"{kernel.py_func.__qualname__}{sig}: {e}")
    runtime.launch = compile_instead
    runtime.SIMULATOR = True  # allocations through cuda.device_array: host memory (above)
    from autograd.kernels.cuda import linalg
    linalg._SMS[:] = [132]  # an H100 / H200's multiprocessors (no device to ask)
    optimisers = (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
                  lambda p: optim.Adam(p, amsgrad=True), optim.AdamW, optim.Adagrad,
                  lambda p: optim.RMSprop(p, centered=True, momentum=0.1), optim.Adadelta,
                  optim.Adamax, optim.NAdam, optim.RAdam)
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        models = [nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3)),
                  nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(),
                                nn.MaxPool2d(2), nn.Flatten(), nn.Linear(18, 3))]
        inputs = [(6, 5), (6, 1, 6, 6)]
        for model, shape in zip(models, inputs):
            model.to(dtype).to("cuda")
            x = autograd.tensor(rng.standard_normal(shape).astype(dtype), device="cuda")
            y = autograd.tensor(rng.integers(0, 3, 6), device="cuda")
            for make in optimisers:
                opt = make(model.parameters())
                opt.zero_grad()
                loss = nn.functional.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                (model(x).argmax(1) == y).float().mean().item()
        _gpt_ops(dtype, rng)
    return len(seen), failures


def _gpt_ops(dtype, rng) -> None:
    """The tiny GPT's training step (small sizes, AdamW) and the indexing and layout ops on
    cuda, for `ptx_check` (kernels do not run there: every value is what the host wrote)."""
    import autograd
    import nn
    import optim

    from . import workloads
    saved = dict(workloads.GPT)
    workloads.GPT.update(vocab=7, tokens=4, width=8, heads=2, layers=1, batch=2)
    try:
        autograd.manual_seed(0)
        model = workloads.MODELS["tiny_gpt"](nn).to(dtype).to("cuda")
        tokens, positions, mask, y = workloads.data("tiny_gpt")
        inputs = [autograd.tensor(a, device="cuda") for a in (tokens, positions)]
        inputs.append(autograd.tensor(mask.astype(dtype), device="cuda"))
        y = autograd.tensor(y, device="cuda")
        opt = optim.AdamW(model.parameters())
        opt.zero_grad()
        out = model(*inputs)
        nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1)).backward()
        opt.step()
    finally:
        workloads.GPT.clear()
        workloads.GPT.update(saved)
    F = nn.functional
    x = autograd.tensor(rng.standard_normal((3, 4, 5)).astype(dtype), device="cuda",
                        requires_grad=True)
    for index_dtype in (np.int64, np.int32):
        i = autograd.tensor(np.array([2, 0, 2], index_dtype), device="cuda")
        parts = [x[1:, ::2, None], x[i], x[:, i], x[i, 1, [0, 4, 4]], x.transpose(0, 2),
                 x.flip(1), x.permute(2, 0, 1), autograd.cat([x, x], 1),
                 autograd.stack([x, x], 0).sum(0), x.tril(), x.triu(1), x.softmax(0),
                 x.log_softmax(1), F.dropout(x, 0.3), x.roll(1, 2), F.gelu(x),
                 F.gelu(x, approximate="tanh"), x.masked_fill(x > 0, 0.0),
                 F.embedding(i, x[0]), x[x > 0]]
        q = x[:2, :, :3].reshape(2, 1, 4, 3)
        allowed = autograd.tensor(np.tril(np.ones((4, 4), bool)), device="cuda")
        parts.append(F.scaled_dot_product_attention(q, q, q, attn_mask=allowed))
        parts.append(F.scaled_dot_product_attention(q, q, q, is_causal=True))
        sum(p.sum() for p in parts).backward()
        with autograd.no_grad():
            z = x.detach() * 1
            z[0:2] = 1.0
            z[z > 0] = 2.0
            z[i, 1] = x.detach()[0, 0, :1]
    _rest_ops(x, dtype)


def _rest_ops(x, dtype) -> None:
    """scatter / scatter_reduce, nonzero, unique, one_hot, max_unpool2d and einsum with a
    diagonal on cuda, for `ptx_check`; the compaction kernels that only run for a non-zero
    count (which a check whose kernels never run cannot see) are launched here directly."""
    import autograd
    import nn
    from autograd.kernels.cuda import runtime, select
    F = nn.functional
    idx = autograd.tensor(np.array([[0, 2, 1, 0], [1, 1, 0, 2]]), device="cuda")
    base, src = x[:, :, 0], x[:2, :, 1]
    parts = [base.scatter_reduce(0, idx, src, r, include_self=s)
             for r in ("sum", "mean", "amax", "amin") for s in (True, False)]
    parts += [base.scatter(0, idx, src), base.scatter(1, idx, value=1.0),
              base.scatter_add(0, idx, src), F.max_unpool2d(*F.max_pool2d(
                  x.reshape(1, 3, 4, 5), 2, return_indices=True), 2)]
    sum(p.sum() for p in parts).backward()
    with autograd.no_grad():
        base.scatter_reduce(0, idx, src, "prod", include_self=False)
        autograd.einsum("ii->i", x[0, :, :4])
        autograd.einsum("bii->bi", x[:, :, :4])
        for t in (x > 0, x):
            t.nonzero()
            autograd.where(t)
            t.unique(return_inverse=True, return_counts=True)
        F.one_hot(idx, 3)
    ints = runtime.to_device(np.ones(4, np.int64))
    for found in (runtime.to_device(np.ones(4, bool)), runtime.to_device(np.ones(4, dtype)),
                  ints):
        runtime.launch(select._compact_coords, 1, 1, found.dev, ints.dev, ints.dev, 4, 1,
                       ints.dev)
    runtime.launch(select._counts, 1, 1, ints.dev, ints.dev, 1, 4)


def _row(name: str, results: dict, unit: str) -> list:
    ours, theirs = results.get("numbagrad"), results.get("torch")
    fmt = (lambda v: f"{v * 1e3:.2f} ms") if unit == "ms" else (lambda v: f"{v:.1f} TFLOP/s")
    cells = [name]
    for v in (ours, theirs):
        cells.append(fmt(v) if isinstance(v, float) else (v or "-"))
    if isinstance(ours, float) and isinstance(theirs, float):
        cells.append(f"{ours / theirs:.2f}x" if unit == "ms" else f"{ours / theirs:.0%}")
    else:
        cells.append("-")
    return cells


def run(quick: bool) -> None:
    import autograd
    if not autograd.cuda.is_available():
        print("bench.gpu: autograd.cuda.is_available() is False (numba-cuda not installed or "
              "no GPU): nothing to time")
        return
    libs = _libraries()
    repeat = 5 if quick else 20
    rows = []
    print(f"{'workload':<24}{'numbagrad':>16}{'torch':>16}{'ratio':>10}", flush=True)
    steps = [("mlp", 128), ("mlp", 4096), ("cnn", 64), ("cnn", 1024), ("tiny_gpt", 16)]
    for kind, batch in steps[:3] if quick else steps:
        results = {}
        for name, (lib, nn, F, optim, sync) in libs.items():
            try:
                results[name] = _median_time(_step(lib, nn, F, optim, kind, batch, "cuda"),
                                             sync, repeat, name=f"{name} {kind} b={batch}")
            except NotImplementedError as e:
                results[name] = "n/a: " + str(e).split(":")[0]
            except Exception as e:  # noqa: BLE001 - one failing workload must not hide the rest
                results[name] = f"failed: {type(e).__name__}"
                print(f"{name} {kind} b={batch}: {type(e).__name__}: {str(e)[:400]}",
                      file=sys.stderr, flush=True)
        rows.append(_row(f"{kind} step b={batch}", results, "ms"))
        print("".join(f"{c:<24}" if i == 0 else f"{c:>16}" for i, c in enumerate(rows[-1])),
              flush=True)
    for n in (512,) if quick else (512, 4096):
        results = {}
        a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
        for name, (lib, _, _, _, sync) in libs.items():
            x = lib.tensor(a, device="cuda")
            with lib.no_grad():
                seconds = _median_time(lambda x=x: x @ x, sync, repeat)
            results[name] = 2 * n ** 3 / seconds / 1e12
        rows.append(_row(f"matmul {n} float32", results, "tflops"))
        print("".join(f"{c:<24}" if i == 0 else f"{c:>16}" for i, c in enumerate(rows[-1])),
              flush=True)
    print(f"MLP step kernel launches (numbagrad): {launches_per_mlp_step()}", flush=True)
    print("first call (kernel compilation included): " + ", ".join(
        f"{name} {seconds:.1f} s" for name, seconds in FIRST_CALL.items()), flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.gpu", description=__doc__.splitlines()[2])
    p.add_argument("--timeout", type=int, default=300, help="stop after S seconds (300)")
    p.add_argument("--quick", action="store_true", help="fewer workloads and repeats")
    p.add_argument("--launches", action="store_true",
                   help="only count one MLP step's kernel launches (small sizes: also on the "
                        "CUDA simulator)")
    p.add_argument("--ptx", metavar="CC", help="only compile every kernel of the MLP and CNN "
                   "steps to PTX for compute capability CC (e.g. 9.0), without a GPU (needs "
                   "the cuda extra)")
    args = p.parse_args(argv)

    def stop(signum, frame):
        raise TimeoutError(f"bench.gpu: stopped after --timeout {args.timeout} s")
    signal.signal(signal.SIGALRM, stop)
    signal.alarm(args.timeout)
    try:
        if args.ptx:
            cc = tuple(int(v) for v in args.ptx.split("."))
            compiled, failures = ptx_check(cc)
            print(f"PTX for sm_{cc[0]}{cc[1]}: {compiled} kernel instantiations compiled, "
                  f"{len(failures)} failed")
            for failure in failures:
                print("  " + failure)
            return 1 if failures else 0
        if args.launches:
            n = launches_per_mlp_step((20, 16, 12, 10), batch=8)
            print(f"MLP (Linear-ReLU-Linear-ReLU-Linear, cross-entropy, SGD) step: {n} kernel "
                  f"launches")
        else:
            run(args.quick)
    except TimeoutError as e:
        print(e, file=sys.stderr)
        return 124
    finally:
        signal.alarm(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
