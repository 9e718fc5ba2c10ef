"""glibc malloc thresholds set at `import autograd` (autograd/allocator.py): large
intermediates reuse mapped heap pages instead of faulting in fresh ones; NUMBAGRAD_MALLOC=default
opts out, a bad value is a clear error. Each case runs in a fresh process (the settings are
process-wide and the fault counts depend on the allocator's history)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# three 4 MB arrays alive at once, freed, twenty times: with glibc's own settings the freed
# heap top exceeds its trim threshold and is unmapped, so every round faults the pages back
FAULTS = """
    import resource, sys
    import numpy as np
    {setup}
    def faults(): return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    np.ones(1 << 20, np.float32)   # one mmap'ed 4 MB array freed: glibc adapts its thresholds
    r0 = faults()
    for _ in range(20):
        arrs = [np.ones(1 << 20, np.float32) for _ in range(3)]
        del arrs
    print((faults() - r0) / 60)
"""


def run(code: str, **env) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k != "NUMBAGRAD_MALLOC"}
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    e.update(env)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=e, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def faults_per_array(setup: str, **env) -> float:
    out = run(FAULTS.format(setup=setup), **env)
    assert out.returncode == 0, out.stderr[-2000:]
    return float(out.stdout.split()[-1])


def test_import_sets_glibc_thresholds():
    out = run("import autograd\nfrom autograd import allocator\nprint(allocator.settings())")
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "{'mmap_threshold': 33554432, 'trim_threshold': 268435456}"


def test_large_arrays_stop_faulting_in_fresh_pages():
    """4 MB = 1024 pages: with glibc's own settings most rounds fault them all back in (a few
    hundred faults per array with numpy's huge-page hint); after `import autograd`, only the
    first round does."""
    plain = faults_per_array("")
    ours = faults_per_array("import autograd")
    assert plain > 100, plain
    assert ours < 0.2 * plain and ours < 60, (ours, plain)


def test_opt_out_keeps_glibcs_settings():
    out = run("import autograd\nfrom autograd import allocator\nprint(allocator.settings())",
              NUMBAGRAD_MALLOC="default")
    assert out.returncode == 0 and out.stdout.strip() == "{}", out.stderr[-2000:]
    assert faults_per_array("import autograd", NUMBAGRAD_MALLOC="default") > 100


def test_bad_value_is_a_clear_error():
    out = run("import autograd", NUMBAGRAD_MALLOC="huge")
    assert out.returncode != 0
    assert "NUMBAGRAD_MALLOC='huge': expected 'default'" in out.stderr
