"""Constant padding on cuda: np.pad(x, widths, mode="constant", constant_values=v), as
ConstantPad calls it (F.pad, and the pooling layers' ceil_mode), through
`ufuncs.FUNCTIONS`.

One thread per output element: it reads its input element, or writes the constant where it
falls in the padding. Adjacent dims that are not padded are merged first, so that at most 4
dims remain for the usual cases (padding the last two dims of an (N, C, H, W) array leaves
(N*C, H, W)).
"""
from __future__ import annotations

import numpy as np
from numba import cuda

from . import ufuncs
from .array import CudaArray
from .runtime import empty, launch_1d

MAX_DIMS = 4


@cuda.jit(cache=True)
def _pad(x, out, n, o1, o2, o3, i0, i1, i2, i3, b0, b1, b2, b3, value):
    t = cuda.grid(1)
    step = cuda.gridsize(1)
    while t < n:
        r = t
        k3 = r % o3 - b3
        r //= o3
        k2 = r % o2 - b2
        r //= o2
        k1 = r % o1 - b1
        k0 = r // o1 - b0
        if 0 <= k0 < i0 and 0 <= k1 < i1 and 0 <= k2 < i2 and 0 <= k3 < i3:
            out[t] = x[((k0 * i1 + k1) * i2 + k2) * i3 + k3]
        else:
            out[t] = value
        t += step


def _widths(widths, ndim: int) -> list:
    """numpy's pad_width forms (an int, a pair, or one pair per dim) as one pair per dim."""
    w = np.broadcast_to(np.asarray(widths, dtype=np.int64), (ndim, 2))
    if (w < 0).any():
        raise ValueError(f"pad: negative widths {np.asarray(widths).tolist()}")
    return [(int(b), int(a)) for b, a in w]


def pad(x, pad_width, mode="constant", constant_values=0, **kwargs) -> CudaArray:
    """np.pad with mode="constant" on a cuda array: one launch."""
    if mode != "constant" or kwargs or not isinstance(x, CudaArray) \
            or np.ndim(constant_values) != 0:
        return NotImplemented
    widths = _widths(pad_width, x.ndim)
    out_shape = tuple(n + b + a for n, (b, a) in zip(x.shape, widths))
    res = empty(out_shape, x.dtype)
    if res.size == 0:
        return res
    dims: list = []  # [in size, before, after], merged across runs of unpadded dims
    for n, (b, a) in zip(x.shape, widths):
        if dims and b == a == 0 and dims[-1][1] == dims[-1][2] == 0:
            dims[-1][0] *= n
        else:
            dims.append([n, b, a])
    if len(dims) > MAX_DIMS:
        raise NotImplementedError(f"cuda pad: padding shape {x.shape} by {widths} needs "
                                  f"{len(dims)} dims after merging; at most {MAX_DIMS}")
    dims = [[1, 0, 0]] * (MAX_DIMS - len(dims)) + dims
    (i0, b0, _), (i1, b1, a1), (i2, b2, a2), (i3, b3, a3) = dims
    launch_1d(_pad, res.size, x.dev, res.dev, res.size, i1 + b1 + a1, i2 + b2 + a2,
              i3 + b3 + a3, i0, i1, i2, i3, b0, b1, b2, b3, x.dtype.type(constant_values))
    return res


ufuncs.FUNCTIONS.update({"pad": pad})
