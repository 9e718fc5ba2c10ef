"""Class-index targets (declaration; numpy reference): the check and the per-row weights of
cross-entropy / nll with ``ignore_index`` and class weights.

`nn.functional` does this with numpy for CPU targets; a cuda target goes through this kernel
(autograd/kernels/cuda/softmax_ce.py), so the indices never travel to the host.
"""
from __future__ import annotations

import numpy as np

from .registry import declare


@declare
def class_weights(t, c, weight, ignore_index, dtype):
    """(safe, w) for class indices t (M,): safe is t with ignored rows set to 0, w the class
    weight of t (1 without `weight`), 0 on ignored rows; IndexError for an index outside
    [0, c) that is not ignore_index."""
    t = t.astype(np.int64, copy=False)
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= c))
    if bad.any():
        raise IndexError(f"target {int(t[bad][0])} is out of bounds for {c} classes")
    safe = np.where(valid, t, 0)
    if weight is None:
        return safe, valid.astype(dtype)
    return safe, np.where(valid, weight.astype(dtype)[safe], 0).astype(dtype)
