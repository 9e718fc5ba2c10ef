"""The last ops that raised on cuda: scatter / scatter_add / scatter_reduce, nonzero and
where(cond), unique, F.one_hot, F.max_unpool2d, einsum with a diagonal.

Run on numba's CUDA simulator by test_simulator.py: values and gradients equal the CPU's.
"""
from __future__ import annotations

import numpy as np
import pytest
from sim_common import check_op, close, host, pair

import autograd
import nn.functional as F

RNG = np.random.default_rng(7)
X = RNG.standard_normal((3, 4)).astype(np.float32)
SRC = RNG.standard_normal((2, 4)).astype(np.float32)
# repeated indices along dim 0 (columns 0 and 2 hit row 0 twice)
IDX = np.array([[0, 1, 0, 2], [0, 0, 0, 1]])


def idx_pair(a: np.ndarray) -> tuple:
    return autograd.tensor(a), autograd.tensor(a, device="cuda")


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_values_and_gradients(reduce: str, include_self: bool) -> None:
    for dim, idx in ((0, IDX), (1, np.array([[3, 3, 0], [1, 2, 1]]))):
        ci, di = idx_pair(idx)

        def fn(x, s, ci=ci, di=di, dim=dim):
            return x.scatter_reduce(dim, di if x.is_cuda else ci, s, reduce,
                                    include_self=include_self)
        check_op(fn, X, SRC if dim == 0 else SRC[:, :3].copy())


def test_scatter_reduce_amax_ties_split_the_gradient() -> None:
    x = np.array([[1.0, 5.0], [2.0, 0.0]], np.float32)
    s = np.array([[2.0, 5.0], [2.0, 1.0]], np.float32)
    ci, di = idx_pair(np.array([[1, 0], [1, 0]]))
    check_op(lambda a, b: a.scatter_reduce(0, di if a.is_cuda else ci, b, "amax"), x, s)


def test_scatter_add_and_scatter_with_repeated_indices() -> None:
    ci, di = idx_pair(IDX)
    check_op(lambda x, s: x.scatter_add(0, di if x.is_cuda else ci, s), X, SRC)
    # scatter with repeats keeps the last value written (the CPU's order)
    check_op(lambda x, s: x.scatter(0, di if x.is_cuda else ci, s), X, SRC)
    check_op(lambda x: x.scatter(1, di[:, :2] if x.is_cuda else ci[:, :2], value=-3.0), X)
    check_op(lambda x, s: x.scatter(0, di if x.is_cuda else ci, s, reduce="multiply"), X, SRC)


def test_scatter_add_index_smaller_than_self_and_integer_dtype() -> None:
    idx = np.array([[2], [0]])
    ci, di = idx_pair(idx)
    check_op(lambda x, s: x.scatter_add(0, di if x.is_cuda else ci, s), X, SRC[:, :1].copy())
    a = np.arange(12).reshape(3, 4)
    got = autograd.tensor(a, device="cuda").scatter_add(0, di, autograd.tensor(
        np.ones((2, 1), np.int64), device="cuda"))
    want = autograd.tensor(a).scatter_add(0, ci, autograd.tensor(np.ones((2, 1), np.int64)))
    np.testing.assert_array_equal(host(got), want.numpy())


def test_scatter_empty_index_and_out_of_range_index() -> None:
    ci, di = idx_pair(np.zeros((0, 4), np.int64))
    check_op(lambda x, s: x.scatter_add(0, di if x.is_cuda else ci, s), X,
             np.zeros((0, 4), np.float32))
    bad = autograd.tensor(np.array([[0, 3, 0, 0]]), device="cuda")
    with pytest.raises(RuntimeError, match=r"scatter_reduce: index 3 is out of bounds for "
                                           r"dimension 0 with size 3"):
        autograd.tensor(X, device="cuda").scatter_add(0, bad, autograd.tensor(
            SRC[:1], device="cuda"))


