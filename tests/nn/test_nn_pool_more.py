"""return_indices, ceil_mode for avg pooling, MaxUnpool2d and the 1-d pools: values against
PyTorch 2.13 (recorded here as literals), gradients (gradcheck, float64) and bad input."""
import numpy as np
import pytest

import autograd
import nn
import nn.functional as F
from autograd import gradcheck, gradgradcheck
from autograd.errors import ShapeError


def pattern(shape, mult, mod, requires_grad=False):
    """((i * mult) % mod - 5) / 4 over the flat index i: distinct-ish values, exact in float."""
    n = int(np.prod(shape))
    data = (((np.arange(n) * mult) % mod - 5) / 4.0).reshape(shape)
    return autograd.tensor(data, requires_grad=requires_grad)


X = pattern((1, 2, 5, 5), 13, 17)   # X[0, 0] is the first plane below
Y = pattern((2, 3, 7), 5, 13)


def test_the_input_pattern_is_the_one_the_literals_were_recorded_from():
    np.testing.assert_array_equal(X.numpy()[0, 0], [
        [-1.25, 2.0, 1.0, 0.0, -1.0], [2.25, 1.25, 0.25, -0.75, 2.5],
        [1.5, 0.5, -0.5, 2.75, 1.75], [0.75, -0.25, -1.25, 2.0, 1.0],
        [0.0, -1.0, 2.25, 1.25, 0.25]])


@pytest.mark.parametrize("kwargs,values,indices", [
    ({"kernel_size": 3, "stride": 2, "padding": 1},
     [[[[2.25, 2.0, 2.5], [2.25, 2.75, 2.75], [0.75, 2.25, 2.0]],
       [[2.75, 2.5, 0.5], [2.75, 2.5, 2.5], [1.25, 2.75, 2.5]]]],
     [[[[5, 1, 9], [5, 13, 13], [15, 22, 18]], [[5, 1, 3], [5, 18, 18], [15, 22, 18]]]]),
    ({"kernel_size": 2, "ceil_mode": True},
     [[[[2.25, 1.0, 2.5], [1.5, 2.75, 1.75], [0.0, 2.25, 0.25]],
       [[2.75, 1.5, -0.5], [2.0, 2.5, 2.25], [0.5, 2.75, 0.75]]]],
     [[[[5, 2, 9], [10, 13, 14], [20, 22, 24]], [[5, 2, 4], [10, 18, 14], [20, 22, 24]]]]),
    ({"kernel_size": 2, "stride": 1, "dilation": 2},
     [[[[1.5, 2.75, 1.75], [2.25, 2.0, 2.5], [2.25, 2.75, 2.25]],
       [[2.0, 2.5, 2.25], [2.75, 2.5, 1.5], [2.75, 1.75, 2.75]]]],
     [[[[10, 13, 14], [5, 18, 9], [22, 13, 22]], [[10, 1, 14], [5, 18, 19], [22, 23, 22]]]]),
])
def test_max_pool2d_return_indices_matches_pytorch(kwargs, values, indices):
    out, idx = F.max_pool2d(X, return_indices=True, **kwargs)
    np.testing.assert_array_equal(out.numpy(), values)
    assert idx.dtype == np.int64 and not idx.requires_grad
    np.testing.assert_array_equal(idx.numpy(), indices)
    # the module form, unbatched input too
    layer = nn.MaxPool2d(return_indices=True, **kwargs)
    out3, idx3 = layer(X[0])
    np.testing.assert_array_equal(out3.numpy(), values[0])
    np.testing.assert_array_equal(idx3.numpy(), indices[0])
    # the indices name the pixel each max came from
    planes = X.numpy().reshape(2, 25)
    np.testing.assert_array_equal(np.take_along_axis(planes, idx.numpy().reshape(2, -1), 1),
                                  out.numpy().reshape(2, -1))


def test_max_pool2d_with_indices_differentiates():
    x = pattern((1, 2, 5, 5), 13, 17, requires_grad=True)
    assert gradcheck(lambda t: F.max_pool2d(t, 2, ceil_mode=True, return_indices=True)[0], (x,))
    out, _ = nn.MaxPool2d(3, 2, 1, return_indices=True)(x)
    out.sum().backward()
    assert x.grad.numpy()[0, 0, 1, 0] == 2.0  # 2.25 at (1, 0) wins two windows


