"""MaxPool2d and AvgPool2d: hand-checked values, gradient routing, gradients, bad input."""
import numpy as np
import pytest

import autograd
import nn
import nn.functional as F
from autograd import gradcheck, gradgradcheck


def t64(a, requires_grad=True):
    return autograd.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


X = np.array([[1.0, 5, 2, 0],
              [3, 4, 8, 1],
              [0, 2, 6, 7],
              [9, 1, 3, 2]]).reshape(1, 1, 4, 4)


def test_max_pool_values_and_gradient_goes_to_the_argmax():
    x = t64(X)
    y = nn.MaxPool2d(2)(x)
    np.testing.assert_array_equal(y.data, [[[[5, 8], [9, 7]]]])
    y.sum().backward()
    expected = np.zeros((4, 4))
    expected[0, 1] = expected[1, 2] = expected[3, 0] = expected[2, 3] = 1
    np.testing.assert_array_equal(x.grad.data[0, 0], expected)


def test_max_pool_overlapping_windows_accumulate_and_padding_is_minus_inf():
    x = t64(-np.ones((1, 1, 2, 2)) - np.arange(4.0).reshape(1, 1, 2, 2))  # all negative
    # kernel 2, stride 1, padding 1: 3x3 windows, every one sees x[0,0] = -1 (the max)
    y = F.max_pool2d(x, 2, stride=1, padding=1)
    np.testing.assert_array_equal(y.data[0, 0], [[-1, -1, -2], [-1, -1, -2], [-3, -3, -4]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data[0, 0], [[4, 2], [2, 1]])


def test_avg_pool_values_with_and_without_counting_padding():
    x = t64(X)
    np.testing.assert_allclose(nn.AvgPool2d(2)(x).data, [[[[13 / 4, 11 / 4], [12 / 4, 18 / 4]]]])
    # padding 1, kernel 2, stride 2: the corner window holds one real pixel (x[0,0] = 1)
    y = F.avg_pool2d(x, 2, 2, 1)
    assert y.shape == (1, 1, 3, 3) and y.data[0, 0, 0, 0] == 1 / 4
    y = F.avg_pool2d(x, 2, 2, 1, count_include_pad=False)
    assert y.data[0, 0, 0, 0] == 1.0 and y.data[0, 0, 0, 1] == (5 + 2) / 2
    assert y.data[0, 0, 1, 1] == (4 + 8 + 2 + 6) / 4


def test_pool_defaults_and_shapes():
    assert nn.MaxPool2d(3, stride=2, padding=1)(autograd.zeros(2, 3, 7, 8)).shape == (2, 3, 4, 4)
    assert nn.MaxPool2d(2)(autograd.zeros(3, 5, 5)).shape == (3, 2, 2)  # unbatched
    assert nn.MaxPool2d(2, ceil_mode=True)(autograd.zeros(1, 1, 5, 5)).shape == (1, 1, 3, 3)
    assert nn.MaxPool2d(2, dilation=2)(autograd.zeros(1, 1, 6, 6)).shape == (1, 1, 2, 2)
    assert nn.AvgPool2d((2, 3))(autograd.zeros(1, 2, 4, 6)).shape == (1, 2, 2, 2)


@pytest.mark.parametrize("kernel,stride,padding", [(2, None, 0), (3, 2, 1), ((2, 3), (1, 2), (1, 1))])
def test_pool_gradcheck(kernel, stride, padding):
    rng = np.random.default_rng(0)
    x = t64(rng.permutation(2 * 2 * 5 * 6).reshape(2, 2, 5, 6) / 7.0)  # distinct: no ties
    assert gradcheck(lambda x: F.max_pool2d(x, kernel, stride, padding), (x,))
    assert gradcheck(lambda x: F.avg_pool2d(x, kernel, stride, padding), (x,))
    assert gradcheck(lambda x: F.avg_pool2d(x, kernel, stride, padding,
                                            count_include_pad=False), (x,))


def test_pool_second_order():
    x = t64(np.random.default_rng(1).permutation(16).reshape(1, 1, 4, 4) / 3.0)
    assert gradgradcheck(lambda x: F.max_pool2d(x, 2, 1) ** 2, (x,))
    assert gradgradcheck(lambda x: F.avg_pool2d(x, 3, 1, 1) ** 2, (x,))


def test_pool_bad_input():
    with pytest.raises(ValueError) as e:
        nn.MaxPool2d(5)(autograd.zeros(1, 1, 3, 3))
    assert "MaxPool2d(kernel_size=5" in str(e.value) and "(1, 1, 3, 3)" in str(e.value)
    with pytest.raises(RuntimeError) as e:
        nn.AvgPool2d(2)(autograd.zeros(4, 4))
    assert "AvgPool2d(kernel_size=2" in str(e.value) and "(4, 4)" in str(e.value)
    with pytest.raises(ValueError):
        nn.MaxPool2d(2, padding=2)(autograd.zeros(1, 1, 8, 8))  # pad > kernel / 2


# ---- dtypes: the exact max for every dtype PyTorch's max_pool2d takes, TypeError otherwise --
INT_DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.int64]


