"""Adam and AdamW: the first updates against the published rules, over a grid of options."""
import itertools

import numpy as np
import pytest

import autograd
import optim


def adam_reference(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                   decoupled=False):
    """PyTorch's documented Adam (decoupled=False) and AdamW (True) algorithms."""
    beta1, beta2 = betas

    def update(theta, g, state, t):
        if decoupled:
            theta = theta * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * theta
        m = state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
        v = state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g * g
        m_hat = m / (1 - beta1 ** t)
        if amsgrad:
            v = state["v_max"] = np.maximum(state.get("v_max", 0.0), v)
        v_hat = v / (1 - beta2 ** t)
        return theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return update


GRID = [{"amsgrad": a, "weight_decay": w} for a, w in itertools.product([False, True], [0.0, 0.1])]


@pytest.mark.parametrize("options", GRID, ids=str)
def test_adam_first_three_updates_follow_the_rule(options, problem, backend,
                                                  assert_same_trajectory):
    got = problem.run(lambda ps: optim.Adam(ps, lr=0.1, betas=(0.8, 0.9), **options))
    want = problem.reference(adam_reference(0.1, betas=(0.8, 0.9), **options))
    assert_same_trajectory(got, want)


@pytest.mark.parametrize("options", GRID, ids=str)
def test_adamw_first_three_updates_follow_the_rule(options, problem, backend,
                                                   assert_same_trajectory):
    got = problem.run(lambda ps: optim.AdamW(ps, lr=0.1, betas=(0.8, 0.9), **options))
    want = problem.reference(adam_reference(0.1, betas=(0.8, 0.9), decoupled=True, **options))
    assert_same_trajectory(got, want)


def test_first_adam_step_is_lr_times_sign():
    # After one step m̂ = g and v̂ = g², so θ moves by lr·g/(|g| + eps) ≈ lr·sign(g).
    p = autograd.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = autograd.tensor(np.array([4.0, -0.5, 0.0]))
    opt.step()
    np.testing.assert_allclose(p.data, [1 - 0.1 * 4 / (4 + 1e-8), -2 + 0.1 * 0.5 / (0.5 + 1e-8),
                                        3.0], rtol=1e-14)
    state = opt.state[p]
    assert state["step"] == 1
    np.testing.assert_allclose(state["exp_avg"], [0.4, -0.05, 0.0], rtol=1e-14)
    np.testing.assert_allclose(state["exp_avg_sq"], [0.016, 0.00025, 0.0], rtol=1e-12)


def test_adamw_defaults_decay_the_weights():
    # Zero gradient: Adam's step is 0/(0 + eps) = 0, so only the decay θ·(1 − lr·λ) acts.
    p = autograd.tensor(np.array([2.0]), requires_grad=True)
    opt = optim.AdamW([p], lr=0.1)
    assert opt.defaults["weight_decay"] == 1e-2
    p.grad = autograd.tensor(np.array([0.0]))
    opt.step()
    np.testing.assert_allclose(p.data, [2.0 * (1 - 0.1 * 1e-2)], rtol=1e-15)


def test_amsgrad_state():
    p = autograd.tensor([1.0], requires_grad=True)
    opt = optim.Adam([p], amsgrad=True)
    p.grad = autograd.tensor([1.0])
    opt.step()
    assert sorted(opt.state[p]) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]


@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW])
@pytest.mark.parametrize("options", [
    {"lr": -1e-3}, {"eps": -1e-8}, {"betas": (1.0, 0.999)}, {"betas": (0.9, -0.1)},
    {"betas": (-0.1, 0.999)}, {"betas": (0.9, 1.5)}, {"weight_decay": -0.01},
], ids=str)
def test_bad_options_raise(cls, options):
    p = autograd.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError):
        cls([p], **options)
