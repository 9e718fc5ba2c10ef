"""Shared helpers of the numba kernels: lazy compilation with explicit signatures, checks.

numba does not check bounds (unless NUMBA_BOUNDSCHECK=1, which CI sets for one pass of the
kernel tests): a kernel handed arrays of inconsistent shapes reads and writes past their
ends. Explicit signatures already pin every array's dtype, rank and layout, so what remains
is the shapes: a kernel declared with ``lazy_njit(sig, check=...)`` runs its check on every
call, before the compiled code, and raises ValueError naming the kernel and every argument's
shape (`check_failed`).
"""
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

    def __init__(self, make_sig, parallel: bool | None = None, check=None,
                 specialise: dict | None = None, suffix: str = "", **options):
        self.make_sig = make_sig
        self.parallel = parallel
        self.check = check  # check(*args) -> bool: do the arguments' shapes fit the kernel?
        self.specialise = specialise
        self.suffix = suffix
        self.options = {"cache": True, "error_model": "numpy", **options}
        self.compiled: dict = {}
        self.pyfunc = None

    def __call__(self, pyfunc):
        if self.specialise is not None:  # a per-op copy of a template (see `specialised`)
            pyfunc = specialised(pyfunc, self.suffix, self.specialise)
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
            if self.check is not None:
                fn = _checked(fn, self.check, self.pyfunc)
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


def _checked(fn, check, pyfunc):
    """fn, running check(*args) first (ValueError unless it holds); one Python call and a
    few tuple compares per launch, against microseconds for the launch itself."""
    def run(*args):
        try:
            ok = check(*args)
        except (AttributeError, IndexError, TypeError, ValueError):
            ok = False
        if not ok:
            raise check_failed(pyfunc, args)
        return fn(*args)
    # the numba dispatcher (a dispatcher's own __wrapped__ is the Python function)
    run.__wrapped__ = fn if hasattr(fn, "signatures") else fn.__wrapped__
    run.__name__ = pyfunc.__name__
    return run


def check_failed(pyfunc, args) -> ValueError:
    """The error for a kernel called with arrays that do not fit together: the kernel's name
    and each argument (arrays by shape and dtype)."""
    names = pyfunc.__code__.co_varnames[:pyfunc.__code__.co_argcount]
    parts = []
    for name, a in zip(names, args):
        if isinstance(a, np.ndarray):
            parts.append(f"{name}: {a.shape} {a.dtype}")
        elif isinstance(a, (bool, int, float, np.generic)):
            parts.append(f"{name}={a!r}")
        else:
            parts.append(f"{name}: {type(a).__name__}")
    return ValueError(f"{pyfunc.__name__}: arguments of inconsistent shapes ("
                      f"{', '.join(parts)})")


def require_shapes(kernel: str, ok: bool, **arrays) -> None:
    """ValueError naming `kernel` and each array's shape unless `ok` (for checks made in a
    Python wrapper rather than by `lazy_njit`)."""
    if not ok:
        shown = ", ".join(f"{name}: {getattr(a, 'shape', a)}" for name, a in arrays.items())
        raise ValueError(f"{kernel}: arguments of inconsistent shapes ({shown})")


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


def specialised(template, suffix: str, names: dict):
    """A copy of `template` named `template.__name__ + "_" + suffix` whose globals add `names`
    (e.g. {"SCALAR": an inline scalar function}): one loop written once, compiled per op.

    Why globals and not a closure: numba keys its disk cache on the function's qualified
    name and line (the file) and on its bytecode plus the pickled closure cells (the index);
    a closure cell holding a jitted function pickles differently in every process, so every
    run would miss the cache. Globals are not part of the key, so each copy gets its own
    qualified name, hence its own cache file: the copies never collide, and each loads from
    the cache in a fresh process (tests/reliability/test_numba_cache.py checks both)."""
    import types
    glob = dict(template.__globals__)
    glob.update(names)
    name = f"{template.__name__}_{suffix}"
    copy = types.FunctionType(template.__code__, glob, name, template.__defaults__,
                              template.__closure__)
    copy.__qualname__ = f"{template.__qualname__}_{suffix}"
    copy.__module__ = template.__module__
    copy.__doc__ = template.__doc__
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


def same_float_arrays(*arrays) -> bool:
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
