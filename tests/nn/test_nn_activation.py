"""Activation modules and Dropout: values, gradients, train / eval behaviour."""
import numpy as np
import pytest

import autograd
import nn
import nn.functional as F
from autograd import gradcheck, gradgradcheck

X = [-4.0, -1.0, 0.5, 2.0, 5.0]


def t64(a, requires_grad=True):
    return autograd.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def test_activation_values():
    x = autograd.tensor(X)
    np.testing.assert_allclose(nn.ReLU()(x).data, [0, 0, 0.5, 2, 5])
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(x).data, [-0.4, -0.1, 0.5, 2, 5], rtol=1e-6)
    np.testing.assert_allclose(nn.Sigmoid()(x).data, 1 / (1 + np.exp(-np.array(X))), rtol=1e-6)
    np.testing.assert_allclose(nn.Tanh()(x).data, np.tanh(X), rtol=1e-6)
    # relu6(x + 3) / 6: 0 below -3, 1 above 3
    np.testing.assert_allclose(nn.HardSigmoid()(x).data, [0, 2 / 6, 3.5 / 6, 5 / 6, 1], rtol=1e-6)
    np.testing.assert_allclose(nn.PReLU()(x).data, [-1.0, -0.25, 0.5, 2, 5])
    s = nn.Softmax(dim=1)(autograd.tensor([[0.0, np.log(3.0)]]))
    np.testing.assert_allclose(s.data, [[0.25, 0.75]], rtol=1e-6)
    ls = nn.LogSoftmax(dim=-1)(autograd.tensor([[0.0, np.log(3.0)]]))
    np.testing.assert_allclose(ls.data, np.log([[0.25, 0.75]]), rtol=1e-6)


def test_prelu_learns_its_slope():
    act = nn.PReLU()
    assert [n for n, _ in act.named_parameters()] == ["weight"] and act.weight.item() == 0.25
    act(autograd.tensor(X)).sum().backward()
    assert act.weight.grad.item() == pytest.approx(-5.0)  # sum of the negative inputs
    per_channel = nn.PReLU(num_parameters=2, init=0.5)
    y = per_channel(autograd.tensor([[-2.0, -2.0]]))
    np.testing.assert_allclose(y.data, [[-1.0, -1.0]])
    w = t64([0.2, 0.7])
    assert gradcheck(lambda x, w: F.prelu(x, w), (t64([[-1.5, 0.3], [2.0, -0.4]]), w))


def test_activation_gradients():
    x = t64([[-2.5, -0.7, 0.3, 1.1, 4.0]])
    for fn in (F.relu, F.sigmoid, F.tanh, F.hardsigmoid, lambda a: F.leaky_relu(a, 0.2),
               lambda a: F.softmax(a, 1), lambda a: F.log_softmax(a, 1)):
        assert gradcheck(fn, (x,))
    for fn in (F.sigmoid, F.tanh, lambda a: F.softmax(a, 1), lambda a: F.log_softmax(a, 1)):
        assert gradgradcheck(fn, (x,))


def test_dropout_train_scales_survivors_and_eval_is_identity():
    autograd.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = autograd.ones(200, 50)
    y = drop(x).data
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)  # inverted dropout
    assert abs(1 - kept.mean() - 0.25) < 0.02
    drop.eval()
    assert drop(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert not nn.Dropout(1.0)(x).data.any()
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


def test_dropout_is_reproducible_and_gradient_uses_the_mask():
    autograd.manual_seed(7)
    x = t64(np.ones((4, 5)))
    y = F.dropout(x, 0.5)
    autograd.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(autograd.ones(4, 5).double(), 0.5).data, y.data)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, y.data)  # d/dx (x * mask) = mask
