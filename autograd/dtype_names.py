"""`autograd.float32`, `autograd.long`, ...: PyTorch's dtype names, as numpy dtypes.

They are `numpy.dtype` objects, so ``t.dtype == autograd.long`` and ``t.dtype == np.int64``
both hold, and they go wherever a dtype goes (``dtype=``, ``.to()``, numpy itself).
Exported by autograd/__init__.py (kept here: ``float``, ``int`` and ``bool`` would shadow
the builtins in any module that defined them as globals)."""
from __future__ import annotations

import numpy as np

DTYPES = {
    "float16": np.dtype(np.float16),
    "float32": np.dtype(np.float32),
    "float64": np.dtype(np.float64),
    "int8": np.dtype(np.int8),
    "int16": np.dtype(np.int16),
    "int32": np.dtype(np.int32),
    "int64": np.dtype(np.int64),
    "uint8": np.dtype(np.uint8),
    "bool": np.dtype(np.bool_),
    "complex64": np.dtype(np.complex64),
    "complex128": np.dtype(np.complex128),
}
DTYPES.update(half=DTYPES["float16"], float=DTYPES["float32"], double=DTYPES["float64"],
              short=DTYPES["int16"], int=DTYPES["int32"], long=DTYPES["int64"],
              cfloat=DTYPES["complex64"], cdouble=DTYPES["complex128"])
