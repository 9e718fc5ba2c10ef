"""SGD: the first updates against the published rule, by hand, over a grid of options."""
import itertools

import numpy as np
import pytest

import autograd
import optim


def sgd_reference(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    """PyTorch's documented SGD algorithm, one parameter at a time."""
    def update(theta, g, state, t):
        g = g + weight_decay * theta
        if momentum != 0:
            b = g if t == 1 else momentum * state["b"] + (1 - dampening) * g
            state["b"] = b
            g = g + momentum * b if nesterov else b
        return theta - lr * g
    return update


GRID = [{"momentum": m, "dampening": d, "weight_decay": w, "nesterov": n}
        for m, d, w, n in itertools.product([0.0, 0.9], [0.0, 0.25], [0.0, 0.1], [False, True])
        if not (n and (m == 0 or d != 0))]


@pytest.mark.parametrize("options", GRID, ids=str)
def test_first_three_updates_follow_the_rule(options, problem, backend, assert_same_trajectory):
    got = problem.run(lambda ps: optim.SGD(ps, lr=0.05, **options))
    assert_same_trajectory(got, problem.reference(sgd_reference(0.05, **options)))


def test_first_update_by_hand():
    # θ = 1, ∇ = 2, λ = 0.5, lr = 0.1, μ = 0.9: g = 2 + 0.5 = 2.5, b₁ = g, θ₁ = 1 − 0.25 = 0.75.
    # Step 2 with ∇ = 2: g = 2 + 0.375 = 2.375, b₂ = 0.9·2.5 + 2.375 = 4.625, θ₂ = 0.2875.
    p = autograd.tensor(np.array([1.0]), requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.5)
    for expected_theta, expected_buf in [(0.75, 2.5), (0.2875, 4.625)]:
        p.grad = autograd.tensor(np.array([2.0]))
        opt.step()
        np.testing.assert_allclose(p.data, [expected_theta], rtol=1e-14)
        np.testing.assert_allclose(opt.state[p]["momentum_buffer"], [expected_buf], rtol=1e-14)


def test_maximize_ascends(problem, backend, assert_same_trajectory):
    # Maximising f is minimising −f: the same trajectory as plain SGD on the negated gradient.
    got = problem.run(lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, maximize=True))
    update = sgd_reference(0.05, momentum=0.9)
    negated = problem.reference(lambda theta, g, state, t: update(theta, -g, state, t))
    assert_same_trajectory(got, negated)


def test_no_momentum_keeps_no_state(backend):
    p = autograd.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = autograd.tensor([1.0, 1.0])
    opt.step()
    np.testing.assert_array_equal(p.data, np.array([0.9, 1.9], dtype=np.float32))
    assert not opt.state.get(p)


@pytest.mark.parametrize("options", [
    {"lr": -0.1}, {"momentum": -0.5}, {"weight_decay": -1e-4},
    {"nesterov": True}, {"nesterov": True, "momentum": 0.9, "dampening": 0.1},
], ids=str)
def test_bad_options_raise(options):
    p = autograd.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError):
        optim.SGD([p], **options)
