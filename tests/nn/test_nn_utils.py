"""nn.utils: gradient clipping and parameter vectors."""
import math

import numpy as np
import pytest

import autograd
import nn
from nn.utils import clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters


def params_with_grads():
    a, b = nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros((2, 1)))
    a.grad = autograd.tensor(np.array([3.0, 0.0]))
    b.grad = autograd.tensor(np.array([[0.0], [4.0]]))
    return a, b


def test_clip_grad_norm_returns_total_norm_and_rescales():
    a, b = params_with_grads()
    total = clip_grad_norm_([a, b], max_norm=1.0)
    assert isinstance(total, autograd.Tensor) and total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(a.grad.data, [3 / 5, 0], rtol=1e-5)
    np.testing.assert_allclose(b.grad.data, [[0], [4 / 5]], rtol=1e-5)
    a, b = params_with_grads()
    assert clip_grad_norm_([a, b], 10.0).item() == pytest.approx(5.0)
    np.testing.assert_array_equal(a.grad.data, [3, 0])  # under the limit: untouched
    a, b = params_with_grads()
    assert clip_grad_norm_([a, b], 2.0, norm_type=math.inf).item() == 4.0
    assert clip_grad_norm_([a, b], 2.0, norm_type=1).item() == pytest.approx(3.5)  # 1.5 + 2


def test_clip_grad_value_():
    a, b = params_with_grads()
    clip_grad_value_([a, b], 1.5)
    np.testing.assert_array_equal(a.grad.data, [1.5, 0])
    np.testing.assert_array_equal(b.grad.data, [[0], [1.5]])


def test_parameters_vector_round_trip():
    lin = nn.Linear(3, 2)
    vec = parameters_to_vector(lin.parameters())
    assert vec.shape == (8,)
    np.testing.assert_array_equal(vec.data[:6], lin.weight.data.ravel())
    vector_to_parameters(autograd.arange(8.0), lin.parameters())
    np.testing.assert_array_equal(lin.weight.data, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(lin.bias.data, [6.0, 7.0])
    with pytest.raises(ValueError):
        vector_to_parameters(autograd.arange(7.0), lin.parameters())
