"""The reverse-mode engine: walk the graph from the outputs back to the leaves.

A node is anything with `next` (its input edges): a Function (an op in the graph), whose
backward gives one gradient per edge, or a leaf Tensor that requires grad (`next == ()`),
where the walk ends and the gradient accumulates into `.grad`. The engine tells them apart
by `isinstance(node, Function)` and never names Tensor (`autograd.wrap` makes the
Tensors it needs), so it sits below tensor.py, which imports it. The walk is
iterative: one explicit-stack pass counts each node's incoming edges, then nodes run in
dependency order (Kahn's algorithm), so a node sees the sum of all its gradient contributions
exactly once, and a chain of any length never recurses. Gradients are dropped as soon as they
are consumed, and each node's saved arrays are released unless retain_graph=True.
"""
from __future__ import annotations

import numpy as np

from . import anomaly, trace
from .function import _FREED, Function
from .grad_mode import _state as _grad_mode
from .wrap import is_tensor, wrap


def _count_dependencies(roots: list) -> dict:
    """Number of incoming edges of every node reachable from the roots (explicit stack)."""
    deps = {node: 0 for node in roots}
    stack = list(roots)
    while stack:
        node = stack.pop()
        for child in node.next:
            if child is None:
                continue
            if child in deps:
                deps[child] += 1
            else:
                deps[child] = 1
                stack.append(child)
    return deps


def _accumulate(pending: dict, node, grad) -> None:
    prev = pending.get(node)
    pending[node] = grad if prev is None else prev + grad


def _apply_hooks(hooks, grad):
    for hook in hooks or ():
        out = hook(grad)
        if out is not None:
            grad = out
    return grad


def run_backward(outputs: list, grad_outputs: list, retain_graph: bool, create_graph: bool,
                 inputs: list | None = None) -> list | None:
    """Propagate `grad_outputs` from `outputs` to the graph's leaves.

    Without `inputs`, gradients accumulate into the leaves' `.grad`. With `inputs`, nothing
    is accumulated and the gradient reaching each input is returned (None if none did).
    """
    if len(outputs) == 1:  # the common single output (`loss.backward()`), spelled out
        roots = [outputs[0].grad_fn if outputs[0].grad_fn is not None else outputs[0]]
        pending = {roots[0]: grad_outputs[0]}
    else:
        roots, pending = [], {}
        for t, g in zip(outputs, grad_outputs):
            node = t.grad_fn if t.grad_fn is not None else t
            roots.append(node)
            _accumulate(pending, node, g)
        roots = list(dict.fromkeys(roots))
    capture = None if inputs is None else {
        (t.grad_fn if t.grad_fn is not None else t): None for t in inputs}
    deps = _count_dependencies(roots)
    ready = [n for n in roots if deps[n] == 0]
    previous_mode = _grad_mode.enabled
    _grad_mode.enabled = create_graph
    recording, checks = trace.ACTIVE, anomaly.state  # looked up once, read per node
    try:
        while ready:
            node = ready.pop()
            grad = pending.pop(node, None)
            if not isinstance(node, Function):  # a leaf: accumulate, the walk ends here
                if grad is not None:
                    _finish_leaf(node, grad, capture, create_graph)
                continue
            if grad is None:  # no gradient reached this node: only release its children
                for child in node.next:
                    if child is not None:
                        n = deps[child] - 1
                        deps[child] = n
                        if not n:
                            ready.append(child)
                continue
            # the node's step written out here: one Python frame less per node (issue 15)
            if node._hooks or node._retained is not None or capture is not None:
                grad = _before_node(node, grad, capture)
            if node.freed:
                raise RuntimeError(_FREED)
            # a recording sees each backward as a region (the wrapper's call stays off eager
            # steps)
            grads = node.backward(grad) if recording[0] is None else _backward(node, grad)
            if type(grads) is not tuple:
                grads = (grads,)
            if checks.enabled:
                anomaly.check_finite([None if g is None else g.data for g in grads],
                                     f"Function '{node.name}' (created at {node.created_at})")
            if not retain_graph:
                node.release()
            for child, g in zip(node.next, grads):
                if child is None:
                    continue
                if g is not None:
                    dt = g.data.dtype
                    if dt is not child.dtype and dt != child.dtype:  # float32 met float64
                        g = g.astype(child.dtype)
                    prev = pending.get(child)
                    pending[child] = g if prev is None else prev + g
                n = deps[child] - 1
                deps[child] = n
                if not n:
                    ready.append(child)
    finally:
        _grad_mode.enabled = previous_mode
    if capture is None:
        return None
    return [capture[t.grad_fn if t.grad_fn is not None else t] for t in inputs]


