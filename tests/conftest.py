"""Fixtures shared by every test folder."""
import pytest

import autograd


@pytest.fixture(params=["numba", "numpy"])
def backend(request):
    """Run the test on both kernel backends, so a numba kernel bug cannot hide behind the
    numpy reference (and the reference is always exercised)."""
    previous = autograd.get_backend()
    autograd.set_backend(request.param)
    yield request.param
    autograd.set_backend(previous)
