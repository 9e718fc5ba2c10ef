"""Identity: a graph node that passes values and gradients through unchanged.

nn's full backward hooks put one on each input of a module call, so that a hook registered
on it sees exactly the gradient flowing into the module's inputs (and may replace it)."""
from __future__ import annotations

from ..function import Function


class Identity(Function):
    """y = x (a numpy view of the same data); dy/dx = 1."""

    def forward(self, x):
        return x.view()

    def backward(self, g):
        return g
