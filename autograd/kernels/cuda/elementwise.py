"""Elementwise cuda kernels: binary ops with numpy broadcasting, unary ops, activations and
their backward, broadcast_to.

Each op is one device function, instantiated into grid-stride kernels by `_binary_kernels` /
`_unary_kernel`. Broadcasting never materialises an operand: the output's dims are merged
where every operand is contiguous across them (`collapse`), leaving at most 4 dims, and the
kernel turns each flat output index into the operands' offsets (stride 0 along a broadcast
dim). A 0-d numpy operand (a Python scalar, or a 0-d CPU tensor: allowed with cuda tensors,
as in PyTorch) is passed to the kernel as a scalar argument.
"""
from __future__ import annotations

import math

import numpy as np
from numba import cuda

from ..registry import register
from .array import CudaArray
from .runtime import empty, launch_1d

MAX_DIMS = 4


# ---- shapes ----------------------------------------------------------------------------------

def contiguous_strides(shape: tuple, out_shape: tuple) -> list:
    """Element strides of a C-contiguous array of `shape` read as `out_shape` (broadcast:
    stride 0 along the dims it has size 1 or lacks)."""
    full = (1,) * (len(out_shape) - len(shape)) + tuple(shape)
    strides, acc = [], 1
    for n in reversed(full):
        strides.append(acc if n != 1 else 0)
        acc *= n
    return strides[::-1]


def collapse(out_shape: tuple, shapes: list) -> tuple:
    """(dims, strides per operand), each padded to MAX_DIMS, with adjacent dims merged
    wherever every operand is contiguous across them."""
    return merge(out_shape, [contiguous_strides(s, out_shape) for s in shapes])


def merge(out_shape: tuple, per: list) -> tuple:
    """`collapse` for operands given by their element strides along out_shape's dims."""
    shapes = [tuple(p) for p in per]
    dims: list = []
    strides: list = [[] for _ in shapes]
    for axis, n in enumerate(out_shape):
        if n == 1:
            continue
        if dims and all(st[-1] == p[axis] * n for st, p in zip(strides, per)):
            dims[-1] *= n
            for st, p in zip(strides, per):
                st[-1] = p[axis]
            continue
        dims.append(n)
        for st, p in zip(strides, per):
            st.append(p[axis])
    if len(dims) > MAX_DIMS:
        raise NotImplementedError(f"cuda elementwise: broadcasting shapes {shapes} to "
                                  f"{out_shape} needs {len(dims)} dims after merging; the cuda "
                                  f"kernels take at most {MAX_DIMS}")
    pad = MAX_DIMS - len(dims)
    return [1] * pad + dims, [[0] * pad + st for st in strides]


def _out(out, shape: tuple, dtype) -> CudaArray:
    if out is None:
        return empty(shape, dtype)
    if not isinstance(out, CudaArray) or out.shape != shape:
        raise ValueError(f"cuda elementwise: out= must be a cuda array of shape {shape}, got "
                         f"{out!r}")
    return out


def _operand(x, dtype):
    """A cuda array, or a 0-d numpy array as a scalar of `dtype` (None for anything else)."""
    if isinstance(x, CudaArray):
        return x
    if isinstance(x, np.ndarray | np.generic | int | float | bool) and np.ndim(x) == 0:
        return dtype.type(x.item() if isinstance(x, np.ndarray | np.generic) else x)
    raise TypeError(f"cuda elementwise: expected a cuda array or a scalar, got "
                    f"{type(x).__name__} of shape {np.shape(x)}")


# ---- binary ops --------------------------------------------------------------------------------

@cuda.jit(device=True)
def _unravel4(i, d1, d2, d3):
    """(i0, i1, i2, i3): flat index i in a C-ordered (d0, d1, d2, d3) shape (the broadcast
    kernels read each operand through its own strides at that index)."""
    i3 = i % d3
    i //= d3
    i2 = i % d2
    i //= d2
    return i // d1, i % d1, i2, i3


