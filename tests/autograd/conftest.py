"""Every autograd test runs on both kernel backends, so a kernel bug cannot hide behind the
numpy reference."""
import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _on_both_backends(backend):
    """Every autograd test runs on both backends (the `backend` fixture of tests/conftest)."""


@pytest.fixture
def rng():
    return np.random.default_rng(0)