@pytest.mark.parametrize("kwargs,expected", [
    ({"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": True},
     [[[[0.47222222, 0.41666667, 0.08333333], [0.66666667, 0.44444444, 1.02777778],
        [-0.05555556, 0.33333333, 0.5]],
       [[0.69444444, 0.75, -0.16666667], [1.0, 0.47222222, 0.41666667],
        [0.16666667, 0.66666667, 0.72222222]]]]),
    ({"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
     [[[[1.0625, 0.625, 0.1875], [1.0, 0.44444444, 1.54166667], [-0.125, 0.5, 1.125]],
       [[1.5625, 1.125, -0.375], [1.5, 0.47222222, 0.625], [0.375, 1.0, 1.625]]]]),
    ({"kernel_size": 2},
     [[[[1.0625, 0.125, 0.75], [0.625, 0.75, 1.375], [-0.5, 1.75, 0.25]],
       [[1.5625, 0.625, -0.875], [1.125, 0.1875, 1.875], [0.0, 2.25, 0.75]]]]),
    ({"kernel_size": 2, "divisor_override": 3},
     [[[[1.41666667, 0.16666667, 0.5], [0.83333333, 1.0, 0.91666667],
        [-0.33333333, 1.16666667, 0.08333333]],
       [[2.08333333, 0.83333333, -0.58333333], [1.5, 0.25, 1.25], [0.0, 1.5, 0.25]]]]),
])
def test_avg_pool2d_ceil_mode_matches_pytorch(kwargs, expected):
    out = F.avg_pool2d(X, ceil_mode=True, **kwargs)
    np.testing.assert_allclose(out.numpy(), expected, atol=5e-9)
    module_kwargs = {k: v for k, v in kwargs.items()}
    np.testing.assert_allclose(nn.AvgPool2d(ceil_mode=True, **module_kwargs)(X).numpy(),
                               expected, atol=5e-9)


@pytest.mark.parametrize("cip", [True, False])
def test_avg_pool2d_ceil_mode_gradcheck(cip):
    x = pattern((1, 2, 5, 5), 13, 17, requires_grad=True)
    assert gradcheck(lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=cip),
                     (x,))
    assert gradgradcheck(lambda t: F.avg_pool2d(t, 2, ceil_mode=True, count_include_pad=cip),
                         (x,))


