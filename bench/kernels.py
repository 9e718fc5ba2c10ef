"""Kernel benchmarks: matmul GFLOP/s, elementwise/fused GB/s, the serial/parallel threshold,
and conv2d forward+backward; ours against numpy and (when installed) PyTorch."""
from __future__ import annotations

import numpy as np

from . import machine
from .timing import QUICK, compare, fmt_time, header, rate, record, table
from .torch_ref import torch_stats
from .workloads import conv_inputs, elementwise_inputs, matmul_sizes


def _impl(name):
    from autograd import kernels as K
    return getattr(K, name).implementation("numba")


def bench_matmul() -> None:
    """At the machine's full width: OpenBLAS gets every core here (numbagrad's own `@` gives
    products below `policy.BLAS` one thread, see autograd/kernels/blas.py; the kernels are
    timed directly), so the figures compare with the peak."""
    from autograd.kernels.jit.helper_thread import cpu_count
    from autograd.threads import blas_threads

    with blas_threads(cpu_count()):
        _bench_matmul()


def _bench_matmul() -> None:
    from autograd.kernels import gemm

    pk = machine.peak()
    header("matmul C = A @ B (square n x n), GFLOP/s: median (slowest-fastest), % of peak")
    print(f"peak = {pk['cores']} cores x {pk['flops_per_cycle']['float32']} FLOP/cycle (f32; "
          f"{pk['flops_per_cycle']['float64']} f64) x {pk['clock_ghz']:.2f} GHz (measured) = "
          f"{pk['float32']:.0f} GFLOP/s f32, {pk['float64']:.0f} f64  [{pk['model']}]")
    tstats = torch_stats("matmul")
    dispatched = _impl("matmul")
    sizes = matmul_sizes()
    rows = []
    rng = np.random.default_rng(0)
    for dt in (np.float32, np.float64):
        peak = pk[np.dtype(dt).name]
        for n in sizes:
            a = rng.standard_normal((n, n)).astype(dt)
            b = rng.standard_normal((n, n)).astype(dt)
            cands = {"gemm": lambda a=a, b=b: gemm(a, b),
                     "dispatched": lambda a=a, b=b: dispatched(a, b),
                     "numpy": lambda a=a, b=b: np.matmul(a, b)}
            # OpenBLAS's worker threads spin ~70 ms after each call and would steal a core
            # from the next candidate (numba's threads): let them fall asleep first. The
            # training-step benchmark shows BLAS and numba interleaved as in real use.
            st = compare(cands, repeat=5 if n >= 512 or QUICK[0] else 9,
                         settle={"numpy": 0.3})
            if tstats:
                st["torch"] = tstats[f"{np.dtype(dt).name}/{n}"]
            flops = 2.0 * n ** 3
            g = {k: rate(s, flops / 1e9) for k, s in st.items()}
            row = [np.dtype(dt).name, n]
            for k in st:
                med, lo, hi = g[k]
                row.append(f"{med:6.1f} ({lo:.0f}-{hi:.0f}) {100 * med / peak:3.0f}%")
            row += [f"{g['gemm'][0] / g['numpy'][0]:.2f}",
                    f"{g['dispatched'][0] / g['numpy'][0]:.2f}"]
            if tstats:
                row.append(f"{g['dispatched'][0] / g['torch'][0]:.2f}")
            rows.append(row)
            record("matmul", dtype=np.dtype(dt).name, n=n,
                   gflops={k: v[0] for k, v in g.items()},
                   gflops_min={k: v[1] for k, v in g.items()},
                   gflops_max={k: v[2] for k, v in g.items()}, peak=peak)
    cols = ["dtype", "n", "gemm (ours)", "dispatched (ours)", "numpy (OpenBLAS)"]
    cols += ["torch"] if tstats else []
    cols += ["gemm/numpy", "dispatched/numpy"] + (["dispatched/torch"] if tstats else [])
    table(cols, rows)


def _gbps(stats, nbytes):
    return rate(stats, nbytes / 1e9)