@pytest.mark.parametrize("dtype", INT_DTYPES + [np.float16, np.float32, np.float64])
def test_max_pool_integer_and_float_dtypes_give_the_exact_max(dtype):
    lo, hi = ((np.iinfo(dtype).min, np.iinfo(dtype).max) if np.dtype(dtype).kind in "iu"
              else (-np.inf, np.finfo(dtype).max))
    x = autograd.tensor(np.array([[lo, lo, 5], [lo, lo, 3], [hi, 2, 1]], dtype)[None, None])
    out = F.max_pool2d(x, 2, stride=1)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.data[0, 0], np.array([[lo, 5], [hi, 3]], dtype))
    # padding and ceil_mode pad with the dtype's lowest value, never selected over a pixel
    np.testing.assert_array_equal(F.max_pool2d(x, 2, padding=1).data[0, 0],
                                  np.array([[lo, 5], [hi, 3]], dtype))
    np.testing.assert_array_equal(F.max_pool2d(x, 2, ceil_mode=True).data[0, 0],
                                  np.array([[lo, 5], [hi, 1]], dtype))
    np.testing.assert_array_equal(nn.MaxPool2d(3)(x).data.ravel(), np.array([hi], dtype))


def test_max_pool_uint8_and_int8_match_pytorch():
    # PyTorch 2.13: uint8 [[200, 3], [255, 1]] -> 255; an all -128 int8 3x3 with ceil_mode
    x = autograd.tensor(np.array([[200, 3], [255, 1]], np.uint8)[None, None])
    assert F.max_pool2d(x, 2, stride=1, ceil_mode=True).data.tolist() == [[[[255]]]]
    x = autograd.tensor(np.full((1, 1, 3, 3), -128, np.int8))
    assert F.max_pool2d(x, 2, ceil_mode=True).data.tolist() == [[[[-128, -128], [-128, -128]]]]


@pytest.mark.parametrize("dtype", [np.bool_, np.uint16, np.uint32, np.uint64, np.complex64])
def test_max_pool_refuses_dtypes_pytorch_refuses(dtype):
    x = autograd.tensor(np.zeros((1, 1, 2, 2), dtype))
    with pytest.raises(TypeError, match=f"max_pool2d: input dtype {np.dtype(dtype)}"):
        F.max_pool2d(x, 2)
    with pytest.raises(TypeError, match=r"MaxPool2d\(kernel_size=2.*is not supported"):
        nn.MaxPool2d(2)(x)


def test_max_pool_all_minus_inf_window_routes_gradient_to_its_first_pixel():
    # PyTorch 2.13: max -inf, index 0, gradient [[1, 0], [0, 0]]
    x = t64(np.full((1, 1, 2, 2), -np.inf))
    y = F.max_pool2d(x, 2)
    y.sum().backward()
    assert y.item() == -np.inf
    np.testing.assert_array_equal(x.grad.data[0, 0], [[1.0, 0.0], [0.0, 0.0]])
