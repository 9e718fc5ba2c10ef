"""Source positions of PyTorch's F.interpolate along one dim, as numpy arrays.

Resampling is a gather (nearest) or a fixed linear map (bilinear) along each spatial dim,
so nn.functional builds it from differentiable Tensor indexing and matmul; what this module
holds is the part that must match PyTorch to the bit: which input positions each output
reads, and with which weights.

- nearest: src = min(floor(dst * scale), in - 1) in float32, with scale = in / out, or
  1 / scale_factor when the caller gave one (PyTorch's upsample_nearest).
- linear, align_corners=True: src = dst * (in - 1) / (out - 1) (0 when out == 1).
- linear, align_corners=False: src = max((dst + 0.5) * scale - 0.5, 0).
  Then i0 = floor(src), i1 = min(i0 + 1, in - 1), weights (1 - l, l) with l = src - i0.
"""
from __future__ import annotations

import numpy as np

__all__ = ["linear_matrix", "nearest_index"]


def _scale(size: int, out: int, scale_factor: float | None) -> float:
    return 1.0 / scale_factor if scale_factor else size / out


def nearest_index(size: int, out: int, scale_factor: float | None = None) -> np.ndarray:
    """(out,) int64 input positions read by a nearest resize of `size` to `out`."""
    scale = np.float32(_scale(size, out, scale_factor))
    src = np.floor(np.arange(out, dtype=np.float32) * scale).astype(np.int64)
    return np.minimum(src, size - 1)


def linear_matrix(size: int, out: int, align_corners: bool, scale_factor: float | None = None,
                  dtype=np.float64) -> np.ndarray:
    """(out, size) matrix of a linear resize along one dim: row o mixes the two input
    positions around o's source position with weights 1 - l and l."""
    dst = np.arange(out, dtype=np.float64)
    if align_corners:
        src = dst * ((size - 1) / (out - 1)) if out > 1 else np.zeros(out)
    else:
        src = np.maximum((dst + 0.5) * _scale(size, out, scale_factor) - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), size - 1)
    i1 = np.minimum(i0 + 1, size - 1)
    lam = src - i0
    m = np.zeros((out, size), dtype=np.float64)
    np.add.at(m, (np.arange(out), i0), 1.0 - lam)
    np.add.at(m, (np.arange(out), i1), lam)
    return m.astype(dtype)
