"""RAdam: trajectories against PyTorch 2.13 (both sides of the rectification switch),
the first step by hand, defaults, bad options."""
import re

import numpy as np
import pytest

import autograd
import optim

# PyTorch 2.13, default dtype float64: torch.optim.RAdam([x, W], **options) on the problem of
# conftest.py (the same hand-written gradients), 10 steps; x and W after steps 1, 5 and 10.
TORCH = [
    ({}, {
        1: ([0.50021, -0.99884, 1.991745],
            [[0.30022499999999996, -0.20045000000000002, 0.1009],
             [0.40025, 0.4995, -0.599]]),
        5: ([0.5010303616813385, -0.9942419752495499, 1.959286538972538],
            [[0.3011218430794339, -0.20223986157018953, 0.10446538589164014],
             [0.4012283155981022, 0.49754748115484715, -0.595110378626912]]),
        10: ([0.5012192595535258, -0.9940521123666197, 1.9590971733881892],
            [[0.301312038132774, -0.2024299285412364, 0.10465521349754704],
             [0.4014173410371975, 0.49735859857864495, -0.5949217629774182]]),
    }),
    ({"lr": 0.1, "betas": (0.8, 0.9), "weight_decay": 0.1}, {
        1: ([0.516, -0.874, 1.1545],
            [[0.3195, -0.243, 0.189],
             [0.42100000000000004, 0.445, -0.494]]),
        5: ([0.4621846720474248, -0.6645979583991204, 0.15483359743739644],
            [[0.39465586162711624, -0.3809258380106535, 0.3705723980424774],
             [0.3573531418040965, 0.4874114291197842, -0.4674473965042699]]),
        10: ([0.31231229929792187, -0.6809188681268864, 0.14674847413907074],
            [[0.5780624479144733, -0.564194201788796, 0.4556778268817784],
             [0.17976837793834508, 0.6504309926058703, -0.5040593595429006]]),
    }),
    ({"lr": 0.1, "betas": (0.8, 0.9), "weight_decay": 0.1, "decoupled_weight_decay": True}, {
        1: ([0.516, -0.874, 1.1544999999999999],
            [[0.3195, -0.243, 0.189],
             [0.42100000000000004, 0.445, -0.494]]),
        5: ([0.46251652237594587, -0.6671353267115802, 0.17178734422588593],
            [[0.393754056543774, -0.379300024642981, 0.3685112586629562],
             [0.357832078151177, 0.4874800172174573, -0.46938517514809414]]),
        10: ([0.31453384455950334, -0.6803374095513928, 0.15812920166929464],
            [[0.558655131970364, -0.5439044786743868, 0.45374819324917315],
             [0.17005080331867733, 0.6306563525147305, -0.5110041383161947]]),
    }),
    ({"lr": 0.05, "betas": (0.8, 0.9), "maximize": True}, {
        1: ([0.4895, -1.058, 2.41275],
            [[0.28875, -0.17750000000000002, 0.05500000000000001],
             [0.3875, 0.525, -0.65]]),
        5: ([0.35229893111192545, -1.5218675015533873, 9.568024431848627],
            [[0.22133175227653315, -0.010697859780302757, -0.43983941230161994],
             [0.23148506515307232, 0.932357374066996, -1.9580155151624097]]),
        10: ([0.2618031179125716, -1.6114969447751788, 9.65326970563028],
            [[0.12859676539849932, 0.07879951970479833, -0.525919830214821],
             [0.14125607076487745, 1.0202236647464162, -2.043157397305607]]),
    }),
]


@pytest.mark.parametrize("options,expected", TORCH, ids=[str(o) for o, _ in TORCH])
def test_trajectory_matches_pytorch(options, expected, problem, backend):
    trajectory = problem.run(lambda ps: optim.RAdam(ps, **options), steps=10)
    for step, (x, W) in expected.items():
        got_x, got_W = trajectory[step - 1]
        np.testing.assert_allclose(got_x, x, rtol=1e-12, err_msg=f"x after step {step}")
        np.testing.assert_allclose(got_W, W, rtol=1e-12, err_msg=f"W after step {step}")


def test_defaults_are_pytorchs():
    opt = optim.RAdam([autograd.tensor([1.0], requires_grad=True)])
    assert opt.defaults == {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0,
                "maximize": False, "foreach": None, "decoupled_weight_decay": False}


def test_state_has_pytorchs_keys():
    p = autograd.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.RAdam([p])
    p.grad = autograd.tensor([0.5, -0.5])
    opt.step()
    assert sorted(opt.state[p]) == ["exp_avg", "exp_avg_sq", "step"]
    assert opt.state[p]["step"] == 1


BAD_OPTIONS = [
    ({"lr": -1}, "Invalid learning rate: -1"),
    ({"lr": float("nan")}, "Invalid learning rate: nan"),
    ({"eps": -1.0}, "Invalid epsilon value: -1.0"),
    ({"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
    ({"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
    ({"weight_decay": -1}, "Invalid weight_decay value: -1"),
]


@pytest.mark.parametrize("options,message", BAD_OPTIONS, ids=[m for _, m in BAD_OPTIONS])
def test_bad_options_raise_as_pytorch(options, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        optim.RAdam([autograd.tensor([1.0], requires_grad=True)], **options)


def rho(t, beta2):
    rho_inf = 2 / (1 - beta2) - 1
    return rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)


def test_the_cases_cross_the_rectification_switch():
    # The trajectories above test both branches: for either β₂, steps 1 to 5 (recorded at 5)
    # are unrectified and steps 6 to 10 (recorded at 10) rectified.
    for beta2 in (0.999, 0.9):
        assert rho(5, beta2) < 5 < rho(6, beta2)


def test_first_update_is_plain_momentum():
    # ρ₁ = 1 < 5: θ ← θ − lr·m/(1 − β₁) = θ − lr·g, whatever the size of g
    g = np.array([4.0, -0.5, 0.0])
    p = autograd.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    opt = optim.RAdam([p], lr=0.1)
    p.grad = autograd.tensor(g)
    opt.step()
    np.testing.assert_allclose(p.data, [1.0 - 0.4, -2.0 + 0.05, 3.0], rtol=1e-14)
