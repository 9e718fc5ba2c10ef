"""autograd.wrap: how the layers below tensor.py make Tensors (issue 12, item 3), and
implicit_grad in the engine."""
import numpy as np
import pytest

import autograd
from autograd import engine, wrap


def test_wrap_holds_the_array_itself_and_is_tensor_wrap():
    a = np.arange(6.0).reshape(2, 3)
    t = wrap.wrap(a)
    assert type(t) is autograd.Tensor and t.data is a
    assert not t.requires_grad and t.grad_fn is None and t._version == [0]
    u = autograd.Tensor.wrap(a, True)
    assert u.data is a and u.requires_grad
    a[0, 0] = 7.0
    assert t.data[0, 0] == 7.0  # no copy


def test_is_tensor_and_to_tensor():
    p = autograd.tensor([1.0, 2.0])
    assert wrap.is_tensor(p) and not wrap.is_tensor(np.ones(2)) and not wrap.is_tensor(1.0)
    assert wrap.to_tensor(p) is p
    t = wrap.to_tensor([1, 2, 3])
    assert type(t) is autograd.Tensor and t.dtype == np.int64
    np.testing.assert_array_equal(t.data, [1, 2, 3])


def test_implicit_grad_lives_in_the_engine():
    x = autograd.tensor(np.array([1.0, 2.0]), requires_grad=True)
    s = (x * x).sum()
    g = engine.implicit_grad(s, None)
    assert g.shape == () and g.item() == 1.0
    with pytest.raises(RuntimeError, match=r"implicitly created only for scalar outputs"):
        engine.implicit_grad(x * 2, None)
    with pytest.raises(RuntimeError, match=r"gradient of shape \(3,\) does not match"):
        engine.implicit_grad(x * 2, np.ones(3))
    np.testing.assert_array_equal(engine.implicit_grad(x * 2, [3.0, 4.0]).data, [3.0, 4.0])


def test_a_leaf_is_a_node_without_edges():
    # the engine walks Functions and leaves alike through `next`
    x = autograd.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 3
    assert y.grad_fn.next == (x, None) and x.next == ()
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_wrap_converts_non_arrays_and_keeps_array_subclasses():
    t = wrap.wrap(3.0)
    assert type(t.data) is np.ndarray and t.data.shape == () and t.data == 3.0
    m = np.ma.masked_array([1.0, 2.0])
    assert wrap.wrap(m).data is m  # an ndarray subclass is held as is, as before
    fn = object()
    u = wrap.wrap(np.ones(2), True, fn, [5])
    assert u.requires_grad and u.grad_fn is fn and u._version == [5] and u._base is None
