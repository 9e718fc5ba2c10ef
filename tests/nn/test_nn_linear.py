"""Linear and MLP: values, gradients, default init, bad input."""
import math

import numpy as np
import pytest

import autograd
import nn
from autograd import gradcheck, gradgradcheck


def t64(a, requires_grad=True):
    return autograd.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def test_linear_output_by_hand():
    lin = nn.Linear(2, 3)
    with autograd.no_grad():
        lin.weight.copy_(autograd.tensor([[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]]))
        lin.bias.copy_(autograd.tensor([0.5, 0.0, -1.0]))
    y = lin(autograd.tensor([[1.0, 1.0], [2.0, -2.0]]))
    np.testing.assert_allclose(y.data, [[3.5, -1.0, 2.5], [-1.5, 2.0, 4.0]])
    assert lin(autograd.tensor([1.0, 1.0])).shape == (3,)  # unbatched
    assert lin(autograd.zeros(4, 5, 2)).shape == (4, 5, 3)  # extra leading dims


def test_linear_gradcheck_and_gradgradcheck():
    lin = nn.Linear(3, 2).double()
    x = t64(np.random.default_rng(0).standard_normal((4, 3)))
    w, b = lin.weight, lin.bias
    assert gradcheck(lambda x, w, b: nn.functional.linear(x, w, b), (x, w, b))
    assert gradgradcheck(lambda x, w, b: nn.functional.linear(x, w, b).tanh(), (x, w, b))
    assert gradcheck(lambda x: lin(x), (x,))


def test_linear_default_init_bounds_and_reproducibility():
    autograd.manual_seed(3)
    a = nn.Linear(50, 40)
    autograd.manual_seed(3)
    b = nn.Linear(50, 40)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    bound = 1 / math.sqrt(50)  # kaiming_uniform_(a=sqrt(5)) == U(-1/sqrt(fan_in), ...)
    assert np.abs(a.weight.data).max() <= bound and np.abs(a.bias.data).max() <= bound
    assert np.abs(a.weight.data).max() > 0.9 * bound  # actually spans the range
    assert a.weight.dtype == np.float32
    assert not np.array_equal(a.weight.data, nn.Linear(50, 40).weight.data)


def test_linear_bad_input_names_layer_and_shape():
    lin = nn.Linear(3, 2)
    with pytest.raises(ValueError) as e:
        lin(autograd.zeros(4, 5))
    msg = str(e.value)
    assert "Linear(in_features=3, out_features=2, bias=True)" in msg and "(4, 5)" in msg
    assert isinstance(e.value, RuntimeError)  # PyTorch code catching RuntimeError works too


def test_linear_without_bias():
    lin = nn.Linear(2, 2, bias=False)
    assert lin.bias is None and [n for n, _ in lin.named_parameters()] == ["weight"]
    assert "bias=False" in repr(lin)


def test_mlp_structure_and_activation_choices():
    mlp = nn.MLP([4, 8, 8, 2])
    kinds = [type(m).__name__ for m in mlp]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]  # none after the last
    assert mlp(autograd.randn(3, 4)).shape == (3, 2)
    full = nn.MLP([4, 8, 2], activation="tanh", batchnorm=True, dropout=0.5)
    assert [type(m).__name__ for m in full] == ["Linear", "BatchNorm1d", "Tanh", "Dropout",
                                                "Linear"]
    assert [type(m).__name__ for m in nn.MLP([2, 3, 1], activation=nn.LeakyReLU)] == \
        ["Linear", "LeakyReLU", "Linear"]
    assert "0.weight" in mlp.state_dict() and "4.bias" in mlp.state_dict()
    with pytest.raises(ValueError):
        nn.MLP([4, 2], activation="nope")
    with pytest.raises(ValueError):
        nn.MLP([4])
