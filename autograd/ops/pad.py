"""Constant padding (zeros or any value) around the trailing dims; backward: crop."""
from __future__ import annotations

import numpy as np

from ..function import Function


class ConstantPad(Function):
    """out = x surrounded by `value`; widths is ((before, after), ...) per dim, all >= 0.
    d out / d x is the identity on the interior, so the backward is a slice of g."""

    def forward(self, x, widths, value=0.0):
        self.interior = tuple(slice(b, b + n) for (b, _), n in zip(widths, x.shape))
        return np.pad(x, widths, mode="constant", constant_values=value)

    def backward(self, g):
        return g[self.interior]
