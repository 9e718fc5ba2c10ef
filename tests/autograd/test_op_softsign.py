"""softsign (PyTorch's F.softsign): x / (1 + |x|), declared once in ops/unary.py with its
kernel declared by formula in kernels/elementwise.py (the README's "How to add an op")."""
import numpy as np
import pytest

import autograd
from autograd import gradcheck, gradgradcheck
from autograd.kernels import policy


def test_values_and_gradient():
    x = autograd.tensor([2.0, -0.5, 0.0, 1e30, -3.0], requires_grad=True)
    y = x.softsign()
    np.testing.assert_allclose(y.data, [2 / 3, -1 / 3, 0.0, 1.0, -0.75], rtol=1e-6)
    assert y.dtype == np.float32
    y.sum().backward()  # 1 / (1 + |x|)^2
    np.testing.assert_allclose(x.grad.data, [1 / 9, 1 / 2.25, 1.0, 0.0, 1 / 16], rtol=1e-6)


def test_function_form_and_integer_input():
    y = autograd.softsign(autograd.tensor([3, -1]))
    assert y.dtype == autograd.get_default_dtype()
    np.testing.assert_allclose(y.data, [0.75, -0.5])


def test_first_and_second_derivatives():
    x = autograd.tensor(np.random.default_rng(0).standard_normal((3, 4)) + 0.1,
                        requires_grad=True)
    assert gradcheck(lambda t: t.softsign(), (x,))
    assert gradgradcheck(lambda t: t.softsign(), (x,))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("parallel_above", [-1, policy.NEVER])
def test_numba_kernel_matches_reference(dtype, parallel_above):
    from autograd import kernels as K
    x = np.random.default_rng(1).standard_normal((33, 65)).astype(dtype) * 10
    x[0, :3] = [np.nan, np.inf, -np.inf]
    with policy.override(numpy_below=0, parallel_above=parallel_above):
        got = K.softsign.implementation("numba")(x)
    want = K.softsign.reference(x)
    assert got.dtype == want.dtype == dtype
    np.testing.assert_allclose(got, want, rtol=1e-6 if dtype == np.float32 else 1e-14)
