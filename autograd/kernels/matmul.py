"""Matrix multiplication kernel (numpy reference): 2-D and batched with broadcast batch dims."""
from __future__ import annotations

import numpy as np

from .backend import kernel


@kernel
def matmul(a, b):
    """a @ b for 2-D or batched (..., m, k) @ (..., k, n) float arrays."""
    return np.matmul(a, b)
