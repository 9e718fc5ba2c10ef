"""Helpers shared by the kernel tests (imported, unlike conftest)."""
from __future__ import annotations

import numpy as np

DTYPES = (np.float32, np.float64)


def tol(dtype):
    return {"rtol": 2e-5, "atol": 2e-5} if np.dtype(dtype) == np.float32 else \
        {"rtol": 1e-12, "atol": 1e-12}


def numba_and_ref(name):
    from autograd import kernels as K
    k = getattr(K, name)
    return k.implementation("numba"), k.reference


def variants(rng, shape, dtype):
    """The same values as a contiguous array, a non-contiguous view, and (for >= 2 dims)
    a transposed-then-copied-back view."""
    base = rng.standard_normal(shape).astype(dtype)
    wide = np.zeros(shape[:-1] + (2 * shape[-1],), dtype) if shape else base
    if shape:
        wide[..., ::2] = base
        strided = wide[..., ::2]
    else:
        strided = base
    out = [("contiguous", base), ("strided", strided)]
    if len(shape) >= 2:
        out.append(("transposed", np.ascontiguousarray(np.swapaxes(base, -1, -2))
                    .swapaxes(-1, -2)))
    return out
