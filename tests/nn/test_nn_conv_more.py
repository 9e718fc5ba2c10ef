"""Conv1d / F.conv1d and ConvTranspose2d / F.conv_transpose2d: values against PyTorch 2.13
(recorded here as literals), the adjoint identity, gradients (float64), PyTorch's weight
layout, init and state_dict keys, and bad input."""
import math

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


X1 = pattern((2, 4, 6), 5, 13)
W1 = pattern((6, 2, 3), 3, 7)
B1 = pattern((6,), 1, 5)
W1_FULL = pattern((3, 4, 2), 3, 7)


def test_conv1d_matches_pytorch_with_stride_padding_and_groups():
    out = F.conv1d(X1, W1, B1, stride=2, padding=1, groups=2)
    np.testing.assert_array_equal(out.numpy(), [
        [[-1.625, -3.0625, 0.1875], [0.75, -1.1875, -3.375], [-1.25, -1.0625, -1.6875],
         [-1.875, -1.25, 1.625], [-1.0625, -1.25, -2.5], [-1.9375, -0.3125, -1.3125]],
        [[-2.5625, -3.875, -3.0625], [-1.125, 1.0, -1.1875], [-2.75, -2.875, -1.0625],
         [-1.375, -2.5, -1.25], [0.9375, -0.8125, -1.25], [-2.8125, -2.5625, -0.3125]]])


def test_conv1d_matches_pytorch_with_dilation_and_same_padding():
    out = F.conv1d(X1, W1, None, padding=2, dilation=2, groups=2)
    np.testing.assert_array_equal(out.numpy()[1], [
        [0.1875, -1.375, 2.1875, -2.6875, 1.125, -0.375],
        [0.875, -2.25, 1.375, -0.125, -0.5625, 1.0],
        [2.0, -0.5, -0.3125, -0.625, 0.8125, -0.25],
        [-0.875, 0.5, -0.4375, 0.1875, -2.6875, -0.4375],
        [-0.6875, 0.75, -3.625, -0.1875, -2.25, 2.25],
        [-3.125, 0.5625, -1.125, 1.625, -1.8125, -0.75]])
    same = F.conv1d(X1, W1_FULL, padding="same")  # even kernel: the odd pixel goes after
    np.testing.assert_array_equal(same.numpy()[0], [
        [1.875, -0.8125, -1.875, 0.3125, -3.1875, -2.6875],
        [-1.6875, 0.625, -1.125, 0.375, -1.375, -2.875],
        [-0.875, 0.75, -1.6875, -0.875, -0.875, -0.4375]])
    assert F.conv1d(X1, W1_FULL, padding="valid").shape == (2, 3, 5)
    assert F.conv1d(X1[0], W1_FULL).shape == (3, 5)  # unbatched (C, L)


def test_conv1d_module_layout_init_state_dict_and_padding_mode():
    autograd.manual_seed(0)
    m = nn.Conv1d(4, 6, 3, groups=2)
    assert m.weight.shape == (6, 2, 3) and m.bias.shape == (6,)
    assert list(m.state_dict()) == ["weight", "bias"]
    bound = 1 / math.sqrt(2 * 3)  # fan_in = in/groups * k; kaiming(a=sqrt 5) gives the same
    assert np.abs(m.weight.numpy()).max() <= bound and np.abs(m.bias.numpy()).max() <= bound
    assert np.abs(m.weight.numpy()).max() > 0.6 * bound  # really spread over the range
    assert m.kernel_size == (3,) and m.stride == (1,) and m.padding == (0,)
    r = nn.Conv1d(4, 3, 2, padding=1, padding_mode="reflect", dtype=np.float64)
    r.weight.data[...] = W1_FULL.numpy()
    r.bias.data[...] = [-1.25, -1.0, -0.75]
    np.testing.assert_array_equal(r(X1).numpy()[1], [
        [-2.5625, -2.125, -4.0, 0.625, -2.0625, -3.125, -1.125],
        [-2.9375, -1.625, -4.1875, -2.6875, -0.375, -2.125, -1.0],
        [-2.875, -2.4375, 0.0, -1.625, 0.0, -2.4375, -0.4375]])
    assert "Conv1d(4, 6, kernel_size=(3,), stride=(1,), groups=2)" == repr(m)


