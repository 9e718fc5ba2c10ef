import numpy as np
import pytest

from tests.kernels._helpers import DTYPES, tol

# (kh, kw, sh, sw, ph, pw, dh, dw)
GEOMETRIES = [(3, 3, 1, 1, 1, 1, 1, 1), (1, 1, 1, 1, 0, 0, 1, 1), (3, 2, 2, 1, 0, 1, 1, 2),
              (5, 5, 2, 2, 2, 2, 1, 1), (2, 2, 2, 2, 0, 0, 1, 1), (3, 3, 3, 2, 1, 0, 2, 1)]


def _kernel(module, name):
    import importlib
    k = getattr(importlib.import_module(f"autograd.kernels.{module}"), name)
    return k.implementation("numba"), k.reference


def _x(dtype, shape=(2, 3, 11, 9), seed=0):
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return [x, np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2),
            x[:, ::1, :, :][..., ::-1]]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("geom", GEOMETRIES)
def test_im2col_col2im(paths, dtype, geom):
    fn, ref = _kernel("conv", "im2col")
    bfn, bref = _kernel("conv", "col2im")
    for x in _x(dtype):
        cols = fn(x, *geom)
        want = ref(x, *geom)
        assert cols.dtype == dtype
        np.testing.assert_array_equal(cols, want)
        g = np.random.default_rng(1).standard_normal(cols.shape).astype(dtype)
        np.testing.assert_allclose(bfn(g, 3, 11, 9, *geom), bref(g, 3, 11, 9, *geom),
                                   **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_im2col_empty_and_tiny(paths, dtype):
    fn, ref = _kernel("conv", "im2col")
    for x in (np.zeros((0, 2, 5, 5), dtype), np.ones((1, 1, 1, 1), dtype)):
        np.testing.assert_array_equal(fn(x, 1, 1, 1, 1, 0, 0, 1, 1),
                                      ref(x, 1, 1, 1, 1, 0, 0, 1, 1))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("geom", GEOMETRIES)
def test_max_pool(paths, dtype, geom):
    fn, ref = _kernel("pool", "max_pool2d")
    bfn, bref = _kernel("pool", "max_pool2d_backward")
    if geom[4] > geom[0] // 2 or geom[5] > geom[1] // 2:
        pytest.skip("padding larger than half the window (PyTorch rejects it)")
    for x in _x(dtype):
        x = x.copy()
        x[0, 0, 2, 2] = np.nan
        x[1, 1, :2, :2] = 1.0  # ties
        (out, idx), (out2, idx2) = fn(x, *geom), ref(x, *geom)
        assert out.dtype == dtype and idx.dtype == np.int64
        np.testing.assert_array_equal(out, out2)
        np.testing.assert_array_equal(idx, idx2)
        g = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
        np.testing.assert_allclose(bfn(g, idx, 11, 9), bref(g, idx2, 11, 9), **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("geom", [g[:6] for g in GEOMETRIES])
@pytest.mark.parametrize("include_pad", [True, False])
def test_avg_pool(paths, dtype, geom, include_pad):
    fn, ref = _kernel("pool", "avg_pool2d")
    bfn, bref = _kernel("pool", "avg_pool2d_backward")
    if geom[4] > geom[0] // 2 or geom[5] > geom[1] // 2:
        pytest.skip("padding larger than half the window")
    for x in _x(dtype):
        out = fn(x, *geom, include_pad)
        assert out.dtype == dtype
        np.testing.assert_allclose(out, ref(x, *geom, include_pad), **tol(dtype))
        g = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
        np.testing.assert_allclose(bfn(g, 11, 9, *geom, include_pad),
                                   bref(g, 11, 9, *geom, include_pad), **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 3, 1), (16, 5, 40), (7, 4, 3)])
def test_batch_norm(paths, dtype, shape):
    fn, ref = _kernel("batchnorm", "batch_norm_forward")
    bfn, bref = _kernel("batchnorm", "batch_norm_backward")
    x = (np.random.default_rng(0).standard_normal(shape) * 3 + 50).astype(dtype)
    t = {"rtol": 2e-3, "atol": 2e-3} if dtype == np.float32 else {"rtol": 1e-8, "atol": 1e-8}
    for xv in (x, np.ascontiguousarray(x.transpose(0, 2, 1)).transpose(0, 2, 1)):
        got, want = fn(xv, 1e-5), ref(xv, 1e-5)
        for u, v in zip(got, want):
            assert u.dtype == v.dtype == dtype and u.shape == v.shape
            np.testing.assert_allclose(u, v, **t)
        g = np.random.default_rng(1).standard_normal(shape).astype(dtype)
        np.testing.assert_allclose(bfn(g, got[0], got[3]), bref(g, want[0], want[3]), **t)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 3, 1), (16, 5, 40), (7, 4, 3)])
