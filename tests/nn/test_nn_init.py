"""nn.init: gains, fans, bounds of the distributions, reproducibility."""
import math

import numpy as np
import pytest

import autograd
import nn
from nn import init


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    with pytest.raises(ValueError):
        init.calculate_gain("swishy")


def test_uniform_bounds_of_xavier_and_kaiming():
    autograd.manual_seed(0)
    w = nn.Parameter(np.empty((64, 32, 3, 3), dtype=np.float32))  # fan_in 288, fan_out 576
    init.xavier_uniform_(w, gain=2.0)
    a = 2.0 * math.sqrt(6 / (288 + 576))
    assert np.abs(w.data).max() <= a and np.abs(w.data).max() > 0.95 * a
    init.kaiming_uniform_(w, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / 288)
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.95 * bound
    init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    assert np.abs(w.data).max() <= math.sqrt(2) * math.sqrt(3 / 576)
    init.uniform_(w, -0.5, 2.0)
    assert w.data.min() >= -0.5 and w.data.max() <= 2.0


def test_normal_initialisers_have_the_right_std():
    autograd.manual_seed(1)
    w = nn.Parameter(np.empty((400, 300)))
    init.kaiming_normal_(w, nonlinearity="relu")
    assert w.data.std() == pytest.approx(math.sqrt(2 / 300), rel=0.02)
    init.xavier_normal_(w)
    assert w.data.std() == pytest.approx(math.sqrt(2 / 700), rel=0.02)
    init.normal_(w, 3.0, 0.5)
    assert w.data.mean() == pytest.approx(3.0, abs=0.01)
    assert w.data.std() == pytest.approx(0.5, rel=0.02)
    init.trunc_normal_(w, std=1.0, a=-1.0, b=1.5)
    assert w.data.min() >= -1.0 and w.data.max() <= 1.5


def test_constant_initialisers_and_in_place_without_grad():
    w = nn.Parameter(np.empty((2, 3), dtype=np.float32))
    assert init.zeros_(w) is w and not w.data.any()
    init.ones_(w)
    assert (w.data == 1).all() and w.dtype == np.float32
    init.constant_(w, 0.3)
    np.testing.assert_allclose(w.data, 0.3)
    assert w.grad_fn is None and w.requires_grad
    with pytest.raises(ValueError):
        init.xavier_uniform_(nn.Parameter(np.empty(3)))


def test_manual_seed_makes_whole_models_reproducible():
    def build():
        autograd.manual_seed(42)
        return nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 2), nn.PReLU())

    a, b = build(), build()
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
