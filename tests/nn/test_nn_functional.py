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
    with pytest.raises(RuntimeError):  # PyTorch's class for a bad padding length
        F.pad(x, (1,))
    with pytest.raises(RuntimeError):
        F.pad(x, (1, 1) * 3)


# F.pad(torch.arange(5.).reshape(1, 1, 5), widths, mode) in PyTorch 2.13
PAD_1D = {
    "constant": {(-1, 2): [1, 2, 3, 4, 0, 0], (2, -1): [0, 0, 0, 1, 2, 3], (-3, 3): [3, 4, 0, 0, 0],
                 (-4, 3): [4, 0, 0, 0], (-5, 5): [0, 0, 0, 0, 0], (-1, -1): [1, 2, 3],
                 (-3, -2): []},
    "reflect": {(-1, 2): [1, 2, 3, 4, 3, 2], (2, -1): [2, 1, 0, 1, 2, 3],
                (-1, -1): [1, 2, 3], (-3, 3): [3, 4, 3, 2, 1], (3, -3): [3, 2, 1, 0, 1],
                (-2, 0): [2, 3, 4], (0, -4): [0], (-4, 3): [4, 3, 2, 1],
                (4, 0): [4, 3, 2, 1, 0, 1, 2, 3, 4]},
    "replicate": {(-1, 2): [1, 2, 3, 4, 4, 4], (2, -1): [0, 0, 0, 1, 2, 3],
                  (-3, 3): [3, 4, 4, 4, 4], (3, -3): [0, 0, 0, 0, 1], (-4, 3): [4, 4, 4, 4],
                  (-5, 5): [4, 4, 4, 4, 4], (6, 0): [0] * 7 + [1, 2, 3, 4],
                  (-1, 6): [1, 2, 3, 4] + [4] * 6},
    "circular": {(-1, 2): [1, 2, 3, 4, 1, 2], (2, -1): [2, 3, 0, 1, 2, 3], (-1, -1): [1, 2, 3],
                 (-2, 0): [2, 3, 4], (0, -4): [0], (5, 0): [0, 1, 2, 3, 4, 0, 1, 2, 3, 4],
                 (4, 0): [1, 2, 3, 4, 0, 1, 2, 3, 4], (0, -5): [], (-3, -2): []},
}
# widths PyTorch refuses with a RuntimeError
PAD_1D_ERRORS = {
    "constant": [(-6, 0), (-3, -3)],
    "reflect": [(-5, 5), (5, 0), (6, 0), (-1, 6), (0, -5), (-3, -2)],
    "replicate": [(0, -5), (-3, -2)],
    "circular": [(6, 0), (-1, 6), (-3, 3), (3, -3), (-4, 3)],  # wraps more than once
}


@pytest.mark.parametrize("mode", PAD_1D)
def test_pad_negative_widths_crop_as_pytorch(mode):
    x = autograd.tensor(np.arange(5.0).reshape(1, 1, 5))
    for widths, expected in PAD_1D[mode].items():
        np.testing.assert_array_equal(F.pad(x, widths, mode=mode).data.ravel(), expected,
                                      err_msg=f"{mode} {widths}")
    for widths in PAD_1D_ERRORS[mode]:
        with pytest.raises(RuntimeError, match="pad"):
            F.pad(x, widths, mode=mode)


def test_pad_2d_mixed_widths_as_pytorch():
    x = autograd.tensor(np.arange(12.0).reshape(1, 1, 3, 4))
    # F.pad(torch.arange(12.).reshape(1, 1, 3, 4), (1, -2, -1, 2), mode) in PyTorch 2.13
    expected = {"reflect": [[5, 4, 5], [9, 8, 9], [5, 4, 5], [1, 0, 1]],
                "replicate": [[4, 4, 5], [8, 8, 9], [8, 8, 9], [8, 8, 9]],
                "circular": [[5, 4, 5], [9, 8, 9], [5, 4, 5], [9, 8, 9]]}
    for mode, want in expected.items():
        np.testing.assert_array_equal(F.pad(x, (1, -2, -1, 2), mode=mode).data[0, 0], want)


def test_pad_negative_widths_gradients():
    x = t64(np.random.default_rng(1).standard_normal((2, 4, 5)))
    for mode in ("constant", "reflect", "replicate", "circular"):
        for widths in ((-1, 2, 1, -2), (2, -3, -1, 1)):
            assert gradcheck(lambda a, m=mode, w=widths: F.pad(a, w, mode=m), (x,))


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