def _binary_kernels(f):
    """Kernels computing out = f(a, b): same-shape flat, broadcast (4-d index), and with a
    scalar on the right or on the left."""
    @cuda.jit  # a closure: not cached (its captured function is not part of the key)
    def flat(a, b, out, n):
        i = cuda.grid(1)
        step = cuda.gridsize(1)
        while i < n:
            out[i] = f(a[i], b[i])
            i += step

    @cuda.jit  # a closure: not cached (its captured function is not part of the key)
    def strided(a, b, out, n, d1, d2, d3, a0, a1, a2, a3, b0, b1, b2, b3):
        i = cuda.grid(1)
        step = cuda.gridsize(1)
        while i < n:
            i0, i1, i2, i3 = _unravel4(i, d1, d2, d3)
            out[i] = f(a[i0 * a0 + i1 * a1 + i2 * a2 + i3 * a3],
                       b[i0 * b0 + i1 * b1 + i2 * b2 + i3 * b3])
            i += step

    @cuda.jit  # a closure: not cached (its captured function is not part of the key)
    def right(a, s, out, n):
        i = cuda.grid(1)
        step = cuda.gridsize(1)
        while i < n:
            out[i] = f(a[i], s)
            i += step

    @cuda.jit  # a closure: not cached (its captured function is not part of the key)
    def left(s, b, out, n):
        i = cuda.grid(1)
        step = cuda.gridsize(1)
        while i < n:
            out[i] = f(s, b[i])
            i += step

    return flat, strided, right, left


def run_binary(kernels, name: str, a, b, out=None, dtype=None):
    """out = f(a, b) with broadcasting; a and/or b cuda arrays (one may be a scalar)."""
    flat, strided, right, left = kernels
    ref = a if isinstance(a, CudaArray) else b
    a, b = _operand(a, ref.dtype), _operand(b, ref.dtype)
    a_dev, b_dev = isinstance(a, CudaArray), isinstance(b, CudaArray)
    if a_dev and b_dev:
        if a.dtype != b.dtype:
            raise TypeError(f"cuda {name}: operands of dtypes {a.dtype} and {b.dtype} (the op "
                            f"casts them to one dtype first)")
        shape = a.shape if a.shape == b.shape else np.broadcast_shapes(a.shape, b.shape)
    else:
        shape = a.shape if a_dev else b.shape
    res = _out(out, shape, dtype or ref.dtype)
    n = res.size
    if a_dev and b_dev and a.shape == b.shape:
        launch_1d(flat, n, a.dev, b.dev, res.dev, n)
    elif a_dev and b_dev and b.size == 1 and a.shape == shape:
        launch_1d(strided, n, a.dev, b.dev, res.dev, n, 1, 1, n, 0, 0, 0, 1, 0, 0, 0, 0)
    elif a_dev and b_dev:
        (_, d1, d2, d3), (sa, sb) = collapse(shape, [a.shape, b.shape])
        launch_1d(strided, n, a.dev, b.dev, res.dev, n, d1, d2, d3, *sa, *sb)
    elif a_dev:
        launch_1d(right, n, a.dev, b, res.dev, n)
    else:
        launch_1d(left, n, a, b.dev, res.dev, n)
    return res


@cuda.jit(device=True)
def _add(x, y):
    return x + y


@cuda.jit(device=True)
def _sub(x, y):
    return x - y


@cuda.jit(device=True)
def _mul(x, y):
    return x * y


@cuda.jit(device=True)
def _div(x, y):
    return x / y


@cuda.jit(device=True)
def _maximum(x, y):
    return x if (x > y or math.isnan(x)) else y


@cuda.jit(device=True)
def _minimum(x, y):
    return x if (x < y or math.isnan(x)) else y


@cuda.jit(device=True)
def _power(x, y):
    return x ** y


def _register_binary(name: str, f) -> None:
    kernels = _binary_kernels(f)

    @register("cuda", name)
    def implementation(a, b, out=None):
        return run_binary(kernels, name, a, b, out)
    implementation.__name__ = implementation.__qualname__ = f"cuda_{name}"
    KERNELS[name] = implementation


KERNELS: dict = {}  # name -> this module's implementation (for composing kernels)

for _name, _f in (("add", _add), ("sub", _sub), ("mul", _mul), ("div", _div),
                  ("maximum", _maximum), ("minimum", _minimum), ("power", _power)):
    _register_binary(_name, _f)


# ---- unary ops ---------------------------------------------------------------------------------

