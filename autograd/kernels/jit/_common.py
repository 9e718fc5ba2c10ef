"""Shared helpers of the numba kernels: lazy compilation with explicit signatures, checks."""
from __future__ import annotations

import threading

import numpy as np
from numba import njit

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class lazy_njit:
    """`njit(sig, cache=True, ...)` compiled per (dtype, parallel) on first use, never twice.

    Explicit signatures (with 'A'-layout arrays where strides vary) keep the number of
    specialisations at one per dtype, so the on-disk cache stays small and a transposed
    view never triggers a fresh compilation; nothing is compiled until a dtype is used.
    The same Python function is compiled serial (`prange` runs as `range`) for small inputs
    and parallel for large ones: a parallel launch costs microseconds."""

    def __init__(self, make_sig, parallel: bool | None = None, **options):
        self.make_sig = make_sig
        self.parallel = parallel
        self.options = {"cache": True, "error_model": "numpy", **options}
        self.compiled: dict = {}
        self.pyfunc = None

    def __call__(self, pyfunc):
        self.pyfunc = pyfunc
        self.__name__ = pyfunc.__name__
        self.__doc__ = pyfunc.__doc__
        return self

    def get(self, dtype, parallel: bool = False):
        key = (dtype, parallel)
        fn = self.compiled.get(key)
        if fn is None:
            from numba import from_dtype
            if self.parallel is not None:
                parallel = self.parallel
            pyfunc = _renamed(self.pyfunc, "_parallel") if parallel else self.pyfunc
            fn = njit(self.make_sig(from_dtype(np.dtype(dtype))), parallel=parallel,
                      **self.options)(pyfunc)
            if parallel:
                fn = _one_launch_at_a_time(fn)
            self.compiled[key] = fn
        return fn


_PARALLEL_LAUNCH = threading.Lock()


def _one_launch_at_a_time(fn):
    """Serialise parallel kernel launches across Python threads. Each launch already uses
    every core, so little is lost; and numba's fallback `workqueue` threading layer (where
    neither OpenMP nor TBB is installed) aborts the process on concurrent launches."""
    def launch(*args):
        with _PARALLEL_LAUNCH:
            return fn(*args)
    launch.__wrapped__ = fn
    return launch


def _renamed(pyfunc, suffix: str):
    """A copy of pyfunc under another qualified name. numba's disk cache is keyed by the
    function's qualified name and signature, not by `parallel`, so without this the serial
    and parallel variants of one kernel would overwrite each other in the cache."""
    import types
    copy = types.FunctionType(pyfunc.__code__, pyfunc.__globals__, pyfunc.__name__ + suffix,
                              pyfunc.__defaults__, pyfunc.__closure__)
    copy.__qualname__ = pyfunc.__qualname__ + suffix
    copy.__module__ = pyfunc.__module__
    return copy


def float_dtype(name: str, *arrays: np.ndarray) -> np.dtype:
    """The common float dtype of `arrays`, or TypeError naming the kernel."""
    for a in arrays:
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{name}: expected numpy arrays, got {type(a).__name__}")
    dt = np.result_type(*arrays)
    if dt not in FLOATS:
        raise TypeError(f"{name}: expected float32 or float64 arrays, got "
                        f"{', '.join(str(a.dtype) for a in arrays)}")
    return dt


def is_float(*arrays) -> bool:
    """True when every argument is a float32/float64 ndarray, all of one dtype."""
    a0 = arrays[0]
    if not isinstance(a0, np.ndarray):
        return False
    dt = a0.dtype
    if dt != _F32 and dt != _F64:
        return False
    for a in arrays[1:]:
        if not isinstance(a, np.ndarray) or a.dtype != dt:
            return False
    return True


_F32, _F64 = FLOATS


def arr(dt, ndim: int = 1, layout: str = "C", readonly: bool = False):
    from numba import types
    return types.Array(dt, ndim, layout, readonly=readonly)
