"""numba backend's matmul: numpy's BLAS, or numbagrad's own `autograd.kernels.gemm` for the
products `policy.gemm_route(GEMM_MATMUL, ...)` sends there (by multiply-adds per product;
measured by `python -m bench --only gemm`, which prints the policy). What this adds to the
reference: float inputs must be at least 2-D, as the op guarantees (a clear error rather
than numpy's 1-D semantics)."""
from __future__ import annotations

import math

import numpy as np

from .. import linalg as ref
from .. import policy
from ..registry import register
from . import tasks
from ._common import same_float_arrays
from .gemm import gemm


@register("numba", "matmul")
def matmul(a: np.ndarray, b: np.ndarray, trans_a: bool = False, trans_b: bool = False,
           out: np.ndarray | None = None) -> np.ndarray:
    """op(a) @ op(b) (op = transpose of the last two dims when its flag is set)."""
    if not same_float_arrays(a, b):  # ints, mixed dtypes: numpy's semantics and errors
        return ref.matmul.reference(a, b, trans_a, trans_b, out=out)
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(f"matmul: expected arrays with at least 2 dims, got {a.shape} and "
                         f"{b.shape}")
    # numpy hands transposed views to BLAS with its trans flags: no copy; numpy raises
    # ValueError itself on mismatched shapes
    if trans_a:
        a = np.swapaxes(a, -1, -2)
    if trans_b:
        b = np.swapaxes(b, -1, -2)
    # gemm's thread count decides only a broadcast A's route (asked only then: ~1 us a call)
    broadcast_a = b.ndim > 2 and a.shape[:-2] != b.shape[:-2]
    if (a.shape[-1] == b.shape[-2] and (out is None or out.dtype == a.dtype)
            and policy.gemm_route(policy.GEMM_MATMUL, a.shape[-2] * a.shape[-1] * b.shape[-1],
                                  b.shape[-1], a.dtype.itemsize, broadcast_a=broadcast_a,
                                  threads=tasks.threads() if broadcast_a else 1)):
        return gemm(a, b, out=out)  # strided and transposed views read in place
    if (b.ndim == 2 and a.ndim > 2 and a.flags.c_contiguous and a.shape[-1] == b.shape[0]
            and (out is None or out.flags.c_contiguous)):
        # a stack of matrices times one matrix (a Linear layer on (batch, tokens, features)):
        # one product over all the rows, not one BLAS call per matrix (numpy's loop)
        rows = a.reshape(math.prod(a.shape[:-1]), a.shape[-1])  # -1 is ambiguous if k == 0
        shape = a.shape[:-1] + (b.shape[1],)
        if out is None:
            return ref.blas_matmul(rows, b).reshape(shape)
        if out.shape == shape and out.dtype == np.result_type(a, b):
            ref.blas_matmul(rows, b, out.reshape(rows.shape[0], b.shape[1]))
            return out
    return ref.blas_matmul(a, b, out)
