"""Cold and warm start: `import autograd`, then the first MLP training step, in a fresh
interpreter with an empty numba cache (everything compiles) and with a full one."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from .timing import QUICK, header, record, table

CHILD = r"""
import json, time
t0 = time.perf_counter()
import autograd
t1 = time.perf_counter()
from bench.training import ours_step
step = ours_step("mlp")
step()
t2 = time.perf_counter()
step()
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first_step": t2 - t1, "second_step": t3 - t2}))
"""


def _run(cache_dir: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                         text=True, cwd=root, timeout=600, check=False)
    if out.returncode:
        raise RuntimeError(f"startup child failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_startup() -> None:
    header("start-up: fresh interpreter, import autograd + first MLP training step")
    rows = []
    with tempfile.TemporaryDirectory(prefix="numbagrad-cache-") as cache:
        runs = [("warm (full cache)", 3)] if QUICK[0] else [("cold (empty cache)", 1),
                                                            ("warm (full cache)", 3)]
        if QUICK[0]:
            _run(cache)  # fill the cache (not reported in --quick)
        for label, times in runs:
            res = [_run(cache) for _ in range(times)]
            best = min(res, key=lambda r: r["import"] + r["first_step"])
            rows.append([label, f"{best['import']:.3f} s", f"{best['first_step']:.3f} s",
                         f"{best['import'] + best['first_step']:.3f} s",
                         f"{best['second_step'] * 1e3:.2f} ms"])
            record("startup", case=label, **best)
    table(["cache", "import autograd", "first step", "import + first step", "second step"],
          rows)
    print("targets: import <= 0.3 s; import + first MLP step with a warm cache <= 1.5 s")