def test_conv1d_gradcheck():
    x = pattern((2, 4, 6), 5, 13, requires_grad=True)
    w = pattern((6, 2, 3), 3, 7, requires_grad=True)
    b = pattern((6,), 1, 5, requires_grad=True)
    assert gradcheck(lambda a, c, d: F.conv1d(a, c, d, stride=2, padding=1, dilation=2,
                                              groups=2), (x, w, b))
    assert gradgradcheck(lambda a, c: F.conv1d(a, c, padding=1, groups=2), (x, w))


def test_conv1d_bad_input_names_the_op_and_shapes():
    with pytest.raises(ShapeError, match=r"conv1d: expected input with 4 channels.*\(2, 3, 6\)"):
        F.conv1d(X1[:, :3], W1_FULL)
    with pytest.raises(ShapeError, match=r"conv1d: expected 2D \(unbatched\) or 3D"):
        nn.Conv1d(4, 3, 2)(autograd.zeros(1, 4, 5, 5))
    with pytest.raises(ShapeError, match=r"conv1d: expected a 3-D weight"):
        F.conv1d(X1, W1_FULL.unsqueeze(0))
    with pytest.raises(ShapeError, match=r"conv1d: kernel size 9 .*larger"):
        F.conv1d(X1, W1_FULL, dilation=8)
    with pytest.raises(ValueError, match="Conv1d: in_channels \\(5\\) must be divisible"):
        nn.Conv1d(5, 4, 3, groups=2)
    with pytest.raises(ValueError, match="Conv1d: padding='same' is not supported for strided"):
        nn.Conv1d(4, 4, 3, stride=2, padding="same")


XT = pattern((1, 4, 3, 3), 5, 13)
WT = pattern((4, 3, 3, 3), 3, 7)
BT = pattern((6,), 1, 5)


def test_conv_transpose2d_matches_pytorch():
    out = F.conv_transpose2d(XT, WT, BT, stride=2, padding=1, output_padding=1, groups=2)
    assert out.shape == (1, 6, 6, 6)
    np.testing.assert_array_equal(out.numpy()[0, 0], [
        [-1.4375, 0.375, -2.375, -2.3125, -0.875, -2.5],
        [-0.3125, -3.3125, -0.3125, -4.375, -3.5625, -0.8125],
        [-1.8125, -1.1875, -0.3125, -3.0625, -1.25, -3.0],
        [-1.9375, -2.4375, -1.125, 1.375, -3.5625, -2.625],
        [-2.1875, -1.9375, -0.6875, -1.375, -1.625, -0.25],
        [-1.25, -2.1875, -2.3125, -1.0625, -0.125, -1.375]])
    np.testing.assert_array_equal(out.numpy()[0, 5], [
        [-1.6875, -3.1875, -2.4375, -2.25, -0.75, -2.3125],
        [0.0625, -5.1875, -1.6875, -1.125, -1.8125, -2.0],
        [-1.5, -0.375, -3.0625, -3.5, -1.375, -3.0625],
        [-1.125, -2.75, -2.875, -1.125, 0.25, -2.625],
        [-2.125, -1.625, -0.4375, -0.6875, -1.1875, 0.25],
        [-1.875, 0.25, -0.5625, -1.75, -1.6875, -0.25]])
    dil = F.conv_transpose2d(XT, pattern((4, 2, 2, 3), 3, 7), stride=(1, 2), padding=(0, 1),
                             dilation=2)
    np.testing.assert_array_equal(dil.numpy()[0, 1], [
        [0.0, -1.625, 0.0, -0.5, 0.0, -1.5, 0.0], [0.0, -1.5625, 0.0, 0.125, 0.0, -2.6875, 0.0],
        [0.0, -2.0625, 0.0, -3.1875, 0.0, -0.5, 0.0], [0.0, 0.5625, 0.0, 0.25, 0.0, -4.0625, 0.0],
        [0.0, 0.875, 0.0, -0.4375, 0.0, 0.6875, 0.0]])


