"""RMSprop: the first updates against the published rule, by hand, over a grid of options."""
import itertools

import numpy as np
import pytest

import autograd
import optim


def rmsprop_reference(lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    """PyTorch's documented RMSprop algorithm, one parameter at a time."""
    def update(theta, g, state, t):
        g = g + weight_decay * theta
        v = alpha * state.get("v", 0.0) + (1 - alpha) * g * g
        state["v"] = v
        if centered:
            state["m"] = alpha * state.get("m", 0.0) + (1 - alpha) * g
            v = v - state["m"] ** 2
        if momentum > 0:
            state["b"] = momentum * state.get("b", 0.0) + g / (np.sqrt(v) + eps)
            return theta - lr * state["b"]
        return theta - lr * g / (np.sqrt(v) + eps)
    return update


GRID = [{"momentum": m, "centered": c, "weight_decay": w}
        for m, c, w in itertools.product([0.0, 0.9], [False, True], [0.0, 0.1])]


@pytest.mark.parametrize("options", GRID, ids=str)
def test_first_three_updates_follow_the_rule(options, problem, backend, assert_same_trajectory):
    got = problem.run(lambda ps: optim.RMSprop(ps, lr=0.01, alpha=0.9, **options))
    assert_same_trajectory(got, problem.reference(rmsprop_reference(0.01, alpha=0.9, **options)))


def test_first_update_by_hand():
    # v₁ = 0.1·4 = 0.4, θ₁ = 1 − 0.01·2/(√0.4 + 1e-8); centered: m₁ = 0.2, d = √(0.4 − 0.04).
    for centered, denom in [(False, np.sqrt(0.4)), (True, np.sqrt(0.36))]:
        p = autograd.tensor(np.array([1.0]), requires_grad=True)
        opt = optim.RMSprop([p], lr=0.01, alpha=0.9, centered=centered)
        p.grad = autograd.tensor(np.array([2.0]))
        opt.step()
        np.testing.assert_allclose(p.data, [1 - 0.01 * 2 / (denom + 1e-8)], rtol=1e-14)
        np.testing.assert_allclose(opt.state[p]["square_avg"], [0.4], rtol=1e-14)
        assert sorted(opt.state[p]) == (["grad_avg", "square_avg", "step"] if centered
                                        else ["square_avg", "step"])


@pytest.mark.parametrize("options", [
    {"lr": -0.1}, {"eps": -1e-8}, {"momentum": -0.1}, {"weight_decay": -0.1},
    {"alpha": -0.5},
], ids=str)
def test_bad_options_raise(options):
    p = autograd.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError):
        optim.RMSprop([p], **options)
