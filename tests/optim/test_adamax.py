"""Adamax: trajectories against PyTorch 2.13, the first step by hand, defaults, bad options."""
import re

import numpy as np
import pytest

import autograd
import optim

# PyTorch 2.13, default dtype float64: torch.optim.Adamax([x, W], **options) on the problem of
# conftest.py (the same hand-written gradients), 10 steps; x and W after steps 1, 5 and 10.
TORCH = [
    ({}, {
        1: ([0.501999999904762, -0.9980000000172414, 1.9980000000024227],
            [[0.3019999999111111, -0.20199999995555556, 0.10199999997777778],
             [0.40199999992, 0.49800000004, -0.59800000002]]),
        5: ([0.5097216050425489, -0.9900865501130045, 1.9900209163004552],
            [[0.30989322363011035, -0.20983066476808723, 0.10984111323154527],
             [0.4098445717301864, 0.4902172990095196, -0.5902069655695918]]),
        10: ([0.5186704316067243, -0.9804070047254683, 1.9801026966381363],
            [[0.3194867480769012, -0.21920472340758718, 0.11925201890156228],
             [0.4192560415665802, 0.48101955565010784, -0.5809733401307396]]),
    }),
    ({"lr": 0.1, "betas": (0.8, 0.9), "weight_decay": 0.1}, {
        1: ([0.5999999937500003, -0.9000000007936508, 1.9000000001182733],
            [[0.3999999948717951, -0.29999999767441865, 0.19999999887640452],
             [0.49999999523809546, 0.4000000018181818, -0.5000000009433961]]),
        5: ([0.3824210592994685, -0.5933861637274722, 1.4948251726624364],
            [[0.46609430545120545, -0.41484102585824656, 0.3353985670584386],
             [0.409222709637287, 0.33666674887614484, -0.4620950864004713]]),
        10: ([0.10245299706743824, -0.37726406963570935, 1.0200058827972314],
            [[0.414311911485363, -0.49081611550443277, 0.49985043056265654],
             [0.03657842133474749, 0.45546334852954584, -0.6673832826026918]]),
    }),
    ({"lr": 0.05, "maximize": True}, {
        1: ([0.4500000023809523, -1.0499999995689655, 2.0499999999394305],
            [[0.25000000222222213, -0.15000000111111111, 0.05000000055555556],
             [0.3500000019999999, 0.549999999, -0.6499999995]]),
        5: ([0.28300551191101675, -1.2135431444154186, 2.2320994950569784],
            [[0.07364115292043788, 0.004044830680994885, -0.1064782827949069],
             [0.17992146931653577, 0.6993557766180936, -0.8016119644583699]]),
        10: ([0.10742267641669581, -1.3868603333937704, 2.436124166502413],
            [[-0.1486033769709264, 0.1717681951576596, -0.2784298682037919],
             [-0.03953898623111117, 0.8633665483378159, -0.9696195871007457]]),
    }),
]


@pytest.mark.parametrize("options,expected", TORCH, ids=[str(o) for o, _ in TORCH])
def test_trajectory_matches_pytorch(options, expected, problem, backend):
    trajectory = problem.run(lambda ps: optim.Adamax(ps, **options), steps=10)
    for step, (x, W) in expected.items():
        got_x, got_W = trajectory[step - 1]
        np.testing.assert_allclose(got_x, x, rtol=1e-12, err_msg=f"x after step {step}")
        np.testing.assert_allclose(got_W, W, rtol=1e-12, err_msg=f"W after step {step}")


def test_defaults_are_pytorchs():
    opt = optim.Adamax([autograd.tensor([1.0], requires_grad=True)])
    assert opt.defaults == {"lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0,
                "foreach": None, "maximize": False}


def test_state_has_pytorchs_keys():
    p = autograd.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adamax([p])
    p.grad = autograd.tensor([0.5, -0.5])
    opt.step()
    assert sorted(opt.state[p]) == ["exp_avg", "exp_inf", "step"]
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
        optim.Adamax([autograd.tensor([1.0], requires_grad=True)], **options)


def test_first_update_by_hand():
    # m = (1 − β₁)·g, u = max(0, |g| + eps), θ ← θ − lr/(1 − β₁)·m/u = θ − lr·g/(|g| + eps)
    g = np.array([4.0, -0.5, 0.0])
    p = autograd.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    opt = optim.Adamax([p], lr=0.1, eps=1e-3)
    p.grad = autograd.tensor(g)
    opt.step()
    np.testing.assert_allclose(p.data, [1.0, -2.0, 3.0] - 0.1 * g / (np.abs(g) + 1e-3),
                               rtol=1e-14)
    np.testing.assert_allclose(opt.state[p]["exp_inf"], np.abs(g) + 1e-3, rtol=1e-15)
    # a smaller gradient next: u keeps the decayed maximum, β₂·u
    p.grad = autograd.tensor(g / 100)
    opt.step()
    np.testing.assert_allclose(opt.state[p]["exp_inf"][:2], 0.999 * (np.abs(g[:2]) + 1e-3),
                               rtol=1e-15)