def test_max_unpool2d_matches_pytorch_and_inverts_the_pool():
    out, idx = F.max_pool2d(X[:, :, :4, :4], 2, return_indices=True)
    np.testing.assert_array_equal(F.max_unpool2d(out, idx, 2).numpy(), [
        [[[0.0, 0.0, 1.0, 0.0], [2.25, 0.0, 0.0, 0.0], [1.5, 0.0, 0.0, 2.75],
          [0.0, 0.0, 0.0, 0.0]],
         [[0.0, 0.0, 1.5, 0.0], [2.75, 0.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0],
          [0.0, 0.0, 0.0, 2.5]]]])
    out, idx = nn.MaxPool2d(2, return_indices=True)(X)
    up = nn.MaxUnpool2d(2)(out, idx, output_size=X.shape)
    np.testing.assert_array_equal(up.numpy()[0, 1], [
        [0.0, 0.0, 1.5, 0.0, 0.0], [2.75, 0.0, 0.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 2.5, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
    assert nn.MaxUnpool2d(2)(out[0], idx[0], output_size=(5, 5)).shape == (2, 5, 5)


def test_max_unpool2d_gradients():
    _, idx = F.max_pool2d(X, 2, return_indices=True)
    v = pattern((1, 2, 2, 2), 3, 7, requires_grad=True)
    assert gradcheck(lambda t: F.max_unpool2d(t, idx, 2, output_size=(5, 5)), (v,))
    assert gradgradcheck(lambda t: F.max_unpool2d(t, idx, 2, output_size=(5, 5)) ** 2, (v,))
    # unpool then pool is the identity on the pooled values: gradient 1 for each
    up = F.max_unpool2d(v, idx, 2, output_size=(5, 5))
    (up * 3).sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), np.full((1, 2, 2, 2), 3.0))


def test_max_unpool2d_bad_input():
    out, idx = F.max_pool2d(X, 2, return_indices=True)
    with pytest.raises(IndexError, match=r"max_unpool2d: .*invalid max index 18.*\(4, 4\)"):
        F.max_unpool2d(out, idx, 2)
    with pytest.raises(ShapeError, match=r"max_unpool2d: .*indices of shape"):
        F.max_unpool2d(out, idx[:, :1], 2)
    with pytest.raises(ShapeError, match="max_unpool2d"):
        F.max_unpool2d(out, out, 2)  # float "indices"


def test_the_1d_pools_match_pytorch():
    out, idx = F.max_pool1d(Y, 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), [
        [[0.0, 1.25, 1.75, 1.75], [1.0, 1.5, 1.5, 0.75], [1.25, 1.25, 1.75, 1.0]],
        [[0.25, 1.5, 0.75, 0.0], [1.25, 1.75, 1.75, 1.0], [1.5, 1.5, 0.75, 1.25]]])
    np.testing.assert_array_equal(idx.numpy(), [
        [[1, 2, 5, 5], [0, 3, 3, 5], [1, 1, 4, 6]], [[1, 2, 4, 6], [0, 3, 3, 5], [1, 1, 3, 6]]])
    np.testing.assert_array_equal(nn.MaxPool1d(3, 2, 1)(Y).numpy(), out.numpy())
    np.testing.assert_allclose(
        nn.AvgPool1d(3, 2, 1, ceil_mode=True, count_include_pad=False)(Y).numpy(),
        [[[-0.625, 0.16666667, 0.5, 0.75], [0.0, 0.25, 0.58333333, -0.25],
          [0.625, 0.33333333, 0.66666667, 0.375]],
         [[-0.375, 0.41666667, -0.33333333, -0.625], [0.25, 0.5, 0.83333333, 0.0],
          [0.875, 0.58333333, -0.16666667, 0.625]]], atol=5e-9)
    np.testing.assert_array_equal(F.avg_pool1d(Y, 2).numpy(), [
        [[-0.625, 0.25, 1.125], [0.0, 0.875, 0.125], [0.625, -0.125, 0.75]],
        [[-0.375, 0.5, -0.25], [0.25, 1.125, 0.375], [0.875, 0.125, -0.625]]])
    # unbatched (C, L)
    np.testing.assert_array_equal(nn.AvgPool1d(2)(Y[0]).numpy(), F.avg_pool1d(Y, 2).numpy()[0])
    o, i = nn.MaxPool1d(3, 2, 1, return_indices=True)(Y[1])
    assert o.shape == (3, 4) and i.numpy().tolist() == idx.numpy()[1].tolist()


def test_the_1d_pools_gradcheck():
    y = pattern((2, 3, 7), 5, 13, requires_grad=True)
    assert gradcheck(lambda t: F.max_pool1d(t, 3, 2, 1, ceil_mode=True), (y,))
    assert gradcheck(lambda t: F.avg_pool1d(t, 3, 2, 1, ceil_mode=True,
                                            count_include_pad=False), (y,))


def test_the_1d_pools_name_themselves_on_bad_input():
    with pytest.raises(ShapeError, match=r"max_pool1d: .*shape \(1, 2, 5, 5\)"):
        nn.MaxPool1d(2)(X)
    with pytest.raises(ShapeError, match=r"avg_pool1d: .*shape \(7,\)"):
        F.avg_pool1d(Y[0, 0], 2)
    with pytest.raises(ValueError, match="kernel_size must be an int or a 1-tuple"):
        F.max_pool1d(Y, (2, 2))


