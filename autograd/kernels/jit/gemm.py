"""numba backend's gemm: act(a @ b + bias), a Goto/BLIS-style blocked matrix multiply with
the epilogue fused into the last pass over each output tile.

Scheme: A is packed into MR x KC panels and B into KC x NR panels (contiguous, in the order
the micro-kernel reads them; packing reads any strides, so transposed and strided operands
are never copied whole); an MR x NR micro-kernel keeps its accumulators in a stack buffer
(an `alloca` of constant size that LLVM promotes to vector registers) and runs the k loop as
broadcast-A times vector-B FMAs (`fastmath={"contract"}` only: with reassociation LLVM
vectorises the k loop with gathers instead). On the last KC block the tile gets bias and
activation before it is stored, while it is in registers. Parallelism: one large product
runs `prange` over the packing of panels, then over row blocks; many small products (a
batch) run `prange` over the batch, each product serial.
"""
from __future__ import annotations

import math

import numpy as np
from numba import carray, njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from .. import policy
from ..gemm import apply_activation, check_gemm
from ..registry import register
from ._common import lazy_njit

ACT_CODES = {None: 0, "relu": 1, "tanh": 2, "sigmoid": 3, "gelu": 4}


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


MAXACC = 8 * 32  # largest MR * NR over the dtypes (stack buffer size)
KC = 256         # depth of a packed panel
MC = 96          # rows per task (a multiple of both MRs)


def _tile(x):
    pass


@overload(_tile, jit_options={"cache": True})
def _tile_overload(x):
    # (MR, NR): NR = two AVX-512 vectors (four AVX2 ones); MR rows of broadcasts
    if x.dtype == types.float32:
        return lambda x: (8, 32)
    return lambda x: (8, 16)


@njit(inline="always")
def _act(v, act):
    """The epilogue's activation on one value (codes in ACT_CODES)."""
    if act == 1:
        v = v if not v < 0 else 0  # NaN stays NaN, as numpy's maximum
    elif act == 2:
        v = np.tanh(v)
    elif act == 3:
        if v >= 0:
            v = 1 / (1 + np.exp(-v))
        else:
            e = np.exp(v)
            v = e / (1 + e)
    elif act == 4:
        v = 0.5 * v * (1 + math.erf(v * 0.7071067811865476))
    return v


@njit(fastmath={"contract"}, inline="always")
def _micro(kc, ap, a0, bp, b0, c, i0, j0, mr, nr, first, last, bias, act):
    """c[i0:i0+mr, j0:j0+nr] (+)= A-panel @ B-panel; on the last KC block also + bias and
    the activation."""
    MR, NR = _tile(ap)
    acc = carray(stack_buffer(MAXACC, ap.dtype), MAXACC)
    for x in range(MR * NR):
        acc[x] = 0
    # slices, so every index below is provably non-negative (numba's wraparound check
    # for negative indices otherwise turns the contiguous panel loads into gathers)
    apan = ap[a0:a0 + kc * MR]
    bpan = bp[b0:b0 + kc * NR]
    for p in range(kc):
        for j in range(NR):
            b = bpan[p * NR + j]
            for i in range(MR):
                acc[i * NR + j] += apan[p * MR + i] * b
    # the edge and epilogue loops below index with run-time bounds: they read a copy, so
    # every access to `acc` has a constant index once unrolled and it stays in registers
    res = carray(stack_buffer(MAXACC, ap.dtype), MAXACC)
    for x in range(MR * NR):
        res[x] = acc[x]
    acc = res
    ct = c[i0:i0 + mr, j0:j0 + nr]
    if mr == MR and nr == NR:
        # a whole tile: constant trip counts and unit-stride rows (a row slice of the
        # C-contiguous output keeps its layout; `ct`'s rows do not), so vector stores
        for i in range(MR):
            crow = c[i0 + i, j0:j0 + NR]
            if first:
                for j in range(NR):
                    crow[j] = acc[i * NR + j]
            else:
                for j in range(NR):
                    crow[j] += acc[i * NR + j]
    else:
        for i in range(mr):
            for j in range(nr):
                if first:
                    ct[i, j] = acc[i * NR + j]
                else:
                    ct[i, j] += acc[i * NR + j]
    if last:
        _epilogue(ct, bias[j0:j0 + nr], act)


@njit(inline="always")
def _epilogue(ct, bias, act):
    """ct = act(ct + bias) on one output tile, still in L1; one loop per activation, so
    LLVM vectorises the bias and relu loops."""
    mr, nr = ct.shape
    if bias.shape[0] > 0:
        for i in range(mr):
            for j in range(nr):
                ct[i, j] += bias[j]
    if act == 1:
        for i in range(mr):
            for j in range(nr):
                v = ct[i, j]
                ct[i, j] = v if not v < 0 else 0  # NaN stays NaN, as numpy's maximum
    elif act != 0:
        for i in range(mr):
            for j in range(nr):
                ct[i, j] = _act(ct[i, j], act)


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


@njit(inline="always")
def _pack(t, a, b, ap, bp, mpan, npan):
    """Pack task t of (KC block) x (B panels, then A panels). The block starting at depth
    pc holds B panels at bp[pc * npan * NR:] and A panels at ap[pc * mpan * MR:]."""
    MR, NR = _tile(ap)
    k = a.shape[1]
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


