"""Differentiable indexing: basic, advanced (repeated indices accumulate), boolean masks."""
import numpy as np
import pytest

import autograd
from autograd import gradcheck, gradgradcheck

INDICES = {
    "int": 1,
    "negative": -1,
    "slice_step": (slice(None), slice(None, None, 2)),
    "none_ellipsis": (None, Ellipsis, 0),
    "int_array": np.array([0, 2, 2]),
    "list": [1, 0],
    "tensor": autograd.tensor([2, 0]),
    "pair_arrays": (np.array([0, 1, 1]), np.array([3, 3, 0])),
    "bool_mask": np.array([True, False, True]),
    "bool_tensor_2d": "mask",
    "mixed": (slice(0, 2), np.array([1, 1, 3])),
}


@pytest.mark.parametrize("name", INDICES)
def test_indexing_matches_numpy_and_gradchecks(name, rng):
    a = rng.standard_normal((3, 4))
    idx = INDICES[name]
    if isinstance(idx, str):
        idx = autograd.tensor(a > 0)
    np_idx = idx.data if isinstance(idx, autograd.Tensor) else idx
    x = autograd.tensor(a, requires_grad=True)
    np.testing.assert_array_equal(x[idx].data, a[np_idx])
    assert gradcheck(lambda t: t[idx] * 1.5, (x,))
    assert gradgradcheck(lambda t: (t[idx] ** 2).sum(), (x,))


def test_repeated_indices_accumulate():
    x = autograd.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3, 0, 1])


def test_out_of_range_index_names_shape():
    with pytest.raises(IndexError, match=r"\(3,\)"):
        autograd.ones(3)[5]
