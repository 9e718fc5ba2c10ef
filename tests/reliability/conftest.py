"""Shared setup of the reliability suite: hypothesis profiles, backend and dtype hygiene.

Hypothesis profiles (select with NUMBAGRAD_HYPOTHESIS_PROFILE):
  ci       (default) few examples, derandomized: deterministic and inside the CI budget
  dev      a few more examples, still derandomized
  nightly  many examples, randomized: hunts for new failures (each becomes a regression test)
"""
from __future__ import annotations

import os
import pathlib

import pytest
from hypothesis import HealthCheck, settings

import autograd

_COMMON = {"deadline": None, "print_blob": True,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.filter_too_much]}
settings.register_profile("ci", max_examples=20, derandomize=True, **_COMMON)
settings.register_profile("dev", max_examples=50, derandomize=True, **_COMMON)
settings.register_profile("nightly", max_examples=600, derandomize=False, **_COMMON)
PROFILE = os.environ.get("NUMBAGRAD_HYPOTHESIS_PROFILE", "ci")
HERE = pathlib.Path(__file__).resolve().parent


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """Load the profile only while this directory's modules are imported (hypothesis binds
    settings when @given decorates), so other test directories keep their own defaults."""
    path = getattr(collector, "path", None)
    if not (isinstance(collector, pytest.Module) and path is not None
            and HERE in pathlib.Path(path).resolve().parents):
        yield
        return
    settings.register_profile("numbagrad-outer", parent=settings.default)
    settings.load_profile(PROFILE)
    try:
        yield
    finally:
        settings.load_profile("numbagrad-outer")


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Every test starts on the default numba backend and float32 default dtype, with grad
    mode on, and leaves them so whatever it changed."""
    backend, dtype = autograd.get_backend(), autograd.get_default_dtype()
    grad_mode = autograd.is_grad_enabled()
    autograd.set_backend("numba")
    yield
    autograd.set_backend(backend)
    autograd.set_default_dtype(dtype)
    autograd.set_grad_enabled(grad_mode)


@pytest.fixture(scope="session")
def parallel_numba_cache(tmp_path_factory):
    """A NUMBA_CACHE_DIR in which every kernel's parallel variant was compiled first (by a
    child running `_parallel_workload.py` on large arrays), for the child processes that must
    really run parallel kernels: a warm default cache may hold only serial variants
    (core-bugs.md #13). Compiled once per session (~10 s)."""
    import subprocess
    import sys

    cache = tmp_path_factory.mktemp("numba-cache")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    proc = subprocess.run([sys.executable, "-m", "tests.reliability._parallel_workload",
                           "large"], env=env, cwd=str(HERE.parent.parent), capture_output=True,
                          text=True, timeout=600, check=False)
    if proc.returncode != 0:
        pytest.skip(f"the parallel workload does not run: {proc.stderr[-500:]}")
    return cache
