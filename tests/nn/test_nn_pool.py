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
