"""matmul on cuda: a register-tiled GEMM (SGEMM / DGEMM), 2-D and batched.

C = op(A) @ op(B) with op a transpose of the last two dims when its flag is set (read
through the index, never copied), for (..., m, k) @ (..., k, n). One kernel code, compiled
per configuration (BM, BN, BK, TM, TN): a block of (BM / TM) * (BN / TN) threads computes a
BM x BN tile of C, each thread a TM x TN sub-tile held in registers (a local array with
constant bounds and unrolled loops). Per step along k, the block copies a BM x BK slice of A
(stored k-major, so the inner product reads consecutive floats) and a BK x BN slice of B into
shared memory with coalesced loads (consecutive threads read consecutive addresses in the
operand's own layout, transposed or not; zeros past the ragged edges), then each thread loads
a column of A's slice and a row of B's into registers and does TM * TN fused multiply-adds
per k. The next slice is fetched into registers while the current one is multiplied. A
thread's rows and columns are strided by the thread counts (row ty + i * BM / TM), so the
shared-memory reads of a warp hit distinct banks and the stores of C are coalesced; the
shared tiles are padded so the k-major stores are conflict-free as well. Indices are cast to
unsigned (`u`), which drops numba's negative-index wraparound: without it the inner loop
is 96 instructions for 64 FMAs (large tile, sm_90), with it 155.

The configuration is chosen by the output's size: 128 x 128 tiles (8 x 8 per thread) when
there are enough of them to fill the GPU, 64 x 64 (4 x 4) for mid-sized products, 16 x 16
(one output per thread, the textbook kernel) for small ones such as the MLP's, where many
blocks beat much work per thread; float64 uses the two smaller ones (its large tile would
need 241 registers).
On numba's CUDA simulator the same code runs at tiny tiles (TILE = 4), so the tests exercise
its indexing (edges, transposes, batch) at small sizes. Blocks along x are rows of C, along
y its columns, along z the batch (launched in chunks of the grid's 65535 when larger); an
operand whose batch is 1 is shared by every product (stride 0), one whose batch dims differ
otherwise is first materialised by the broadcast kernel.

Kernels are closures over their configuration (ints and a numpy scalar type), compiled on
first use with ``cache=True``: numba-cuda keys a closure's cache entry by the pickled values
of its cells, so each configuration has its own entry and a fresh process loads it from
numba's cache instead of recompiling.
"""
from __future__ import annotations

import math

import numpy as np
from numba import cuda

from ..registry import register
from .array import CudaArray
from .elementwise import broadcast_to
from .runtime import SIMULATOR, TILE, empty, launch

# name -> (BM, BN, BK, TM, TN); on the simulator the same shapes shrunk (TILE = 4 there)
CONFIGS = {
    "large": (128, 128, 8, 8, 8),
    "medium": (64, 64, 16, 4, 4),
    "small": (16, 16, 16, 1, 1),
}
if SIMULATOR:
    CONFIGS = {
        "large": (2 * TILE, 2 * TILE, TILE, 2, 2),    # 16 threads, 2 loads each per slice
        "medium": (2 * TILE, TILE, TILE, 2, 1),       # non-square: 16 threads
        "small": (TILE, TILE, TILE, 1, 1),            # 16 threads, one output each
    }
# ptxas's register cap per configuration: 128 lets two 256-thread blocks share a multiprocessor
# (the large tile needs 130 uncapped; capped it spills 8 bytes, outside the inner loop)
MAX_REGISTERS = {"large": 128}
MAX_GRID_YZ = 65535  # a grid's blocks along y and z (columns of C, the batch)
SIM_SMS = 8  # the multiprocessor count the simulator pretends to have (for `choose`)

_KERNELS: dict = {}
u = np.uint64  # an unsigned index: numba skips the negative-index wraparound (all are >= 0)
_SMS: list = []


def _kernel(dtype: np.dtype, name: str):
    key = (np.dtype(dtype), name)
    kernel = _KERNELS.get(key)
    if kernel is None:
        kernel = _KERNELS[key] = _make(np.dtype(dtype).type, *CONFIGS[name],
                                       max_registers=MAX_REGISTERS.get(name))
    return kernel