def _before_node(node: Function, grad, capture):
    """A node's hooks, retain_grad and capture (autograd.grad's inputs), before its backward;
    returns the gradient the hooks leave."""
    if node._hooks:
        grad = _apply_hooks(node._hooks, grad)
    if node._retained is not None:
        t = node._retained()
        if t is not None:
            _store_grad(t, grad, False)
    if capture is not None and node in capture:
        capture[node] = grad
    return grad


def _resave(node: Function, grad) -> None:
    node.resave()


@trace.region(prepare=_resave)
def _backward(node: Function, grad):
    """node.backward(grad): a region of a recording (see `trace.region`)."""
    return node.backward(grad)


@trace.replayable(keeps=lambda leaf, grad, capture, create_graph:
                  [(leaf, "grad")] if capture is None else [])
def _finish_leaf(leaf, grad, capture, create_graph: bool) -> None:
    grad = _apply_hooks(leaf._hooks, grad)
    if capture is not None:
        if leaf in capture:
            capture[leaf] = grad
        return
    _store_grad(leaf, grad, create_graph)
    post_hooks = getattr(leaf, "_post_hooks", None)  # register_post_accumulate_grad_hook
    if post_hooks:
        for hook in list(post_hooks):
            hook(leaf)


def _store_grad(t, grad, create_graph: bool) -> None:
    """t.grad += grad: a tensor of its own the first time, in place later (unless
    create_graph, where the sum must stay differentiable)."""
    if grad.data.shape != t.data.shape:
        grad = grad.broadcast_to(t.shape) if grad.ndim <= t.ndim else grad.reshape(t.shape)
    if t._grad is None:  # the slot itself: the property is for users
        t.grad = grad.clone() if create_graph else wrap(
            grad.data.astype(t.dtype, copy=True))  # np.array(copy=True); a cuda array too
    elif create_graph or t.grad.requires_grad:
        t.grad = t.grad + grad
    else:
        t.grad.data += grad.data


def implicit_grad(out, gradient):
    """The gradient that starts backward from `out`: ones for a scalar, else as given."""
    if gradient is None:
        if out.data.size != 1:
            raise RuntimeError(f"backward: grad can be implicitly created only for scalar "
                               f"outputs (this output has shape {out.shape})")
        d = out.data  # a 0-d numpy array: np.array, ~5x cheaper than np.ones_like (issue 15)
        ones = wrap(np.array(1, d.dtype) if type(d) is np.ndarray and d.ndim == 0
                    else np.ones_like(d))  # on out's device
        trace.constant(ones.data)
        return ones
    g = gradient if is_tensor(gradient) else wrap(np.asarray(gradient, dtype=out.dtype))
    if g.shape != out.shape:
        raise RuntimeError(f"backward: gradient of shape {g.shape} does not match the output "
                           f"of shape {out.shape}")
    return g


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """Gradients of `outputs` with respect to `inputs`, returned (not stored in `.grad`).

    With create_graph=True the results are themselves differentiable (any order)."""
    outputs = [outputs] if is_tensor(outputs) else list(outputs)
    inputs = [inputs] if is_tensor(inputs) else list(inputs)
    if grad_outputs is None or is_tensor(grad_outputs):
        grad_outputs = [grad_outputs] * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} "
                         f"outputs")
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError(f"grad: one of the differentiated tensors (shape {t.shape}) does "
                               f"not require grad")
    for t in outputs:
        if not t.requires_grad:
            raise RuntimeError(f"grad: an output (shape {t.shape}) does not require grad and "
                               f"does not have a grad_fn")
    grads = [implicit_grad(o, g) for o, g in zip(outputs, grad_outputs)]
    result = run_backward(outputs, grads, create_graph if retain_graph is None else retain_graph,
                          create_graph, inputs)
    for i, (t, g) in enumerate(zip(inputs, result)):
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) was not used in the graph of "
                               f"the outputs; pass allow_unused=True to get None for it")
        if g is not None and g.shape != t.shape:
            result[i] = g.broadcast_to(t.shape)
    return tuple(result)
