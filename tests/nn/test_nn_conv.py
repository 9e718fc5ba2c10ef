"""Conv2d: a hand-computed case, gradients across stride / padding / dilation / groups,
second order, default init and bad input."""
import math

import numpy as np
import pytest

import autograd
import nn
import nn.functional as F
from autograd import gradcheck, gradgradcheck


def t64(a, requires_grad=True):
    return autograd.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def test_conv2d_by_hand_padding_1_stride_2():
    # x = 1..16 in a 4x4 image; with padding 1 and stride 2 the 3x3 kernel is centred on
    # pixels (0,0), (0,2), (2,0), (2,2). Kernel taps: (-1,-1)*1, (-1,+1)*2, (0,0)*1, (+1,-1)*3
    #   (0,0): x[0,0] = 1                                  -> 1
    #   (0,2): x[0,2] + 3 x[1,1] = 3 + 18                  -> 21
    #   (2,0): 2 x[1,1] + x[2,0] = 12 + 9                  -> 21
    #   (2,2): x[1,1] + 2 x[1,3] + x[2,2] + 3 x[3,1] = 6 + 16 + 11 + 42 -> 75
    conv = nn.Conv2d(1, 1, 3, stride=2, padding=1)
    with autograd.no_grad():
        conv.weight.copy_(autograd.tensor([[[[1.0, 0, 2], [0, 1, 0], [3, 0, 0]]]]))
        conv.bias.fill_(0.5)
    x = autograd.tensor(np.arange(1, 17, dtype=np.float32).reshape(1, 1, 4, 4))
    y = conv(x)
    assert y.shape == (1, 1, 2, 2) and y.dtype == np.float32
    np.testing.assert_allclose(y.data, [[[[1.5, 21.5], [21.5, 75.5]]]])


def test_conv2d_weight_gradient_sums_over_all_positions():
    # with a 1x1 kernel and no bias, dL/dw for L = sum(y) is the sum of all input pixels
    x = t64(np.arange(8.0).reshape(1, 2, 2, 2))
    w = t64(np.ones((1, 2, 1, 1)))
    F.conv2d(x, w).sum().backward()
    np.testing.assert_allclose(w.grad.data.ravel(), [0 + 1 + 2 + 3, 4 + 5 + 6 + 7])
    np.testing.assert_allclose(x.grad.data, np.ones((1, 2, 2, 2)))


@pytest.mark.parametrize("stride,padding,dilation,groups", [
    (1, 0, 1, 1), (2, 1, 1, 1), ((2, 1), (0, 2), 1, 1), (1, 1, 2, 1), (1, 1, (1, 2), 2),
    (2, 2, 2, 2), (1, "same", 1, 1), (1, "same", 2, 2)])
def test_conv2d_gradcheck(stride, padding, dilation, groups):
    rng = np.random.default_rng(0)
    x = t64(rng.standard_normal((2, 2, 5, 6)))
    w = t64(rng.standard_normal((4, 2 // groups, 3, 2)))
    b = t64(rng.standard_normal(4))
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups),
                     (x, w, b))


def test_conv2d_gradgradcheck():
    rng = np.random.default_rng(1)
    x = t64(rng.standard_normal((1, 2, 4, 4)))
    w = t64(rng.standard_normal((2, 1, 3, 3)))
    b = t64(rng.standard_normal(2))
    assert gradgradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2),
                         (x, w, b))
    w2 = t64(rng.standard_normal((1, 2, 2, 2)))
    assert gradgradcheck(lambda x, w: F.conv2d(x, w, dilation=2, padding=1), (x, w2))


def test_conv2d_module_gradcheck_on_parameters():
    autograd.manual_seed(0)
    conv = nn.Conv2d(2, 2, (2, 3), stride=(1, 2), padding=1, bias=True).double()
    x = t64(np.random.default_rng(2).standard_normal((1, 2, 4, 5)))
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, (1, 2), 1), (x, conv.weight, conv.bias))


