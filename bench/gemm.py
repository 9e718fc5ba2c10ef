"""The gemm section: autograd.kernels.gemm (numbagrad's own numba GEMM, fused epilogue)
against numpy's BLAS, as time ours / numpy measured side by side (issue 21's targets), and
the measurements behind the routing policy (`gemm_matmul`, `gemm_linear`), which it prints.

- the fixed cost of a parallel launch: numba's prange region against gemm's task pool;
- square n x n, float32 and float64, ONE thread each, then ALL cores each (numba's threads
  and OpenBLAS's, set explicitly around the numpy timings): GFLOP/s and % of peak;
- the fused Linear forward `relu(x @ w^T + b)` and the batched attention-sized product,
  all cores each (the targets) and one thread each;
- routes: gemm as `@` / Linear / attention would call it against the BLAS call they make
  today (OpenBLAS threads chosen per call by `autograd/kernels/blas.py`), per shape, with
  the policy's current choice; a route belongs in the policy only where gemm wins here.
"""
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
        _launch()
        _square(1)
        _square(cpu_count())
        _fused(cpu_count())
        _fused(1)
        _routes()
    finally:
        autograd.set_num_threads(before)


def _launch() -> None:
    """The fixed cost of one parallel run with nothing to do: a numba `prange` region under
    the threading layer in use, and gemm's task pool (autograd/kernels/jit/tasks.py), quiet
    and while another process spins on a core."""
    import numba
    from numba import njit, prange

    from autograd.kernels.jit import tasks
    from autograd.kernels.jit._common import lazy_njit

    from .timing import Spinner

    @njit(parallel=True)
    def region(x):
        for i in prange(x.shape[0]):
            x[i] += 1.0

    def _sig(dt):
        from numba import types
        return types.boolean(types.Array(types.int64, 1, "C"))

    @lazy_njit(_sig, nogil=True)
    def noop_tasks(ctr):
        last = False
        while True:
            if tasks.claim(ctr) >= 2:
                return last
            last = tasks.finish(ctr, 2)

    x = np.zeros(2)
    n = tasks.threads()
    fns = {"prange": lambda: region(x),
           "task pool": lambda: tasks.run(noop_tasks, np.float64, (tasks.new_counter(),), n)}
    header(f"parallel launch cost, nothing to do, {n} threads: numba prange region "
           f"({numba.threading_layer() if _ran(region, x) else '?'} layer) vs gemm's task pool")
    rows = []
    for loaded in (False, True):
        if loaded:
            with Spinner():
                st = compare(fns, repeat=5)
        else:
            st = compare(fns, repeat=5)
        rows.append(["another process spinning" if loaded else "quiet"]
                    + [fmt_time(st[k]["median"]) for k in fns])
        record("gemm", case=f"launch {'loaded' if loaded else 'quiet'}",
               seconds={k: s["median"] for k, s in st.items()})
    table(["", *fns], rows)


def _ran(fn, *args) -> bool:
    fn(*args)
    return True


def _threads(n: int):
    """numba's and OpenBLAS's thread counts both n (OpenBLAS's restored by the caller)."""
    import autograd
    autograd.set_num_threads(n)


