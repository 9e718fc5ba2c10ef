"""Kernel tests: every numba kernel against its numpy reference.

The `paths` fixture lowers the size thresholds so that small test arrays take the numba
path, serial or parallel (`prange`) in turn; timings never enter these tests."""
from __future__ import annotations

import importlib

import pytest

from tests.kernels._helpers import JIT_MODULES


@pytest.fixture(params=["serial", "parallel"])
def paths(request, monkeypatch):
    """Force the numba path for any size, serial or parallel."""
    for name in JIT_MODULES:
        mod = importlib.import_module(f"autograd.kernels.jit.{name}")
        for attr in ("NUMPY_BELOW", "THREADED_UFUNC_ABOVE"):
            if hasattr(mod, attr):
                monkeypatch.setattr(mod, attr, 0)
        if hasattr(mod, "USE_NUMBA_IM2COL"):
            monkeypatch.setattr(mod, "USE_NUMBA_IM2COL", True)
        if hasattr(mod, "PARALLEL_ABOVE"):
            monkeypatch.setattr(mod, "PARALLEL_ABOVE",
                                -1 if request.param == "parallel" else 1 << 62)
    return request.param


