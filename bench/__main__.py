"""python -m bench [--quick] [--json PATH] [--plot DIR] [--only NAME[,NAME...]]

Kernel, overhead, training-step, start-up and data-parallel (MPI) benchmarks, with PyTorch
rows when it is installed. Medians with min-max over repeated runs after warm-up; every ratio
is measured within this run."""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

SECTIONS = ("matmul", "gemm", "elementwise", "threshold", "conv", "overhead", "training",
            "eager", "compiled", "startup", "distributed")


def _loadavg() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer sizes and samples (< 1 min)")
    p.add_argument("--json", metavar="PATH", help="also write every result row to PATH")
    p.add_argument("--only", metavar="NAME", help=f"comma-separated subset of {SECTIONS}")
    p.add_argument("--plot", metavar="DIR", help="also draw PNG charts of every section into "
                   "DIR (needs matplotlib)")
    args = p.parse_args(argv)
    only = SECTIONS if not args.only else tuple(s.strip() for s in args.only.split(","))
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        p.error(f"unknown section(s) {unknown}; choose from {SECTIONS}")
    if args.plot:
        try:
            import matplotlib  # noqa: F401 - fail now, not after minutes of benchmarks
        except ImportError:
            p.error("--plot needs matplotlib: pip install numbagrad[examples]")

    from . import timing
    timing.QUICK[0] = args.quick
    import numba
    import numpy as np

    import autograd
    import autograd.kernels.jit  # sets numba's threading layer (printed below)

    from . import compiled, distributed, eager, gemm, kernels, overhead, startup, training

    print(f"numbagrad bench{' --quick' if args.quick else ''}: python {platform.python_version()}"
          f", numpy {np.__version__}, numba {numba.__version__} "
          f"(threading layer: {numba.config.THREADING_LAYER}, {numba.config.NUMBA_NUM_THREADS}"
          f" threads), backend {autograd.get_backend()}")
    from . import torch_ref
    if not torch_ref.available():
        print(timing.TORCH_MISSING)
    load_start = _loadavg()
    print(f"load average at start: {load_start} (other processes on this machine distort "
          f"timings; ratios are measured side by side to limit that)")
    run = {"matmul": kernels.bench_matmul, "gemm": gemm.bench_gemm,
           "elementwise": kernels.bench_elementwise,
           "threshold": kernels.bench_threshold, "conv": kernels.bench_conv,
           "overhead": overhead.bench_overhead, "training": training.bench_training,
           "eager": eager.bench_eager, "compiled": compiled.bench_compiled,
           "startup": startup.bench_startup, "distributed": distributed.bench_distributed}
    t0 = time.perf_counter()
    for name in SECTIONS:
        if name in only:
            run[name]()
    load_end = _loadavg()
    eager.print_summary(timing.RESULTS)
    print(f"\nload average at end: {load_end}")
    print(f"bench finished in {time.perf_counter() - t0:.1f} s")
    meta = {"quick": args.quick, "loadavg": [load_start, load_end]}
    if args.json:
        with open(args.json, "w") as f:
            json.dump({**meta, "results": timing.RESULTS}, f, indent=1,
                      default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))
        print(f"results written to {args.json}")
    if args.plot:
        from .plot import write_charts
        for path in write_charts(timing.RESULTS, args.plot, meta):
            print(f"chart written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