def _make(scalar, bm: int, bn: int, bk: int, tm: int, tn: int, max_registers=None):
    """The GEMM kernel for one configuration; `scalar` is np.float32 or np.float64."""
    rows = bm // tm                      # threads along m
    cols = bn // tn                      # threads along n
    threads = rows * cols
    loads_a = (bm * bk) // threads       # elements of A's slice each thread copies
    loads_b = (bk * bn) // threads
    # every thread copies whole elements, and its elements are a fixed step apart
    assert threads % bm == 0 and threads % bn == 0 and threads % bk == 0, (bm, bn, bk, tm, tn)
    assert loads_a * threads == bm * bk and loads_b * threads == bk * bn, (bm, bn, bk, tm, tn)
    pad = 32 // bk if bk < 32 else 1     # k-major stores of a warp land on distinct banks
    lda = bm + pad                       # row length of the shared slices
    ldb = bn + pad
    size_a = bk * lda
    size_b = bk * ldb

    options = {} if SIMULATOR or max_registers is None else {"max_registers": max_registers}

    @cuda.jit(cache=True, **options)
    def gemm(a, b, c, m, n, k, stride_a, stride_b, trans_a, trans_b):
        sa = cuda.shared.array(size_a, scalar)  # sa[kk * lda + r] = op(A)[row0 + r, t0 + kk]
        sb = cuda.shared.array(size_b, scalar)  # sb[kk * ldb + q] = op(B)[t0 + kk, col0 + q]
        acc = cuda.local.array((tm, tn), scalar)
        ra = cuda.local.array(tm, scalar)
        rb = cuda.local.array(tn, scalar)
        pa = cuda.local.array(loads_a, scalar)        # the next slice, in flight
        pb = cuda.local.array(loads_b, scalar)
        tid = cuda.threadIdx.x
        tx = tid % cols
        ty = tid // cols
        row0 = cuda.blockIdx.x * bm   # rows along x: a grid's x has 2**31 - 1 blocks, y 65535
        col0 = cuda.blockIdx.y * bn
        z = cuda.blockIdx.z
        off_a = z * stride_a
        off_b = z * stride_b
        for i in range(tm):
            for j in range(tn):
                acc[i, j] = 0
        # This thread's first element of each slice, the step to its next one and the
        # operand's strides: consecutive threads take consecutive addresses of the operand's
        # contiguous dim (k for A, n for B when not transposed)
        if trans_a:   # A is (k, m)
            ar = tid % bm
            ak = tid // bm
            dar = 0
            dak = threads // bm
            sar = 1
            sak = m
        else:         # A is (m, k)
            ar = tid // bk
            ak = tid % bk
            dar = threads // bk
            dak = 0
            sar = k
            sak = 1
        if trans_b:   # B is (n, k)
            bc = tid // bk
            bk0 = tid % bk
            dbc = threads // bk
            dbk = 0
            sbc = k
            sbk = 1
        else:         # B is (k, n)
            bc = tid % bn
            bk0 = tid // bn
            dbc = 0
            dbk = threads // bn
            sbc = 1
            sbk = n
        ga = off_a + (row0 + ar) * sar + ak * sak     # A's address at t0 = 0, q = 0
        gb = off_b + (col0 + bc) * sbc + bk0 * sbk
        step_a = dar * sar + dak * sak
        step_b = dbc * sbc + dbk * sbk
        # per step: fetch the slice at t0 into registers, multiply the previous one (in
        # shared memory) while the loads are in flight, then store the fetched slice
        for t0 in range(0, k + bk, bk):
            if t0 < k:
                for q in range(loads_a):
                    if row0 + ar + q * dar < m and t0 + ak + q * dak < k:
                        pa[q] = a[u(ga + t0 * sak + q * step_a)]
                    else:
                        pa[q] = 0
                for q in range(loads_b):
                    if col0 + bc + q * dbc < n and t0 + bk0 + q * dbk < k:
                        pb[q] = b[u(gb + t0 * sbk + q * step_b)]
                    else:
                        pb[q] = 0
            if t0 > 0:
                for kk in range(bk):
                    ia = kk * lda + ty
                    ib = kk * ldb + tx
                    for i in range(tm):
                        ra[i] = sa[u(ia + i * rows)]
                    for j in range(tn):
                        rb[j] = sb[u(ib + j * cols)]
                    for i in range(tm):
                        for j in range(tn):
                            acc[i, j] += ra[i] * rb[j]
                cuda.syncthreads()
            if t0 < k:
                for q in range(loads_a):
                    sa[u((ak + q * dak) * lda + ar + q * dar)] = pa[q]
                for q in range(loads_b):
                    sb[u((bk0 + q * dbk) * ldb + bc + q * dbc)] = pb[q]
                cuda.syncthreads()
        base = z * m * n
        for i in range(tm):
            r = row0 + ty + i * rows
            if r < m:
                for j in range(tn):
                    q = col0 + tx + j * cols
                    if q < n:
                        c[u(base + r * n + q)] = acc[i, j]
    return gemm