@pytest.mark.parametrize("stride,padding,dilation,groups", [(1, 0, 1, 1), (2, 1, 1, 2),
                                                            ((2, 3), (1, 0), (1, 2), 4)])
def test_conv_transpose2d_is_the_adjoint_of_conv2d(stride, padding, dilation, groups):
    """<conv_transpose2d(x, w), y> == <x, conv2d(y, w)> for every x, y (the definition)."""
    rng = np.random.default_rng(3)
    x = autograd.tensor(rng.standard_normal((2, 4, 3, 4)))
    w = autograd.tensor(rng.standard_normal((4, 8 // groups, 3, 2)))
    out = F.conv_transpose2d(x, w, stride=stride, padding=padding, groups=groups,
                             dilation=dilation)
    y = autograd.tensor(rng.standard_normal(out.shape))
    back = F.conv2d(y, w, stride=stride, padding=padding, dilation=dilation, groups=groups)
    assert back.shape == x.shape
    np.testing.assert_allclose((out * y).sum().item(), (x * back).sum().item(), rtol=1e-10)


def test_conv_transpose2d_gradcheck():
    x = pattern((1, 4, 3, 3), 5, 13, requires_grad=True)
    w = pattern((4, 3, 3, 3), 3, 7, requires_grad=True)
    b = pattern((6,), 1, 5, requires_grad=True)
    assert gradcheck(lambda a, c, d: F.conv_transpose2d(a, c, d, stride=2, padding=1,
                                                        output_padding=1, groups=2), (x, w, b))
    assert gradgradcheck(lambda a, c: F.conv_transpose2d(a, c, stride=2, groups=2), (x, w))


def test_conv_transpose2d_module_layout_init_and_output_size():
    autograd.manual_seed(0)
    m = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2)
    assert m.weight.shape == (4, 3, 3, 3) and m.bias.shape == (6,)  # (in, out/groups, kh, kw)
    assert list(m.state_dict()) == ["weight", "bias"]
    bound = 1 / math.sqrt(3 * 3 * 3)  # fan_in = weight.shape[1] * kh * kw, as PyTorch
    assert np.abs(m.weight.numpy()).max() <= bound and np.abs(m.bias.numpy()).max() <= bound
    assert np.abs(m.weight.numpy()).max() > 0.6 * bound
    x = autograd.zeros(1, 4, 3, 3)
    assert m(x).shape == (1, 6, 5, 5)
    assert m(x, output_size=(6, 6)).shape == (1, 6, 6, 6)
    assert m(x[0], output_size=(1, 6, 6, 5)).shape == (6, 6, 5)  # unbatched, last two dims
    with pytest.raises(ShapeError, match=r"ConvTranspose2d: requested an output size of "
                                         r"\(7, 7\), but valid sizes range from 5 to 6"):
        m(x, output_size=(7, 7))
    assert nn.ConvTranspose2d(2, 2, 2, bias=False).bias is None


def test_conv_transpose2d_bad_input_names_the_op_and_shapes():
    with pytest.raises(ShapeError, match=r"ConvTranspose2d: expected input with 4 channels"):
        nn.ConvTranspose2d(4, 6, 3)(autograd.zeros(1, 3, 3, 3))
    with pytest.raises(ShapeError, match=r"conv_transpose2d: weight of shape \(4, 3, 3, 3\) "
                                         r"with groups=2 does not fit input of shape"):
        F.conv_transpose2d(autograd.zeros(1, 2, 3, 3), WT, groups=2)
    with pytest.raises(ValueError, match="conv_transpose2d: output padding must be smaller"):
        F.conv_transpose2d(XT, WT, output_padding=1)
    with pytest.raises(ShapeError, match=r"conv_transpose2d: expected 3D \(unbatched\) or 4D"):
        F.conv_transpose2d(autograd.zeros(4, 3), WT)
    with pytest.raises(ValueError, match="ConvTranspose2d: out_channels \\(5\\) must be"):
        nn.ConvTranspose2d(4, 5, 3, groups=2)
