"""Layout kernels (declarations; numpy references) that the CPU ops do with numpy views, and
that a device array needs as kernels: broadcast_to (materialised)."""
from __future__ import annotations

import numpy as np

from .registry import declare


@declare
def broadcast_to(x, shape):
    """x repeated along its size-1 (or missing leading) dims to `shape`, as a new array."""
    return np.array(np.broadcast_to(x, tuple(shape)))
