"""After backward (without retain_graph) every node of the graph keeps only the graph's
shape: Function.release drops whatever forward saved, for every op (conv2d's patches,
batch norm's xhat/invstd, cross entropy's probabilities included), so no op needs its own
release()."""
import numpy as np

import autograd
import nn.functional as F

KEPT = {"next", "dtype", "_hooks", "_retained", "created_at", "freed"}


def _nodes(t):
    seen, stack = [], [t.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or not isinstance(node, autograd.function.Function) or node in seen:
            continue
        seen.append(node)
        stack.extend(node.next)
    return seen


def test_backward_leaves_only_the_graph_shape_in_every_node():
    rng = np.random.default_rng(0)
    x = autograd.tensor(rng.standard_normal((2, 3, 5, 5)), requires_grad=True)
    w = autograd.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    gamma = autograd.tensor(np.ones(4), requires_grad=True)
    beta = autograd.tensor(np.zeros(4), requires_grad=True)
    h = F.conv2d(x, w, padding=1)
    h = F.batch_norm(h, None, None, gamma, beta, training=True)
    loss = F.cross_entropy(h.mean((2, 3)), autograd.tensor(np.array([1, 3])))
    nodes = _nodes(loss)
    names = {type(n).__name__ for n in nodes}
    assert {"Conv2d", "BatchNorm", "CrossEntropyIndex"} <= names, names
    loss.backward()
    assert x.grad is not None and w.grad is not None and gamma.grad is not None
    for node in nodes:
        assert node.freed
        assert set(vars(node)) <= KEPT, (type(node).__name__, set(vars(node)) - KEPT)