@pytest.mark.parametrize("mask", ["mixed", "none", "all"])
def test_nonzero_where_and_masked_select(mask: str) -> None:
    x = RNG.standard_normal((3, 5)).astype(np.float32)
    m = {"mixed": x > 0, "none": np.zeros_like(x, bool), "all": np.ones_like(x, bool)}[mask]
    c, d = pair(m, requires_grad=False)
    got, want = d.nonzero(), c.nonzero()
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(host(got), want.numpy())
    for g, w in zip(autograd.where(d), autograd.where(c)):
        np.testing.assert_array_equal(host(g), w.numpy())
    for g, w in zip(d.nonzero(as_tuple=True), c.nonzero(as_tuple=True)):
        np.testing.assert_array_equal(host(g), w.numpy())
    check_op(lambda t: t.masked_select(d if t.is_cuda else c), x)
    vals = autograd.tensor(np.array([0, 3, 0, -1, 2]), device="cuda")
    np.testing.assert_array_equal(host(vals.nonzero()), [[1], [3], [4]])
    np.testing.assert_array_equal(host(autograd.tensor(np.zeros((2, 0, 3)), device="cuda")
                                       .nonzero()), np.zeros((0, 3), np.int64))


@pytest.mark.parametrize("data", [np.array([3, 1, 2, 3, 1, 1, 7]),
                                  np.array([[2.5, -1.0, 2.5], [np.nan, 0.0, np.nan]]),
                                  np.array([4, 4, 4]), np.zeros(0, np.int64)])
def test_unique_sorted_with_inverse_and_counts(data: np.ndarray) -> None:
    c, d = pair(data, requires_grad=False)
    got = d.unique(return_inverse=True, return_counts=True)
    want = c.unique(return_inverse=True, return_counts=True)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(host(g), w.numpy())
    np.testing.assert_array_equal(host(d.unique()), c.unique().numpy())


def test_one_hot_on_cuda() -> None:
    labels = np.array([[0, 2], [1, 2]])
    c, d = pair(labels, requires_grad=False)
    for k in (-1, 5):
        got, want = F.one_hot(d, k), F.one_hot(c, k)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(host(got), want.numpy())
    with pytest.raises(ValueError, match=r"one_hot: class values must be smaller than "
                                         r"num_classes \(2\), got 2"):
        F.one_hot(d, 2)


def test_max_unpool2d_values_gradients_and_bad_index() -> None:
    x = RNG.standard_normal((2, 3, 4, 6)).astype(np.float32)

    def fn(t):
        out, idx = F.max_pool2d(t, 2, return_indices=True)
        assert idx.device == t.device
        return F.max_unpool2d(out * 2.0, idx, 2)
    check_op(fn, x)
    check_op(lambda t: F.max_unpool2d(t, autograd.tensor(
        np.array([[[[0, 0], [5, 19]]]]), device=t.device), 2, output_size=(4, 5)),
        RNG.standard_normal((1, 1, 2, 2)).astype(np.float32))  # a repeated index sums
    bad = autograd.tensor(np.array([[[[0, 16]]]]), device="cuda")
    with pytest.raises(IndexError, match=r"max_unpool2d: found an invalid max index 16 "
                                         r"\(output plane \(2, 4\) holds 8 elements"):
        F.max_unpool2d(autograd.ones(1, 1, 1, 2, device="cuda"), bad, 2)


@pytest.mark.parametrize("equation,shape", [("ii->i", (3, 3)), ("bii->bi", (2, 3, 3)),
                                            ("ii->", (4, 4)), ("iji->j", (3, 2, 3)),
                                            ("ii,ij->j", ((3, 3), (3, 2)))])
def test_einsum_with_a_diagonal(equation: str, shape: tuple) -> None:
    shapes = shape if isinstance(shape[0], tuple) else (shape,)
    arrays = [RNG.standard_normal(s).astype(np.float32) for s in shapes]
    cpu = [autograd.tensor(a) for a in arrays]
    dev = [autograd.tensor(a, device="cuda") for a in arrays]
    got, want = autograd.einsum(equation, *dev), autograd.einsum(equation, *cpu)
    assert got.shape == want.shape
    close(host(got), want.numpy())
    # the gradient of a diagonal operand is not implemented on the CPU either: the same error
    leaf = autograd.tensor(arrays[0], device="cuda", requires_grad=True)
    with pytest.raises(RuntimeError, match="repeated subscript"):
        autograd.einsum(equation, leaf, *dev[1:]).sum().backward()
    with pytest.raises(RuntimeError, match=r"einsum: ii->i with shapes \[\(2, 3\)\].*sizes"):
        autograd.einsum("ii->i", autograd.ones(2, 3, device="cuda"))
