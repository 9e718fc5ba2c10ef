"""Helpers shared by the reliability tests."""
from __future__ import annotations

import numpy as np
import pytest

import autograd


def nn_available() -> bool:
    """True once `nn` and `optim` export what the reliability tests need."""
    try:
        import nn
        import optim
    except Exception:  # noqa: BLE001 - a half-written package may fail in any way
        return False
    return all(hasattr(nn, n) for n in ("Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Linear",
                                        "Sequential", "Flatten", "CrossEntropyLoss")) and \
        hasattr(optim, "SGD")


requires_nn = pytest.mark.skipif(not nn_available(), reason="nn / optim do not import yet")


def leaf(a, requires_grad: bool = True, dtype=np.float64) -> autograd.Tensor:
    """A float64 leaf (gradcheck's dtype) from array-like data."""
    return autograd.tensor(np.asarray(a, dtype=dtype), requires_grad=requires_grad)
