"""The default float dtype and the rules that turn Python data into arrays."""
from __future__ import annotations

import numpy as np

_default = [np.dtype(np.float32)]


def set_default_dtype(dtype) -> None:
    """Set the dtype of tensors made from Python floats (float32 unless changed)."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"set_default_dtype: only float32 and float64 are supported, got {dtype}")
    _default[0] = dtype


def get_default_dtype() -> np.dtype:
    return _default[0]


def is_float(dtype) -> bool:
    return np.issubdtype(dtype, np.floating)


def to_array(data, dtype=None) -> np.ndarray:
    """Python data -> array: floats take the default dtype, ints int64; arrays keep theirs."""
    if isinstance(data, np.ndarray):
        return np.array(data, dtype=dtype, copy=True)
    try:
        arr = np.array(data)
    except ValueError:
        arr = np.array(None, dtype=object)  # ragged nested lists: reported below
    if dtype is not None:
        return arr.astype(dtype, copy=False)
    if isinstance(data, np.generic):
        return arr
    if is_float(arr.dtype):
        return arr.astype(_default[0], copy=False)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"tensor: cannot build a tensor from {type(data).__name__} data "
                        f"(ragged or non-numeric, numpy dtype {arr.dtype})")
    return arr
