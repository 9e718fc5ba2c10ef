"""The backend switch: every kernel has a numpy reference and, optionally, a numba version.

`@kernel` turns a numpy reference into a dispatcher. Its numba version, if any, is the
function of the same name in `autograd.kernels.jit.<module>` (e.g. `elementwise.exp` ->
`jit/elementwise.py: exp`); it is imported on first use under the numba backend, so
`import autograd` never imports numba, and the ops never change when a kernel gains one.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable

BACKENDS = ("numba", "numpy")
_current = ["numba"]


def set_backend(name: str) -> None:
    """Select the kernel implementations: "numba" (default) or "numpy" (the reference)."""
    if name not in BACKENDS:
        raise ValueError(f"set_backend: unknown backend {name!r}; choose one of {BACKENDS}")
    _current[0] = name


def get_backend() -> str:
    return _current[0]


def _find_numba(numpy_impl: Callable) -> Callable:
    module = numpy_impl.__module__.rsplit(".", 1)[-1]
    try:
        mod = importlib.import_module(f"autograd.kernels.jit.{module}")
    except ModuleNotFoundError as e:
        if e.name not in (f"autograd.kernels.jit.{module}", "autograd.kernels.jit"):
            raise
        return numpy_impl
    return getattr(mod, numpy_impl.__name__, numpy_impl)


def kernel(numpy_impl: Callable) -> Callable:
    """Wrap a numpy reference kernel in a backend dispatcher (see the module docstring)."""
    impls = {"numpy": numpy_impl}

    def implementation(backend: str) -> Callable:
        impl = impls.get(backend)
        if impl is None:
            impl = impls[backend] = _find_numba(numpy_impl)
        return impl

    def dispatch(*args, **kwargs):
        impl = impls.get(_current[0])
        if impl is None:
            impl = implementation(_current[0])
        return impl(*args, **kwargs)

    dispatch.__name__ = dispatch.__qualname__ = numpy_impl.__name__
    dispatch.__doc__ = numpy_impl.__doc__
    dispatch.__wrapped__ = numpy_impl
    dispatch.reference = numpy_impl
    dispatch.implementation = implementation
    return dispatch
