"""The machine's theoretical peak: cores x FLOP/cycle x clock, the yardstick of matmul."""
from __future__ import annotations

import os
import time

FMA_LATENCY = 4  # cycles of a dependent FMA chain (Zen 2-4, Skylake..Sapphire Rapids)


def cpu_info() -> dict:
    flags, vendor, model = set(), "", ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, val = line.partition(":")
                key = key.strip()
                if key == "flags" and not flags:
                    flags = set(val.split())
                elif key == "vendor_id" and not vendor:
                    vendor = val.strip()
                elif key == "model name" and not model:
                    model = val.strip()
    except OSError:
        pass
    return {"flags": flags, "vendor": vendor, "model": model}


def flops_per_cycle(info: dict) -> dict:
    """Per core, per cycle, for float32 and float64 (two FMA pipes, FMA = 2 FLOPs)."""
    flags = info["flags"]
    if "avx512f" in flags and info["vendor"] == "AuthenticAMD":
        lanes = 8      # Zen 4: AVX-512 executed on two 256-bit FMA pipes
    elif "avx512f" in flags:
        lanes = 16     # Intel server cores: two 512-bit FMA ports
    elif "fma" in flags:
        lanes = 8      # AVX2: two 256-bit FMA pipes
    else:
        lanes = 4
    return {"float32": 2 * 2 * lanes, "float64": 2 * lanes}


def measure_clock_ghz() -> float:
    """Clock from a dependent FMA chain: n iterations take n * FMA_LATENCY cycles."""
    from numba import njit

    @njit(fastmath={"contract"}, cache=True)
    def chain(n, x, a, b):
        for _ in range(n):
            x = x * a + b
        return x

    # many short runs, the fastest kept: on a shared machine most runs are preempted
    n = 1_000_000
    chain(10, 1.0, 0.999999, 1e-9)
    best = min(_timed(chain, n) for _ in range(60))
    return n * FMA_LATENCY / best / 1e9


def _timed(fn, n):
    t0 = time.perf_counter()
    fn(n, 1.0, 0.999999, 1e-9)
    return time.perf_counter() - t0


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


_PEAK: dict = {}


def peak() -> dict:
    """{'cores', 'clock_ghz', 'flops_per_cycle', 'float32', 'float64' (GFLOP/s)}."""
    if not _PEAK:
        info = cpu_info()
        fpc = flops_per_cycle(info)
        ghz = measure_clock_ghz()
        n = cores()
        _PEAK.update(model=info["model"], cores=n, clock_ghz=ghz, flops_per_cycle=fpc,
                     float32=n * fpc["float32"] * ghz, float64=n * fpc["float64"] * ghz)
    return _PEAK


_BANDWIDTH: dict = {}


def memory_bandwidth(mib: int = 64) -> dict:
    """Main-memory bandwidth in GB/s, the yardstick of elementwise kernels: the best of numpy's
    one-thread copy and a prange STREAM triad (a = b + s c) on every core, over arrays of `mib`
    MiB each (far past any cache), counting bytes read + written, fastest of several runs."""
    if not _BANDWIDTH:
        import numpy as np
        from numba import njit, prange

        @njit(parallel=True, cache=True)
        def triad(a, b, c, s):
            for i in prange(a.size):
                a[i] = b[i] + s * c[i]

        n = mib * (1 << 20) // 8
        a, b, c = np.zeros(n), np.ones(n), np.full(n, 2.0)
        triad(a[:8], b[:8], c[:8], 3.0)  # compile (or load from the cache)
        copy = min(_seconds(lambda: np.copyto(a, b)) for _ in range(8))
        tri = min(_seconds(lambda: triad(a, b, c, 3.0)) for _ in range(8))
        _BANDWIDTH.update(copy=2 * a.nbytes / copy / 1e9, triad=3 * a.nbytes / tri / 1e9,
                          mib=mib)
        _BANDWIDTH["gbps"] = max(_BANDWIDTH["copy"], _BANDWIDTH["triad"])
    return _BANDWIDTH


def _seconds(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0
