"""detect_anomaly: find the op whose backward produced a NaN or Inf, and where it was created."""
from __future__ import annotations

import os
import sys
import threading

import numpy as np


class _State(threading.local):
    enabled = False


state = _State()
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def is_anomaly_enabled() -> bool:
    return state.enabled


class detect_anomaly:
    """Context manager: a backward that produces NaN/Inf raises RuntimeError naming the op
    and the file:line where it was created.

    Forward values are not checked, as in PyTorch: -inf before a softmax (masking) and
    log(0) are legitimate; only what backward produces is an anomaly."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = state.enabled
        state.enabled = self.check_nan
        return self

    def __exit__(self, *exc):
        state.enabled = self._prev
        return False


def creation_site() -> str:
    """file:line of the innermost frame outside the autograd package (the user's code)."""
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def check_finite(values, what: str) -> None:
    """Raise RuntimeError when any array in `values` holds a NaN or Inf."""
    for i, v in enumerate(values):
        if v is not None and np.issubdtype(v.dtype, np.floating) and not np.isfinite(v).all():
            kind = "nan" if np.isnan(v).any() else "inf"
            raise RuntimeError(f"{what} returned {kind} values in its {i}th output")
