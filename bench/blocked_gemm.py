"""The blocked GEMM written in numba: measured by `python -m bench --only matmul`, not used by
the runtime (OpenBLAS beat it at every size measured, so `autograd.kernels` calls BLAS).

The kernel is the classic Goto/BLIS scheme: B is packed into KC x NR panels and A into
MR x KC panels (packing reads any strides, so `A.T @ B` and `A @ B.T` never materialise a
transpose), then an MR x NR register-blocked micro-kernel runs over the panels, with
`prange` over (row block, column group) tiles. The accumulator tile lives in a stack
buffer (`stack_buffer`: an `alloca` of constant size, which LLVM promotes to vector
registers; numba's `np.zeros` is a heap allocation LLVM cannot remove). Two details decide
the speed (each was a 4-10x difference, checked in the assembly): the micro-kernel is
compiled without reassociation (with it LLVM vectorises the k loop with gathers), and every
panel index is taken from a slice so it is provably non-negative (numba's wraparound check
for negative indices otherwise turns the contiguous loads into gathers).
Single-threaded it reaches 0.89-0.96x of OpenBLAS's f32 kernel (n = 256-1024) on the
machine it was written on. (Splitting a product into chunks run by two Python threads on
1-thread OpenBLAS was tried and dropped: that OpenBLAS build serialised concurrent calls.)
"""
from __future__ import annotations

import numpy as np
from numba import carray, njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from autograd.kernels.jit._common import float_dtype, lazy_njit


@intrinsic
def stack_buffer(typingctx, count_ty, dtype_ty):
    """Pointer to `count` uninitialised elements of `dtype` on the caller's stack (count is
    a compile-time constant)."""
    if not isinstance(count_ty, types.IntegerLiteral):
        return None
    count = count_ty.literal_value
    dtype = dtype_ty.dtype if isinstance(dtype_ty, types.DType) else dtype_ty.instance_type
    sig = types.CPointer(dtype)(count_ty, dtype_ty)

    def codegen(context, builder, signature, args):
        ty = context.get_data_type(dtype)
        return cgutils.alloca_once(builder, ty, size=count)

    return sig, codegen


MAXACC = 8 * 32    # largest MR * NR over the dtypes (stack buffer size)
KC = 256           # depth of a packed panel: an MR x KC A-panel and KC x NR B-panel in L1/L2
MC = 96            # rows per task (a multiple of both MRs)
NG = 4             # NR-panels per task: a task's B slice is KC x NG*NR, in L2


def _tile(x):
    pass


@overload(_tile, jit_options={"cache": True})
def _tile_overload(x):
    # (MR, NR): NR = two AVX-512 vectors, MR rows of broadcasts -> 2*MR accumulators.
    if x.dtype == types.float32:
        return lambda x: (8, 32)
    return lambda x: (8, 16)


@njit(fastmath={"contract"}, inline="always")
def _micro(kc, ap, a0, bp, b0, c, i0, j0, mr, nr, first):
    # No reassociation (only FMA contraction): with fastmath LLVM vectorises the k loop
    # with gathers instead of the j loop, and the accumulators leave the registers.
    MR, NR = _tile(ap)
    acc = carray(stack_buffer(MAXACC, ap.dtype), MAXACC)
    for x in range(MR * NR):
        acc[x] = 0
    # Slices, so that every index below is provably non-negative: otherwise numba's
    # negative-index wraparound turns the contiguous panel loads into gathers.
    apan = ap[a0:a0 + kc * MR]
    bpan = bp[b0:b0 + kc * NR]
    for p in range(kc):
        for j in range(NR):
            b = bpan[p * NR + j]
            for i in range(MR):
                acc[i * NR + j] += apan[p * MR + i] * b
    ct = c[i0:i0 + mr, j0:j0 + nr]
    if mr == MR and nr == NR:
        if first:
            for i in range(MR):
                for j in range(NR):
                    ct[i, j] = acc[i * NR + j]
        else:
            for i in range(MR):
                for j in range(NR):
                    ct[i, j] += acc[i * NR + j]
    else:
        for i in range(mr):
            for j in range(nr):
                if first:
                    ct[i, j] = acc[i * NR + j]
                else:
                    ct[i, j] += acc[i * NR + j]


@njit(inline="always")
def _pack_b_panel(b, pc, kc, j0, dst):
    """dst[p * NR + j] = b[pc + p, j0 + j] (zero past the last column)."""
    NR = _tile(dst)[1]
    n = b.shape[1]
    if j0 + NR <= n:
        src = b[pc:pc + kc, j0:j0 + NR]
        for p in range(kc):
            for j in range(NR):
                dst[p * NR + j] = src[p, j]
    else:
        for p in range(kc):
            for j in range(NR):
                dst[p * NR + j] = b[pc + p, j0 + j] if j0 + j < n else 0