def _unary_kernel(f):
    @cuda.jit  # a closure: not cached (its captured function is not part of the key)
    def kernel(x, out, n):
        i = cuda.grid(1)
        step = cuda.gridsize(1)
        while i < n:
            out[i] = f(x[i])
            i += step
    return kernel


def run_unary(kernel, x: CudaArray, out=None) -> CudaArray:
    res = _out(out, x.shape, x.dtype)
    launch_1d(kernel, x.size, x.dev, res.dev, x.size)
    return res


@cuda.jit(device=True)
def _neg(x):
    return -x


@cuda.jit(device=True)
def _exp(x):
    return math.exp(x)


@cuda.jit(device=True)
def _log(x):
    return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)


@cuda.jit(device=True)
def _sqrt(x):
    return math.sqrt(x) if x >= 0 else math.nan


@cuda.jit(device=True)
def _sin(x):
    return math.sin(x)


@cuda.jit(device=True)
def _cos(x):
    return math.cos(x)


@cuda.jit(device=True)
def _tanh(x):
    return math.tanh(x)


@cuda.jit(device=True)
def _sigmoid(x):
    e = math.exp(-abs(x))  # never overflows
    return 1 / (1 + e) if x >= 0 else e / (1 + e)


@cuda.jit(device=True)
def _relu(x):
    return x if (x > 0 or math.isnan(x)) else x - x  # x - x: a zero of x's type


@cuda.jit(device=True)
def _absolute(x):
    return abs(x)


for _name, _f in (("neg", _neg), ("exp", _exp), ("log", _log), ("sqrt", _sqrt), ("sin", _sin),
                  ("cos", _cos), ("tanh", _tanh), ("sigmoid", _sigmoid), ("relu", _relu),
                  ("absolute", _absolute)):
    def _make(kernel):
        def implementation(x, out=None):
            return run_unary(kernel, x, out)
        return implementation
    KERNELS[_name] = register("cuda", _name)(_make(_unary_kernel(_f)))


@cuda.jit(cache=True)
def _leaky_relu_kernel(x, slope, out, n):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        v = x[i]
        out[i] = v if v > 0 else v * slope
        i += step


@register("cuda", "leaky_relu")
def leaky_relu(x, negative_slope, out=None):
    res = _out(out, x.shape, x.dtype)
    launch_1d(_leaky_relu_kernel, x.size, x.dev, x.dtype.type(negative_slope), res.dev, x.size)
    return res


# ---- activation backward: grad * f'(x) from y = f(x) ------------------------------------------

@cuda.jit(device=True)
def _relu_backward(g, y):
    return g if y > 0 else g - g


@cuda.jit(device=True)
def _tanh_backward(g, y):
    return g * (1 - y * y)


@cuda.jit(device=True)
def _sigmoid_backward(g, y):
    return g * (y * (1 - y))


@cuda.jit(device=True)
def _identity_backward(g, y):
    return g


_ACT_BACKWARD = {name: _binary_kernels(f) for name, f in (
    ("relu", _relu_backward), ("tanh", _tanh_backward), ("sigmoid", _sigmoid_backward),
    ("identity", _identity_backward))}


@register("cuda", "act_backward")
def act_backward(grad, y, act, out=None):
    kernels = _ACT_BACKWARD.get(act)
    if kernels is None:
        raise ValueError(f"unknown activation {act!r}; choose one of {tuple(_ACT_BACKWARD)}")
    return run_binary(kernels, "act_backward", grad, y, out)


# ---- broadcast_to: a broadcasting copy -------------------------------------------------------

@cuda.jit(device=True)
def _first(x, y):
    return x


_BROADCAST = _binary_kernels(_first)


@register("cuda", "broadcast_to")
def broadcast_to(x, shape):
    shape = tuple(shape)
    if np.broadcast_shapes(x.shape, shape) != shape:
        raise ValueError(f"broadcast_to: shape {x.shape} cannot be broadcast to {shape}")
    res = empty(shape, x.dtype)
    (_, d1, d2, d3), (sx, _) = collapse(shape, [x.shape, shape])
    launch_1d(_BROADCAST[1], res.size, x.dev, res.dev, res.dev, res.size, d1, d2, d3, *sx,
              0, 0, 0, 0)
    return res


# ---- comparisons, sign, logical ops, where (numpy's ufuncs / functions on a
# CudaArray, see array.py; bool results) ----------------------------------------------------

