"""The default float dtype and the rules that turn Python data into arrays."""
from __future__ import annotations

import numpy as np

from .kernels.cuda.array import CudaArray

_ARRAYS = (np.ndarray, CudaArray)  # a cuda tensor's data promotes as an array

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


# ---- type promotion (torch.result_type) -------------------------------------------------------
# Operands take part in three priority groups, as in PyTorch: tensors with dims, 0-d tensors,
# and Python scalars ("wrapped numbers"). A lower group only matters when it is of a higher
# category (bool < integer < floating < complex), so `uint8_tensor - 1` stays uint8 and
# `int_tensor * 2.5` gives the default float dtype, never float64.
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _category(dtype: np.dtype) -> int:
    return _CATEGORY.get(dtype.kind, 1)


def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """torch.promote_types: within a category numpy's table; across categories the dtype
    of the higher category (int64 with float16 gives float16, not numpy's float64)."""
    if a == b:
        return a
    ca, cb = _category(a), _category(b)
    if ca == cb or min(ca, cb) >= 2:
        return np.promote_types(a, b)
    return a if ca > cb else b


def _scalar_dtype(x) -> np.dtype:
    if isinstance(x, (bool, np.bool_)):
        return np.dtype(bool)
    if isinstance(x, (int, np.integer)):
        return np.dtype(np.int64)
    if isinstance(x, (float, np.floating)):
        return _default[0]
    return np.dtype(np.complex64 if _default[0] == np.float32 else np.complex128)


def _combine(higher, lower):
    """PyTorch's combine_categories: a lower-priority group's dtype only counts when its
    category is higher (or the higher group is bool)."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    ch, cl = _category(higher), _category(lower)
    if ch >= 2 and ch >= cl:
        return higher
    if ch == 0 or cl > ch:
        return promote_types(higher, lower)
    return higher


def result_type(*operands) -> np.dtype:
    """The dtype PyTorch gives an elementwise op of these operands (torch.result_type).

    Operands are arrays (a 0-d array counts as a 0-d tensor) or Python / numpy scalars
    (wrapped numbers: bool, int64, or the default float dtype)."""
    groups = [None, None, None]  # dim tensors, 0-d tensors, scalars
    for x in operands:
        if isinstance(x, _ARRAYS):
            g, dt = (0 if x.ndim else 1), x.dtype
        else:
            g, dt = 2, _scalar_dtype(x)
        groups[g] = dt if groups[g] is None else promote_types(groups[g], dt)
    return _combine(groups[0], _combine(groups[1], groups[2]))


def scalar_array(x, dtype: np.dtype) -> np.ndarray:
    """A Python scalar as a 0-d array of `dtype`, wrapping around as PyTorch's cast does
    (uint8 with -1 is 255); a Python int beyond int64 raises OverflowError."""
    kind, kind_x = dtype.kind, type(x)
    if kind == "f" and (kind_x is float or kind_x is int) and not abs(x) > 65504.0:
        return np.asarray(x, dtype)  # the common case: fits even float16, no cast warning
    if kind in "iu" and kind_x is int:
        try:
            return np.asarray(x, dtype)
        except OverflowError:
            pass  # out of the dtype's range: wrap around below
    if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)):
        with np.errstate(over="ignore"):
            return np.asarray(x, dtype=np.int64).astype(dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(x).astype(dtype)