def _square(threads: int) -> None:
    from autograd.threads import blas_threads

    gemm = _gemm()
    pk = machine.peak()
    _threads(threads)
    scope = "ONE thread" if threads == 1 else f"all {threads} cores"
    header(f"gemm (numba) vs numpy matmul, square n x n, {scope} each: GFLOP/s median "
           f"(slowest-fastest), % of peak, time gemm / numpy")
    if threads == 1:
        print(f"one core's peak = {pk['flops_per_cycle']['float32']} FLOP/cycle f32 "
              f"({pk['flops_per_cycle']['float64']} f64) x {pk['clock_ghz']:.2f} GHz = "
              f"{pk['float32'] / pk['cores']:.0f} GFLOP/s f32, "
              f"{pk['float64'] / pk['cores']:.0f} f64 [{pk['model']}]")
    else:
        print(f"machine peak ({pk['cores']} cores) = {pk['float32']:.0f} GFLOP/s f32, "
              f"{pk['float64']:.0f} f64; gemm runs as dispatched (parallel above "
              f"policy.GEMM.parallel_above multiply-adds)")
    if threads == 1:
        sizes = (64, 256, 512) if QUICK[0] else (64, 128, 256, 512, 1024, 2048)
    else:
        sizes = (512, 1024) if QUICK[0] else (256, 512, 1024, 2048)
    rng = np.random.default_rng(0)
    rows = []
    for dt in (np.float32, np.float64):
        peak = pk[np.dtype(dt).name] * min(threads, pk["cores"]) / pk["cores"]
        for n in sizes:
            a = rng.standard_normal((n, n)).astype(dt)
            b = rng.standard_normal((n, n)).astype(dt)

            def ref(a=a, b=b):
                with blas_threads(threads):
                    return np.matmul(a, b)

            st = compare({"gemm": lambda a=a, b=b: gemm(a, b), "numpy": ref},
                         repeat=3 if QUICK[0] or n >= 2048 else 7,
                         settle={"numpy": 0.1} if threads > 1 else None,
                         rewarm=0.05 if threads > 1 else 0.0)
            g = {k: rate(s, 2.0 * n ** 3 / 1e9) for k, s in st.items()}
            ratio = st["gemm"]["median"] / st["numpy"]["median"]
            rows.append([np.dtype(dt).name, n] + [
                f"{g[k][0]:.1f} ({g[k][1]:.1f}-{g[k][2]:.1f}) {100 * g[k][0] / peak:.0f}%"
                for k in ("gemm", "numpy")] + [f"{ratio:.2f}"])
            record("gemm", case="square", threads=threads, dtype=np.dtype(dt).name, n=n,
                   peak=peak, gflops={k: v[0] for k, v in g.items()},
                   seconds={k: s["median"] for k, s in st.items()}, ratio=ratio)
    table(["dtype", "n", "gemm GFLOP/s", "numpy GFLOP/s", "gemm/numpy time"], rows)


def _fused(threads: int) -> None:
    from autograd.threads import blas_threads

    gemm = _gemm()
    _threads(threads)
    scope = "ONE thread" if threads == 1 else f"all {threads} cores"
    header(f"gemm fused cases, {scope} each: median time (slowest-fastest), "
           f"time gemm / numpy")
    rng = np.random.default_rng(1)
    rows = []
    for dt in (np.float32, np.float64):
        x = rng.standard_normal((128, 784)).astype(dt)
        w = rng.standard_normal((256, 784)).astype(dt)  # nn.Linear's (out, in) layout
        bias = rng.standard_normal(256).astype(dt)
        a = rng.standard_normal((64, 64, 32)).astype(dt)
        b = rng.standard_normal((64, 32, 64)).astype(dt)

        def lin_ref(x=x, w=w, bias=bias):
            with blas_threads(threads):
                return np.maximum(x @ w.T + bias, 0)

        def bat_ref(a=a, b=b):
            with blas_threads(threads):
                return np.matmul(a, b)

        cases = {
            "Linear 128x784 @ (256x784)^T + bias + relu": (
                lambda x=x, w=w, bias=bias: gemm(x, w.T, bias, "relu"), lin_ref,
                2.0 * 128 * 784 * 256),
            "batched 64 x (64x32 @ 32x64)": (
                lambda a=a, b=b: gemm(a, b), bat_ref, 2.0 * 64 * 64 * 32 * 64)}
        for name, (ours, ref, flops) in cases.items():
            # OpenBLAS's threads spin after each call: let them sleep before numba's run
            st = compare({"gemm": ours, "numpy": ref},
                         settle={"numpy": 0.1} if threads > 1 else None,
                         rewarm=0.05 if threads > 1 else 0.0, repeat=3 if QUICK[0] else 9)
            ratio = st["gemm"]["median"] / st["numpy"]["median"]
            rows.append([name, np.dtype(dt).name] + [
                f"{fmt_time(st[k]['median'])} ({fmt_time(st[k]['min'])}-"
                f"{fmt_time(st[k]['max'])}) {flops / st[k]['median'] / 1e9:.0f} GFLOP/s"
                for k in ("gemm", "numpy")] + [f"{ratio:.2f}"])
            record("gemm", case=name, threads=threads, dtype=np.dtype(dt).name,
                   seconds={k: s["median"] for k, s in st.items()}, ratio=ratio)
    table(["case", "dtype", "gemm", "numpy", "gemm/numpy time"], rows)


