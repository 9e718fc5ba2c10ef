"""In-place ops: values, the leaf guard, version counters, and rebasing non-leaf tensors."""
import numpy as np
import pytest

import autograd


def test_inplace_values_under_no_grad():
    t = autograd.tensor([1.0, 2.0, 3.0])
    t.add_(1).mul_(2).sub_(autograd.tensor([1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(t.data, [3, 5, 7])
    t.add_(autograd.ones(3), alpha=2)
    np.testing.assert_array_equal(t.data, [5, 7, 9])
    t[1] = 0.0
    t[np.array([True, False, True])] = autograd.tensor([-1.0, -2.0])
    np.testing.assert_array_equal(t.data, [-1, 0, -2])
    t.copy_(np.array([4.0, 5.0, 6.0]))
    np.testing.assert_array_equal(t.data, [4, 5, 6])
    t.fill_(2.5)
    np.testing.assert_array_equal(t.data, [2.5, 2.5, 2.5])
    t.zero_()
    np.testing.assert_array_equal(t.data, [0, 0, 0])
    t += 1
    t *= 3
    np.testing.assert_array_equal(t.data, [3, 3, 3])
    assert t.dtype == np.float32


def test_inplace_on_leaf_requiring_grad_raises_but_works_under_no_grad():
    w = autograd.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="leaf"):
        w[0] = 5.0
    with autograd.no_grad():
        w.sub_(autograd.tensor([0.5, 0.5]))
    np.testing.assert_array_equal(w.data, [0.5, 1.5])


def test_modifying_a_saved_tensor_makes_backward_raise():
    x = autograd.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * y  # saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
    a = autograd.tensor([0.5], requires_grad=True)
    e = a.exp()  # saves its output
    e.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        e.sum().backward()


def test_inplace_on_unsaved_intermediate_is_rebased_into_graph():
    x = autograd.tensor([1.0, 2.0], requires_grad=True)
    w = autograd.tensor([3.0, 4.0], requires_grad=True)
    y = x + 0  # not saved by anyone
    y.mul_(w)  # y = (x + 0) * w
    y[0] = 10.0  # y[0] no longer depends on x or w
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0, 4])
    np.testing.assert_array_equal(w.grad.data, [0, 2])
    assert y.grad_fn is not None and not y.is_leaf


def test_setitem_with_grad_value():
    v = autograd.tensor([5.0, 6.0], requires_grad=True)
    buf = autograd.zeros(4)
    buf[1:3] = v
    (buf * autograd.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(v.grad.data, [2, 3])


def test_views_share_version_counter():
    x = autograd.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    z = y * y  # saves y
    view = y[:2]
    view.detach().mul_(0)  # writes through to y's data via a shared buffer
    assert view._version[0] == y._version[0] == 1
    with pytest.raises(RuntimeError, match="inplace"):
        z.sum().backward()
