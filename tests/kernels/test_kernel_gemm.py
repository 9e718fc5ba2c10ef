"""autograd.kernels.gemm (issue 21): the numba GEMM with its fused epilogue equals numpy's
matmul + bias + activation on every layout (2-D, batched with broadcasting, transposed and
strided views, empty dims, tile remainders), on both kernels (direct: B read in place, the
whole k in registers; packed: KC-blocked panels), on its serial, parallel-within-a-product
and parallel-over-the-batch paths; bad input fails at the Python boundary before any kernel;
edge tiles never read past an operand's last element (a guard page, in a subprocess)."""
from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from autograd import kernels as K
from autograd.kernels import policy
from tests.kernels._helpers import DTYPES

ACTS = (None, "relu", "tanh", "sigmoid", "gelu")


def _numba():
    return K.gemm.implementation("numba")


@pytest.fixture(autouse=True, params=["direct", "packed"])
def kernel(request, monkeypatch):
    """Every test runs on both kernels: the size where gemm switches to the packed one is
    set to 1 (always packed) or out of reach (always direct)."""
    from autograd.kernels.jit import gemm as jit_gemm
    monkeypatch.setattr(jit_gemm, "PACKED_FROM", 1 if request.param == "packed" else 1 << 62)
    return request.param


def _tol(dtype):
    return {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-10,
                                                                      "atol": 1e-10}


def _want(a, b, bias, act):
    """numpy in float64, the epilogue written out element by element (independent of the
    reference's own code)."""
    y = np.matmul(a.astype(np.float64), b.astype(np.float64))
    if bias is not None:
        y = y + bias
    f = {None: lambda v: v, "relu": lambda v: max(v, 0.0), "tanh": math.tanh,
         "sigmoid": lambda v: 1 / (1 + math.exp(-v)) if v >= 0 else
         math.exp(v) / (1 + math.exp(v)),
         "gelu": lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2)))}[act]
    return np.vectorize(f, otypes=[np.float64])(y) if y.size else y


def _check(a, b, bias=None, act=None):
    dtype = a.dtype
    want = _want(a, b, bias, act)
    for impl in (_numba(), K.gemm.reference):
        got = impl(a, b, bias, act)
        assert got.dtype == dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, **_tol(dtype))


# (a shape, b shape): ones, odd sizes, remainders of the 8-row tiles, 16/32-column tiles and
# of the packed kernel's KC-deep (1024) panels, and shapes that fill whole tiles exactly
SHAPES_2D = [((1, 1), (1, 1)), ((1, 7), (7, 1)), ((5, 7), (7, 3)), ((8, 256), (256, 32)),
             ((9, 257), (257, 33)), ((17, 513), (513, 15)), ((97, 40), (40, 100)),
             ((200, 1), (1, 70)), ((9, 1025), (1025, 33)), ((8, 2048), (2048, 32)),
             ((3, 2100), (2100, 17))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", SHAPES_2D)
def test_gemm_2d_every_activation(dtype, sa, sb):
    rng = np.random.default_rng(sum(sa) + sum(sb))
    a = rng.standard_normal(sa).astype(dtype)
    b = (rng.standard_normal(sb) / np.sqrt(sb[0])).astype(dtype)
    bias = rng.standard_normal(sb[1]).astype(dtype)
    for act in ACTS:
        _check(a, b, bias, act)
    _check(a, b)  # no bias, no activation: the plain product
    np.testing.assert_allclose(_numba()(a, b), a @ b, **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", [((2, 5, 7), (7, 4)), ((5, 7), (3, 7, 4)),
                                   ((3, 1, 9, 8), (2, 8, 5)), ((4, 20, 16), (4, 16, 40)),
                                   ((64, 64, 32), (64, 32, 64))])
def test_gemm_batched_broadcast(dtype, sa, sb):
    rng = np.random.default_rng(3)
    a = rng.standard_normal(sa).astype(dtype)
    b = rng.standard_normal(sb).astype(dtype)
    bias = rng.standard_normal(sb[-1]).astype(dtype)
    _check(a, b, bias, "gelu")
    _check(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", [((0, 3), (3, 4)), ((3, 0), (0, 4)), ((3, 4), (4, 0)),
                                   ((2, 0, 3, 4), (4, 5)), ((0, 3), (3, 0))])
