"""Embedding and F.embedding (issue 14): lookup values, PyTorch's N(0, 1) initialisation with
a zero padding row, gradients (accumulated over repeated indices, none into padding_idx),
state_dict key, from_pretrained, index errors naming the layer."""
import numpy as np
import pytest

import autograd
import nn
import nn.functional as F
from autograd import gradcheck, gradgradcheck


def test_lookup_shape_and_values():
    w = np.arange(12.0).reshape(4, 3)
    emb = nn.Embedding.from_pretrained(autograd.tensor(w), freeze=False)
    idx = autograd.tensor(np.array([[0, 3], [3, 1]]))
    out = emb(idx)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.data, w[[[0, 3], [3, 1]]])
    assert list(emb.state_dict()) == ["weight"]
    assert repr(emb) == "Embedding(4, 3)"


def test_init_is_standard_normal_with_zero_padding_row_and_seeded():
    autograd.manual_seed(3)
    emb = nn.Embedding(2000, 50, padding_idx=7)
    w = emb.weight.data
    assert w.dtype == np.float32 and w.shape == (2000, 50)
    np.testing.assert_array_equal(w[7], 0)
    rest = np.delete(w, 7, axis=0)
    assert abs(rest.mean()) < 0.01 and abs(rest.std() - 1.0) < 0.01
    autograd.manual_seed(3)
    np.testing.assert_array_equal(nn.Embedding(2000, 50, padding_idx=7).weight.data, w)
    assert nn.Embedding(5, 2, padding_idx=-1).padding_idx == 4


def test_gradient_accumulates_over_repeats_and_skips_padding():
    autograd.manual_seed(0)
    emb = nn.Embedding(5, 2, padding_idx=1).double()
    emb.weight.data[1] = [3.0, -3.0]  # a non-zero padding row still reads back as it is
    idx = autograd.tensor(np.array([[0, 1, 0], [4, 1, 2]]))
    out = emb(idx)
    np.testing.assert_array_equal(out.data[0, 1], [3.0, -3.0])
    (out * autograd.tensor(np.arange(12.0).reshape(2, 3, 2))).sum().backward()
    expected = np.zeros((5, 2))
    expected[0] = [0 + 4, 1 + 5]
    expected[4] = [6, 7]
    expected[2] = [10, 11]
    np.testing.assert_array_equal(emb.weight.grad.data, expected)  # row 1 (padding): zero


def test_gradcheck_and_gradgradcheck():
    w = autograd.tensor(np.linspace(-1, 1, 12).reshape(4, 3), requires_grad=True)
    idx = autograd.tensor(np.array([[2, 0], [2, 3]]))
    assert gradcheck(lambda t: F.embedding(idx, t) ** 2, (w,))
    assert gradgradcheck(lambda t: F.embedding(idx, t, padding_idx=2) ** 2, (w,))


def test_from_pretrained_freezes_by_default():
    emb = nn.Embedding.from_pretrained(autograd.tensor(np.eye(3)))
    assert not emb.weight.requires_grad
    with pytest.raises(ValueError, match="from_pretrained: embeddings must be 2-D"):
        nn.Embedding.from_pretrained(autograd.tensor(np.ones(3)))


def test_bad_indices_raise_naming_the_layer():
    emb = nn.Embedding(4, 3)
    with pytest.raises(IndexError, match=r"^Embedding\(4, 3\): embedding: index 4 is out of "
                                         r"range for 4 embeddings \(input shape \(2,\)"):
        emb(autograd.tensor(np.array([1, 4])))
    with pytest.raises(IndexError, match="index -1 is out of range"):
        emb(autograd.tensor(np.array([-1, 0])))
    with pytest.raises(TypeError, match=r"^Embedding\(4, 3\): embedding: expected integer "
                                        r"indices .* got dtype float32"):
        emb(autograd.tensor([1.0]))
    with pytest.raises(ValueError, match="padding_idx 4 must be within num_embeddings"):
        nn.Embedding(4, 3, padding_idx=4)