@cuda.jit(device=True)
def _greater(x, y):
    return x > y


@cuda.jit(device=True)
def _greater_equal(x, y):
    return x >= y


@cuda.jit(device=True)
def _less(x, y):
    return x < y


@cuda.jit(device=True)
def _less_equal(x, y):
    return x <= y


@cuda.jit(device=True)
def _equal(x, y):
    return x == y


@cuda.jit(device=True)
def _not_equal(x, y):
    return x != y


@cuda.jit(device=True)
def _logical_and(x, y):
    return bool(x) and bool(y)


@cuda.jit(device=True)
def _logical_or(x, y):
    return bool(x) or bool(y)


BOOL_BINARY = {name: _binary_kernels(f) for name, f in (
    ("greater", _greater), ("greater_equal", _greater_equal), ("less", _less),
    ("less_equal", _less_equal), ("equal", _equal), ("not_equal", _not_equal),
    ("logical_and", _logical_and), ("logical_or", _logical_or), ("bitwise_and", _logical_and),
    ("bitwise_or", _logical_or))}


def compare(name: str, a, b, out=None) -> CudaArray:
    """numpy's comparison / logical ufunc `name` on cuda arrays: a bool array."""
    ref = a if isinstance(a, CudaArray) else b
    if isinstance(a, CudaArray) and isinstance(b, CudaArray) and a.dtype != b.dtype:
        dtype = np.promote_types(a.dtype, b.dtype)
        a, b = a.astype(dtype, copy=False), b.astype(dtype, copy=False)
    elif not isinstance(a, CudaArray) or not isinstance(b, CudaArray):
        other = b if ref is a else a
        dtype = np.result_type(ref.dtype, np.asarray(other))
        if dtype != ref.dtype:
            ref_cast = ref.astype(dtype)
            a, b = (ref_cast, other) if ref is a else (other, ref_cast)
    return run_binary(BOOL_BINARY[name], name, a, b, out, np.dtype(np.bool_))


@cuda.jit(device=True)
def _sign(x):
    if x > 0:
        return x - x + 1
    if x < 0:
        return x - x - 1
    return x  # 0 and NaN stay themselves, as np.sign


@cuda.jit(device=True)
def _logical_not(x):
    return not x


SIGN = _unary_kernel(_sign)
_NOT = _unary_kernel(_logical_not)


def sign(x: CudaArray, out=None) -> CudaArray:
    return run_unary(SIGN, x, out)


def logical_not(x: CudaArray, out=None) -> CudaArray:
    res = _out(out, x.shape, np.dtype(np.bool_))
    launch_1d(_NOT, x.size, x.dev, res.dev, x.size)
    return res


@cuda.jit(cache=True)
def _where(c, a, b, out, n, d1, d2, d3, c0, c1, c2, c3, a0, a1, a2, a3, b0, b1, b2, b3):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        i0, i1, i2, i3 = _unravel4(i, d1, d2, d3)
        if c[i0 * c0 + i1 * c1 + i2 * c2 + i3 * c3]:
            out[i] = a[i0 * a0 + i1 * a1 + i2 * a2 + i3 * a3]
        else:
            out[i] = b[i0 * b0 + i1 * b1 + i2 * b2 + i3 * b3]
        i += step


@register("cuda", "where")
def where(cond, a, b):
    from .runtime import to_device
    dtype = np.promote_types(*(x.dtype if isinstance(x, CudaArray) else np.asarray(x).dtype
                               for x in (a, b)))
    ops = []
    for x, dt in ((cond, None), (a, dtype), (b, dtype)):
        if not isinstance(x, CudaArray):
            x = to_device(np.asarray(x) if dt is None else np.asarray(x, dtype=dt))
        elif dt is not None and x.dtype != dt:
            x = x.astype(dt)
        ops.append(x)
    shape = tuple(np.broadcast_shapes(*(x.shape for x in ops)))
    res = empty(shape, dtype)
    (_, d1, d2, d3), strides = collapse(shape, [x.shape for x in ops])
    launch_1d(_where, res.size, *(x.dev for x in ops), res.dev, res.size, d1, d2, d3,
              *strides[0], *strides[1], *strides[2])
    return res