def test_batch_norm_backward_affine(paths, dtype, shape):
    """The affine backward in one kernel: its reference, and the composition it replaces
    (batch_norm_backward of g * weight; dweight = sum(g * xhat), dbias = sum(g)); a
    transposed (non-contiguous) gradient too."""
    fn, ref = _kernel("batchnorm", "batch_norm_backward_affine")
    back = _kernel("batchnorm", "batch_norm_backward")[1]
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(shape) * 3 + 50).astype(dtype)
    xhat, _, _, invstd = _kernel("batchnorm", "batch_norm_forward")[1](x, 1e-5)
    w = rng.standard_normal(shape[1]).astype(dtype)
    t = {"rtol": 2e-3, "atol": 2e-3} if dtype == np.float32 else {"rtol": 1e-9, "atol": 1e-9}
    g0 = rng.standard_normal(shape).astype(dtype)
    for g in (g0, np.ascontiguousarray(g0.transpose(0, 2, 1)).transpose(0, 2, 1)):
        got, want = fn(g, xhat, invstd, w), ref(g, xhat, invstd, w)
        composed = (back(g * w[None, :, None], xhat, invstd), (g * xhat).sum((0, 2)),
                    g.sum((0, 2)))
        for u, v, c in zip(got, want, composed):
            assert u.dtype == v.dtype == dtype and u.shape == v.shape == c.shape
            np.testing.assert_allclose(u, v, **t)
            np.testing.assert_allclose(u, c, **t)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 3, 1), (16, 5, 40), (7, 4, 3)])
def test_batch_norm_forward_affine(paths, dtype, shape):
    """The forward with its affine weight and bias in the normalising pass: its reference,
    and batch_norm_forward then xhat * weight + bias."""
    fn, ref = _kernel("batchnorm", "batch_norm_forward_affine")
    plain = _kernel("batchnorm", "batch_norm_forward")[0]
    rng = np.random.default_rng(6)
    x = (rng.standard_normal(shape) * 3 + 50).astype(dtype)
    w, b = (rng.standard_normal(shape[1]).astype(dtype) for _ in range(2))
    t = {"rtol": 2e-3, "atol": 2e-3} if dtype == np.float32 else {"rtol": 1e-9, "atol": 1e-9}
    for xv in (x, np.ascontiguousarray(x.transpose(0, 2, 1)).transpose(0, 2, 1)):
        got, want = fn(xv, 1e-5, w, b), ref(xv, 1e-5, w, b)
        xhat, *stats = plain(xv, 1e-5)
        composed = (xhat * w[None, :, None] + b[None, :, None], xhat, *stats)
        for u, v, c in zip(got, want, composed):
            assert u.dtype == v.dtype == dtype and u.shape == v.shape == c.shape
            np.testing.assert_allclose(u, v, **t)
            np.testing.assert_allclose(u, c, **t)


@pytest.mark.parametrize("dtype", [np.int8, np.int64])
def test_max_pool_signed_integer_dtypes_match_pytorch(paths, dtype):
    """The kernels take any integer dtype and give the exact max and PyTorch's indices (the
    start value is the dtype's lowest, not -inf cast to it)."""
    fn, ref = _kernel("pool", "max_pool2d")
    lo = np.iinfo(dtype).min
    x = np.array([[lo, lo, 7], [lo, lo, -1], [0, 0, 0]], dtype)[None, None]
    for f in (fn, ref):
        out, idx = f(x, 2, 2, 1, 1, 1, 1, 1, 1)
        # PyTorch 2.13 (int64): these values and indices
        assert out.dtype == dtype
        np.testing.assert_array_equal(out[0, 0], np.array([[lo, lo, 7, 7], [lo, lo, 7, 7],
                                                           [0, 0, 0, 0], [0, 0, 0, 0]], dtype))
        np.testing.assert_array_equal(idx[0, 0], [[0, 0, 2, 2], [0, 0, 2, 2], [6, 6, 7, 8],
                                                  [6, 6, 7, 8]])


@pytest.mark.parametrize("dtype", [np.bool_, np.uint8, np.uint64])
def test_max_pool_unsigned_and_bool_exact(paths, dtype):
    """uint64 [[5, 3], [2, 1]] gave 2**63 and an all-False bool window True: -inf cast."""
    fn, ref = _kernel("pool", "max_pool2d")
    x = np.array([[5, 3, 0], [2, 1, 0], [0, 0, 0]], dtype)[None, None]
    for f in (fn, ref):
        out, idx = f(x, 2, 2, 1, 1, 0, 0, 1, 1)
        assert out.dtype == dtype
        np.testing.assert_array_equal(out[0, 0], np.array([[5, 3], [2, 1]], dtype))
        np.testing.assert_array_equal(idx[0, 0], [[0, 1], [3, 4]])
        out, idx = f(np.zeros((1, 1, 2, 2), dtype), 2, 2, 2, 2, 0, 0, 1, 1)
        assert out.tolist() == [[[[0]]]] and idx.tolist() == [[[[0]]]]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (1, 2, 7, 9), (3, 1, 2, 2), (2, 2, 1, 5)])