def _elementwise_cases(K, x, y, z, pos, X, bias, yt) -> list:
    """(label, ours, numpy, key, arrays moved) per kernel; arrays moved counts bytes."""
    return [
        ("add a+b", lambda: K.add(x, y), lambda: np.add(x, y), "add", 3),
        ("mul a*b", lambda: K.mul(x, y), lambda: np.multiply(x, y), "mul", 3),
        ("exp", lambda: K.exp(x), lambda: np.exp(x), "exp", 2),
        ("log", lambda: K.log(pos), lambda: np.log(pos), "log", 2),
        ("tanh", lambda: K.tanh(x), lambda: np.tanh(x), "tanh", 2),
        ("relu", lambda: K.relu(x), lambda: np.maximum(x, 0), "relu", 2),
        ("bias add (rows)", lambda: K.add(X, bias), lambda: np.add(X, bias), "bias_add", 2),
        ("tanh backward g*(1-y^2)", lambda: K.act_backward(x, yt, "tanh"),
         lambda: x * (1 - yt * yt), "tanh_bwd", 3),
        ("sum over axis 0 (bias grad)", lambda: K.sum(X, 0), lambda: np.sum(X, 0),
         "sum0", 1),
        ("softmax rows of 1000", lambda: K.softmax(X, -1),
         lambda: K.softmax.reference(X, -1), "softmax", 2),
    ]


def bench_elementwise() -> None:
    from autograd import kernels as K

    n = 1_000_000
    header(f"elementwise and fused kernels on {n:.0e} elements, GB/s (bytes read + written): "
           f"median (slowest-fastest)")
    bw = machine.memory_bandwidth()
    print(f"memory bandwidth (measured): {bw['gbps']:.1f} GB/s (numpy copy {bw['copy']:.1f}, "
          f"prange triad {bw['triad']:.1f}, on {bw['mib']} MiB arrays); inputs of "
          f"{n * 4 / 1e6:.0f} MB (f32) may sit partly in cache and beat it")
    record("memory", gbps=bw["gbps"], copy=bw["copy"], triad=bw["triad"])
    tstats = torch_stats("elementwise")
    rows = []
    dtypes = (np.float32,) if QUICK[0] else (np.float32, np.float64)
    for dt in dtypes:
        x, y, z, pos, X, bias, yt = elementwise_inputs(dt, n)
        item = np.dtype(dt).itemsize
        cases = _elementwise_cases(K, x, y, z, pos, X, bias, yt)
        for label, ours, ref, key, arrays in cases:
            st = compare({"ours": ours, "numpy": ref})
            if tstats:
                st["torch"] = tstats[f"{np.dtype(dt).name}/{key}"]
            g = {k: _gbps(s, arrays * n * item) for k, s in st.items()}
            row = [np.dtype(dt).name, label]
            for k in st:
                row.append(f"{g[k][0]:5.1f} ({g[k][1]:.1f}-{g[k][2]:.1f})")
            row.append(f"{g['ours'][0] / g['numpy'][0]:.2f}")
            if tstats:
                row.append(f"{g['ours'][0] / g['torch'][0]:.2f}")
            rows.append(row)
            record("elementwise", dtype=np.dtype(dt).name, kernel=key,
                   gbps={k: v[0] for k, v in g.items()},
                   seconds={k: s["median"] for k, s in st.items()})
    cols = ["dtype", "kernel", "ours", "numpy"] + (["torch"] if tstats else [])
    cols += ["ours/numpy"] + (["ours/torch"] if tstats else [])
    table(cols, rows)


def _threshold_cands(E, x, y) -> dict:
    """relu and mul: the serial kernel, the parallel path (its task loop on every thread of
    the pool, parts of E.CHUNK elements), numpy's ufunc."""
    from autograd.kernels.jit import tasks

    out = np.empty_like(x)
    relu, mul = E.UNARY["relu"], E.BINARY["mul"][0]
    ser, mser = relu.serial.get(x.dtype), mul.serial.get(x.dtype)
    width = tasks.threads()
    zero = x.dtype.type(0)

    def split(kernel, *args):
        return lambda: tasks.run(kernel.tasks, x.dtype,
                                 (*args, E.CHUNK, tasks.new_block_counter(width), out),
                                 width)

    return {"relu serial": lambda: ser(x, zero, out),
            "relu parallel": split(relu, x, zero),
            "relu numpy": lambda: np.maximum(x, 0, out=out),
            "mul serial": lambda: mser(x, y, out),
            "mul parallel": split(mul, x, y),
            "mul numpy": lambda: np.multiply(x, y, out=out)}