def choose(m: int, n: int, count: int, dtype: np.dtype, sms: int | None = None) -> str:
    """The configuration for `count` products of m x n outputs: the largest tile that still
    gives every multiprocessor a block (128 x 128 only for float32), 64 x 64 while that gives
    a quarter of them one, else 16 x 16 (small products: many blocks, short per thread)."""
    sms = _multiprocessors() if sms is None else sms

    def blocks(name: str) -> int:
        bm, bn = CONFIGS[name][:2]
        return -(-m // bm) * -(-n // bn) * count
    if np.dtype(dtype).itemsize == 4 and blocks("large") >= sms:
        return "large"
    if blocks("medium") >= max(sms // 4, 1):
        return "medium"
    return "small"


def _multiprocessors() -> int:
    if not _SMS:
        _SMS.append(SIM_SMS if SIMULATOR
                    else int(cuda.get_current_device().MULTIPROCESSOR_COUNT))
    return _SMS[0]


def _batch(x: CudaArray, batch: tuple, rows: int, cols: int) -> tuple:
    """(x, its stride between matrices) for the broadcast batch shape `batch`."""
    own = math.prod(x.shape[:-2])
    if own == math.prod(batch):  # nothing repeated: the layout as it is
        return x, rows * cols
    if own == 1:
        return x, 0
    return broadcast_to(x, batch + x.shape[-2:]), rows * cols


def _from(dev, start: int):
    """The device array from element `start` on (a view; the array itself from 0)."""
    return dev[start:] if start else dev


@register("cuda", "matmul")
def matmul(a, b, trans_a=False, trans_b=False, out=None):
    return gemm(a, b, trans_a, trans_b, out)


def gemm(a: CudaArray, b: CudaArray, trans_a: bool = False, trans_b: bool = False,
         out: CudaArray | None = None, config: str | None = None) -> CudaArray:
    """op(a) @ op(b) (batched over leading dims, broadcast) into `out` (new when None), with
    the configuration `config` (a CONFIGS name; chosen by `choose` when None)."""
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
    count = math.prod(batch)
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
    if config is None:
        config = choose(m, n, count, a.dtype)
    elif config not in CONFIGS:
        raise ValueError(f"cuda matmul: config must be one of {sorted(CONFIGS)}, got {config!r}")
    bm, bn, _, tm, tn = CONFIGS[config]
    blocks_n = -(-n // bn)
    if blocks_n > MAX_GRID_YZ:
        raise ValueError(f"cuda matmul: {n} output columns need {blocks_n} blocks of {bn}, "
                         f"more than a grid's {MAX_GRID_YZ} (shapes {a.shape} and {b.shape})")
    kernel = _kernel(a.dtype, config)
    for first in range(0, count, MAX_GRID_YZ):  # the batch in chunks of the grid's z limit
        part = min(count, first + MAX_GRID_YZ) - first
        launch(kernel, (-(-m // bm), blocks_n, part), (bm // tm) * (bn // tn),
               _from(a.dev, first * stride_a), _from(b.dev, first * stride_b),
               _from(out.dev, first * m * n), m, n, k, stride_a, stride_b, bool(trans_a),
               bool(trans_b))
    return out
