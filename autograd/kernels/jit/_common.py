"""Shared helpers of the numba kernels: lazy compilation with explicit signatures, checks."""
from __future__ import annotations

import numpy as np
from numba import njit

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class lazy_njit:
    """`njit(sig, cache=True, ...)` compiled per dtype on first use, never twice.

    Explicit signatures (with 'A'-layout arrays where strides vary) keep the number of
    specialisations at one per dtype, so the on-disk cache stays small and a transposed
    view never triggers a fresh compilation; nothing is compiled until a dtype is used."""

    def __init__(self, make_sig, **options):
        self.make_sig = make_sig
        self.options = {"cache": True, **options}
        self.compiled: dict = {}
        self.pyfunc = None

    def __call__(self, pyfunc):
        self.pyfunc = pyfunc
        self.__name__ = pyfunc.__name__
        self.__doc__ = pyfunc.__doc__
        return self

    def get(self, dtype):
        fn = self.compiled.get(dtype)
        if fn is None:
            from numba import from_dtype
            fn = njit(self.make_sig(from_dtype(np.dtype(dtype))), **self.options)(self.pyfunc)
            self.compiled[dtype] = fn
        return fn


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
