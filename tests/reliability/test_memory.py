"""Memory: graphs are freed as soon as backward ends (also when an exception interrupts it),
no reference cycle keeps a graph alive, and a long training run keeps memory flat."""
from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import autograd
from autograd.function import Function

from .helpers import leaf, requires_nn


@pytest.fixture
def no_gc():
    """Run with the cyclic garbage collector off: only reference counting frees objects, so
    anything kept alive by a reference cycle shows up as still alive."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


def _graph_nodes(t) -> list:
    """Every Function node reachable from t.grad_fn (iterative walk)."""
    seen, stack, out = set(), [t.grad_fn], []
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen or not isinstance(node, Function):
            continue
        seen.add(id(node))
        out.append(node)
        stack.extend(node.next)
    return out


def _build(x, w):
    """A graph touching most kinds of node: saved inputs, saved outputs, masks, reductions,
    broadcasting, indexing, matmul, softmax."""
    h = (x @ w).tanh()
    h = h * x[:, :3].exp() + h.sigmoid() / (h * h + 1)
    h = autograd.maximum(h.relu(), h.abs() * 0.5).log_softmax(1)
    return h[[0, 2, 2]].logsumexp(1).sum() + h.var() + (h ** 2).mean()


def _saved_refs(nodes, keep) -> list:
    """Weak references to every tensor or array the nodes saved for backward (except keep)."""
    saved = []
    for n in nodes:
        saved += [weakref.ref(t) for t in getattr(n, "_inputs", None) or ()
                  if all(t is not k for k in keep)]
        if getattr(n, "_out", None) is not None:
            saved.append(weakref.ref(n._out[0]))
    return saved


def _live_functions() -> int:
    return sum(1 for o in gc.get_objects() if issubclass(type(o), Function))


def test_graph_freed_by_refcount_after_backward(no_gc):
    x = leaf(np.random.default_rng(0).standard_normal((4, 3)))
    w = leaf(np.random.default_rng(1).standard_normal((3, 3)))
    loss = _build(x, w)
    nodes = [weakref.ref(n) for n in _graph_nodes(loss)]
    assert len(nodes) > 15
    loss.backward()
    del loss
    alive = [r() for r in nodes if r() is not None]
    assert not alive, f"{len(alive)} graph nodes survive without the cyclic GC: {alive[:5]}"
    assert x.grad is not None and w.grad is not None


def test_saved_arrays_released_when_backward_ends(no_gc):
    """With the loss still referenced, backward (no retain_graph) drops every saved tensor."""
    x = leaf(np.random.default_rng(0).standard_normal((4, 3)))
    w = leaf(np.random.default_rng(1).standard_normal((3, 3)))
    loss = _build(x, w)
    saved = _saved_refs(_graph_nodes(loss), keep=(x, w))
    assert saved
    loss.backward()
    assert all(n.freed for n in _graph_nodes(loss))
    alive = [r() for r in saved if r() is not None]
    assert not alive, f"{len(alive)} saved tensors/arrays outlive backward"


def test_activation_sized_buffers_released_when_backward_ends():
    """Regression test of core-bugs.md #2 (fixed in f9d43b3).
    After backward, a graph whose loss is still referenced (the usual `loss` variable of a
    training loop, alive until the next iteration reassigns it) must not hold
    activation-sized buffers: relu's mask, maximum's share, amax's share, ..."""
    x = leaf(np.random.default_rng(0).standard_normal((500, 500)))  # 2 MB

    def run():
        h = x * 2
        h = h.relu() + h.leaky_relu() + h.abs() + h.clamp(-1, 1) + autograd.maximum(h, x)
        loss = h.amax(1).sum()
        del h
        loss.backward()
        return loss

    run()  # import and compile the kernels outside the measurement
    x.grad = None
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        loss = run()
        held = tracemalloc.get_traced_memory()[0] - before - x.grad.data.nbytes
    finally:
        tracemalloc.stop()
    size = x.data.nbytes
    assert held < size / 4, (
        f"the freed graph still holds {held / 1e6:.1f} MB (x is {size / 1e6:.1f} MB)")
    del loss


def test_graph_freed_when_backward_raises(no_gc):
    """An exception in the middle of backward (a hook raising) leaves no node alive once the
    loss is dropped, and no leaf's grad half-written in a way that keeps the graph."""
    x = leaf(np.random.default_rng(0).standard_normal((4, 3)))
    w = leaf(np.random.default_rng(1).standard_normal((3, 3)))
    loss = _build(x, w)
    mid = (x @ w)
    loss = loss + mid.sum()

    def boom(g):
        raise ValueError("hook failed")

    mid.register_hook(boom)
    nodes = [weakref.ref(n) for n in _graph_nodes(loss)]
    try:
        loss.backward()
    except ValueError:
        pass
    else:
        pytest.fail("the hook's exception was swallowed")
    assert autograd.is_grad_enabled(), "grad mode was not restored after the failed backward"
    del loss, mid
    alive = [r() for r in nodes if r() is not None]
    assert not alive, f"{len(alive)} nodes survive a backward that raised"