@pytest.mark.parametrize("size,values,indices", [
    ((3, 2), [[[[2.25, 2.5], [2.25, 2.75], [2.25, 2.25]],
               [[2.75, 1.5], [2.75, 2.5], [2.75, 2.75]]]],
     [[[[5, 9], [5, 13], [22, 22]], [[5, 2], [5, 18], [22, 22]]]]),
    ((2, 4), [[[[2.25, 2.0, 2.75, 2.75], [1.5, 2.25, 2.75, 2.75]],
               [[2.75, 2.5, 1.5, 2.25], [2.0, 2.75, 2.75, 2.5]]]],
     [[[[5, 1, 13, 13], [10, 22, 13, 13]], [[5, 1, 2, 14], [10, 22, 22, 18]]]]),
    (1, [[[[2.75]], [[2.75]]]], [[[[13]], [[5]]]]),
    ((2, None), [[[[2.25, 2.0, 1.0, 2.75, 2.5], [1.5, 0.5, 2.25, 2.75, 1.75]],
                  [[2.75, 2.5, 1.5, 0.5, 2.25], [2.0, 1.0, 2.75, 2.5, 2.25]]]],
     [[[[5, 1, 2, 13, 9], [10, 11, 22, 13, 14]], [[5, 1, 2, 3, 14], [10, 11, 22, 18, 14]]]]),
])
def test_adaptive_max_pool2d_matches_pytorch(size, values, indices):
    out, idx = F.adaptive_max_pool2d(X, size, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), values)
    np.testing.assert_array_equal(idx.numpy(), indices)
    np.testing.assert_array_equal(nn.AdaptiveMaxPool2d(size)(X).numpy(), values)
    out3, idx3 = nn.AdaptiveMaxPool2d(size, return_indices=True)(X[0])
    np.testing.assert_array_equal(out3.numpy(), values[0])
    np.testing.assert_array_equal(idx3.numpy(), indices[0])


def test_adaptive_max_pool2d_identity_size_and_ties():
    out, idx = F.adaptive_max_pool2d(X, 5, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), X.numpy())
    np.testing.assert_array_equal(idx.numpy()[0, 1], np.arange(25).reshape(5, 5))
    # overlapping bins [0, 2) and [1, 3); the first maximum (row-major) wins, as PyTorch
    x = autograd.tensor([[[[1.0, 3, 3], [3, 0, 2], [1, 1, 1]]]])
    out, idx = nn.AdaptiveMaxPool2d(2, return_indices=True)(x)
    assert out.numpy().tolist() == [[[[3, 3], [3, 2]]]]
    assert idx.numpy().tolist() == [[[[1, 1], [3, 5]]]]
    xi = autograd.tensor(np.arange(35).reshape(1, 5, 7) % 4)  # integers, unbatched
    out, idx = F.adaptive_max_pool2d(xi, (2, 3), return_indices=True)
    assert out.dtype == xi.dtype and out.numpy().tolist() == [[[3, 3, 3], [3, 3, 3]]]
    assert idx.numpy().tolist() == [[[7, 3, 11], [15, 23, 19]]]


def test_adaptive_max_pool2d_gradients():
    x = pattern((1, 2, 5, 5), 13, 17, requires_grad=True)
    assert gradcheck(lambda t: F.adaptive_max_pool2d(t, (3, 2)), (x,))
    assert gradgradcheck(lambda t: F.adaptive_max_pool2d(t, (2, 4)) ** 2, (x,))
    F.adaptive_max_pool2d(x, (3, 2)).sum().backward()
    assert x.grad.numpy()[0, 0, 1, 0] == 2.0  # 2.25 at (1, 0) is the max of two bins
    assert x.grad.numpy()[0, 0, 4, 2] == 2.0 and x.grad.numpy().sum() == 12


def test_adaptive_max_pool2d_bad_input():
    with pytest.raises(ShapeError, match=r"adaptive_max_pool2d: expected 3D \(unbatched\)"):
        nn.AdaptiveMaxPool2d(2)(Y[0])
    with pytest.raises(ShapeError, match=r"adaptive_max_pool2d: output size \(0, 2\)"):
        F.adaptive_max_pool2d(X, (0, 2))
    with pytest.raises(ValueError, match="adaptive_max_pool2d: output_size must be"):
        F.adaptive_max_pool2d(X, (1, 2, 3))
