"""numba elementwise kernels: binary ops with the common broadcasts, unary ops, activation
backward; each loop is written once as a template and compiled per op (`specialised`).

Which path an array takes is `policy.ELEMENTWISE`'s decision: below `numpy_below` elements
numpy itself, up to `parallel_above` the serial kernel, beyond it the same kernel on every
thread through the task pool (`tasks.py`): a task loop over parts of CHUNK elements (rows,
for a row broadcast), each part run by the serial kernel inlined (`_chunk_tasks`), each
core's block of parts claimed by that core first (tasks.py: claims by home block). Why not
`prange`: its launch costs 45-345 us here, more than the whole loop below ~2M floats, and a
static split waits for a thread that lost its core; the pool's launch costs ~3 us and a
helper that gets no core claims no part (`policy.py` has the measurements). Shapes numba
does not handle here (general broadcasting, mixed dtypes, ints) go to numpy.

Transcendentals: numba calls libm one element at a time unless llvmlite is built with
Intel's SVML patch, which the PyPI wheels are not (only conda's; `numba -s` shows "SVML
Operational: False" here even with Intel's runtime installed). exp, tanh and sigmoid use
the vectorisable versions in `_math.py` (polynomial + bit tricks: ~1.7x numpy's AVX-512 exp
on one core, and they fuse into softmax and cross-entropy); log, sin and cos run numpy's own
vectorised loops, split across two threads for large arrays (numpy releases the GIL inside
ufuncs).

Adding an op: a kernel declared with `elementwise.formula` (kernels/elementwise.py) gets its
numba implementation here automatically (`_register_formulas`); a hand-written scalar
function goes through `unary` / `binary` below.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

from .. import elementwise as ref
from .. import policy
from ..registry import register
from . import tasks
from ._common import arr, lazy_njit, same_float_arrays
from ._math import exp as vexp
from ._math import one_plus_erf, typed
from ._math import sigmoid as vsigmoid
from ._math import tanh as vtanh
from .helper_thread import cpu_count, split_halves
from .tasks import claim_in, finish_block, home_block

EW = policy.ELEMENTWISE
# Elements per task of a parallel launch (256 KiB of float32): 16 tasks on 1e6 floats, so a
# helper that starts late still takes a share. Smaller parts ran slower (float32 mul on 2^18
# floats, 2 threads: parts of 4,096 50 us, 8,192 39 us, 32,768 30 us, 65,536 24 us; serial 35
# us; measured with one counter for all parts): the threads' parts interleaved, and each
# claim is an atomic add on a cache line both cores write.
CHUNK = 1 << 16
BINARY: dict = {}  # name -> (flat, rows) kernels (`Split`)
UNARY: dict = {}   # name -> kernel (`Split`)
# name -> (arity, scalar function) of every kernel above: autograd.compile's fused kernels
# (jit/fused.py) call the same scalar functions, so fused and unfused results agree
SCALARS: dict = {}


def SCALAR(*args):  # replaced per op in each specialised copy of a template
    raise NotImplementedError


def SERIAL(*args):  # replaced by the op's serial kernel in each copy of a task template
    raise NotImplementedError


# ---- templates: one loop each, compiled per op -----------------------------------------------

def _binary_sig(dt):
    return types.void(arr(dt, 1, "C", True), arr(dt, 1, "C", True), arr(dt, 1))


def _binary_flat(a, b, out):
    # in place (out is a or b: `a.add_(b)`, `out=` an operand) the loop
    # reads the output itself: with three pointers LLVM's overlap test sends the vectorised
    # loop to its scalar fallback on exact aliasing (4x slower, measured)
    if out.ctypes.data == a.ctypes.data:
        for i in range(out.size):
            out[i] = SCALAR(out[i], b[i])
    elif out.ctypes.data == b.ctypes.data:
        for i in range(out.size):
            out[i] = SCALAR(a[i], out[i])
    else:
        for i in range(out.size):
            out[i] = SCALAR(a[i], b[i])


def _rows_sig(dt):
    return types.void(arr(dt, 2, "C", True),
                      types.Tuple((arr(dt, 1, "C", True), types.boolean)), arr(dt, 2))


def _binary_rows(a, b_swap, out):
    """out[i, j] = a[i, j] op b[j] (or b[j] op a[i, j] when swap; b_swap = (b, swap)): a
    vector broadcast over rows, e.g. a bias, or a scalar (one column)."""
    b, swap = b_swap
    rows, cols = a.shape
    for i in range(rows):
        x = a[i]
        o = out[i]
        if swap:
            for j in range(cols):
                o[j] = SCALAR(b[j], x[j])
        else:
            for j in range(cols):
                o[j] = SCALAR(x[j], b[j])


def _unary_sig(dt):
    return types.void(arr(dt, 1, "C", True), dt, arr(dt, 1))


def _unary_flat(x, alpha, out):
    for i in range(out.size):
        out[i] = SCALAR(x[i], alpha)


def _flat_fits(a, b, out):
    return a.shape == b.shape == out.shape


def _rows_fit(a, b_swap, out):
    return b_swap[0].shape == a.shape[1:] and out.shape == a.shape


def _unary_fits(x, alpha, out):
    return x.shape == out.shape


# ---- the same loops on every thread: task loops (tasks.py) over parts of the arrays ----------

def _part(v, lo, hi):
    """v[lo:hi] for an array, v itself otherwise (a unary op's alpha, a row broadcast's
    (row, swap))."""


@overload(_part, inline="always")
def _part_impl(v, lo, hi):
    if isinstance(v, types.Array):
        return lambda v, lo, hi: v[lo:hi]
    return lambda v, lo, hi: v


def _chunk_tasks(a, b, chunk, ctr, out):
    """SERIAL (the serial kernel, inlined) on parts of `chunk` elements of a, b (when an
    array) and out, one part per task (`chunk` rows of 2-D a and out for a row broadcast),
    claimed by home block (tasks.py); True if this thread finished the last task."""
    n = out.shape[0]
    ntasks = (n + chunk - 1) // chunk
    blocks = ctr.shape[0] - 1
    home = home_block(blocks)
    last = ntasks == 0
    for k in range(blocks):
        block = (home + k) % blocks
        while True:
            t = claim_in(ctr, block, ntasks)
            if t < 0:
                break
            lo = t * chunk
            hi = min(n, lo + chunk)
            SERIAL(a[lo:hi], _part(b, lo, hi), out[lo:hi])
            last = finish_block(ctr, ntasks)
    return last


class Split:
    """A serial kernel (`serial`, a lazy_njit) and its task loop (`tasks`), compiled per op:
    `run(n, *args)` runs the task loop on every thread above EW.parallel_above elements,
    else the serial kernel. `args` end with the output; `per_task` is how many elements one
    unit of a part holds (a row's length for a row broadcast: its parts are counted in
    rows)."""

    def __init__(self, make_sig, check, template, name: str, names: dict):
        # the task loop inlines the serial kernel: the same fastmath flags give the same
        # values to the bit (an FMA contracted in one and not the other would not)
        options = {"fastmath": {"contract"}}
        self.serial = lazy_njit(make_sig, check=check, specialise=names, suffix=name,
                                **options)(template)

        def tasks_sig(dt):
            *ins, out = make_sig(dt).args
            return types.boolean(*ins, types.int64, arr(types.int64, 1), out)

        def tasks_fit(*args):
            *ins, chunk, ctr, out = args
            return chunk > 0 and ctr.shape[0] >= 2 and check(*ins, out)

        inlined = njit(inline="always")(self.serial.pyfunc)
        self.tasks = lazy_njit(tasks_sig, check=tasks_fit, nogil=True,
                               specialise={"SERIAL": inlined}, suffix=name,
                               **options)(_chunk_tasks)

    def run(self, n: int, *args, per_task: int = 1) -> None:
        dt = args[-1].dtype
        if EW.parallel(n):
            nthreads = tasks.threads()
            if nthreads > 1:
                tasks.run(self.tasks, dt, (*args[:-1], max(1, CHUNK // per_task),
                                           tasks.new_block_counter(nthreads), args[-1]),
                          nthreads)
                return
        self.serial.get(dt)(*args)


def binary_kernels(name: str, scalar) -> tuple:
    """(flat, rows) kernels of `scalar(x, y)` (see `_binary_flat`, `_binary_rows`)."""
    names = {"SCALAR": scalar}
    return (Split(_binary_sig, _flat_fits, _binary_flat, name, names),
            Split(_rows_sig, _rows_fit, _binary_rows, name, names))


def unary_kernel(name: str, scalar) -> Split:
    """The kernel of `scalar(x, alpha)` over a flat array (see `_unary_flat`)."""
    return Split(_unary_sig, _unary_fits, _unary_flat, name, {"SCALAR": scalar})


def _fits(out, shape, dtype, *inputs) -> bool:
    """Whether numba can write straight into `out` (else numpy's ufunc takes it): its shape,
    dtype and layout, and no input that overlaps it other than `out` itself (in place, each
    element is read before it is written). An input shifted against `out` would be read
    after the kernel, or the other thread, wrote there; numpy buffers such an overlap."""
    if not (out.shape == shape and out.dtype == dtype and out.flags.c_contiguous):
        return False
    for a in inputs:
        if (isinstance(a, np.ndarray) and np.may_share_memory(a, out)
                and not (a.shape == out.shape and a.strides == out.strides
                         and a.ctypes.data == out.ctypes.data)):
            return False
    return True


def binary(name: str, scalar, ufunc) -> None:
    """Register the numba implementation of the binary kernel `name`: numba for same-shape
    and vector/scalar broadcasts of one float dtype, `ufunc` (numpy's) for everything else."""
    flat, rows = BINARY[name] = binary_kernels(name, scalar)
    SCALARS[name] = (2, scalar)

    def run(a, b, out=None):
        try:  # the common tiny case first: numpy's own call is cheaper than any check
            if a.size < EW.numpy_below and b.size < EW.numpy_below:
                # (without `out=None`: numpy parses a keyword in ~40 ns, 15% of a tiny op)
                return ufunc(a, b) if out is None else ufunc(a, b, out=out)
        except AttributeError:  # Python scalars, lists
            return ufunc(a, b, out=out)
        if not (same_float_arrays(a, b) and a.size and b.size):
            return ufunc(a, b, out=out)
        if a.shape == b.shape:
            if EW.numpy_below and not EW.parallel(a.size):
                # numpy's own loop is 10-20% faster than the serial kernel here (add, mul,
                # maximum on 2^14..2^20 floats, measured): numba keeps the broadcasts below
                # (a bias row: ~2x numpy's) and the parallel launches. `numpy_below=0`
                # (policy.override: numba for every size) still reaches the serial kernel.
                return ufunc(a, b, out=out)
            if out is None:
                out = np.empty(a.shape, a.dtype)
            elif not _fits(out, a.shape, a.dtype, a, b):
                return ufunc(a, b, out=out)
            flat.run(a.size, np.ravel(a), np.ravel(b), out.reshape(-1))
            return out
        swap = False
        if a.size < b.size:
            a, b, swap = b, a, True
        # b must be a scalar or match a's trailing dims (leading 1s aside), no more dims
        bshape = b.shape
        while bshape and bshape[0] == 1:
            bshape = bshape[1:]
        if b.ndim > a.ndim or (b.size != 1 and a.shape[a.ndim - len(bshape):] != bshape):
            return ufunc(b, a, out=out) if swap else ufunc(a, b, out=out)
        cols = b.size
        if b.size == 1:   # scalar: one row per element is wasteful, use rows of 1024
            if a.size % 1024:
                return ufunc(b, a, out=out) if swap else ufunc(a, b, out=out)
            cols = 1024
            b = np.full(cols, b.reshape(()), a.dtype)
        if out is None:
            out = np.empty(a.shape, a.dtype)
        elif not _fits(out, a.shape, a.dtype, a, b):
            return ufunc(b, a, out=out) if swap else ufunc(a, b, out=out)
        rows.run(a.size, np.ascontiguousarray(a).reshape(-1, cols),
                 (np.ascontiguousarray(b).reshape(-1), swap), out.reshape(-1, cols),
                 per_task=cols)
        return out

    run.__name__ = name
    register("numba", name)(run)


def unary(name: str, scalar, fallback=None) -> None:
    """Register the numba implementation of the unary kernel `name` (x, [alpha,] out=None):
    `scalar(v, alpha)` per element; other dtypes and small arrays take `fallback` (default:
    the kernel's numpy reference)."""
    kernel = UNARY[name] = unary_kernel(name, scalar)
    SCALARS[name] = (1, scalar)
    fallback = fallback or getattr(ref, name).reference

    def run(x, *alpha, out=None):
        if not (getattr(x, "size", 0) >= EW.numpy_below and x.size and same_float_arrays(x)):
            return fallback(x, *alpha, out=out)
        if out is None:
            out = np.empty(x.shape, x.dtype)
        elif not _fits(out, x.shape, x.dtype, x):
            return fallback(x, *alpha, out=out)
        kernel.run(x.size, np.ravel(x), x.dtype.type(alpha[0] if alpha else 0), out.reshape(-1))
        return out

    run.__name__ = name
    run.kernel = kernel
    register("numba", name)(run)


def threaded_ufunc(name: str, ufunc) -> None:
    """Register numpy's own `ufunc` for `name`, run on two threads for large float arrays."""

    def run(x, out=None):
        if (getattr(x, "size", 0) <= policy.threaded_ufunc_above() or not same_float_arrays(x)
                or cpu_count() < 2):
            return ufunc(x, out=out)
        if out is None:
            out = np.empty(x.shape, x.dtype)
        elif not _fits(out, x.shape, x.dtype, x):
            return ufunc(x, out=out)
        flat_in, flat_out = np.ravel(x), out.reshape(-1)
        h = (x.size // 2) & ~63
        split_halves(lambda a, o: ufunc(a, out=o), (flat_in[:h], flat_out[:h]),
                     (flat_in[h:], flat_out[h:]))
        return out

    run.__name__ = name
    register("numba", name)(run)


# ---- the scalar functions: one line per op ---------------------------------------------------

inline = njit(inline="always")


@inline
def _add(x, y):
    return x + y


@inline
def _sub(x, y):
    return x - y


@inline
def _mul(x, y):
    return x * y


@inline
def _div(x, y):
    return x / y


@inline
def _max(x, y):
    return x if ((x >= y) | np.isnan(x)) else y


@inline
def _min(x, y):
    return x if ((x <= y) | np.isnan(x)) else y


@inline
def _neg(v, alpha):
    return -v


@inline
def _sqrt(v, alpha):
    return np.sqrt(v)


@inline
def _abs(v, alpha):
    return abs(v)


@inline
def _relu(v, alpha):
    zero = alpha - alpha
    return v if ((v > zero) | np.isnan(v)) else zero


@inline
def _leaky_relu(v, alpha):
    zero = alpha - alpha
    return v if ((v > zero) | np.isnan(v)) else v * alpha


@inline
def _exp(v, alpha):
    return vexp(v)


@inline
def _tanh(v, alpha):
    return vtanh(v)


@inline
def _sigmoid(v, alpha):
    return vsigmoid(v)


@inline
def _erf(v, alpha):
    return math.erf(v)


@inline
def _erfc(v, alpha):
    return math.erfc(v)


binary("add", _add, np.add)
binary("sub", _sub, np.subtract)
binary("mul", _mul, np.multiply)
binary("div", _div, np.divide)
binary("maximum", _max, np.maximum)
binary("minimum", _min, np.minimum)
unary("neg", _neg)
unary("sqrt", _sqrt)
unary("absolute", _abs)
unary("relu", _relu)
unary("leaky_relu", _leaky_relu)
unary("exp", _exp, np.exp)
unary("tanh", _tanh, np.tanh)
unary("sigmoid", _sigmoid)
unary("erf", _erf)  # the reference calls math.erf per element from Python (~50x slower)
unary("erfc", _erfc)
threaded_ufunc("log", np.log)
threaded_ufunc("sin", np.sin)
threaded_ufunc("cos", np.cos)


# ---- activation backward: g * f'(x) from the output y = f(x) --------------------------------

@inline
def _relu_backward(g, y):
    zero = typed(y, 0)
    return g if y > zero else zero


@inline
def _tanh_backward(g, y):
    return g * (typed(y, 1) - y * y)


@inline
def _sigmoid_backward(g, y):
    return g * (y * (typed(y, 1) - y))


@inline
def _identity_backward(g, y):
    return g


_ACT_SCALARS = (("identity", _identity_backward), ("relu", _relu_backward),
                ("tanh", _tanh_backward), ("sigmoid", _sigmoid_backward))
ACT_BACKWARD = {act: binary_kernels(f"{act}_backward", fn)[0] for act, fn in _ACT_SCALARS}
SCALARS.update({f"act_backward:{act}": (2, fn) for act, fn in _ACT_SCALARS})


@register("numba", "act_backward")
def act_backward(grad, y, act, out=None):
    """grad * f'(x) from the activation's output y, in one pass."""
    kernels = ACT_BACKWARD.get(act)
    if kernels is None:
        ref._check_activation(act)  # raises, naming the activations
    # small arrays first (numpy's loops, the cheapest check): issue 15's per-op overhead
    if (getattr(grad, "size", 0) < EW.numpy_below or not grad.size
            or not (same_float_arrays(grad, y) and grad.shape == y.shape)):
        return ref.act_backward.reference(grad, y, act, out=out)
    if out is None:
        out = np.empty(grad.shape, grad.dtype)
    elif not _fits(out, grad.shape, grad.dtype, grad, y):
        return ref.act_backward.reference(grad, y, act, out=out)
    kernels.run(grad.size, np.ravel(grad), np.ravel(y), out.reshape(-1))
    return out


# ---- GELU (exact form) in one pass each way: issue 15's tiny GPT ran it as five ops -------------

@inline
def _gelu(v, alpha):
    return typed(v, 0.5) * v * one_plus_erf(v * typed(v, 0.7071067811865476))


@inline
def _gelu_backward(g, v):
    # d/dx x Phi(x) = Phi(x) + x phi(x)
    pdf = typed(v, 0.3989422804014327) * vexp(typed(v, -0.5) * v * v)
    return g * (typed(v, 0.5) * one_plus_erf(v * typed(v, 0.7071067811865476)) + v * pdf)


GELU = unary_kernel("gelu", _gelu)
GELU_BACKWARD = binary_kernels("gelu_backward", _gelu_backward)[0]
SCALARS.update({"gelu": (1, _gelu), "gelu_backward": (2, _gelu_backward)})


@register("numba", "gelu")
def gelu(x, out=None):
    """numba at every size (its float32 erf differs from the reference's by up to 1.5e-7:
    one kernel for all sizes keeps a tensor's values independent of its size)."""
    if not (getattr(x, "size", 0) and same_float_arrays(x)):
        return ref.gelu.reference(x, out=out)
    if out is None:
        out = np.empty(x.shape, x.dtype)
    elif not _fits(out, x.shape, x.dtype, x):
        return ref.gelu.reference(x, out=out)
    GELU.run(x.size, np.ravel(x), x.dtype.type(0), out.reshape(-1))
    return out


@register("numba", "gelu_backward")
def gelu_backward(grad, x, out=None):
    if not (getattr(x, "size", 0) and same_float_arrays(grad, x) and grad.shape == x.shape):
        return ref.gelu_backward.reference(grad, x, out=out)
    if out is None:
        out = np.empty(x.shape, x.dtype)
    elif not _fits(out, x.shape, x.dtype, grad, x):
        return ref.gelu_backward.reference(grad, x, out=out)
    GELU_BACKWARD.run(x.size, np.ravel(grad), np.ravel(x), out.reshape(-1))
    return out


# ---- kernels declared by a formula (kernels/elementwise.py: `formula`) -----------------------

def _register_formulas() -> None:
    for name, fn in ref.FORMULAS.items():
        scalar = njit(inline="always")(fn)
        unary(name, _formula_scalar(scalar))


def _formula_scalar(scalar):
    @njit(inline="always")
    def call(v, alpha):
        return scalar(v)
    return call


_register_formulas()