def _routes() -> None:
    """gemm as the dispatcher would call it vs the BLAS call `@`, Linear and attention make
    today (`blas.call`: OpenBLAS threads chosen per call), every core available to both."""
    import autograd
    from autograd.kernels import blas, policy
    from autograd.kernels.jit.helper_thread import cpu_count

    gemm = _gemm()
    autograd.set_num_threads(cpu_count())
    header("routes: gemm as routed vs the BLAS call made today (threads per call by "
           "policy), median time, time gemm / BLAS; the policy's choice")
    fams = {"linear": policy.GEMM_LINEAR, "matmul": policy.GEMM_MATMUL}
    print("policy: " + ", ".join(f"{f.name}: gemm from {f.numpy_below} to "
                                 f"{f.parallel_above} multiply-adds" for f in fams.values())
          + f" (NEVER = {policy.NEVER}: BLAS everywhere), where the output's width fills "
          "gemm's column tiles to within 1/8 (policy.gemm_route)")
    rng = np.random.default_rng(2)
    linear = [(64, 128, 10), (64, 64, 64), (64, 784, 256), (128, 784, 256), (64, 256, 128),
              (256, 512, 512), (1024, 128, 10), (256, 256, 48)]
    batched = [(64, 64, 32, 64), (32, 128, 64, 128), (128, 16, 16, 16)]
    if QUICK[0]:
        linear, batched = linear[3:4], batched[:1]
    rows = []
    for dt in (np.float32, np.float64):
        name = np.dtype(dt).name
        for bsz, fin, fout in linear:
            x = rng.standard_normal((bsz, fin)).astype(dt)
            w = rng.standard_normal((fout, fin)).astype(dt)
            bias = rng.standard_normal(fout).astype(dt)
            macs = bsz * fin * fout

            def ref(x=x, w=w, bias=bias, macs=macs):
                return blas.call(np.matmul, macs, x, w.T) + bias

            rows.append(_route_row("linear", f"Linear {bsz}x{fin} -> {fout} + bias", name,
                                   macs, fout, fams["linear"],
                                   lambda x=x, w=w, bias=bias: gemm(x, w.T, bias), ref))
        for nb, m, k, n in batched:
            a = rng.standard_normal((nb, m, k)).astype(dt)
            kk = rng.standard_normal((nb, n, k)).astype(dt)
            macs = m * k * n

            def ref(a=a, kk=kk, macs=macs, nb=nb):
                return blas.call(np.matmul, nb * macs, a, kk.transpose(0, 2, 1))

            rows.append(_route_row("matmul", f"{nb} x ({m}x{k} @ ({n}x{k})^T)", name, macs,
                                   n, fams["matmul"],
                                   lambda a=a, kk=kk: gemm(a, kk.transpose(0, 2, 1)), ref))
    table(["route", "case", "dtype", "gemm", "BLAS", "gemm/BLAS", "policy"], rows)


def _route_row(route: str, case: str, dtype: str, macs: int, n: int, fam, ours,
               ref) -> list:
    from autograd.kernels import policy

    st = compare({"gemm": ours, "blas": ref}, repeat=3 if QUICK[0] else 9)
    ratio = st["gemm"]["median"] / st["blas"]["median"]
    choice = "gemm" if policy.gemm_route(fam, macs, n, np.dtype(dtype).itemsize) else "BLAS"
    record("gemm", case=f"route {route}: {case}", dtype=dtype, macs=macs,
           seconds={k: s["median"] for k, s in st.items()}, ratio=ratio, policy=choice)
    return [route, case, dtype, fmt_time(st["gemm"]["median"]), fmt_time(st["blas"]["median"]),
            f"{ratio:.2f}", choice]
