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


# ---- x ** n: the fast path for small exponents keeps values, dtype and gradients ----------
FAST_EXPONENTS = [0, 1, 2, 3, 4, -1, -2, 0.5, -0.5]


@pytest.mark.parametrize("p", FAST_EXPONENTS + [2.5, 5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pow_scalar_fast_path_values_and_dtype(p, dtype, rng):
    a = (np.abs(rng.standard_normal(20_000)) + 0.5).astype(dtype)  # large: the kernel's path
    out = autograd.tensor(a) ** p
    assert out.dtype == dtype
    np.testing.assert_allclose(out.data, np.power(a.astype(np.float64), p),
                               rtol=1e-6 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("p", FAST_EXPONENTS)
def test_pow_scalar_fast_path_gradients(p, rng):
    x = autograd.tensor(np.abs(rng.standard_normal((3, 4))) + 0.5, requires_grad=True)
    (x ** p).sum().backward()
    np.testing.assert_allclose(x.grad.data, p * x.data ** (p - 1) if p else 0, rtol=1e-14)
    assert gradcheck(lambda t: t ** p, (x,)) and gradgradcheck(lambda t: t ** p, (x,))


def test_pow_scalar_special_values_match_numpy():
    a = np.array([0.0, -0.0, 1.0, -2.0, np.inf, -np.inf, np.nan, 3e-20, 1e20], np.float32)
    with np.errstate(all="ignore"):
        for p in (0, 1, 2, 3, 4, -1, -2):  # 0.5 / -0.5 follow sqrt (-inf -> nan, as PyTorch)
            np.testing.assert_array_equal((autograd.tensor(a) ** p).data,
                                          np.power(a, np.float32(p)), err_msg=f"p={p}")


def test_pow_int_tensor_keeps_integer_semantics():
    x = autograd.tensor(np.array([1, 2, 3], np.int64))
    out = x ** 3
    assert out.dtype == np.int64 and out.data.tolist() == [1, 8, 27]


def test_pow_by_zero_gradient_is_zero_even_for_inf_grad():
    # PyTorch 2.13: d/dx x**0 is zeros_like(x), so an inf incoming gradient gives 0, not NaN
    x = autograd.tensor(np.array([2.0, 0.0]), requires_grad=True)
    (x ** 0).backward(autograd.tensor(np.array([np.inf, 1.0])))
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])


def test_pow_small_integer_exponents_take_the_product_path():
    """x ** 3 and x ** 4 are computed as products (the general pow cost ~200-600x x*x*x):
    bit-identical to the products, which np.power (powf) is not for ~30-50% of float32 inputs.
    Speed itself is reported by `python -m bench`, never asserted."""
    a = np.random.default_rng(0).standard_normal(100_000).astype(np.float32)
    t = autograd.tensor(a)
    cube, fourth = (t ** 3).numpy(), (t ** 4).numpy()
    assert cube.dtype == np.float32 and fourth.dtype == np.float32
    np.testing.assert_array_equal(cube, a * a * a)
    np.testing.assert_array_equal(fourth, (a * a) * (a * a))
    assert (np.power(a, np.float32(3)) != a * a * a).any()  # so the check above means something