@njit(inline="always")
def _pack_a_panel(a, pc, kc, i0, dst):
    """dst[p * MR + i] = a[i0 + i, pc + p] (zero past the last row)."""
    MR = _tile(dst)[0]
    m = a.shape[0]
    if i0 + MR <= m:
        src = a[i0:i0 + MR, pc:pc + kc]
        for p in range(kc):
            for i in range(MR):
                dst[p * MR + i] = src[i, p]
    else:
        for p in range(kc):
            for i in range(MR):
                dst[p * MR + i] = a[i0 + i, pc + p] if i0 + i < m else 0


def _gemm_sig(dt):
    arr = types.Array(dt, 3, "A", readonly=True)
    return types.void(arr, arr, types.Array(dt, 3, "C"))


def _gemm_fits(a3, b3, c3) -> bool:
    nb, m, k = a3.shape
    return b3.shape[:2] == (nb, k) and c3.shape == (nb, m, b3.shape[2])


@lazy_njit(_gemm_sig, fastmath={"contract"}, error_model="python", check=_gemm_fits)
def gemm_blocked(a3, b3, c3):
    """c3[i] = a3[i] @ b3[i] for each batch index i (any strides in a3, b3).

    Two parallel regions per product: pack all of A and B (every KC-deep block), then
    compute (row block x column group) tasks, each running every KC block in turn."""
    MR, NR = _tile(a3)
    nb, m, k = a3.shape
    n = b3.shape[2]
    if k == 0:
        c3[:] = 0
        return
    npan = (n + NR - 1) // NR
    mpan = (m + MR - 1) // MR
    npc = (k + KC - 1) // KC
    ngroups = (npan + NG - 1) // NG
    # row blocks of about MC rows, an even number of them so the two threads' static
    # halves of the task range hold the same number of rows
    nblk = (m + MC - 1) // MC
    nblk += nblk % 2
    mc = (((m + nblk - 1) // nblk + MR - 1) // MR) * MR
    mblocks = (m + mc - 1) // mc
    bp = np.empty(k * npan * NR, a3.dtype)   # block pc starts at pc * npan * NR
    ap = np.empty(k * mpan * MR, a3.dtype)   # block pc starts at pc * mpan * MR
    for bi in range(nb):
        a = a3[bi]
        b = b3[bi]
        c = c3[bi]
        for t in prange(npc * (npan + mpan)):
            blk = t // (npan + mpan)
            q = t % (npan + mpan)
            pc = blk * KC
            kc = min(KC, k - pc)
            if q < npan:
                off = pc * npan * NR + q * kc * NR
                _pack_b_panel(b, pc, kc, q * NR, bp[off:off + kc * NR])
            else:
                r = q - npan
                off = pc * mpan * MR + r * kc * MR
                _pack_a_panel(a, pc, kc, r * MR, ap[off:off + kc * MR])
        for task in prange(mblocks * ngroups):
            ib = task // ngroups
            g = task % ngroups
            ic = ib * mc
            r0 = ic // MR
            r1 = (min(ic + mc, m) + MR - 1) // MR
            for blk in range(npc):
                pc = blk * KC
                kc = min(KC, k - pc)
                for q in range(g * NG, min(npan, (g + 1) * NG)):
                    boff = pc * npan * NR + q * kc * NR
                    for r in range(r0, r1):
                        i0 = r * MR
                        _micro(kc, ap, pc * mpan * MR + r * kc * MR, bp, boff, c, i0, q * NR,
                               min(MR, m - i0), min(NR, n - q * NR), blk == 0)


PARALLEL_MIN_MACS = 1 << 21   # below, the blocked kernel runs its serial compilation


def _as3(x: np.ndarray, batch: tuple, rows: int, cols: int) -> np.ndarray:
    x = np.broadcast_to(x, batch + (rows, cols))
    if x.ndim == 3:
        return x
    # a reshape of broadcast (0-stride) batch dims may copy; only the batch dims are merged
    return x.reshape((-1, rows, cols))


def _layout(name, a, b, trans_a, trans_b):
    dt = float_dtype(name, a, b)
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(f"{name}: expected arrays with at least 2 dims, got {a.shape} and "
                         f"{b.shape}")
    if trans_a:
        a = np.swapaxes(a, -1, -2)
    if trans_b:
        b = np.swapaxes(b, -1, -2)
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"{name}: shapes {a.shape} and {b.shape} are not aligned "
                         f"({a.shape[-1]} != {b.shape[-2]})")
    try:
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(f"{name}: batch dims of {a.shape} and {b.shape} cannot be "
                         f"broadcast") from None
    return a.astype(dt, copy=False), b.astype(dt, copy=False), batch


def matmul_blocked(a: np.ndarray, b: np.ndarray, trans_a: bool = False,
                   trans_b: bool = False) -> np.ndarray:
    """Our blocked kernel alone (no dispatch): op(a) @ op(b), batched with broadcasting."""
    a, b, batch = _layout("matmul", a, b, trans_a, trans_b)
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    out = np.empty(batch + (m, n), a.dtype)
    if out.size == 0:
        return out
    if k == 0:
        out[...] = 0
        return out
    c3 = out.reshape((-1, m, n))
    par = c3.shape[0] * m * k * n >= PARALLEL_MIN_MACS
    gemm_blocked.get(a.dtype, par)(_as3(a, batch, m, k), _as3(b, batch, k, n), c3)
    return out