def test_graph_freed_when_inplace_check_raises(no_gc):
    x = leaf(np.random.default_rng(0).standard_normal((5,)))
    y = x * 2
    z = y.sin()  # saves y
    with autograd.no_grad():
        y.add_(1)
    nodes = [weakref.ref(n) for n in _graph_nodes(z)]
    try:
        z.sum().backward()
    except RuntimeError as e:
        assert "modified by an inplace operation" in str(e)
    else:
        pytest.fail("no error for a saved tensor modified in place")
    del y, z
    assert not [r for r in nodes if r() is not None]


def test_graph_freed_when_anomaly_raises(no_gc):
    x = leaf(np.array([0.0, 1.0, 2.0]))
    nodes = []
    try:
        with autograd.detect_anomaly():
            y = x.sqrt()  # d sqrt(0) = inf
            loss = y.sum()
            nodes = [weakref.ref(n) for n in _graph_nodes(loss)]
            loss.backward()
    except RuntimeError as e:
        assert "Sqrt" in str(e)
    else:
        pytest.fail("detect_anomaly did not report the inf gradient of sqrt(0)")
    del y, loss
    assert nodes and not [r for r in nodes if r() is not None]


def test_no_reference_cycles_in_a_step(no_gc):
    """Forward + backward + grad + create_graph-free paths leave nothing for the cyclic GC."""
    x = leaf(np.random.default_rng(0).standard_normal((4, 3)))
    w = leaf(np.random.default_rng(1).standard_normal((3, 3)))
    for _ in range(2):  # warm caches (kernels, numba dispatchers) outside the count
        _build(x, w).backward()
    gc.collect()
    live_before = _live_functions()
    for _ in range(3):
        loss = _build(x, w)
        loss.backward()
        (g,) = autograd.grad(_build(x, w), [w])
        y = x * 3
        y.retain_grad()
        y.sum().backward()
        with autograd.no_grad():
            _build(x, w)
        del loss, g, y
    found = gc.collect()
    assert found == 0, f"{found} objects were only reclaimable by the cyclic GC"
    assert _live_functions() == live_before


def test_retain_graph_then_release(no_gc):
    x = leaf(np.random.default_rng(0).standard_normal((4, 3)))
    w = leaf(np.random.default_rng(1).standard_normal((3, 3)))
    loss = _build(x, w)
    loss.backward(retain_graph=True)
    assert not any(n.freed for n in _graph_nodes(loss))
    loss.backward()
    assert all(n.freed for n in _graph_nodes(loss))
    nodes = [weakref.ref(n) for n in _graph_nodes(loss)]
    del loss
    assert not [r for r in nodes if r() is not None]


def test_deep_chain_is_freed_without_recursion(no_gc):
    x = leaf(np.ones(3))
    y = x
    for _ in range(20000):
        y = y * 1.0001
    first = weakref.ref(y.grad_fn)
    y.sum().backward()
    del y  # deallocating a 20,000-deep chain must not overflow the C stack either
    assert first() is None


@requires_nn
def test_cnn_training_memory_is_flat():
    """1,000 SGD steps of Conv2d + BatchNorm2d + ReLU + MaxPool2d + Linear on 8x8 inputs,
    batch 32: traced memory after step 100 and after step 1,000 differ by less than 5%, and
    no graph node outlives its step."""
    import nn
    import optim

    def build():
        autograd.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 10))
        return model, optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    rng = np.random.default_rng(0)
    x = autograd.tensor(rng.standard_normal((32, 1, 8, 8)).astype(np.float32))
    y = autograd.tensor(rng.integers(0, 10, 32))
    loss_fn = nn.CrossEntropyLoss()
    losses = np.zeros(1001)  # preallocated: a growing list would itself be measured
    count = [0]

    def step(model, opt):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses[count[0]] = loss.item()
        count[0] += 1

    step(*build())  # compile the kernels before tracing
    live_before = _live_functions()
    tracemalloc.start()
    try:
        model, opt = build()
        for _ in range(100):
            step(model, opt)
        gc.collect()
        at_100 = tracemalloc.get_traced_memory()[0]
        for _ in range(900):
            step(model, opt)
        gc.collect()
        at_1000 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert abs(at_1000 - at_100) < 0.05 * at_100, (at_100, at_1000)
    assert _live_functions() == live_before
    assert np.isfinite(losses).all() and losses[-1] < losses[1]
    assert count[0] == 1001
