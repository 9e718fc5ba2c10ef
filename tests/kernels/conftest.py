"""Kernel tests: every numba kernel against its numpy reference.

The `paths` fixture lowers the size thresholds (through `kernels.policy.override`) so that
small test arrays take the numba path, serial or parallel (`prange`) in turn; timings never
enter these tests."""
from __future__ import annotations

import pytest

from autograd.kernels import policy


@pytest.fixture(params=["serial", "parallel"])
def paths(request):
    """Force the numba path for any size, serial or parallel."""
    with policy.override(numpy_below=0, threaded_ufunc_above=0,
                         parallel_above=-1 if request.param == "parallel" else policy.NEVER):
        yield request.param
