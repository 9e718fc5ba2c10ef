"""Tensor.register_post_accumulate_grad_hook: runs after .grad holds the accumulated sum."""
import numpy as np
import pytest

import autograd


def test_hook_sees_accumulated_grad_after_each_backward():
    w = autograd.tensor(np.array([1.0, 2.0]), requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.data.copy()))
    (w * w).sum().backward()          # d/dw = 2w = [2, 4]
    (3.0 * w).sum().backward()        # + 3 -> [5, 7]: the hook sees the running sum
    np.testing.assert_array_equal(seen[0], [2.0, 4.0])
    np.testing.assert_array_equal(seen[1], [5.0, 7.0])


def test_hook_runs_once_per_backward_for_a_leaf_used_twice():
    w = autograd.tensor(np.array([3.0]), requires_grad=True)
    calls = []
    w.register_post_accumulate_grad_hook(lambda t: calls.append(float(t.grad.data[0])))
    (w * w + w * 5.0).sum().backward()     # both uses summed before the leaf: 2*3 + 5
    assert calls == [11.0]


def test_hook_runs_before_the_rest_of_backward_and_can_be_removed():
    a = autograd.tensor(np.array([1.0]), requires_grad=True)
    b = autograd.tensor(np.array([2.0]), requires_grad=True)
    order = []
    ha = a.register_post_accumulate_grad_hook(lambda t: order.append("a"))
    b.register_post_accumulate_grad_hook(lambda t: order.append("b"))
    # b is used only at the top of the graph, a at the bottom: b's gradient is final first
    ((a.exp() * 2.0).sin() * b).sum().backward()
    assert order == ["b", "a"]
    ha.remove()
    ((a.exp() * 2.0).sin() * b).sum().backward()
    assert order == ["b", "a", "b"]


def test_hook_not_called_by_autograd_grad():
    w = autograd.tensor(np.array([1.0]), requires_grad=True)
    calls = []
    w.register_post_accumulate_grad_hook(lambda t: calls.append(1))
    autograd.grad((w * w).sum(), [w])
    assert calls == [] and w.grad is None


def test_registration_errors():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        autograd.tensor([1.0]).register_post_accumulate_grad_hook(lambda t: None)
    w = autograd.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2.0).register_post_accumulate_grad_hook(lambda t: None)