def test_max_pool_2x2_fast_path_equals_the_general_kernel(paths, dtype, shape):
    """The 2x2 stride-2 kernel gives the general kernel's maxima and argmax exactly: ties
    (the first wins), NaN (selected), -inf, odd sizes (the last row/column dropped); the
    gradient scattered through its argmax equals the general kernel's."""
    from autograd import kernels as K
    from autograd.kernels.jit import pool as jit_pool
    rng = np.random.default_rng(sum(shape))
    x = rng.integers(-2, 3, shape).astype(dtype)  # many ties
    x.flat[::7] = np.nan
    x.flat[3::11] = -np.inf
    h, w = shape[2:]
    calls = []
    real = jit_pool._max_pool_2x2.get
    jit_pool._max_pool_2x2.get = lambda *a: (calls.append(a), real(*a))[1]
    try:
        out, idx = K.max_pool2d(x, 2, 2, 2, 2, 0, 0, 1, 1)
    finally:
        jit_pool._max_pool_2x2.get = real
    want, want_idx = np.empty_like(out), np.empty_like(idx)
    jit_pool._max_pool.get(x.dtype, False)(x, want, want_idx, 2, 2, 2, 2, 0, 0, 1, 1)
    np.testing.assert_array_equal(out, want)  # NaN where NaN
    np.testing.assert_array_equal(idx, want_idx)
    ref_out, ref_idx = K.max_pool2d.reference(x, 2, 2, 2, 2, 0, 0, 1, 1)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(idx, ref_idx)
    g = rng.standard_normal(out.shape).astype(dtype)
    np.testing.assert_array_equal(K.max_pool2d_backward(g, idx, h, w),
                                  K.max_pool2d_backward.reference(g, ref_idx, h, w))
    assert len(calls) == (out.size > 0)  # the fast path ran (empty outputs: numpy's)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hw", [(1, 1), (1, 3), (2, 2), (3, 1)])
def test_im2col_col2im_same_size_paths_on_planes_smaller_than_the_window(paths, dtype, hw):
    """A window offset whose whole shift leaves the plane (5x5 pad 2 on a 1x1 image) writes
    nothing outside its patch row (CI runs this with numba's bounds checks too)."""
    fn, ref = _kernel("conv", "im2col")
    bfn, bref = _kernel("conv", "col2im")
    rng = np.random.default_rng(9)
    for k, p in ((5, 2), (3, 1), (7, 3)):
        x = rng.standard_normal((2, 3, *hw)).astype(dtype)
        np.testing.assert_array_equal(fn(x, k, k, 1, 1, p, p, 1, 1),
                                      ref(x, k, k, 1, 1, p, p, 1, 1))
        cols = rng.standard_normal((2, 3 * k * k, hw[0] * hw[1])).astype(dtype)
        np.testing.assert_array_equal(bfn(cols, 3, *hw, k, k, 1, 1, p, p, 1, 1),
                                      bref(cols, 3, *hw, k, k, 1, 1, p, p, 1, 1))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("geom", [(3, 3, 1, 1), (5, 5, 2, 2), (3, 5, 1, 2), (1, 1, 0, 0),
                                  (3, 3, 2, 2, 2, 2)])
def test_im2col_col2im_same_size_paths_equal_the_reference_to_the_bit(paths, dtype, geom):
    """Stride 1 with an output of the input's size takes col2im's and im2col's flat paths
    (one shifted add / copy per window offset, wrapped columns masked): the reference's
    values exactly (col2im adds each pixel's window offsets in the same order), NaN, inf and
    signed zeros included."""
    kh, kw, ph, pw = geom[:4]
    dh, dw = geom[4:] if len(geom) > 4 else (1, 1)
    fn, ref = _kernel("conv", "col2im")
    n, c, h, w = 2, 3, 7, 10
    rng = np.random.default_rng(3)
    cols = rng.standard_normal((n, c * kh * kw, h * w)).astype(dtype)
    cols.flat[::17] = np.nan
    cols.flat[5::23] = np.inf
    cols.flat[7::19] = -0.0
    cols[1] = -0.0  # a whole image of negative zeros
    got = fn(cols, c, h, w, kh, kw, 1, 1, ph, pw, dh, dw)
    want = ref(cols, c, h, w, kh, kw, 1, 1, ph, pw, dh, dw)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
    # and its adjoint, im2col's same-size path: the reference's copies, padding as +0.0
    ifn, iref = _kernel("conv", "im2col")
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    x.flat[::13] = np.nan
    x.flat[4::11] = -np.inf
    x.flat[6::7] = -0.0
    from autograd.kernels.jit import conv as jit_conv
    calls = []
    real = jit_conv._im2col_same.get
    jit_conv._im2col_same.get = lambda *a: (calls.append(a), real(*a))[1]
    try:
        got = ifn(x, kh, kw, 1, 1, ph, pw, dh, dw)
    finally:
        jit_conv._im2col_same.get = real
    assert len(calls) == 1  # the numba path ran
    want = iref(x, kh, kw, 1, 1, ph, pw, dh, dw)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
