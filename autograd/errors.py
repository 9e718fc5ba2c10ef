"""The exceptions numbagrad defines for itself (everything else raises Python's or PyTorch's
usual classes).

ShapeError is the error for an input of the wrong shape, rank or size. It is both a
ValueError (numpy's and this project's convention for a bad shape) and a RuntimeError (what
PyTorch raises for the same mistakes), so code written for either catches it.
"""
from __future__ import annotations

__all__ = ["ShapeError"]


class ShapeError(ValueError, RuntimeError):
    """An input whose shape does not fit the op or layer (the message names both)."""
