"""NAdam: trajectories against PyTorch 2.13, the momentum schedule, defaults, bad options."""
import re

import numpy as np
import pytest

import autograd
import optim

# PyTorch 2.13, default dtype float64: torch.optim.NAdam([x, W], **options) on the problem of
# conftest.py (the same hand-written gradients), 10 steps; x and W after steps 1, 5 and 10.
TORCH = [
    ({}, {
        1: ([0.5021129034560964, -0.997887096461504, 1.9978870964458488],
            [[0.30211290346280395, -0.20211290350975739, 0.10211290353323407],
             [0.40211290347219464, 0.4978870964855473, -0.5978870964644183]]),
        5: ([0.5079544218936756, -0.9919508693208735, 1.9919201086345197],
            [[0.3080392003018073, -0.20800925872028767, 0.10801430518519531],
             [0.408015686338338, 0.49201431607466567, -0.5920092596768975]]),
        10: ([0.515516573995334, -0.9840496926236694, 1.9839215521096196],
            [[0.315900609410148, -0.2157775345518959, 0.11579853174847496],
             [0.41579693320538336, 0.4843261571007785, -0.5843051617678086]]),
    }),
    ({"lr": 0.1, "weight_decay": 0.1}, {
        1: ([0.6056451712327156, -0.894354823002915, 1.8943548222894113],
            [[0.4056451724178377, -0.30564517537867425, 0.20564517664851437],
             [0.5056451728048164, 0.39435482408528255, -0.49435482316111373]]),
        5: ([0.3638828836588617, -0.6875324561790769, 1.6366867840841712],
            [[0.4354160436954919, -0.3766647730378145, 0.3066313379863915],
             [0.37468557949372294, 0.3697597354907181, -0.48826786847737547]]),
        10: ([0.20160135560263992, -0.49921958645499603, 1.350263732154351],
            [[0.3817639196296032, -0.44325560923108875, 0.4505803588713224],
             [0.162624050223912, 0.3741718203385385, -0.5456476744540361]]),
    }),
    ({"lr": 0.1, "weight_decay": 0.1, "decoupled_weight_decay": True}, {
        1: ([0.6006451728048163, -0.8843548230751955, 1.8743548222924384],
            [[0.4026451731401978, -0.3036451754878683, 0.2046451766617035],
             [0.5016451736097319, 0.3893548242773647, -0.48835482322091295]]),
        5: ([0.3796136019350248, -0.6646149722395351, 1.5572270333211387],
            [[0.507185296400718, -0.39357814008702363, 0.3053170749791749],
             [0.43217512691162174, 0.4089594822508987, -0.5105125298133727]]),
        10: ([0.23904301040305143, -0.4844256493062557, 1.22865296693587],
            [[0.6195935861730234, -0.5041112629012426, 0.4374544077179018],
             [0.3084439918352287, 0.48144075585512447, -0.6003880599653107]]),
    }),
    ({"lr": 0.05, "betas": (0.8, 0.9), "momentum_decay": 0.1, "maximize": True}, {
        1: ([0.44518816125296673, -1.054811840884605, 2.0548118412907224],
            [[0.2451881610789609, -0.14518815986092007, 0.045188159251899646],
             [0.34518816083535275, 0.5548118402608839, -0.6548118408090023]]),
        5: ([0.25153114996580134, -1.2558664701167714, 2.2396021175978427],
            [[0.05663584790201221, 0.06249880898088568, -0.16027561054989958],
             [0.15223211817016025, 0.7656796763915044, -0.863619676554344]]),
        10: ([0.19860397924100617, -1.56395159373538, 2.5135330209349],
            [[-0.1849447405249963, 0.37135078306469677, -0.46314549350094164],
             [-0.093359084517, 1.076122804405106, -1.1682809112396886]]),
    }),
]


@pytest.mark.parametrize("options,expected", TORCH, ids=[str(o) for o, _ in TORCH])
def test_trajectory_matches_pytorch(options, expected, problem, backend):
    trajectory = problem.run(lambda ps: optim.NAdam(ps, **options), steps=10)
    for step, (x, W) in expected.items():
        got_x, got_W = trajectory[step - 1]
        np.testing.assert_allclose(got_x, x, rtol=1e-12, err_msg=f"x after step {step}")
        np.testing.assert_allclose(got_W, W, rtol=1e-12, err_msg=f"W after step {step}")


def test_defaults_are_pytorchs():
    opt = optim.NAdam([autograd.tensor([1.0], requires_grad=True)])
    assert opt.defaults == {"lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0,
                "momentum_decay": 4e-3, "decoupled_weight_decay": False, "maximize": False,
                "foreach": None}


def test_state_has_pytorchs_keys():
    p = autograd.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.NAdam([p])
    p.grad = autograd.tensor([0.5, -0.5])
    opt.step()
    assert sorted(opt.state[p]) == ["exp_avg", "exp_avg_sq", "mu_product", "step"]
    assert opt.state[p]["step"] == 1


BAD_OPTIONS = [
    ({"lr": -1}, "Invalid learning rate: -1"),
    ({"lr": float("nan")}, "Invalid learning rate: nan"),
    ({"eps": -1.0}, "Invalid epsilon value: -1.0"),
    ({"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
    ({"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
    ({"weight_decay": -1}, "Invalid weight_decay value: -1"),
    ({"momentum_decay": -0.1}, "Invalid momentum_decay value: -0.1"),
]


@pytest.mark.parametrize("options,message", BAD_OPTIONS, ids=[m for _, m in BAD_OPTIONS])
def test_bad_options_raise_as_pytorch(options, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        optim.NAdam([autograd.tensor([1.0], requires_grad=True)], **options)


# PyTorch's state["mu_product"] after the 10 steps of the first and last cases above.
MU_PRODUCT = [(0, 0.0003435745719228685), (3, 0.0001304391577956513)]


@pytest.mark.parametrize("case,want", MU_PRODUCT)
def test_mu_product_matches_pytorch(case, want, problem):
    options = TORCH[case][0]
    params = [autograd.tensor(a, requires_grad=True) for a in problem.initial()]
    opt = optim.NAdam(params, **options)
    for _ in range(10):
        for p, g in zip(params, problem.grad([p.data for p in params])):
            p.grad = autograd.tensor(g)
        opt.step()
    for p in params:
        assert type(opt.state[p]["mu_product"]) is float
        assert opt.state[p]["mu_product"] == pytest.approx(want, rel=1e-14)


def test_first_update_by_hand():
    # μ₁ = β₁(1 − ½·0.96^ψ), μ₂ = β₁(1 − ½·0.96^2ψ); m = (1 − β₁)g, v = (1 − β₂)g²,
    # d = √(v/(1 − β₂)) + eps = |g| + eps,
    # θ ← θ − lr(1 − μ₁)/(1 − μ₁)·g/d − lr·μ₂/(1 − μ₁μ₂)·m/d
    beta1, psi, lr = 0.9, 4e-3, 0.1
    g = np.array([4.0, -0.5, 0.0])
    p = autograd.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    opt = optim.NAdam([p], lr=lr)
    p.grad = autograd.tensor(g)
    opt.step()
    mu1, mu2 = beta1 * (1 - 0.5 * 0.96 ** psi), beta1 * (1 - 0.5 * 0.96 ** (2 * psi))
    d = np.abs(g) + 1e-8
    want = np.array([1.0, -2.0, 3.0]) - lr * g / d - lr * mu2 / (1 - mu1 * mu2) * 0.1 * g / d
    np.testing.assert_allclose(p.data, want, rtol=1e-14)
    assert opt.state[p]["mu_product"] == mu1
