"""Explicit regression tests for every failure the property-based and reliability tests found.

A test marked xfail(strict=True) documents a bug reported in .notes/core-bugs.md that is not
fixed yet: when the fix lands it starts passing, strict xfail turns that into a failure, and
the marker must be removed (so the fix is then locked in).
"""
from __future__ import annotations

import numpy as np
import pytest

import autograd
from autograd import gradcheck

from .helpers import leaf


@pytest.mark.parametrize("shape, args, expected", [
    ((0, 3), (1,), (0, 3)),  # core-bugs.md #1 (fixed in f9d43b3)
    ((0, 2, 2), (1,), (0, 4)),
    ((0, 0), (0, 0), (0, 0)),
    ((3, 0), (0,), (0,)),
    ((2, 0, 3), (1,), (2, 0)),
])
def test_flatten_with_empty_dim(shape, args, expected):
    x = leaf(np.zeros(shape))
    assert x.flatten(*args).shape == expected
    assert gradcheck(lambda t: t.flatten(*args), (x,))


@pytest.mark.parametrize("op", ["amax", "amin"])
def test_amax_of_empty_tensor_over_nonempty_dim(op):
    """core-bugs.md #3 (fixed in f9d43b3)."""
    x = leaf(np.zeros((0, 3)))
    out = getattr(x, op)(1)
    assert out.shape == (0,)
    out.sum().backward()
    assert x.grad.shape == (0, 3)


@pytest.mark.parametrize("op", ["amax", "amin"])
def test_amax_over_empty_dim_raises(op):
    """Reducing over a dim of size 0 has no identity: an error naming the op and shape."""
    with pytest.raises(ValueError, match=rf"{op}.*\(3, 0\)"):
        getattr(leaf(np.zeros((3, 0))), op)(1)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_integer_input_to_float_ops(backend):
    """core-bugs.md #4: sigmoid / leaky_relu of an int tensor used to truncate."""
    autograd.set_backend(backend)
    x = autograd.tensor([1, 2, -3, 0])
    np.testing.assert_allclose(x.sigmoid().data, 1 / (1 + np.exp(-np.array([1, 2, -3, 0]))),
                               rtol=1e-6)
    np.testing.assert_allclose(x.leaky_relu(0.5).data, [1, 2, -1.5, 0])


def test_setitem_errors_name_the_op_and_shapes():
    """core-bugs.md #5: t[idx] = v outside a graph used to give bare numpy errors."""
    x = autograd.zeros(3, 2)
    with pytest.raises(RuntimeError, match=r"setitem.*\(3,\).*\(3, 2\)"):  # PyTorch's class
        x[0] = np.ones(3)
    with pytest.raises(IndexError, match=r"setitem.*4.*\(3, 2\)"):
        x[4] = 1.0


@pytest.mark.parametrize("data", ["abc", ["a", "b"], {"a": 1}, None])
def test_non_numeric_data_raises_type_error(data):
    """core-bugs.md #6: tensor("abc") used to build a string tensor."""
    with pytest.raises(TypeError, match="tensor"):
        autograd.tensor(data)


def _nn_functional():
    try:
        import nn.functional as F
    except Exception:  # noqa: BLE001
        pytest.skip("nn.functional does not import yet")
    return F


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_avg_pool2d_integer_input(dtype):
    """core-bugs.md #7: avg_pool2d of ints used to raise a bare numpy UFuncTypeError."""
    F = _nn_functional()
    x = autograd.tensor(np.arange(16).reshape(1, 1, 4, 4).astype(dtype))
    try:
        out = F.avg_pool2d(x, 2)
    except TypeError as e:  # a clean refusal naming the op and the dtype is fine
        assert "avg_pool2d" in str(e) and np.dtype(dtype).name in str(e)
        return
    np.testing.assert_allclose(out.data, [[[[2.5, 4.5], [10.5, 12.5]]]])


