"""autograd.backends.mps: Apple's Metal backend does not exist here."""
from __future__ import annotations


def is_available() -> bool:
    """False: no MPS device can be used."""
    return False


def is_built() -> bool:
    """False: numbagrad has no MPS backend."""
    return False