@njit(inline="always")
def _rows(ib, mc, a, ap, bp, bias, act, c, mpan, npan):
    """Every tile of the row block ib (rows ib*mc ...), over every KC block in turn; the
    last block applies the epilogue."""
    MR, NR = _tile(ap)
    m, k = a.shape
    n = c.shape[1]
    npc = (k + KC - 1) // KC
    r0 = ib * mc // MR
    r1 = (min(ib * mc + mc, m) + MR - 1) // MR
    for blk in range(npc):
        pc = blk * KC
        kc = min(KC, k - pc)
        for q in range(npan):
            boff = pc * npan * NR + q * kc * NR
            for r in range(r0, r1):
                i0 = r * MR
                _micro(kc, ap, pc * mpan * MR + r * kc * MR, bp, boff, c, i0, q * NR,
                       min(MR, m - i0), min(NR, n - q * NR), blk == 0, blk == npc - 1,
                       bias, act)


def _gemm_sig(dt):
    arr = types.Array(dt, 3, "A", readonly=True)
    return types.void(arr, arr, types.Array(dt, 1, "A", readonly=True), types.int64,
                      types.boolean, types.Array(dt, 3, "C"))


def _gemm_fits(a3, b3, bias, act, over_batch, c3) -> bool:
    nb, m, k = a3.shape
    n = b3.shape[2]
    return (b3.shape[:2] == (nb, k) and c3.shape == (nb, m, n) and k > 0
            and bias.shape[0] in (0, n) and 0 <= act < len(ACT_CODES))


@lazy_njit(_gemm_sig, check=_gemm_fits, fastmath={"contract"})
def gemm_kernel(a3, b3, bias, act, over_batch, c3):
    """c3[i] = act(a3[i] @ b3[i] + bias) for each batch index i (any strides in a3, b3;
    k > 0; bias empty or of length n). over_batch: parallel over the batch, each product
    serial (many small products); else parallel within each product."""
    MR, NR = _tile(a3)
    nb, m, k = a3.shape
    n = b3.shape[2]
    npan = (n + NR - 1) // NR
    mpan = (m + MR - 1) // MR
    npc = (k + KC - 1) // KC
    if over_batch:
        for bi in prange(nb):
            bp = np.empty(k * npan * NR, a3.dtype)
            ap = np.empty(k * mpan * MR, a3.dtype)
            a = a3[bi]
            b = b3[bi]
            for t in range(npc * (npan + mpan)):
                _pack(t, a, b, ap, bp, mpan, npan)
            _rows(0, mpan * MR, a, ap, bp, bias, act, c3[bi], mpan, npan)
        return
    # row blocks of about MC rows, an even number of them so two threads' static halves
    # of the range hold the same number of rows
    nblk = (m + MC - 1) // MC
    nblk += nblk % 2
    mc = (((m + nblk - 1) // nblk + MR - 1) // MR) * MR
    mblocks = (m + mc - 1) // mc
    bp = np.empty(k * npan * NR, a3.dtype)
    ap = np.empty(k * mpan * MR, a3.dtype)
    for bi in range(nb):
        a = a3[bi]
        b = b3[bi]
        for t in prange(npc * (npan + mpan)):
            _pack(t, a, b, ap, bp, mpan, npan)
        for ib in prange(mblocks):
            _rows(ib, mc, a, ap, bp, bias, act, c3[bi], mpan, npan)


def _as3(x: np.ndarray, batch: tuple, rows: int, cols: int) -> np.ndarray:
    """x broadcast to batch + (rows, cols), viewed as (-1, rows, cols): a view when x's
    batch dims merge (always for <= 1 batch dim), a copy of the broadcast otherwise."""
    if x.ndim == 2:
        if not batch:
            return x[None]  # the common case, without broadcast_to's cost (~2 us)
    elif x.ndim == 3 and x.shape[0] == batch[0] and len(batch) == 1:
        return x
    x = np.broadcast_to(x, batch + (rows, cols))
    if x.ndim == 3:
        return x
    return x.reshape((-1, rows, cols))


@register("numba", "gemm")
def gemm(a: np.ndarray, b: np.ndarray, bias: np.ndarray | None = None,
         activation: str | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """act(a @ b + bias), 2-D or batched with broadcast batch dims (see the reference)."""
    batch, m, k, n, dt = check_gemm(a, b, bias, activation, out)
    shape = batch + (m, n)
    if k == 0 or 0 in shape:  # nothing to multiply: the epilogue of zeros
        y = np.zeros(shape, dt)
        if bias is not None:
            y += bias
        apply_activation(y, activation)
        if out is None:
            return y
        out[...] = y
        return out
    # the kernel writes a fresh C-contiguous array unless `out` is one that overlaps
    # neither input
    direct = (out is not None and out.flags.c_contiguous and out.flags.writeable
              and not np.may_share_memory(out, a) and not np.may_share_memory(out, b))
    y = out if direct else np.empty(shape, dt)
    c3 = y.reshape((-1, m, n))
    nb = c3.shape[0]
    a3 = _as3(a, batch, m, k)
    b3 = _as3(b, batch, k, n)
    bias1 = np.empty(0, dt) if bias is None else bias
    macs = nb * m * k * n
    fam = policy.GEMM
    parallel = fam.parallel(macs)
    # many products, each too small to split well: one product per thread
    over_batch = nb > 1 and m * k * n <= fam.parallel_above
    gemm_kernel.get(dt, parallel)(a3, b3, bias1, ACT_CODES[activation], over_batch, c3)
    if out is None or direct:
        return y
    out[...] = y
    return out
