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


# ---- PyTorch's rule for ints mixed with index arrays (ints are applied first) ------------------
_I = autograd.tensor([0, 1])
# (index, shape PyTorch 2.13 gives for x of shape (2, 3, 4, 5))
TORCH_MIXED = [
    ((0, slice(None), _I), (3, 2, 5)),
    ((0, slice(None), slice(None), _I), (3, 4, 2)),
    ((slice(None), 0, slice(None), _I), (2, 4, 2)),
    ((0, slice(None), _I, 1), (3, 2)),
    ((0, _I, slice(None), 1), (2, 4)),
    ((_I, 0, slice(None), 1), (2, 4)),
    ((_I, slice(None), 0), (2, 3, 5)),
    ((0, None, slice(None), _I), (1, 3, 2, 5)),
    ((None, 0, slice(None), _I), (1, 3, 2, 5)),
    ((0, slice(None), None, _I), (3, 1, 2, 5)),
    ((0, Ellipsis, _I), (3, 4, 2)),
    ((_I, Ellipsis, 0), (2, 3, 4)),
    ((0, slice(None), autograd.tensor([True, False, True, False])), (3, 2, 5)),
    ((autograd.tensor(0), slice(None), _I), (3, 2, 5)),  # a 0-d tensor is an int
    ((0, slice(None), _I, autograd.tensor([1, 2])), (3, 2)),
    ((slice(None), 0, _I, autograd.tensor([1, 2])), (2, 2)),
    ((_I, 0, slice(None), autograd.tensor([1, 2])), (2, 4)),
    ((1, autograd.tensor([[0, 1]]), slice(None), autograd.tensor([2])), (1, 2, 4)),
    ((0, slice(None), 1, _I), (3, 2)),
    ((-1, slice(None), [0, 1]), (3, 2, 5)),
]


@pytest.mark.parametrize("idx, shape", TORCH_MIXED, ids=[str(i) for i in range(len(TORCH_MIXED))])
def test_int_and_index_array_follow_pytorch(idx, shape):
    x = autograd.tensor(np.arange(120.0).reshape(2, 3, 4, 5), requires_grad=True)
    out = x[idx]
    assert out.shape == shape
    # the gradient lands where the values came from: d sum(out * w) / dx = w scattered back
    w = np.random.default_rng(1).standard_normal(shape)
    (out * autograd.tensor(w)).sum().backward()
    flat = x.grad.data.ravel()
    np.testing.assert_allclose(flat[out.data.astype(int).ravel()], w.ravel())
    assert np.count_nonzero(flat) == out.data.size  # (no repeated element in these cases)


def test_int_slice_array_values_and_gradcheck():
    x3 = autograd.tensor(np.arange(24.0).reshape(2, 3, 4))
    # torch.arange(24.).reshape(2,3,4)[0, :, torch.tensor([0,1])]
    np.testing.assert_array_equal(x3[0, :, _I].data, [[0, 1], [4, 5], [8, 9]])
    x = autograd.tensor(np.arange(120.0).reshape(2, 3, 4, 5))
    # torch: x[0, :, tensor([0,1]), tensor([1,2])]
    np.testing.assert_array_equal(x[0, :, _I, autograd.tensor([1, 2])].data,
                                  [[1, 7], [21, 27], [41, 47]])
    a = autograd.tensor(np.random.default_rng(0).standard_normal((2, 3, 4)),
                        requires_grad=True)
    rep = autograd.tensor([1, 1, 3])  # repeated: gradients accumulate
    assert gradcheck(lambda t: t[0, :, rep] * t[1, :, rep], (a,))
    assert gradcheck(lambda t: t[1, None, :, rep], (a,))
    assert gradgradcheck(lambda t: t[0, :, rep] ** 2, (a,))


def test_setitem_with_int_and_index_array_follows_pytorch():
    # torch: z = zeros(2,3,4); z[0, :, tensor([0,1])] = arange(6.).reshape(3, 2)
    v = np.arange(6.0).reshape(3, 2)
    z = autograd.zeros(2, 3, 4, dtype=np.float64)
    z[0, :, _I] = autograd.tensor(v)
    np.testing.assert_array_equal(z.data[0, :, :2], v)
    assert z.data.sum() == v.sum()
    # through the graph: IndexPut, and the gradient of the written value
    base = autograd.tensor(np.ones((2, 3, 4)), requires_grad=True)
    val = autograd.tensor(v, requires_grad=True)
    y = base * 1
    y[0, :, _I] = val
    np.testing.assert_array_equal(y.data[0, :, :2], v)
    (y * autograd.tensor(np.arange(24.0).reshape(2, 3, 4))).sum().backward()
    np.testing.assert_array_equal(val.grad.data, [[0, 1], [4, 5], [8, 9]])
    assert base.grad.data[0, :, :2].sum() == 0 and base.grad.data[1].sum() == sum(range(12, 24))
