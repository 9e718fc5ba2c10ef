"""nn.functional utilities: pad (all modes, cropping, gradients) and one_hot."""
import numpy as np
import pytest

import autograd
import nn.functional as F
from autograd import gradcheck, gradgradcheck


def t64(a, requires_grad=True):
    return autograd.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def test_pad_constant_reflect_replicate_circular():
    x = autograd.tensor([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(F.pad(x, (1, 2)).data, [[0, 1, 2, 3, 0, 0]])
    np.testing.assert_array_equal(F.pad(x, (1, 0, 1, 0), value=9.0).data,
                                  [[9, 9, 9, 9], [9, 1, 2, 3]])
    np.testing.assert_array_equal(F.pad(x, (2, 1), mode="reflect").data, [[3, 2, 1, 2, 3, 2]])
    np.testing.assert_array_equal(F.pad(x, (2, 1), mode="replicate").data, [[1, 1, 1, 2, 3, 3]])
    np.testing.assert_array_equal(F.pad(x, (2, 1), mode="circular").data, [[2, 3, 1, 2, 3, 1]])
    np.testing.assert_array_equal(F.pad(x, (-1, 1)).data, [[2, 3, 0]])  # negative crops
    with pytest.raises(ValueError):
        F.pad(x, (1,))


def test_pad_gradients():
    x = t64(np.random.default_rng(0).standard_normal((2, 3, 4)))
    for mode in ("constant", "reflect", "replicate", "circular"):
        assert gradcheck(lambda a, mode=mode: F.pad(a, (1, 2, 2, 1), mode=mode), (x,))
    assert gradgradcheck(lambda a: F.pad(a, (1, 1)) ** 2, (x,))


def test_one_hot():
    y = F.one_hot(autograd.tensor([0, 2, 1]))
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y.data, [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert F.one_hot(autograd.tensor([[1], [0]]), num_classes=4).shape == (2, 1, 4)
    with pytest.raises(ValueError):
        F.one_hot(autograd.tensor([3]), num_classes=3)


def test_softmax_default_dim_and_functional_forms_match_modules():
    x = autograd.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose(F.softmax(x).data.sum(1), 1.0, rtol=1e-6)  # dim 1 for 2-D
    np.testing.assert_allclose(F.softmax(x, dim=0).data.sum(0), 1.0, rtol=1e-6)
    np.testing.assert_allclose(F.relu(x - 2).data, [[0, 0, 0], [1, 2, 3]])
