"""numba backend's gemm: act(a @ b + bias), two register-tiled kernels with the epilogue
fused into the only (or last) pass over each output tile.

The direct kernel (`gemm_direct_kernel`, every product with a dim below PACKED_FROM: Linear
layers, attention heads, anything up to ~700^3): no packing of A and no KC blocking. Each
MR x NR tile (8 x 32 float32, 8 x 16 float64: 16 zmm accumulators) runs the whole k loop as
broadcast-A times vector-B FMAs, starting from the bias, and stores once after the
activation. A is read in place through its strides (scalar broadcasts); B in place where its
rows are unit-stride, else (a transposed view such as Linear's W^T, or the last columns)
one k x NR panel is copied, read down B's columns, to a zero-padded scratch and reused by
every row of the task; A's last rows, when fewer than MR, are copied likewise. Parallelism
(`gemm_direct_tasks`, run by the task pool of `tasks.py`, not a numba parallel region): one
product splits into tasks of whole column panels (one B panel copy per task), split into row
blocks where there are few panels; a batch of products runs one product per task. Operands
are read through raw pointers (no bounds checks, numba's or NUMBA_BOUNDSCHECK's):
`check_gemm` and the kernel's shape check run first, and a guard-page test keeps the edge
tiles within each operand.

The packed kernel (`gemm_kernel`, every dim >= PACKED_FROM): Goto/BLIS-style. A is packed
into MR x KC panels and B into KC x NR panels (contiguous, in the order the micro-kernel
reads them; packing reads any strides), so B's rows never sit 4 KiB apart in L1; the
micro-kernel is the same FMA loop over one KC block, and the epilogue runs on the last one.
In parallel (`gemm_packed_tasks`) the threads claim the packing of panels, then row blocks.
A stack of matrices times one matrix (a Linear layer on 3-D input) is one product over the
stacked rows.

Generated code (numba 0.68, LLVM on AMD EPYC with AVX-512, inspected with `inspect_asm`):
both kernels' k loops compile to 16 `vfmadd231ps zmm` (float32) / `vfmadd231pd zmm`
(float64) on register accumulators per step, with 2 vector loads of B and 8
`vbroadcastss`/`vbroadcastsd` of A, no spills. What it took: `fastmath={"contract"}` only
(with reassociation LLVM vectorises the k loop with gathers instead); every loop that
touches the accumulator buffer must have constant bounds so it unrolls fully and the
`alloca` is promoted to registers (a bias add or activation loop with run-time bounds, or a
buffer sized for float32 used by float64, put all 16 accumulators in memory: FMAs with
memory operands, 2.3x slower); the epilogue works on a copy; the stores to C are a loop
with a run-time trip count (LLVM vectorises it with an alias check; with a constant one it
fully unrolled the row into 32 scalar `vmovss` per row, which cost ~40% at k = 32).
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
from . import tasks
from ._common import lazy_njit
from .tasks import claim, finish, finished

ACT_CODES = {None: 0, "relu": 1, "tanh": 2, "sigmoid": 3, "gelu": 4}


@intrinsic
def stack_buffer(typingctx, count_ty, dtype_ty):
    """Pointer to `count` uninitialised elements of `dtype` (or of a pointer's element type)
    on the caller's stack (count is a compile-time constant)."""
    if not isinstance(count_ty, types.IntegerLiteral):
        return None
    count = count_ty.literal_value
    if isinstance(dtype_ty, (types.DType, types.CPointer)):  # a dtype, or a pointer's
        dtype = dtype_ty.dtype
    else:
        dtype = dtype_ty.instance_type
    sig = types.CPointer(dtype)(count_ty, dtype_ty)

    def codegen(context, builder, signature, args):
        ty = context.get_data_type(dtype)
        return cgutils.alloca_once(builder, ty, size=count)

    return sig, codegen


MAXACC = 8 * 32  # largest MR * NR over the dtypes (stack buffer size)
# depth of a packed panel: each KC block re-reads and re-writes every C tile, which cost more
# than B's panel (KC x NR, 128 KiB float32) falling out of L1 into L2 (one thread, 1024^3 and
# 2048^3 float32, GFLOP/s: KC 256: 95, 95; 512: 98, 99; 1024: 101, 105; numpy 100-103)
KC = 1024
MC = 128         # rows per task (a multiple of both MRs)


def _tile(x):
    pass


@overload(_tile, jit_options={"cache": True})
def _tile_overload(x):
    # (MR, NR): NR = two AVX-512 vectors (four AVX2 ones); MR rows of broadcasts
    if x.dtype == types.float32:
        return lambda x: (8, 32)
    return lambda x: (8, 16)


def tiles(dtype) -> tuple:
    """(MR, NR) of the micro-kernel's tile for `dtype`, as `_tile` gives it to the kernels:
    for the host code that sizes panels and tasks."""
    return (8, 32) if dtype == np.float32 else (8, 16)


def _acc(x):
    pass


@overload(_acc, inline="always", jit_options={"cache": True})
def _acc_overload(x):
    # MR * NR elements on the stack, sized exactly for the dtype's tile (the whole buffer
    # is promoted to registers, none of it left half-used)
    if x.dtype == types.float32:
        return lambda x: carray(stack_buffer(8 * 32, x), 8 * 32)
    return lambda x: carray(stack_buffer(8 * 16, x), 8 * 16)


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


@intrinsic
def data_ptr(typingctx, arr_ty):
    """Pointer to an array's element [0, ..., 0] (its strides say where the others are)."""
    if not isinstance(arr_ty, types.Array):
        return None
    sig = types.CPointer(arr_ty.dtype)(arr_ty)

    def codegen(context, builder, signature, args):
        return context.make_array(signature.args[0])(context, builder, args[0]).data

    return sig, codegen


@njit(fastmath={"contract"}, inline="always")
def _direct_tile(pa, ao, ra, sa, pb, bo, rb, k, cf, co, rc, mr, nr, pbias, j0, has_bias,
                 act):
    """c[i, j] = act(sum_p a[i, p] b[p, j] + bias[j]) for i < mr, j < nr, with the whole k
    in registers (starting from the bias) and the activation applied before the only
    store. Elements by pointer: a[i, p] = pa[ao + i ra + p sa] (any strides: read by
    broadcasts; MR readable rows), b[p, j] = pb[bo + p rb + j] (NR readable columns:
    vector loads), bias[j] = pbias[j0 + j] (NR readable); c[i, j] = cf[co + i rc + j]
    (cf: a pointer to the output's first element)."""
    MR, NR = _tile(pa)
    acc = _acc(pa)
    for x in range(MR * NR):
        acc[x] = 0
    if has_bias:  # the bias first (shaped as one more step of the sum: it stays unrolled)
        for j in range(NR):
            b = pbias[j0 + j]
            for i in range(MR):
                acc[i * NR + j] += b
    for p in range(k):
        for j in range(NR):
            b = pb[bo + p * rb + j]
            for i in range(MR):
                acc[i * NR + j] += pa[ao + i * ra + p * sa] * b
    # the epilogue calls out for the transcendental activations and stores with run-time
    # bounds (vector stores, see the module docstring): on a copy, so `acc` stays in
    # registers
    res = _acc(pa)
    for x in range(MR * NR):
        res[x] = acc[x]
    if act == 1:
        for x in range(MR * NR):
            v = res[x]
            res[x] = v if not v < 0 else 0  # NaN stays NaN, as numpy's maximum
    elif act != 0:
        for x in range(MR * NR):
            res[x] = _act(res[x], act)
    for i in range(mr):
        o = co + i * rc
        for j in range(nr):
            cf[o + j] = res[i * NR + j]


@njit(inline="always")
def _direct_panels(a3, b3, c3, bi, bias, act, q0, q1, r0, r1, scratch):
    """Column panels q0..q1 x row panels r0..r1 of product bi, panel by panel: B is read in
    place where its rows are unit-stride and the panel is whole, else copied to `scratch`
    (k x NR, zero-padded) once per panel; the last MR rows of A, when fewer, are copied
    (zero-padded) after it, and the bias's last columns after those, so every tile reads
    MR rows of A and NR columns of B and of the bias in bounds. scratch: (NR + MR) * k + NR
    elements."""
    MR, NR = _tile(a3)
    m, k = a3.shape[1], a3.shape[2]
    n = b3.shape[2]
    isz = a3.itemsize
    ra, sa = a3.strides[1] // isz, a3.strides[2] // isz
    rb, sb = b3.strides[1] // isz, b3.strides[2] // isz
    rc = c3.strides[1] // isz
    pa, pb = data_ptr(a3), data_ptr(b3)
    cf = data_ptr(c3)  # stores by pointer: no slice (and its checks) per tile row
    ps = data_ptr(scratch)
    pbias = data_ptr(bias)
    has_bias = bias.shape[0] > 0
    ao = bi * (a3.strides[0] // isz)
    bo = bi * (b3.strides[0] // isz)
    co = bi * (c3.strides[0] // isz)
    for q in range(q0, q1):
        j0 = q * NR
        nr = min(NR, n - j0)
        src, boff, brow = pb, bo + j0, rb
        if sb != 1 or nr < NR:
            if abs(rb) < abs(sb):
                # b's columns are contiguous (a transposed view, Linear's W^T): read down
                # them 8 at a time, so one block writes 8 rows of the panel (in L1) rather
                # than each column walking the whole panel (k x NR, beyond L1): 4x faster
                kb = k - k % 16
                for p0 in range(0, kb, 16):
                    for j in range(nr):
                        src = bo + p0 * rb + (j0 + j) * sb
                        for q in range(16):
                            scratch[(p0 + q) * NR + j] = pb[src + q * rb]
                for p in range(kb, k):
                    for j in range(nr):
                        scratch[p * NR + j] = pb[bo + p * rb + (j0 + j) * sb]
            else:
                for p in range(k):
                    for j in range(nr):
                        scratch[p * NR + j] = pb[bo + p * rb + (j0 + j) * sb]
            for p in range(k):
                for j in range(nr, NR):
                    scratch[p * NR + j] = 0
            src, boff, brow = ps, 0, NR
        pbq, bj0 = pbias, j0
        if has_bias and nr < NR:  # the bias's last columns, zero-padded after the A rows
            for j in range(NR):
                scratch[(NR + MR) * k + j] = bias[j0 + j] if j < nr else 0
            pbq, bj0 = ps, (NR + MR) * k
        for r in range(r0, r1):
            i0 = r * MR
            mr = min(MR, m - i0)
            if mr == MR:
                _direct_tile(pa, ao + i0 * ra, ra, sa, src, boff, brow, k, cf,
                             co + i0 * rc + j0, rc, mr, nr, pbq, bj0, has_bias, act)
            else:  # the last rows, copied after the B panel and zero-padded to MR rows
                for i in range(MR):
                    for p in range(k):
                        scratch[(NR + i) * k + p] = (pa[ao + (i0 + i) * ra + p * sa]
                                                     if i < mr else 0)
                _direct_tile(ps, NR * k, k, 1, src, boff, brow, k, cf, co + i0 * rc + j0, rc,
                             mr, nr, pbq, bj0, has_bias, act)


def _direct_sig(dt):
    arr = types.Array(dt, 3, "A", readonly=True)
    return types.void(arr, arr, types.Array(dt, 1, "C", readonly=True), types.int64,
                      types.int64, types.Array(dt, 3, "C"))


def _direct_fits(a3, b3, bias, act, tasks, c3) -> bool:
    nb, m, k = a3.shape
    n = b3.shape[2]
    return (b3.shape[:2] == (nb, k) and c3.shape == (nb, m, n) and k > 0
            and bias.shape[0] in (0, n) and 0 <= act < len(ACT_CODES) and tasks >= 0)


@lazy_njit(_direct_sig, check=_direct_fits, fastmath={"contract"})
def gemm_direct_kernel(a3, b3, bias, act, tasks, c3):
    """c3[i] = act(a3[i] @ b3[i] + bias) without packing A or the KC blocking: each MR x NR
    tile keeps the whole k in registers and is stored once, epilogue applied (for products
    whose panels fit the caches: small and mid-sized, Linear layers, attention heads).
    tasks == 0: parallel over the batch, each product serial; else each product's tiles
    split into at least `tasks` tasks (the thread count) of whole column panels, so a
    thread copies a B panel that needs it once and keeps it."""
    MR, NR = _tile(a3)
    nb, m, k = a3.shape
    n = b3.shape[2]
    npan = (n + NR - 1) // NR
    mpan = (m + MR - 1) // MR
    if tasks == 0:
        for bi in prange(nb):
            scratch = np.empty((NR + MR) * k + NR, a3.dtype)
            _direct_panels(a3, b3, c3, bi, bias, act, 0, npan, 0, mpan, scratch)
        return
    nrb = max(1, (tasks + npan - 1) // npan)  # row blocks per column panel
    rpb = (mpan + nrb - 1) // nrb
    for bi in range(nb):
        for t in prange(npan * nrb):
            q = t // nrb
            r0 = (t % nrb) * rpb
            scratch = np.empty((NR + MR) * k + NR, a3.dtype)
            _direct_panels(a3, b3, c3, bi, bias, act, q, q + 1, r0, min(mpan, r0 + rpb),
                           scratch)


def _direct_tasks_sig(dt):
    arr = types.Array(dt, 3, "A", readonly=True)
    return types.boolean(arr, arr, types.Array(dt, 1, "C", readonly=True), types.int64,
                         types.int64, types.Array(types.int64, 1, "C"), types.Array(dt, 3, "C"))


def _direct_tasks_fits(a3, b3, bias, act, nrb, ctr, c3) -> bool:
    return _direct_fits(a3, b3, bias, act, nrb, c3) and ctr.shape == (2,)


@lazy_njit(_direct_tasks_sig, check=_direct_tasks_fits, fastmath={"contract"}, nogil=True)
def gemm_direct_tasks(a3, b3, bias, act, nrb, ctr, c3):
    """The direct kernel as a task loop (`tasks.py`: run by the caller and the helper
    threads at once, each claiming the next task): nrb == 0, one product per task (a batch
    of small products); else each product's column panels x nrb row blocks, one per task.
    Returns True if this thread finished the last task."""
    MR, NR = _tile(a3)
    nb, m, k = a3.shape
    n = b3.shape[2]
    npan = (n + NR - 1) // NR
    mpan = (m + MR - 1) // MR
    per = 1 if nrb == 0 else npan * nrb
    ntasks = nb * per
    if ntasks == 0:
        return True
    rpb = mpan if nrb == 0 else (mpan + nrb - 1) // nrb
    scratch = np.empty((NR + MR) * k + NR, a3.dtype)
    last = False
    while True:
        t = claim(ctr)
        if t >= ntasks:
            return last
        if nrb == 0:
            _direct_panels(a3, b3, c3, t, bias, act, 0, npan, 0, mpan, scratch)
        else:
            bi = t // per
            u = t % per
            q = u // nrb
            r0 = (u % nrb) * rpb
            _direct_panels(a3, b3, c3, bi, bias, act, q, q + 1, r0, min(mpan, r0 + rpb),
                           scratch)
        last = finish(ctr, ntasks)


def _packed_tasks_sig(dt):
    arr = types.Array(dt, 2, "A", readonly=True)
    buf = types.Array(dt, 1, "C")
    return types.boolean(arr, arr, types.Array(dt, 1, "A", readonly=True), types.int64, buf,
                         buf, types.int64, types.Array(types.int64, 1, "C"),
                         types.Array(dt, 2, "C"))


def _packed_tasks_fits(a, b, bias, act, ap, bp, mc, ctr, c) -> bool:
    m, k = a.shape
    n = b.shape[1]
    mr, nr = tiles(a.dtype)
    return (b.shape[0] == k and c.shape == (m, n) and k > 0 and bias.shape[0] in (0, n)
            and 0 <= act < len(ACT_CODES) and mc > 0 and mc % mr == 0
            and ap.shape[0] >= k * -(-m // mr) * mr and bp.shape[0] >= k * -(-n // nr) * nr
            and ctr.shape == (4,))


@lazy_njit(_packed_tasks_sig, check=_packed_tasks_fits, fastmath={"contract"}, nogil=True)
def gemm_packed_tasks(a, b, bias, act, ap, bp, mc, ctr, c):
    """The packed kernel on one product as a two-phase task loop: first every panel's
    packing (phase 0), then, once all are packed, row blocks of mc rows (phase 1). A thread
    that finds packing still running on another waits for it (one panel's copy at most).
    Returns True if this thread finished the last row block."""
    MR, NR = _tile(a)
    m, k = a.shape
    n = b.shape[1]
    npan = (n + NR - 1) // NR
    mpan = (m + MR - 1) // MR
    npc = (k + KC - 1) // KC
    npack = npc * (npan + mpan)
    nrows = (m + mc - 1) // mc
    while True:
        t = claim(ctr, 0)
        if t >= npack:
            break
        _pack(t, a, b, ap, bp, mpan, npan)
        finish(ctr, npack, 0)
    while finished(ctr, 0) < npack:
        pass
    last = False
    while True:
        t = claim(ctr, 1)
        if t >= nrows:
            return last
        _rows(t, mc, a, ap, bp, bias, act, c, mpan, npan)
        last = finish(ctr, nrows, 1)


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


# the packed, KC-blocked kernel for products whose every dim is at least this (B's rows then
# sit a multiple of 4 KiB apart, where reading them in place thrashes L1, and the B panels
# outgrow L2); the direct kernel below it. Measured one thread, float32 square (GFLOP/s,
# direct / packed, under load): 384: 111 / 96, 768: 108 / 100, 1024: 53 / 69.
PACKED_FROM = 1024
_EMPTY = {np.dtype(np.float32): np.empty(0, np.float32),
          np.dtype(np.float64): np.empty(0, np.float64)}


@register("numba", "gemm")
def gemm(a: np.ndarray, b: np.ndarray, bias: np.ndarray | None = None,
         activation: str | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """act(a @ b + bias), 2-D or batched with broadcast batch dims (see the reference)."""
    batch, m, k, n, dt = check_gemm(a, b, bias, activation, out)
    shape = batch + (m, n)
    if (batch and b.ndim == 2 and not a.flags.c_contiguous and m * k
            and (b.strides[1] != b.itemsize or n % tiles(dt)[1])):
        # a strided stack (attention's (tokens, batch, width) view) times a B whose panels
        # are copied (Linear's W^T): copy A (O(mk)) rather than B's panels once per matrix
        a = np.ascontiguousarray(a)
    if (batch and b.ndim == 2 and a.flags.c_contiguous and m * k
            and (out is None or out.flags.c_contiguous)):
        # a stack of matrices times one matrix (a Linear layer on (batch, tokens, features)):
        # one product over all the rows
        res = gemm(a.reshape(-1, k), b, bias, activation,
                   None if out is None else out.reshape(-1, n))
        return res.reshape(shape) if out is None else out
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
    if bias is None:
        bias1 = _EMPTY[dt]
    else:
        bias1 = bias if bias.flags.c_contiguous else np.ascontiguousarray(bias)
    macs = m * k * n
    fam = policy.GEMM
    act = ACT_CODES[activation]
    nthreads = tasks.threads() if fam.parallel(nb * macs) else 1
    if min(m, k, n) >= PACKED_FROM:
        if nthreads == 1:
            gemm_kernel.get(dt)(a3, b3, bias1, act, False, c3)
        else:
            # row blocks of about MC rows, at least two per thread (claimed dynamically), a
            # multiple of the thread count so the last round keeps every thread busy (2
            # threads, 1024^3 float32, GFLOP/s: 11 blocks of 96 rows 190, 12 of 88 195, 8 of
            # 128 200; 2048^3: 197, 196, 202; numpy 190-200)
            MR, NR = tiles(dt)
            nblk = -(-max(-(-m // MC), 2 * nthreads) // nthreads) * nthreads
            rows = -(-m // nblk)
            mc = -(-rows // MR) * MR
            bp = np.empty(k * -(-n // NR) * NR, dt)
            ap = np.empty(k * -(-m // MR) * MR, dt)
            for bi in range(nb):
                tasks.run(gemm_packed_tasks, dt, (a3[bi], b3[bi], bias1, act, ap, bp, mc,
                                                  tasks.new_counter(2), c3[bi]), nthreads)
    elif nthreads == 1:
        gemm_direct_kernel.get(dt)(a3, b3, bias1, act, 1, c3)
    else:
        # many products, each too small to split well: one product per task; else each
        # product's column panels split into row blocks, about four tasks per thread
        MR, NR = tiles(dt)
        npan = -(-n // NR)
        nrb = 0 if nb >= 2 * nthreads else max(1, min(-(-m // MR), -(-4 * nthreads // npan)))
        tasks.run(gemm_direct_tasks, dt, (a3, b3, bias1, act, nrb, tasks.new_counter(), c3),
                  nthreads)
    if out is None or direct:
        return y
    out[...] = y
    return out
