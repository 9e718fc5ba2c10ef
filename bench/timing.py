"""The one timing helper: warm-up, repeated samples, medians with min-max, ratios measured
in the same run, and the tables and JSON records every benchmark prints through.

Candidates compared against each other are sampled interleaved (A B C, A B C, ...), so a
noisy neighbour on the machine slows all of them alike and the ratios stay honest.
"""
from __future__ import annotations

import gc
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

RESULTS: list = []        # every row printed, for --json
QUICK = [False]


def _calibrate(fn: Callable, target: float) -> int:
    """Calls per sample so that one sample lasts about `target` seconds."""
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        dt = time.perf_counter() - t0
        if dt >= target or number >= 1 << 20:
            return number
        number = max(number * 2, int(number * target / max(dt, 1e-9) * 1.2))


def compare(candidates: dict, repeat: int | None = None, target: float | None = None,
            warmup: int = 2, settle: dict | None = None, rewarm: float = 0.0) -> dict:
    """Time each callable in `candidates` (name -> fn); returns name -> stats (seconds per
    call: median, min, max, samples), sampled interleaved after `warmup` calls each.
    `settle` (name -> seconds) sleeps after that candidate's samples, e.g. to let
    OpenBLAS's spinning threads (~100 ms after each call) go to sleep before the next one.
    `rewarm` (seconds) runs each candidate untimed for that long before each of its samples,
    so every sample is taken in a steady state: after a settle the process has idled, and
    numbagrad's task pool then ran serial for ~35 ms (its helper thread got no core until the
    scheduler moved it; measured: 64 x (64x32 @ 32x64) 181 us per call for ~200 calls after a
    0.1 s sleep, then 125 us), where OpenBLAS's threads were back at once."""
    settle = settle or {}
    quick = QUICK[0]
    repeat = repeat or (5 if quick else 11)
    target = target or (0.005 if quick else 0.02)
    for fn in candidates.values():
        for _ in range(warmup):
            fn()
    numbers = {k: _calibrate(fn, target) for k, fn in candidates.items()}
    samples: dict = {k: [] for k in candidates}
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            for k, fn in candidates.items():
                n = numbers[k]
                if rewarm:
                    end = time.perf_counter() + rewarm
                    while time.perf_counter() < end:
                        fn()
                t0 = time.perf_counter()
                for _ in range(n):
                    fn()
                samples[k].append((time.perf_counter() - t0) / n)
                if settle.get(k):
                    time.sleep(settle[k])
    finally:
        if gc_was:
            gc.enable()
    return {k: {"median": statistics.median(v), "min": min(v), "max": max(v), "samples": v}
            for k, v in samples.items()}


class Spinner:
    """A child process spinning on one core for the duration of a `with` block (the
    under-load rows: another process holding a core, as on a shared machine)."""

    def __enter__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.2)
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


def fmt_time(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def header(title: str) -> None:
    print(f"\n== {title} ==")


def table(columns: list, rows: list) -> None:
    """Print rows (lists of strings) under `columns`, aligned."""
    widths = [max(len(str(c)), *(len(str(r[i])) for r in rows)) if rows else len(str(c))
              for i, c in enumerate(columns)]
    print("  ".join(str(c).ljust(w) for c, w in zip(columns, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(r, widths)))


def record(section: str, **fields) -> None:
    RESULTS.append({"section": section, **fields})


def rate(stats: dict, amount: float) -> tuple:
    """(median, slowest, fastest) of amount / time, e.g. GFLOP/s from FLOPs."""
    return amount / stats["median"], amount / stats["max"], amount / stats["min"]


TORCH_MISSING = "PyTorch not installed: PyTorch rows skipped (pip install torch to compare)"