def test_pad_cropping_past_the_input_raises():
    """core-bugs.md #8: cropping past the input used to give a size-0 dim silently."""
    F = _nn_functional()
    x = autograd.zeros(1, 1, 3, 3)
    with pytest.raises(RuntimeError, match=r"pad"):  # PyTorch's class
        F.pad(x, (-5, 0))


# ---- in-place writes through views (core-bugs.md #9, #10) ---------------------------------
def _inplace_view_cases():
    def mul_through_row_view(x):
        y = x * 1
        y[0].mul_(2)
        return y, [[2, 2, 2], [1, 1, 1]]

    def mul_through_variable_view(x):
        y = x * 1
        v = y[0]
        v.mul_(2)
        return y, [[2, 2, 2], [1, 1, 1]]

    def mul_through_transpose(x):
        y = x * 1
        y.T.mul_(5)
        return y, [[5, 5, 5], [5, 5, 5]]

    def add_through_reshape(x):
        y = x * 1
        y.view(6).add_(x.view(6))
        return y, [[2, 2, 2], [2, 2, 2]]

    def base_modified_view_used(x):
        y = x * 1
        z = y[0]
        y.mul_(2)
        return z, [[2, 2, 2], [0, 0, 0]]

    return [mul_through_row_view, mul_through_variable_view, mul_through_transpose,
            add_through_reshape, base_modified_view_used]


@pytest.mark.parametrize("case", _inplace_view_cases(), ids=lambda f: f.__name__)
def test_inplace_through_view_gives_right_gradient_or_raises(case):
    """core-bugs.md #9 (used to give silently wrong gradients). PyTorch rebases the base's
    graph (CopySlices); an implementation without view
    tracking must at least refuse (RuntimeError), never return a wrong gradient."""
    x = leaf(np.ones((2, 3)))
    try:
        out, expected = case(x)
        out.sum().backward()
    except RuntimeError:
        return
    np.testing.assert_array_equal(x.grad.data, expected)


def test_setitem_from_own_slice_times_constant():
    """core-bugs.md #10: used to raise "modified by an inplace operation"."""
    x = leaf(np.ones((2, 3)))
    y = x * 1
    y[0] = y[0] * 3
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[3, 3, 3], [1, 1, 1]])


def test_create_graph_leaf_grads_are_distinct():
    """core-bugs.md #11: with create_graph two leaves used to share one .grad."""
    a, b = leaf(np.ones(3)), leaf(np.ones(3))
    (a + b).sum().backward(create_graph=True)
    assert a.grad is not b.grad and not np.shares_memory(a.grad.data, b.grad.data)
    with autograd.no_grad():
        a.grad.mul_(0)  # e.g. clip_grad_norm_ scaling each .grad in place
    np.testing.assert_array_equal(b.grad.data, [1, 1, 1])


def test_setitem_differentiable_basic():
    """The supported form of the same write: into a clone, with the graph rebuilt."""
    x = leaf(np.ones((2, 3)))
    y = x.clone()
    y[0] = x[0] * 3
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[3, 3, 3], [1, 1, 1]])


@pytest.mark.parametrize("how", ["grad", "grad-create-graph", "backward-create-graph", "hook"])
def test_gradient_dtype_matches_input_dtype(how):
    a = autograd.tensor(np.ones(3, np.float32), requires_grad=True)
    b = autograd.tensor(np.full(3, 2.0), requires_grad=True)  # float64
    loss = (a * b).sum()
    if how == "grad":
        (g,) = autograd.grad(loss, [a])
    elif how == "grad-create-graph":
        (g,) = autograd.grad(loss, [a], create_graph=True)
    elif how == "backward-create-graph":
        loss.backward(create_graph=True)
        g = a.grad
    else:
        seen = []
        a.register_hook(lambda grad: seen.append(grad))
        loss.backward()
        g = seen[0]
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g.data, [2, 2, 2])
