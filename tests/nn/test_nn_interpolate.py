"""F.interpolate and nn.Upsample: nearest (an index gather) and linear / bilinear with and
without align_corners, against PyTorch 2.13 (recorded here as literals), gradients
(float64 gradcheck) and bad input."""
import numpy as np
import pytest

import autograd
import nn
import nn.functional as F
from autograd import gradcheck, gradgradcheck
from autograd.errors import ShapeError


def pattern(shape, mult, mod, requires_grad=False):
    """((i * mult) % mod - 5) / 4 over the flat index i (exact in binary floating point)."""
    n = int(np.prod(shape))
    data = (((np.arange(n) * mult) % mod - 5) / 4.0).reshape(shape)
    return autograd.tensor(data, requires_grad=requires_grad)


X = pattern((1, 1, 3, 4), 5, 13)
Y = pattern((1, 2, 5), 3, 7)


def test_the_input_patterns_are_the_ones_the_literals_were_recorded_from():
    np.testing.assert_array_equal(X.numpy(), [[[[-1.25, 0.0, 1.25, -0.75],
                                                 [0.5, 1.75, -0.25, 1.0],
                                                 [-1.0, 0.25, 1.5, -0.5]]]])
    np.testing.assert_array_equal(Y.numpy(), [[[-1.25, -0.5, 0.25, -0.75, 0.0],
                                                [-1.0, -0.25, -1.25, -0.5, 0.25]]])


def rows_cols(x, rows, cols):
    return x.numpy()[:, :, rows][:, :, :, cols]


@pytest.mark.parametrize("kwargs,rows,cols", [
    ({"size": (5, 7)}, [0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2, 3]),
    ({"scale_factor": 1.5}, [0, 0, 1, 2], [0, 0, 1, 2, 2, 3]),
    ({"size": (2, 3)}, [0, 1], [0, 1, 2]),
    # scale 1.7: out = floor(in * 1.7), source = floor(dst / 1.7) ...
    ({"scale_factor": 1.7}, [0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2]),
    # ... unless the scale is recomputed from the sizes: floor(dst * in / out)
    ({"scale_factor": 1.7, "recompute_scale_factor": True}, [0, 0, 1, 1, 2],
     [0, 0, 1, 2, 2, 3]),
])
def test_nearest_picks_pytorchs_source_pixels(kwargs, rows, cols):
    np.testing.assert_array_equal(F.interpolate(X, **kwargs).numpy(), rows_cols(X, rows, cols))


def test_a_dim_whose_size_stays_is_copied_as_pytorch_does():
    x = autograd.tensor(np.arange(25.0).reshape(1, 1, 5, 5))
    # scale 1.3 -> 6 rows read floor(dst / 1.3); 1.1 keeps 5 columns: copied, not rescaled
    np.testing.assert_array_equal(F.interpolate(x, scale_factor=(1.3, 1.1)).numpy()[0, 0],
                                  x.numpy()[0, 0][[0, 0, 1, 2, 3, 3]])
    np.testing.assert_array_equal(
        F.interpolate(x, scale_factor=(1.3, 1.1), mode="bilinear").numpy()[0, 0, 0],
        [0, 1, 2, 3, 4])
    line = x[:, :, 0]
    np.testing.assert_array_equal(F.interpolate(line, scale_factor=1.1, mode="linear").numpy(),
                                  [[[0, 1, 2, 3, 4]]])
    # ... but 1-d nearest applies the scale even then
    np.testing.assert_array_equal(F.interpolate(line, scale_factor=1.1).numpy(),
                                  [[[0, 0, 1, 2, 3]]])


def test_nearest_float32_index_rounding_matches_pytorch():
    x = autograd.tensor(np.arange(30, dtype=np.float32).reshape(1, 1, 5, 6))
    out = F.interpolate(x, size=(7, 13))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy()[0, 0, :, 0], [0, 0, 6, 12, 12, 18, 24])
    np.testing.assert_array_equal(out.numpy()[0, 0, 0],
                                  [0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5])


def test_nearest_1d():
    np.testing.assert_array_equal(F.interpolate(Y, size=8).numpy(), [
        [[-1.25, -1.25, -0.5, -0.5, 0.25, -0.75, -0.75, 0.0],
         [-1.0, -1.0, -0.25, -0.25, -1.25, -0.5, -0.5, 0.25]]])


B57 = [[[[-1.25, -0.80357143, -0.08928571, 0.625, 1.10714286, -0.03571429, -0.75],
         [-0.55, -0.10357143, 0.61071429, 0.675, 0.6, 0.2, -0.05],
         [0.5, 0.94642857, 1.66071429, 0.75, -0.16071429, 0.55357143, 1.0],
         [-0.4, 0.04642857, 0.76071429, 0.825, 0.75, 0.35, 0.1],
         [-1.0, -0.55357143, 0.16071429, 0.875, 1.35714286, 0.21428571, -0.5]]]]
