"""Adagrad: the first updates against the published rule, by hand, over a grid of options."""
import itertools

import numpy as np
import pytest

import autograd
import optim


def adagrad_reference(lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                      eps=1e-10):
    """PyTorch's documented Adagrad algorithm, one parameter at a time."""
    def update(theta, g, state, t):
        g = g + weight_decay * theta
        clr = lr / (1 + (t - 1) * lr_decay)
        state["sum"] = state.get("sum", np.full_like(theta, initial_accumulator_value)) + g * g
        return theta - clr * g / (np.sqrt(state["sum"]) + eps)
    return update


GRID = [{"lr_decay": d, "initial_accumulator_value": a, "weight_decay": w}
        for d, a, w in itertools.product([0.0, 0.3], [0.0, 0.5], [0.0, 0.1])]


@pytest.mark.parametrize("options", GRID, ids=str)
def test_first_three_updates_follow_the_rule(options, problem, backend, assert_same_trajectory):
    got = problem.run(lambda ps: optim.Adagrad(ps, lr=0.1, **options))
    assert_same_trajectory(got, problem.reference(adagrad_reference(0.1, **options)))


def test_first_update_by_hand():
    # s₁ = 0.25 + 3² = 9.25; θ₁ = 1 − 0.5·3/(√9.25 + eps). Step 2 (lr_decay 1): clr = 0.25.
    p = autograd.tensor(np.array([1.0]), requires_grad=True)
    opt = optim.Adagrad([p], lr=0.5, lr_decay=1.0, initial_accumulator_value=0.25)
    p.grad = autograd.tensor(np.array([3.0]))
    opt.step()
    theta1 = 1 - 0.5 * 3 / (np.sqrt(9.25) + 1e-10)
    np.testing.assert_allclose(p.data, [theta1], rtol=1e-14)
    opt.step()
    np.testing.assert_allclose(p.data, [theta1 - 0.25 * 3 / (np.sqrt(18.25) + 1e-10)], rtol=1e-14)
    assert opt.state[p]["step"] == 2
    np.testing.assert_allclose(opt.state[p]["sum"], [18.25], rtol=1e-15)


def test_state_exists_from_construction():
    # As in PyTorch, Adagrad creates its state (the accumulators) when it is built.
    p = autograd.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adagrad([p], initial_accumulator_value=0.1)
    assert opt.state[p]["step"] == 0
    np.testing.assert_array_equal(opt.state[p]["sum"], np.array([0.1, 0.1], dtype=np.float32))
    assert opt.state[p]["sum"].dtype == np.float32


@pytest.mark.parametrize("options", [
    {"lr": -0.1}, {"lr_decay": -0.1}, {"weight_decay": -1.0},
    {"initial_accumulator_value": -1.0}, {"eps": -1e-10},
], ids=str)
def test_bad_options_raise(options):
    p = autograd.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError):
        optim.Adagrad([p], **options)
