"""The random generator behind every random factory and every nn initialiser."""
from __future__ import annotations

import numpy as np

_rng = [np.random.default_rng()]


def manual_seed(seed: int) -> np.random.Generator:
    """Make every random factory and initialiser reproducible from `seed`."""
    _rng[0] = np.random.default_rng(seed)
    return _rng[0]


def generator() -> np.random.Generator:
    return _rng[0]
