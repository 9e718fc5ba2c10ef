"""Dropout1d / Dropout2d, GroupNorm and AdaptiveAvgPool2d (issue 14): values against PyTorch
2.13 (recorded literals, float64), gradcheck / gradgradcheck, train / eval, state_dict keys,
errors naming the layer."""
import numpy as np
import pytest

import autograd
import nn
import nn.functional as F
from autograd import gradcheck, gradgradcheck


def t64(a, requires_grad=True):
    return autograd.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


X4 = np.arange(2 * 4 * 5 * 7.0).reshape(2, 4, 5, 7) ** 1.3 / 10


@pytest.mark.parametrize(("layer", "shape"), [(nn.Dropout2d(0.5), (6, 8, 3, 3)),
                                              (nn.Dropout1d(0.5), (6, 8, 5)),
                                              (nn.Dropout1d(0.5), (8, 5))])
def test_channel_dropout_zeros_whole_channels_and_scales(layer, shape):
    autograd.manual_seed(1)
    x = autograd.ones(*shape)
    y = layer(x).data
    lead = 1 if len(shape) == 2 else 2
    per_channel = y.reshape(int(np.prod(shape[:lead])), -1)
    for row in per_channel:  # each channel is all 0 or all 2
        assert set(np.unique(row)) <= {0.0, 2.0} and len(np.unique(row)) == 1
    assert 0 < (per_channel[:, 0] == 0).sum() < len(per_channel)
    layer.eval()
    assert layer(x) is x
    autograd.manual_seed(1)
    layer.train()
    np.testing.assert_array_equal(layer(x).data, y)  # seeded


def test_channel_dropout_gradient_and_errors():
    autograd.manual_seed(0)
    x = t64(np.ones((2, 3, 2, 2)))
    y = F.dropout2d(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, y.data)  # mask / (1 - p), the same as y
    with pytest.raises(ValueError, match=r"^Dropout2d\(p=0.5, inplace=False\): dropout2d: "
                                         r"expected 3D \(unbatched\) or 4D"):
        nn.Dropout2d()(autograd.ones(3, 3))
    with pytest.raises(ValueError, match="dropout1d: dropout probability"):
        F.dropout1d(autograd.ones(2, 3), p=1.5)


def test_group_norm_values_gradients_and_state_dict():
    g = nn.GroupNorm(2, 4).double()
    assert list(g.state_dict()) == ["weight", "bias"]
    np.testing.assert_allclose(g(t64(X4, False)).data[1, 3, 2],
                               [0.7117871036154579, 0.7621899492626831, 0.8126509857266226,
                                0.8631700568494526, 0.9137470074871822, 0.9643816834992264,
                                1.015073931738153], rtol=1e-12)
    x = t64([[[0.3, -1.2, 2.0], [1.5, 0.7, -0.4]]])
    w, b = t64([0.5, 2.0]), t64([0.1, -0.2])
    y = F.group_norm(x, 1, w, b)
    np.testing.assert_allclose(y.data, [[[0.015304753715908647, -0.6776563522448389,
                                          0.8006606738047559],
                                         [1.6786945539380267, 0.20037752788843186,
                                          -1.832308382929761]]], rtol=1e-12)
    (gx,) = autograd.grad((y * y * y).sum(), x)
    np.testing.assert_allclose(gx.data, [[[-6.002796773751762, -5.4165834563421225,
                                           -5.0581092101141],
                                          [9.65900129718133, -5.76722852720411,
                                           12.58571667023077]]], rtol=1e-10)
    assert gradcheck(lambda a, c, d: F.group_norm(a, 2, c, d), (x, w, b))
    assert gradgradcheck(lambda a, c, d: F.group_norm(a, 2, c, d), (x, w, b))


def test_group_norm_errors():
    with pytest.raises(ValueError, match="GroupNorm: num_channels .5. must be divisible"):
        nn.GroupNorm(2, 5)
    with pytest.raises(ValueError, match=r"^GroupNorm\(2, 4, eps=1e-05, affine=True\): "
                                         r"group_norm: expected input with 4 channels \(the size of weight\), "
                                         r"got shape \(2, 6, 3\)"):
        nn.GroupNorm(2, 4)(autograd.ones(2, 6, 3))


def test_adaptive_avg_pool2d_values_against_pytorch():
    x = t64(X4, False)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, (3, 2)).data[1, 2],
                               [[107.69479926063684, 109.6522376933531],
                                [114.59007354792259, 116.57544453663446],
                                [121.56432170631062, 123.57689714898113]], rtol=1e-12)
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d((None, 1))(x).data[0, 1, :, 0],
                               [11.322786446876261, 14.104041491186052, 17.018827567713497,
                                20.05418133172474, 23.199834557837622], rtol=1e-12)
    # the dividing case is a plain block mean; 1 is the global average pool
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, 1).data[..., 0, 0],
                               X4.mean((2, 3)), rtol=1e-12)
    assert nn.AdaptiveAvgPool2d(2)(t64(X4[0], False)).shape == (4, 2, 2)  # unbatched


def test_adaptive_avg_pool2d_gradients_and_errors():
    x = t64(np.linspace(-1, 1, 2 * 5 * 7).reshape(1, 2, 5, 7))
    for size in ((3, 4), (5, 7), 1):
        assert gradcheck(lambda a, s=size: F.adaptive_avg_pool2d(a, s) ** 2, (x,))
        assert gradgradcheck(lambda a, s=size: F.adaptive_avg_pool2d(a, s) ** 2, (x,))
    with pytest.raises(ValueError, match=r"^AdaptiveAvgPool2d\(output_size=2\): "
                                         r"adaptive_avg_pool2d: expected 3D"):
        nn.AdaptiveAvgPool2d(2)(autograd.ones(2, 2))
    with pytest.raises(ValueError, match="output size .0, 2. must be positive"):
        F.adaptive_avg_pool2d(x, (0, 2))
