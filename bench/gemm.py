"""The gemm section: autograd.kernels.gemm (numbagrad's own numba GEMM, fused epilogue)
against numpy's BLAS, as time ours / numpy measured side by side (issue 21's targets).

Square products one thread each (numba and OpenBLAS), as GFLOP/s and % of one core's peak;
the fused Linear forward `relu(x @ w + b)` and the batched attention-sized product on every
core each. `@`, Linear and attention keep calling BLAS unless a row here shows gemm faster."""
from __future__ import annotations

import numpy as np

from . import machine
from .timing import QUICK, compare, fmt_time, header, rate, record, table


def _gemm():
    from autograd import kernels as K
    return K.gemm.implementation("numba")


def bench_gemm() -> None:
    import autograd
    from autograd.kernels.jit.helper_thread import cpu_count

    before = autograd.get_num_threads()
    try:
        autograd.set_num_threads(1)
        _square()
        autograd.set_num_threads(cpu_count())
        _fused(cpu_count())
    finally:
        autograd.set_num_threads(before)


def _square() -> None:
    gemm = _gemm()
    pk = machine.peak()
    header("gemm (numba) vs numpy matmul, square n x n, ONE thread each: GFLOP/s median "
           "(slowest-fastest), % of one core's peak, time gemm / numpy")
    print(f"one core's peak = {pk['flops_per_cycle']['float32']} FLOP/cycle f32 "
          f"({pk['flops_per_cycle']['float64']} f64) x {pk['clock_ghz']:.2f} GHz = "
          f"{pk['float32'] / pk['cores']:.0f} GFLOP/s f32, {pk['float64'] / pk['cores']:.0f} f64 "
          f"[{pk['model']}]")
    sizes = (64, 256, 512) if QUICK[0] else (64, 128, 256, 512, 1024)
    rng = np.random.default_rng(0)
    rows = []
    for dt in (np.float32, np.float64):
        peak = pk[np.dtype(dt).name] / pk["cores"]
        for n in sizes:
            a = rng.standard_normal((n, n)).astype(dt)
            b = rng.standard_normal((n, n)).astype(dt)
            st = compare({"gemm": lambda a=a, b=b: gemm(a, b),
                          "numpy": lambda a=a, b=b: np.matmul(a, b)},
                         repeat=3 if QUICK[0] else 7)
            g = {k: rate(s, 2.0 * n ** 3 / 1e9) for k, s in st.items()}
            ratio = st["gemm"]["median"] / st["numpy"]["median"]
            rows.append([np.dtype(dt).name, n] + [
                f"{g[k][0]:.1f} ({g[k][1]:.1f}-{g[k][2]:.1f}) {100 * g[k][0] / peak:.0f}%"
                for k in ("gemm", "numpy")] + [f"{ratio:.2f}"])
            record("gemm", case="square", threads=1, dtype=np.dtype(dt).name, n=n,
                   peak=peak, gflops={k: v[0] for k, v in g.items()},
                   seconds={k: s["median"] for k, s in st.items()}, ratio=ratio)
    table(["dtype", "n", "gemm GFLOP/s", "numpy GFLOP/s", "gemm/numpy time"], rows)


def _fused(threads: int) -> None:
    gemm = _gemm()
    header(f"gemm fused cases, all {threads} cores each: median time (slowest-fastest), "
           f"time gemm / numpy")
    rng = np.random.default_rng(1)
    rows = []
    for dt in (np.float32,):
        x = rng.standard_normal((128, 784)).astype(dt)
        w = rng.standard_normal((784, 256)).astype(dt)
        bias = rng.standard_normal(256).astype(dt)
        a = rng.standard_normal((64, 64, 32)).astype(dt)
        b = rng.standard_normal((64, 32, 64)).astype(dt)
        cases = {
            "Linear 128x784 @ 784x256 + bias + relu": (
                lambda x=x, w=w, bias=bias: gemm(x, w, bias, "relu"),
                lambda x=x, w=w, bias=bias: np.maximum(x @ w + bias, 0),
                2.0 * 128 * 784 * 256),
            "batched 64 x (64x32 @ 32x64)": (
                lambda a=a, b=b: gemm(a, b), lambda a=a, b=b: np.matmul(a, b),
                2.0 * 64 * 64 * 32 * 64)}
        for name, (ours, ref, flops) in cases.items():
            # OpenBLAS's threads spin after each call: let them sleep before numba's run
            st = compare({"gemm": ours, "numpy": ref}, settle={"numpy": 0.1},
                         repeat=3 if QUICK[0] else 9)
            ratio = st["gemm"]["median"] / st["numpy"]["median"]
            rows.append([name, np.dtype(dt).name] + [
                f"{fmt_time(st[k]['median'])} ({fmt_time(st[k]['min'])}-"
                f"{fmt_time(st[k]['max'])}) {flops / st[k]['median'] / 1e9:.0f} GFLOP/s"
                for k in ("gemm", "numpy")] + [f"{ratio:.2f}"])
            record("gemm", case=name, threads=threads, dtype=np.dtype(dt).name,
                   seconds={k: s["median"] for k, s in st.items()}, ratio=ratio)
    table(["case", "dtype", "gemm", "numpy", "gemm/numpy time"], rows)
