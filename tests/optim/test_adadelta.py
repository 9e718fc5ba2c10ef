"""Adadelta: trajectories against PyTorch 2.13, the first step by hand, defaults, bad options."""
import re

import numpy as np
import pytest

import autograd
import optim

# PyTorch 2.13, default dtype float64: torch.optim.Adadelta([x, W], **options) on the problem of
# conftest.py (the same hand-written gradients), 10 steps; x and W after steps 1, 5 and 10.
TORCH = [
    ({}, {
        1: ([0.5031619191862501, -0.9968377340902034, 1.9968377225718572],
            [[0.3031619653827114, -0.20316219958213028, 0.10316225814011666],
             [0.4031620247083094, 0.4968377855834875, -0.5968377381511013]]),
        5: ([0.5154922507792178, -0.9838801237867241, 1.9836870401209832],
            [[0.3160474345172648, -0.21586441245922663, 0.11589599206889373],
             [0.41589544215269875, 0.48428691237700117, -0.584255553596504]]),
        10: ([0.5285480498850823, -0.9678734715082461, 1.9668857094173258],
            [[0.33165204011240723, -0.23076677872023937, 0.13092158422797287],
             [0.4308148484523009, 0.47004666920015803, -0.5698963142314294]]),
    }),
    ({"lr": 0.5, "rho": 0.8, "weight_decay": 0.1}, {
        1: ([0.5011179248217342, -0.9988819677718185, 1.9988819660503494],
            [[0.30111796048949013, -0.20111801887231787, 0.10111803046006446],
             [0.40111797061352733, 0.4988819752510859, -0.5988819684988574]]),
        5: ([0.5059024027611504, -0.9939795060109796, 1.9939571167847692],
            [[0.3059984226983385, -0.20598119182185878, 0.10598888289068974],
             [0.4059748744312559, 0.49402513795415814, -0.5940237232699251]]),
        10: ([0.5119403092288181, -0.9873717598511496, 1.9872473292011301],
            [[0.31249855600793164, -0.21240628948006926, 0.11244906842469615],
             [0.41236205467832376, 0.4876302895239133, -0.587623270441603]]),
    }),
    ({"lr": 0.2, "eps": 0.0001, "maximize": True}, {
        1: ([0.4937459547459335, -1.0063222065419588, 2.0063245089157333],
            [[0.293736998994247, -0.193691003264905, 0.0936793451150144],
             [0.3937254419486184, 0.506311944030978, -0.6063213954124101]]),
        5: ([0.46454460763487465, -1.0341553994307098, 2.033358695243205],
            [[0.26609988496015063, -0.16503180012540367, 0.06510033580551464],
             [0.3655406530293858, 0.5354838030488999, -0.6354030652230482]]),
        10: ([0.4183988782249736, -1.0752189319139358, 2.0703178205452892],
            [[0.22611722151967784, -0.12016993676470614, 0.020883969052102262],
             [0.32343248459100316, 0.5825603421311217, -0.6818003685138871]]),
    }),
]


@pytest.mark.parametrize("options,expected", TORCH, ids=[str(o) for o, _ in TORCH])
def test_trajectory_matches_pytorch(options, expected, problem, backend):
    trajectory = problem.run(lambda ps: optim.Adadelta(ps, **options), steps=10)
    for step, (x, W) in expected.items():
        got_x, got_W = trajectory[step - 1]
        np.testing.assert_allclose(got_x, x, rtol=1e-12, err_msg=f"x after step {step}")
        np.testing.assert_allclose(got_W, W, rtol=1e-12, err_msg=f"W after step {step}")


def test_defaults_are_pytorchs():
    opt = optim.Adadelta([autograd.tensor([1.0], requires_grad=True)])
    assert opt.defaults == {"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0, "maximize": False,
                "foreach": None}


def test_state_has_pytorchs_keys():
    p = autograd.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adadelta([p])
    p.grad = autograd.tensor([0.5, -0.5])
    opt.step()
    assert sorted(opt.state[p]) == ["acc_delta", "square_avg", "step"]
    assert opt.state[p]["step"] == 1


BAD_OPTIONS = [
    ({"lr": -1}, "Invalid learning rate: -1"),
    ({"lr": float("nan")}, "Invalid learning rate: nan"),
    ({"rho": 1.5}, "Invalid rho value: 1.5"),
    ({"eps": -1e-6}, "Invalid epsilon value: -1e-06"),
    ({"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
]


@pytest.mark.parametrize("options,message", BAD_OPTIONS, ids=[m for _, m in BAD_OPTIONS])
def test_bad_options_raise_as_pytorch(options, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        optim.Adadelta([autograd.tensor([1.0], requires_grad=True)], **options)


def test_first_update_by_hand():
    # v = (1 − ρ)·g², Δ = √(0 + eps)/√(v + eps)·g, u = (1 − ρ)·Δ², θ ← θ − lr·Δ
    g = np.array([4.0, -0.5, 0.0])
    p = autograd.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    opt = optim.Adadelta([p], lr=0.5, rho=0.8, eps=1e-4)
    p.grad = autograd.tensor(g)
    opt.step()
    delta = np.sqrt(1e-4) / np.sqrt(0.2 * g * g + 1e-4) * g
    np.testing.assert_allclose(p.data, [1.0, -2.0, 3.0] - 0.5 * delta, rtol=1e-14)
    np.testing.assert_allclose(opt.state[p]["square_avg"], 0.2 * g * g, rtol=1e-14)
    np.testing.assert_allclose(opt.state[p]["acc_delta"], 0.2 * delta * delta, rtol=1e-14)