def test_gemm_empty_dims(dtype, sa, sb):
    a = np.ones(sa, dtype)
    b = np.ones(sb, dtype)
    bias = np.arange(sb[-1], dtype=dtype) - 1
    got = _numba()(a, b, bias, "relu")
    assert got.shape == np.matmul(a, b).shape and got.dtype == dtype
    # k == 0: the product is zeros, so the result is relu(bias) on every row
    np.testing.assert_array_equal(got, np.broadcast_to(np.maximum(bias, 0), got.shape))
    _check(a, b, bias, "sigmoid")


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_transposed_and_strided_views(dtype):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((37, 300)).astype(dtype)
    b = rng.standard_normal((300, 45)).astype(dtype)
    bias = rng.standard_normal(45).astype(dtype)
    at = np.ascontiguousarray(a.T).T            # F-ordered views of the same values
    bt = np.ascontiguousarray(b.T).T
    wide_a = np.zeros((37, 600), dtype)
    wide_a[:, ::2] = a
    wide_b = np.zeros((600, 90), dtype)
    wide_b[::2, 1::2] = b
    assert not at.flags.c_contiguous and not wide_a[:, ::2].flags.c_contiguous
    for x, y in ((at, b), (a, bt), (at, bt), (wide_a[:, ::2], wide_b[::2, 1::2])):
        got = _numba()(x, y, bias[::-1], "tanh")   # a negatively strided bias too
        np.testing.assert_allclose(got, _want(a, b, bias[::-1], "tanh"), **_tol(dtype))
    # batched transposed view: swapaxes of a 3-D array
    a3 = rng.standard_normal((3, 16, 9)).astype(dtype)
    b3 = rng.standard_normal((3, 16, 11)).astype(dtype)
    got = _numba()(np.swapaxes(a3, -1, -2), b3)
    np.testing.assert_allclose(got, np.swapaxes(a3, -1, -2) @ b3, **_tol(dtype))
    # a strided stack (attention's (tokens, batch, width) view) times W^T (copied to one
    # product), and times W read in place (one product per matrix)
    x = np.swapaxes(rng.standard_normal((4, 7, 40)).astype(dtype), 0, 1)
    w = rng.standard_normal((33, 40)).astype(dtype)
    for y in (w.T, np.ascontiguousarray(w[:32].T)):
        want = _want(x, y, bias[:y.shape[1]], "relu")
        np.testing.assert_allclose(_numba()(x, y, bias[:y.shape[1]], "relu"), want,
                                   **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_out(dtype):
    rng = np.random.default_rng(5)
    a = rng.standard_normal((2, 13, 21)).astype(dtype)
    b = rng.standard_normal((21, 34)).astype(dtype)
    bias = rng.standard_normal(34).astype(dtype)
    want = _want(a, b, bias, "relu")
    for impl in (_numba(), K.gemm.reference):
        out = np.full((2, 13, 34), np.nan, dtype)
        assert impl(a, b, bias, "relu", out=out) is out
        np.testing.assert_allclose(out, want, **_tol(dtype))
        wide = np.full((2, 13, 68), np.nan, dtype)  # a non-contiguous out
        assert impl(a, b, bias, "relu", out=wide[..., ::2]) is not None
        np.testing.assert_allclose(wide[..., ::2], want, **_tol(dtype))
        assert np.isnan(wide[..., 1::2]).all()      # nothing written between
    # out aliasing an input: the result is the product of the old values
    sq = rng.standard_normal((20, 20)).astype(dtype)
    other = rng.standard_normal((20, 20)).astype(dtype)
    want = sq @ other
    _numba()(sq, other, out=sq)
    np.testing.assert_allclose(sq, want, **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_parallel_paths(dtype):
    rng = np.random.default_rng(6)
    a = rng.standard_normal((197, 70)).astype(dtype)
    b = rng.standard_normal((70, 50)).astype(dtype)
    bias = rng.standard_normal(50).astype(dtype)
    # every product parallel: prange over row blocks within the product
    with policy.override(parallel_above=-1, families=("gemm",)):
        np.testing.assert_allclose(_numba()(a, b, bias, "gelu"), _want(a, b, bias, "gelu"),
                                   **_tol(dtype))
    # fewer column panels than threads: each panel's rows split into blocks
    with policy.override(parallel_above=-1, families=("gemm",)):
        np.testing.assert_allclose(_numba()(a, b[:, :11], bias[:11], "relu"),
                                   _want(a, b[:, :11], bias[:11], "relu"), **_tol(dtype))
    # a batch of products each below the threshold, together above it: prange over the batch
    a4 = rng.standard_normal((6, 9, 8)).astype(dtype)
    b4 = rng.standard_normal((6, 8, 7)).astype(dtype)
    with policy.override(parallel_above=1000, families=("gemm",)):
        np.testing.assert_allclose(_numba()(a4, b4, bias[:7], "sigmoid"),
                                   _want(a4, b4, bias[:7], "sigmoid"), **_tol(dtype))


def test_gemm_special_values_in_epilogue():
    a = np.array([[1.0], [1.0], [1.0], [1.0]])
    b = np.array([[1.0, -1.0]])
    bias = np.array([np.nan, -800.0])
    got = _numba()(a, b, bias, "sigmoid")
    assert np.isnan(got[:, 0]).all() and (got[:, 1] == 0).all()   # no overflow to nan
    got = _numba()(a, b, np.array([np.nan, 3.0]), "relu")
    assert np.isnan(got[:, 0]).all() and (got[:, 1] == 2).all()    # relu keeps nan


def _boom(*args, **kwargs):
    raise AssertionError("a kernel was compiled or run for bad input")


BAD = [
    ((np.ones((3, 4)), np.ones((5, 2))), {}, ValueError,
     r"gemm: shapes a: \(3, 4\) and b: \(5, 2\) are not aligned"),
    ((np.ones((2, 3, 4)), np.ones((3, 4, 2))), {}, ValueError,
     r"gemm: batch dims of a: \(2, 3, 4\) and b: \(3, 4, 2\)"),
    ((np.ones(3), np.ones((3, 2))), {}, ValueError, r"gemm: expected arrays with at least 2"),
    ((np.ones((3, 4)), np.ones((4, 2))), {"bias": np.ones(3)}, ValueError,
     r"gemm: bias must have shape \(2,\) .* got \(3,\)"),
    ((np.ones((3, 4)), np.ones((4, 2))), {"bias": np.ones((1, 2))}, ValueError,
     r"gemm: bias must have shape \(2,\)"),
    ((np.ones((3, 4)), np.ones((4, 2))), {"activation": "swish"}, ValueError,
     r"gemm: unknown activation 'swish'"),
    ((np.ones((3, 4)), np.ones((4, 2))), {"out": np.ones((2, 3))}, ValueError,
     r"gemm: out must have shape \(3, 2\)"),
    ((np.ones((3, 4), np.float32), np.ones((4, 2))), {}, TypeError,
     r"gemm: expected float32 or float64 arrays of one dtype, got a: float32, b: float64"),
    ((np.ones((3, 4)), np.ones((4, 2))), {"bias": np.ones(2, np.float32)}, TypeError,
     r"bias: float32"),
    ((np.ones((3, 4), np.int64), np.ones((4, 2), np.int64)), {}, TypeError,
     r"gemm: expected float32 or float64"),
    (([[1.0]], np.ones((1, 1))), {}, TypeError, r"gemm: a must be a numpy array"),
]


@pytest.mark.parametrize("args,kwargs,exc,match", BAD)
def test_gemm_bad_input_raises_before_any_kernel(monkeypatch, args, kwargs, exc, match):
    from autograd.kernels.jit import gemm as jit_gemm
    monkeypatch.setattr(jit_gemm.gemm_kernel, "get", _boom)
    monkeypatch.setattr(jit_gemm.gemm_direct_kernel, "get", _boom)
    for impl in (_numba(), K.gemm.reference):
        with pytest.raises(exc, match=match):
            impl(*args, **kwargs)


def test_gemm_is_a_declared_kernel_with_out():
    spec = K.gemm.spec
    assert spec.out and spec.name == "gemm" and "activation" in spec.signature
    assert K.gemm.implementation("numba") is not K.gemm.reference


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_negative_strides_and_edge_tiles(dtype):
    """Reversed views (negative strides) of A and B, with row and column remainders of the
    8 x 32 (float32) / 8 x 16 (float64) tiles: the edge rows of A and the edge columns of
    B are copied to zero-padded scratch, B's transposed panels read down its columns."""
    rng = np.random.default_rng(8)
    for m, k, n in ((9, 5, 33), (15, 40, 17), (1, 3, 1), (24, 1, 64), (7, 70, 50)):
        a = rng.standard_normal((m, k)).astype(dtype)
        b = rng.standard_normal((k, n)).astype(dtype)
        bias = rng.standard_normal(n).astype(dtype)
        for x in (a, a[::-1][::-1], np.ascontiguousarray(a[::-1])[::-1]):
            for y in (b, np.ascontiguousarray(b[::-1])[::-1],
                      np.ascontiguousarray(b[:, ::-1])[:, ::-1], np.asfortranarray(b)):
                np.testing.assert_allclose(_numba()(x, y, bias, "relu"),
                                           _want(a, b, bias, "relu"), **_tol(dtype))


def test_gemm_picks_the_direct_kernel_below_packed_from(monkeypatch, kernel):
    """The wrapper's choice, seen from the kernels' `get`: products with a dim below
    PACKED_FROM run the direct kernel, the others the packed one."""
    from autograd.kernels.jit import gemm as jit_gemm
    monkeypatch.setattr(jit_gemm, "PACKED_FROM", 40)
    seen = []
    for name in ("gemm_kernel", "gemm_direct_kernel"):
        obj = getattr(jit_gemm, name)
        real = obj.get
        monkeypatch.setattr(obj, "get", lambda *a, _n=name, _r=real: (seen.append(_n), _r(*a))[1])
    a = np.ones((40, 40), np.float32)
    _numba()(a, a)
    _numba()(a[:39], a)
    assert seen == ["gemm_kernel", "gemm_direct_kernel"]


GUARD = """
import ctypes, mmap, sys
import numpy as np
from autograd import kernels as K
from autograd.kernels.jit import gemm as jit_gemm
libc = ctypes.CDLL(None)
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
PAGE = mmap.PAGESIZE
def guarded(values):
    # values copied to the end of a page that is followed by an inaccessible page: one
    # element read past the end is a segfault
    nbytes = values.nbytes
    pages = (nbytes + PAGE - 1) // PAGE
    buf = mmap.mmap(-1, (pages + 1) * PAGE)
    base = ctypes.addressof(ctypes.c_char.from_buffer(buf))
    assert libc.mprotect(base + pages * PAGE, PAGE, 0) == 0
    keep.append(buf)
    arr = np.frombuffer(buf, values.dtype, count=values.size,
                        offset=pages * PAGE - nbytes).reshape(values.shape)
    arr[...] = values
    return arr
keep = []
gemm = K.gemm.implementation("numba")
rng = np.random.default_rng(0)
jit_gemm.PACKED_FROM = int(sys.argv[1])
for dt in (np.float32, np.float64):
    for m, k, n in ((9, 5, 33), (1, 1, 1), (17, 3, 15), (8, 300, 32), (3, 2, 50)):
        a = rng.standard_normal((m, k)).astype(dt)
        b = rng.standard_normal((k, n)).astype(dt)
        bias = rng.standard_normal(n).astype(dt)
        ga, gb, gbias = guarded(a), guarded(b), guarded(bias)
        gbt = guarded(np.ascontiguousarray(b.T)).T
        for x, y in ((ga, gb), (ga, gbt), (guarded(np.ascontiguousarray(a.T)).T, gb)):
            got = gemm(x, y, gbias, "relu")
            want = np.maximum(a.astype(np.float64) @ b + bias, 0)
            assert np.allclose(got, want, rtol=1e-4, atol=1e-4), (m, k, n, dt)
print("ok")
"""


def test_gemm_edge_tiles_never_read_past_the_operands(kernel):
    """Every operand ends where an inaccessible page begins: an out-of-bounds read of an
    edge tile kills the subprocess instead of passing silently (the kernel reads through
    pointers, which NUMBA_BOUNDSCHECK does not see). Found the bias's edge columns read past
    its end in the direct kernel's first version."""
    from autograd.kernels.jit import gemm as jit_gemm
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(GUARD),
                           str(jit_gemm.PACKED_FROM)], check=False, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
