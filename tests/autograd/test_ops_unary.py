"""Unary elementwise ops: forward values, first and second derivatives, dtype."""
import numpy as np
import pytest

import autograd
from autograd import gradcheck, gradgradcheck

# name -> (method, numpy reference, domain shift so inputs are valid, smooth?)
UNARY = {
    "exp": (lambda t: t.exp(), np.exp, 0.0, True),
    "log": (lambda t: t.log(), np.log, 3.0, True),
    "sqrt": (lambda t: t.sqrt(), np.sqrt, 3.0, True),
    "sin": (lambda t: t.sin(), np.sin, 0.0, True),
    "cos": (lambda t: t.cos(), np.cos, 0.0, True),
    "tanh": (lambda t: t.tanh(), np.tanh, 0.0, True),
    "sigmoid": (lambda t: t.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), 0.0, True),
    "neg": (lambda t: -t, np.negative, 0.0, True),
    "abs": (lambda t: t.abs(), np.abs, 0.0, False),
    "relu": (lambda t: t.relu(), lambda a: np.maximum(a, 0), 0.0, False),
    "leaky_relu": (lambda t: t.leaky_relu(0.1), lambda a: np.where(a > 0, a, 0.1 * a), 0.0,
                   False),
    "clamp": (lambda t: t.clamp(-0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7), 0.0, False),
    "pow3": (lambda t: t ** 3, lambda a: a ** 3, 0.0, True),
    "pow_half": (lambda t: t ** 0.5, np.sqrt, 3.0, True),
    "pow_neg": (lambda t: t.pow(-2), lambda a: a ** -2.0, 3.0, True),
    "square": (lambda t: t.square(), np.square, 0.0, True),
}


def _input(rng, shift, shape=(3, 4)):
    x = rng.standard_normal(shape) + shift
    # keep piecewise-linear ops away from their kinks so finite differences are valid
    x[np.abs(x) < 1e-2] = 0.3
    x[np.abs(np.abs(x) - 0.5) < 1e-2] = 0.2
    x[np.abs(x - 0.7) < 1e-2] = 0.2
    return x


@pytest.mark.parametrize("name", UNARY)
def test_forward_matches_numpy(name, rng):
    fn, ref, shift, _ = UNARY[name]
    x = _input(rng, shift)
    out = fn(autograd.tensor(x))
    np.testing.assert_allclose(out.data, ref(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", UNARY)
def test_gradcheck(name, rng):
    fn, _, shift, _ = UNARY[name]
    x = autograd.tensor(_input(rng, shift), requires_grad=True)
    assert gradcheck(fn, (x,))


@pytest.mark.parametrize("name", [n for n, v in UNARY.items() if v[3]])
def test_gradgradcheck(name, rng):
    fn, _, shift, _ = UNARY[name]
    x = autograd.tensor(_input(rng, shift, (2, 3)), requires_grad=True)
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name", UNARY)
def test_float32_stays_float32(name, rng):
    fn, _, shift, _ = UNARY[name]
    x = autograd.tensor(_input(rng, shift).astype(np.float32), requires_grad=True)
    y = fn(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_hand_checked_values():
    x = autograd.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    y = x.relu() * 2 + x.abs() + x.leaky_relu(0.5)
    np.testing.assert_allclose(y.data, [-1.0 + 2.0, 0.0, 6 + 3 + 3])
    y.sum().backward()
    # d/dx: relu'*2 + sign + leaky' ; at 0 relu' = 0, sign = 0, leaky' = slope 0.5
    np.testing.assert_allclose(x.grad.data, [0 - 1 + 0.5, 0 + 0 + 0.5, 2 + 1 + 1])


def test_clamp_gradient_includes_bounds():
    x = autograd.tensor([-1.0, 0.0, 1.0, 2.0], requires_grad=True)
    x.clamp(0.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0, 1, 1, 0])


def test_sigmoid_and_tanh_are_stable_for_huge_inputs():
    x = autograd.tensor([-1e4, 1e4], requires_grad=True)
    s = x.sigmoid()
    np.testing.assert_array_equal(s.data, [0.0, 1.0])
    (s.sum() + x.tanh().sum()).backward()
    assert np.isfinite(x.grad.data).all()


def test_tanh_second_derivative_analytic():
    x = autograd.tensor([0.3], dtype=np.float64, requires_grad=True)
    (g,) = autograd.grad(x.tanh().sum(), x, create_graph=True)
    (gg,) = autograd.grad(g.sum(), x)
    t = np.tanh(0.3)
    np.testing.assert_allclose(gg.data, [-2 * t * (1 - t * t)], rtol=1e-12)