def test_conv2d_output_shapes():
    assert nn.Conv2d(3, 8, 3)(autograd.zeros(2, 3, 10, 9)).shape == (2, 8, 8, 7)
    assert nn.Conv2d(3, 8, 3, stride=2, padding=1)(autograd.zeros(2, 3, 10, 9)).shape == \
        (2, 8, 5, 5)
    assert nn.Conv2d(3, 8, 3, dilation=2)(autograd.zeros(1, 3, 10, 9)).shape == (1, 8, 6, 5)
    # "same" keeps the size, also for an even kernel (the extra pad goes after)
    assert nn.Conv2d(3, 4, 4, padding="same")(autograd.zeros(1, 3, 7, 6)).shape == (1, 4, 7, 6)
    assert nn.Conv2d(3, 4, 3, padding="same", dilation=3)(autograd.zeros(1, 3, 7, 6)).shape == \
        (1, 4, 7, 6)
    assert nn.Conv2d(3, 4, 3, padding=1)(autograd.zeros(3, 5, 5)).shape == (4, 5, 5)  # unbatched
    assert nn.Conv2d(4, 6, 3, groups=2).weight.shape == (6, 2, 3, 3)


def test_conv2d_same_even_kernel_matches_explicit_asymmetric_padding():
    rng = np.random.default_rng(3)
    x, w = t64(rng.standard_normal((1, 1, 5, 5))), t64(rng.standard_normal((1, 1, 2, 2)))
    expected = F.conv2d(F.pad(x, (0, 1, 0, 1)), w)
    np.testing.assert_allclose(F.conv2d(x, w, padding="same").data, expected.data)


def test_conv2d_padding_mode_reflect():
    x = t64(np.arange(9.0).reshape(1, 1, 3, 3))
    conv = nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect", bias=False).double()
    with autograd.no_grad():
        conv.weight.fill_(1.0)
    y = conv(x)
    # top-left window of the reflect-padded image: rows [4 3 4 | 1 0 1 | 4 3 4] -> sum 24
    assert y.data[0, 0, 0, 0] == 24.0


def test_conv2d_default_init_bounds():
    autograd.manual_seed(0)
    conv = nn.Conv2d(4, 8, 3, groups=2)
    fan_in = 2 * 3 * 3
    bound = 1 / math.sqrt(fan_in)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    assert np.abs(conv.weight.data).max() > 0.8 * bound


def test_conv2d_bad_input_messages():
    conv = nn.Conv2d(3, 8, 3)
    with pytest.raises(ValueError) as e:
        conv(autograd.zeros(2, 4, 8, 8))
    assert "Conv2d(3, 8, kernel_size=(3, 3)" in str(e.value)
    assert "expected input with 3 channels" in str(e.value) and "(2, 4, 8, 8)" in str(e.value)
    with pytest.raises(RuntimeError) as e:
        conv(autograd.zeros(8, 8))
    assert "Conv2d(3, 8" in str(e.value) and "(8, 8)" in str(e.value) and "4D" in str(e.value)
    with pytest.raises(ValueError) as e:
        conv(autograd.zeros(1, 3, 2, 5))
    assert "Conv2d(3, 8" in str(e.value) and "larger than the padded input" in str(e.value)
    assert "(1, 3, 2, 5)" in str(e.value)
    with pytest.raises(ValueError):
        nn.Conv2d(3, 8, 3, groups=2)
    with pytest.raises(ValueError):
        nn.Conv2d(3, 8, 3, stride=2, padding="same")


def test_empty_batch_flows_through_conv_and_pool():
    x = autograd.zeros(0, 3, 8, 8, requires_grad=True)
    y = nn.MaxPool2d(2)(nn.Conv2d(3, 4, 3, padding=1)(x))
    assert y.shape == (0, 4, 4, 4)
    y.sum().backward()
    assert x.grad.shape == (0, 3, 8, 8)
