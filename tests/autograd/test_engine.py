"""The engine: accumulation, retain_graph, errors, grad modes, hooks, autograd.grad, depth,
and freeing the graph."""
import gc
import threading
import time
import weakref

import numpy as np
import pytest

import autograd


def test_leaf_gradients_accumulate_across_backwards():
    x = autograd.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2 + 3, 4 + 3])


def test_node_used_twice_accumulates_both_contributions():
    x = autograd.tensor(3.0, requires_grad=True)
    y = x * 2
    z = y * y + y  # y reused: dz/dy = 2y + 1 = 13, dz/dx = 26
    z.backward()
    assert x.grad.item() == 26


def test_second_backward_without_retain_graph_raises():
    x = autograd.tensor([1.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = autograd.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [4, 8])


def test_non_scalar_backward_needs_gradient():
    x = autograd.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        y.backward()
    y.backward(autograd.tensor([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad.data, [2, 20])


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        autograd.tensor([1.0]).sum().backward()


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="int64"):
        autograd.tensor([1, 2], requires_grad=True)


def test_no_grad_and_enable_grad():
    x = autograd.tensor([1.0], requires_grad=True)
    with autograd.no_grad():
        assert not autograd.is_grad_enabled()
        y = x * 2
        with autograd.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and autograd.is_grad_enabled()

    @autograd.no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad


def test_grad_mode_is_thread_local():
    seen = []
    with autograd.no_grad():
        t = threading.Thread(target=lambda: seen.append(autograd.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


def test_hooks_on_leaf_and_intermediate():
    x = autograd.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.data.copy()))
    y = x * 3
    handle = y.register_hook(lambda g: g * 10)  # replaces the gradient flowing into y
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [30, 30])
    np.testing.assert_array_equal(seen[0], [30, 30])
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3, 3])


def test_retain_grad_on_intermediate():
    x = autograd.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.retain_grad()
    (y * 2).sum().backward()
    np.testing.assert_array_equal(y.grad.data, [2, 2])
    np.testing.assert_array_equal(x.grad.data, [4, 8])


def test_grad_does_not_touch_dot_grad_and_allow_unused():
    x = autograd.tensor([1.0, 2.0], requires_grad=True)
    u = autograd.tensor([5.0], requires_grad=True)
    y = (x ** 2).sum()
    (gx,) = autograd.grad(y, x, retain_graph=True)
    np.testing.assert_array_equal(gx.data, [2, 4])
    assert x.grad is None
    with pytest.raises(RuntimeError, match="allow_unused"):
        autograd.grad(y, [x, u], retain_graph=True)
    gx, gu = autograd.grad(y, [x, u], allow_unused=True)
    assert gu is None
    np.testing.assert_array_equal(gx.data, [2, 4])


def test_grad_with_respect_to_intermediate():
    x = autograd.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = (h ** 2).sum()
    (gh,) = autograd.grad(y, h)
    np.testing.assert_array_equal(gh.data, [4, 8])


def test_create_graph_gives_any_order():
    x = autograd.tensor(2.0, dtype=np.float64, requires_grad=True)
    y = x ** 4
    derivatives = []
    g = y
    for _ in range(4):
        (g,) = autograd.grad(g, x, create_graph=True)
        derivatives.append(g.item())
    assert derivatives == [32.0, 48.0, 48.0, 24.0]


def test_backward_create_graph_then_differentiate_grad():
    x = autograd.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    (gg,) = autograd.grad(g.sum(), x)
    np.testing.assert_array_equal(gg.data, [6, 12])


def test_long_chain_backprop_without_recursion_error():
    x = autograd.tensor(1.0, requires_grad=True)
    y = x
    start = time.perf_counter()
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0
    assert time.perf_counter() - start < 30


def test_saved_arrays_are_freed_after_backward():
    x = autograd.tensor(np.ones(1000), requires_grad=True)
    big = x * 2
    y = big.exp()  # Exp saves its output array
    ref = weakref.ref(y.grad_fn._out[0])
    loss = y.sum()
    del y, big
    loss.backward()
    gc.collect()
    assert ref() is None


def test_graph_freed_with_gc_disabled():
    gc.disable()
    try:
        x = autograd.tensor(np.ones(10), requires_grad=True)
        y = (x * 2).tanh()
        node = weakref.ref(y.grad_fn)
        y.sum().backward()
        del y
        assert node() is None  # no reference cycle keeps the graph alive
    finally:
        gc.enable()


def test_exception_during_backward_releases_graph():
    x = autograd.tensor(np.ones(5), requires_grad=True)
    y = (x * 2).exp()
    y.register_hook(lambda g: (_ for _ in ()).throw(ValueError("boom")))
    node = weakref.ref(y.grad_fn)
    with pytest.raises(ValueError, match="boom"):
        y.sum().backward()
    del y
    gc.collect()
    assert node() is None
