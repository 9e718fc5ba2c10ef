"""Constant padding (zeros or any value) around the trailing dims; backward: crop."""
from __future__ import annotations

import numpy as np

from ..function import Function


class ConstantPad(Function):
    """out = x surrounded by `value`; widths is ((before, after), ...) per dim, all >= 0.
    d out / d x is the identity on the interior, so the backward is a slice of g."""

    def forward(self, x, widths, value=0.0):
        self.interior = tuple(slice(b, b + n) for (b, _), n in zip(widths, x.shape))
        return np.pad(x, widths, mode="constant", constant_values=value)

    def backward(self, g):
        return g[self.interior]


def source_index(mode: str, n: int, before: int, after: int) -> np.ndarray:
    """For each output position along one dim of size n padded by (before, after), the input
    index it copies, with PyTorch's rules (negative widths crop):

    - reflect / replicate: positions -before .. n-1+after of the input, mirrored about the
      edge elements (reflect) or clamped to them (replicate); reflect needs each width
      smaller than n, both need a non-empty result;
    - circular: crop first, then wrap around the cropped input; a width larger than the
      input (or than the cropped input) would wrap more than once and is refused.
    """
    size = n + before + after
    if mode == "circular":
        if before > n or after > n:
            raise RuntimeError(f"pad: circular padding {(before, after)} of a dim of size {n} "
                               f"causes wrapping around more than once")
        start, m = max(-before, 0), n - max(-before, 0) - max(-after, 0)
        pb, pa = max(before, 0), max(after, 0)
        if m < 0 or (m == 0 and (pb or pa)) or pb > m or pa > m:
            raise RuntimeError(f"pad: circular padding {(before, after)} of a dim of size {n} "
                               f"causes wrapping around more than once (the cropped size is "
                               f"{max(m, 0)})")
        return start + np.arange(-pb, m + pa) % max(m, 1)
    if mode == "reflect" and (before >= n or after >= n):
        raise RuntimeError(f"pad: reflect padding {(before, after)} must be smaller than the "
                           f"dim size {n}")
    if size < 1:
        raise RuntimeError(f"pad: {mode} padding {(before, after)} leaves no element of a dim "
                           f"of size {n} (output size {size})")
    i = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    return (n - 1) - np.abs((n - 1) - np.abs(i))  # reflect: one mirror each side suffices
