"""Every autograd test runs on both kernel backends, so a kernel bug cannot hide behind the
numpy reference."""
import numpy as np
import pytest

import autograd


@pytest.fixture(autouse=True, params=["numba", "numpy"])
def backend(request):
    previous = autograd.get_backend()
    autograd.set_backend(request.param)
    yield request.param
    autograd.set_backend(previous)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def t64(a, requires_grad=True):
    """A float64 leaf for gradcheck."""
    return autograd.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)
