"""nn tests run on both kernel backends, so a numba kernel bug cannot hide behind the numpy
reference (and the reference is always exercised)."""
import pytest

import autograd


@pytest.fixture(autouse=True, params=["numba", "numpy"])
def backend(request):
    previous = autograd.get_backend()
    autograd.set_backend(request.param)
    yield request.param
    autograd.set_backend(previous)