def bench_threshold() -> None:
    """Where numba beats numpy, and where prange beats the serial loop: the measurements
    behind `autograd.kernels.policy` (its thresholds are printed after the table)."""
    from autograd.kernels import policy
    from autograd.kernels.jit import elementwise as E

    header("serial vs parallel vs numpy: relu and a*b by size (time per call)")
    rows = []
    sizes = [1 << s for s in ((13, 16, 17, 18, 20) if QUICK[0] else range(10, 23))]
    for n in sizes:
        x, y = (np.random.default_rng(1).standard_normal(n).astype(np.float32)
                for _ in range(2))
        st = compare(_threshold_cands(E, x, y), target=0.002, rewarm=0.005)
        rows.append([n] + [fmt_time(s["median"]) for s in st.values()])
        record("threshold", n=n, seconds={k: s["median"] for k, s in st.items()})
    table(["n", "relu serial", "relu parallel", "relu numpy", "mul serial", "mul parallel",
           "mul numpy"], rows)
    print("policy in use (autograd.kernels.policy): numpy below `numpy_below` elements, "
          "parallel above `parallel_above` (elementwise: the task pool; fused: prange)")
    table(["family", "numpy_below", "parallel_above"],
          [[name, t["numpy_below"], t["parallel_above"]]
           for name, t in policy.describe().items() if name != "ufunc"])
    print(f"numpy ufuncs (log, sin, cos) on two threads above "
          f"{policy.threaded_ufunc_above()} elements")
    record("policy", **policy.describe())
    _blas_threshold()


def _blas_threshold() -> None:
    """OpenBLAS on one thread vs every core by product size, and what switching costs: the
    measurements behind `policy.BLAS` (numbagrad's own matmuls, autograd/kernels/blas.py)."""
    import time

    from autograd.kernels import blas, policy

    if blas.openblas() is None:
        print("OpenBLAS not found: numbagrad's matmuls keep numpy's BLAS settings")
        return
    have, wide = blas.get_threads(), blas.width()
    n_set = 20000
    t0 = time.perf_counter()
    for _ in range(n_set):
        blas.set_threads(1)
        blas.set_threads(wide)
    per_set = (time.perf_counter() - t0) / (2 * n_set)
    blas.set_threads(have)
    header(f"OpenBLAS threads per matmul (square f32): 1 vs {wide}; switching costs "
           f"{per_set * 1e6:.2f} us per openblas_set_num_threads")
    rows = []
    rng = np.random.default_rng(0)
    for n in ((128, 512) if QUICK[0] else (128, 256, 512, 768, 1024)):
        a, b = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(2))
        cands = {k: (lambda k=k, a=a, b=b: blas.call(np.matmul, 0 if k == 1 else 1 << 62, a, b))
                 for k in (1, wide)}
        st = compare(cands, repeat=5, settle={wide: 0.1})
        rows.append([n, n ** 3, fmt_time(st[1]["median"]), fmt_time(st[wide]["median"]),
                     f"{st[1]['median'] / st[wide]['median']:.2f}",
                     blas.threads_for(n ** 3)])
        record("blas_threads", n=n, seconds={str(k): s["median"] for k, s in st.items()},
               set_us=per_set * 1e6)
    table(["n", "MACs", "1 thread", f"{wide} threads", "speed-up", "policy gives"], rows)
    print(f"policy.BLAS: every core above {policy.BLAS.parallel_above} MACs (chosen so that a "
          f"call waiting a scheduler slice for its second thread, under load, still gains)")


def bench_conv() -> None:
    import autograd
    import nn.functional as F

    header("conv2d forward+backward (N=64, 8->16 channels, 14x14, 3x3, padding 1), f32")
    tstats = torch_stats("conv")
    x, w, b = conv_inputs()
    xt = autograd.tensor(x, requires_grad=True)
    wt = autograd.tensor(w, requires_grad=True)
    bt = autograd.tensor(b, requires_grad=True)

    def ours():
        xt.grad = wt.grad = bt.grad = None
        F.conv2d(xt, wt, bt, padding=1).sum().backward()

    def numpy_backend():
        autograd.set_backend("numpy")
        try:
            ours()
        finally:
            autograd.set_backend("numba")

    st = compare({"ours (numba)": ours, "ours (numpy backend)": numpy_backend}, target=0.05)
    if tstats:
        st["torch"] = tstats["conv"]
    rows = [[k, fmt_time(s["median"]), f"{fmt_time(s['min'])}-{fmt_time(s['max'])}"]
            for k, s in st.items()]
    table(["conv2d fwd+bwd", "median", "min-max"], rows)
    if tstats:
        print(f"ours / torch = {st['ours (numba)']['median'] / st['torch']['median']:.2f}x")
    record("conv2d", seconds={k: s["median"] for k, s in st.items()})
