"""Grad mode: whether operations record a graph. Thread-local, as in PyTorch."""
from __future__ import annotations

import functools
import threading


class _State(threading.local):
    enabled = True  # the class attribute is every thread's starting value


_state = _State()


def is_grad_enabled() -> bool:
    """True when new operations record the graph for backward (the default)."""
    return _state.enabled


def set_grad_enabled(mode: bool) -> None:
    _state.enabled = bool(mode)


class _GradMode:
    """Context manager and decorator that sets grad mode and restores it on exit."""

    mode = True

    def __enter__(self):
        self._prev = is_grad_enabled()
        set_grad_enabled(self.mode)
        return self

    def __exit__(self, *exc):
        set_grad_enabled(self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Operations inside record no graph: `with autograd.no_grad(): ...` or `@no_grad()`."""

    mode = False


class enable_grad(_GradMode):
    """Re-enables graph recording inside a `no_grad` region."""

    mode = True
