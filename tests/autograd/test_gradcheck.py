"""gradcheck / gradgradcheck catch wrong derivatives and say where."""
import numpy as np
import pytest

import autograd
from autograd import GradcheckError, gradcheck, gradgradcheck
from autograd.function import Function


class WrongSquare(Function):
    """x^2 with a deliberately wrong derivative (3x instead of 2x)."""
    save_inputs = True

    def forward(self, x):
        return x * x

    def backward(self, g):
        (x,) = self.inputs
        return g * 3 * x


class WrongSecondOrder(Function):
    """x^3 whose backward is right at first order but not differentiable correctly."""
    save_inputs = True

    def forward(self, x):
        return x ** 3

    def backward(self, g):
        (x,) = self.inputs
        return g * autograd.tensor(3 * x.data ** 2)  # a constant: second derivative lost


def test_gradcheck_passes_and_reports_failure():
    x = autograd.tensor(np.array([1.0, 2.0]), requires_grad=True)
    assert gradcheck(lambda t: t * t, (x,))
    with pytest.raises(GradcheckError) as err:
        gradcheck(WrongSquare.apply, (x,))
    msg = str(err.value)
    assert "input 0" in msg and "output 0" in msg and "analytical" in msg and "numerical" in msg
    assert "6" in msg and "4" in msg  # analytical 3*2=6 vs numerical 2*2=4 at index 1
    assert gradcheck(WrongSquare.apply, (x,), raise_exception=False) is False


def test_gradgradcheck_catches_non_differentiable_backward():
    x = autograd.tensor(np.array([1.0, 2.0]), requires_grad=True)
    assert gradcheck(WrongSecondOrder.apply, (x,))
    with pytest.raises(GradcheckError):
        gradgradcheck(WrongSecondOrder.apply, (x,))


def test_gradcheck_upcasts_float32_and_handles_tuples():
    a = autograd.tensor([1.0, 2.0], requires_grad=True)  # float32
    b = autograd.tensor([3.0, 4.0], requires_grad=True)
    assert gradcheck(lambda p, q: (p * q, p + q), (a, b))


def _with_hook(hook):
    def fn(x):
        y = x * x
        y.register_hook(hook)  # raised "cannot register a hook" when fn ran under no_grad
        return y * 3
    return fn


def test_gradcheck_runs_fn_with_grad_enabled_and_catches_a_wrong_hook(rng):
    x = autograd.tensor(rng.standard_normal(4), requires_grad=True)
    assert gradcheck(_with_hook(lambda g: None), (x,))
    assert gradcheck(_with_hook(lambda g: g * 1.0), (x,))
    with pytest.raises(GradcheckError, match="analytical derivative"):
        gradcheck(_with_hook(lambda g: g * 2), (x,))  # as PyTorch: the hook's gradient is off
    assert gradgradcheck(_with_hook(lambda g: g), (x,))


def test_gradcheck_numerical_part_sees_the_callers_grad_mode(rng):
    seen = []

    def fn(x):
        seen.append(autograd.is_grad_enabled())
        return x.exp()

    gradcheck(fn, (autograd.tensor(rng.standard_normal(2), requires_grad=True),))
    assert len(seen) == 5 and all(seen)  # one analytic and 2 * 2 numerical evaluations
