"""The kernels behind Conv2d, the pools and BatchNorm, against brute-force definitions (on
the active backend: numba when it has a version, else the numpy reference)."""
import itertools

import numpy as np
import pytest

from autograd.kernels.batchnorm import batch_norm_backward, batch_norm_forward
from autograd.kernels.conv import col2im, conv_output_size, im2col
from autograd.kernels.pool import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward

GEOMETRIES = [g for g in itertools.product([1, 3], [2, 3], [1, 2], [1, 3], [0, 1], [0, 2],
                                           [1, 2], [1, 2])]


def brute_im2col(x, kh, kw, sh, sw, ph, pw, dh, dw):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = conv_output_size(h, kh, sh, ph, dh), conv_output_size(w, kw, sw, pw, dw)
    out = np.zeros((n, c, kh, kw, oh, ow), x.dtype)
    for i, j, a, b in itertools.product(range(kh), range(kw), range(oh), range(ow)):
        out[:, :, i, j, a, b] = xp[:, :, a * sh + i * dh, b * sw + j * dw]
    return out.reshape(n, c * kh * kw, oh * ow)


@pytest.mark.parametrize("kh,kw,sh,sw,ph,pw,dh,dw", GEOMETRIES)
def test_im2col_matches_definition_and_col2im_is_its_adjoint(kh, kw, sh, sw, ph, pw, dh, dw):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 6, 7))
    cols = im2col(x, kh, kw, sh, sw, ph, pw, dh, dw)
    np.testing.assert_array_equal(cols, brute_im2col(x, kh, kw, sh, sw, ph, pw, dh, dw))
    g = rng.standard_normal(cols.shape)
    back = col2im(g, 3, 6, 7, kh, kw, sh, sw, ph, pw, dh, dw)
    assert back.shape == x.shape
    # <im2col(x), g> == <x, col2im(g)>: col2im is exactly the transpose
    assert np.sum(cols * g) == pytest.approx(np.sum(x * back))


def test_im2col_dtype_non_contiguous_and_tiny_inputs():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 5, 4).transpose(0, 1, 3, 2)
    cols = im2col(x, 3, 3, 1, 1, 1, 1, 1, 1)
    assert cols.dtype == np.float32 and cols.shape == (2, 27, 20)
    np.testing.assert_array_equal(cols, brute_im2col(x, 3, 3, 1, 1, 1, 1, 1, 1))
    assert col2im(cols, 3, 4, 5, 3, 3, 1, 1, 1, 1, 1, 1).dtype == np.float32
    one = np.ones((1, 1, 1, 1), np.float64)
    np.testing.assert_array_equal(im2col(one, 1, 1, 1, 1, 0, 0, 1, 1), [[[1.0]]])
    np.testing.assert_array_equal(im2col(one, 3, 3, 1, 1, 1, 1, 1, 1)[0, :, 0],
                                  [0, 0, 0, 0, 1, 0, 0, 0, 0])


@pytest.mark.parametrize("kh,kw,sh,sw,ph,pw,dh,dw", [g for g in GEOMETRIES
                                                     if g[4] <= g[0] // 2 and g[5] <= g[1] // 2])
def test_pool_kernels_match_definition(kh, kw, sh, sw, ph, pw, dh, dw):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 2, 6, 7)).astype(np.float32)
    out, argmax = max_pool2d(x, kh, kw, sh, sw, ph, pw, dh, dw)
    windows = brute_im2col(np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)),
                                  constant_values=-np.inf), kh, kw, sh, sw, 0, 0, dh, dw)
    windows = windows.reshape(2, 2, kh * kw, -1)
    assert out.dtype == np.float32 and argmax.dtype == np.int64
    np.testing.assert_array_equal(out.reshape(2, 2, -1), windows.max(2))
    np.testing.assert_array_equal(np.take_along_axis(x.reshape(2, 2, -1),
                                                     argmax.reshape(2, 2, -1), 2),
                                  out.reshape(2, 2, -1))
    g = rng.standard_normal(out.shape).astype(np.float32)
    gx = max_pool2d_backward(g, argmax, 6, 7)
    assert gx.dtype == np.float32
    assert np.sum(gx * x) == pytest.approx(np.sum(g * out), rel=1e-5)
    if dh == dw == 1:
        for include in (True, False):
            avg = avg_pool2d(x, kh, kw, sh, sw, ph, pw, include)
            sums = brute_im2col(x, kh, kw, sh, sw, ph, pw, 1, 1).reshape(2, 2, kh * kw, -1)
            counts = brute_im2col(np.ones_like(x), kh, kw, sh, sw, ph, pw, 1, 1)
            counts = counts.reshape(2, 2, kh * kw, -1).sum(2) if not include else kh * kw
            np.testing.assert_allclose(avg.reshape(2, 2, -1), sums.sum(2) / counts, rtol=1e-5)
            gx = avg_pool2d_backward(g, 6, 7, kh, kw, sh, sw, ph, pw, include)
            assert np.sum(gx * x) == pytest.approx(np.sum(g * avg), rel=1e-4)


def test_max_pool_ties_pick_the_first_and_nan_propagates():
    x = np.array([[[[2.0, 2.0], [1.0, 2.0]]]])
    out, argmax = max_pool2d(x, 2, 2, 2, 2, 0, 0, 1, 1)
    assert out.item() == 2.0 and argmax.item() == 0
    x[0, 0, 1, 0] = np.nan
    out, argmax = max_pool2d(x, 2, 2, 2, 2, 0, 0, 1, 1)
    assert np.isnan(out.item()) and argmax.item() == 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_kernels(dtype):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((4, 3, 5)) * 2 + 1).astype(dtype)
    xhat, mean, var, invstd = batch_norm_forward(x, 1e-5)
    assert xhat.dtype == mean.dtype == var.dtype == invstd.dtype == dtype
    np.testing.assert_allclose(mean, x.mean((0, 2)), rtol=1e-5)
    np.testing.assert_allclose(var, x.var((0, 2)), rtol=1e-4)
    np.testing.assert_allclose(invstd, 1 / np.sqrt(x.var((0, 2)) + 1e-5), rtol=1e-4)
    np.testing.assert_allclose(xhat, (x - mean[:, None]) * invstd[:, None], rtol=1e-4,
                               atol=1e-5)
    g = rng.standard_normal(x.shape).astype(dtype)
    dx = batch_norm_backward(g, xhat, invstd)
    # central differences of sum(g * xhat(x)) in float64
    x64, eps = x.astype(np.float64), 1e-6
    num = np.zeros_like(x64)
    for idx in itertools.product(*map(range, x.shape)):
        for sign in (1, -1):
            xp = x64.copy()
            xp[idx] += sign * eps
            xh = (xp - xp.mean((0, 2), keepdims=True)) / np.sqrt(
                xp.var((0, 2), keepdims=True) + 1e-5)
            num[idx] += sign * np.sum(g * xh) / (2 * eps)
    np.testing.assert_allclose(dx, num, rtol=1e-3, atol=1e-3 if dtype == np.float32 else 1e-6)
