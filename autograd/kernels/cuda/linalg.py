"""matmul on cuda: a tiled, shared-memory GEMM, 2-D and batched.

C = op(A) @ op(B) with op a transpose of the last two dims when its flag is set (read
through the index, never copied), for (..., m, k) @ (..., k, n). A block of TILE x TILE
threads computes one TILE x TILE tile of C: per step along k, each thread loads one element
of A's and one of B's tile into shared memory, the block synchronises, and each thread adds
its row-by-column product. Blocks along z are the batch; an operand whose batch is 1 is
shared by every product (stride 0), one whose batch dims differ otherwise is first
materialised by the broadcast kernel.
"""
from __future__ import annotations

import numpy as np
from numba import cuda, from_dtype

from ..registry import register
from .array import CudaArray
from .elementwise import broadcast_to
from .runtime import TILE, empty, launch

_KERNELS: dict = {}


def _kernel(dtype: np.dtype):
    kernel = _KERNELS.get(dtype)
    if kernel is None:
        kernel = _KERNELS[dtype] = _make(from_dtype(dtype), TILE)
    return kernel


def _make(nb_type, tile: int):
    @cuda.jit  # a closure: not cached (its captured function is not part of the key)
    def gemm(a, b, c, m, n, k, stride_a, stride_b, trans_a, trans_b, zero):
        sa = cuda.shared.array((tile, tile), nb_type)
        sb = cuda.shared.array((tile, tile), nb_type)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        row = cuda.blockIdx.y * tile + ty
        col = cuda.blockIdx.x * tile + tx
        z = cuda.blockIdx.z
        off_a = z * stride_a
        off_b = z * stride_b
        acc = zero
        for t0 in range(0, k, tile):
            ka = t0 + tx
            if row < m and ka < k:
                sa[ty, tx] = a[off_a + (ka * m + row if trans_a else row * k + ka)]
            else:
                sa[ty, tx] = zero
            kb = t0 + ty
            if col < n and kb < k:
                sb[ty, tx] = b[off_b + (col * k + kb if trans_b else kb * n + col)]
            else:
                sb[ty, tx] = zero
            cuda.syncthreads()
            for j in range(tile):
                acc += sa[ty, j] * sb[j, tx]
            cuda.syncthreads()
        if row < m and col < n:
            c[z * m * n + row * n + col] = acc
    return gemm


def _batch(x: CudaArray, batch: tuple, rows: int, cols: int) -> tuple:
    """(x, its stride between matrices) for the broadcast batch shape `batch`."""
    own = int(np.prod(x.shape[:-2], dtype=np.int64))
    if own == int(np.prod(batch, dtype=np.int64)):  # nothing repeated: the layout as it is
        return x, rows * cols
    if own == 1:
        return x, 0
    return broadcast_to(x, batch + x.shape[-2:]), rows * cols


@register("cuda", "matmul")
def matmul(a, b, trans_a=False, trans_b=False, out=None):
    if a.dtype != b.dtype or a.dtype.kind != "f":
        raise TypeError(f"cuda matmul: expected two float arrays of one dtype, got {a.dtype} "
                        f"and {b.dtype}")
    m, k = (a.shape[-1], a.shape[-2]) if trans_a else a.shape[-2:]
    k_b, n = (b.shape[-1], b.shape[-2]) if trans_b else b.shape[-2:]
    if k != k_b:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned ({k} != "
                         f"{k_b})")
    batch = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    a, stride_a = _batch(a, batch, m, k)
    b, stride_b = _batch(b, batch, k, n)
    count = int(np.prod(batch, dtype=np.int64))
    shape = (*batch, m, n)
    if out is None:
        out = empty(shape, a.dtype)
    elif not isinstance(out, CudaArray) or out.shape != shape or out.dtype != a.dtype:
        raise ValueError(f"cuda matmul: out= must be a cuda array of shape {shape} and dtype "
                         f"{a.dtype}, got {out!r}")
    if out.size == 0:
        return out
    if k == 0:
        out.fill(0)
        return out
    grid = ((n + TILE - 1) // TILE, (m + TILE - 1) // TILE, count)
    launch(_kernel(a.dtype), grid, (TILE, TILE), a.dev, b.dev, out.dev, m, n, k, stride_a,
           stride_b, bool(trans_a), bool(trans_b), a.dtype.type(0))
    return out
