"""nn tests run on both kernel backends (the `backend` fixture of tests/conftest.py)."""
import pytest


@pytest.fixture(autouse=True)
def _on_both_backends(backend):
    """Every nn test runs once per backend."""