B57_CORNERS = [[[[-1.25, -0.625, 0.0, 0.625, 1.25, 0.25, -0.75],
                 [-0.375, 0.25, 0.875, 0.6875, 0.5, 0.3125, 0.125],
                 [0.5, 1.125, 1.75, 0.75, -0.25, 0.375, 1.0],
                 [-0.25, 0.375, 1.0, 0.8125, 0.625, 0.4375, 0.25],
                 [-1.0, -0.375, 0.25, 0.875, 1.5, 0.5, -0.5]]]]


@pytest.mark.parametrize("kwargs,expected", [
    ({"size": (5, 7)}, B57),
    ({"size": (5, 7), "align_corners": True}, B57_CORNERS),
    ({"scale_factor": (2, 0.75)},
     [[[[-1.04166667, 0.625, -0.41666667], [-0.60416667, 0.65625, -0.11458333],
        [0.27083333, 0.71875, 0.48958333], [0.33333333, 0.78125, 0.55208333],
        [-0.41666667, 0.84375, 0.07291667], [-0.79166667, 0.875, -0.16666667]]]]),
    ({"size": (2, 3)}, [[[[-0.60416667, 0.65625, -0.11458333],
                           [-0.41666667, 0.84375, 0.07291667]]]]),
])
def test_bilinear_matches_pytorch(kwargs, expected):
    np.testing.assert_allclose(F.interpolate(X, mode="bilinear", **kwargs).numpy(), expected,
                               atol=5e-9)


def test_linear_1d_matches_pytorch():
    np.testing.assert_allclose(F.interpolate(Y, size=8, mode="linear").numpy(), [
        [[-1.25, -0.921875, -0.453125, 0.015625, -0.0625, -0.6875, -0.328125, 0.0],
         [-1.0, -0.671875, -0.3125, -0.9375, -1.015625, -0.546875, -0.078125, 0.25]]],
        atol=5e-9)
    np.testing.assert_allclose(
        F.interpolate(Y, size=8, mode="linear", align_corners=True).numpy(), [
            [[-1.25, -0.82142857, -0.39285714, 0.03571429, -0.03571429, -0.60714286,
              -0.42857143, 0.0],
             [-1.0, -0.57142857, -0.39285714, -0.96428571, -1.03571429, -0.60714286,
              -0.17857143, 0.25]]], atol=5e-9)


def test_upsample_module():
    up = nn.Upsample(size=(5, 7), mode="bilinear", align_corners=True)
    np.testing.assert_allclose(up(X).numpy(), B57_CORNERS, atol=5e-9)
    assert list(up.state_dict()) == [] and list(up.parameters()) == []
    assert nn.Upsample(scale_factor=2)(X).shape == (1, 1, 6, 8)
    assert "scale_factor=2.0, mode='nearest'" in repr(nn.Upsample(scale_factor=2))


@pytest.mark.parametrize("kwargs", [{"size": (5, 7)}, {"scale_factor": 1.5},
                                    {"size": (5, 7), "mode": "bilinear"},
                                    {"size": (2, 7), "mode": "bilinear", "align_corners": True}])
def test_interpolate_gradcheck(kwargs):
    x = pattern((2, 2, 3, 4), 5, 13, requires_grad=True)
    assert gradcheck(lambda t: F.interpolate(t, **kwargs), (x,))
    assert gradgradcheck(lambda t: F.interpolate(t, **kwargs) ** 2, (x,))


def test_nearest_gradient_counts_the_copies():
    x = pattern((1, 1, 3, 4), 5, 13, requires_grad=True)
    F.interpolate(x, size=(5, 7)).sum().backward()
    # rows 0, 1 are read twice, row 2 once; columns 0, 1, 2 twice, column 3 once
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], np.outer([2, 2, 1], [2, 2, 2, 1]))


def test_interpolate_bad_input():
    with pytest.raises(ValueError, match="interpolate: either size or scale_factor"):
        F.interpolate(X)
    with pytest.raises(ValueError, match="interpolate: either size or scale_factor"):
        F.interpolate(X, size=4, scale_factor=2)
    with pytest.raises(ShapeError, match=r"interpolate: mode 'bilinear' expects 4-D input, "
                                         r"got input of shape \(1, 2, 5\)"):
        F.interpolate(Y, size=4, mode="bilinear")
    with pytest.raises(ValueError, match="interpolate: align_corners option can only be set"):
        F.interpolate(X, size=4, align_corners=True)
    with pytest.raises(NotImplementedError, match="interpolate: mode 'bicubic'"):
        F.interpolate(X, size=4, mode="bicubic")
    with pytest.raises(ValueError, match=r"interpolate: size \(4, 4, 4\) must have 2 entries"):
        F.interpolate(X, size=(4, 4, 4))
    with pytest.raises(ShapeError, match="interpolate: .*output sizes"):
        F.interpolate(X, scale_factor=0.1)
