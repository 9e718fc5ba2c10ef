"""Learning-rate schedulers: each lr sequence against its closed form, written out here."""
import math

import numpy as np
import pytest

import autograd
import optim
from optim import lr_scheduler

BASE_LRS = (0.1, 0.03)
EPOCHS = 30


def make_optimizer():
    params = [autograd.tensor([1.0], requires_grad=True) for _ in BASE_LRS]
    return optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, BASE_LRS)], lr=1.0)


def lr_sequence(make_scheduler, epochs=EPOCHS):
    """get_last_lr() after construction and after each of `epochs` steps, one list per epoch."""
    opt = make_optimizer()
    scheduler = make_scheduler(opt)
    lrs = [scheduler.get_last_lr()]
    for _ in range(epochs):
        opt.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr())
        assert lrs[-1] == [group["lr"] for group in opt.param_groups]
    assert scheduler.last_epoch == epochs
    return np.array(lrs)


def expected(formula, epochs=EPOCHS):
    return np.array([[formula(base, e) for base in BASE_LRS] for e in range(epochs + 1)])


CLOSED_FORMS = {
    "LambdaLR": (lambda opt: lr_scheduler.LambdaLR(opt, lambda e: 0.95 ** e),
                 lambda base, e: base * 0.95 ** e),
    "StepLR": (lambda opt: lr_scheduler.StepLR(opt, step_size=7, gamma=0.3),
               lambda base, e: base * 0.3 ** (e // 7)),
    # 10 is listed twice, so the lr drops by 0.5² there.
    "MultiStepLR": (lambda opt: lr_scheduler.MultiStepLR(opt, milestones=[3, 10, 10, 22],
                                                         gamma=0.5),
                    lambda base, e: base * 0.5 ** sum(m <= e for m in [3, 10, 10, 22])),
    "ExponentialLR": (lambda opt: lr_scheduler.ExponentialLR(opt, gamma=0.93),
                      lambda base, e: base * 0.93 ** e),
    # Over 30 epochs with T_max = 10: down to eta_min at 10, back up at 20, down at 30.
    "CosineAnnealingLR": (lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=10,
                                                                     eta_min=0.001),
                          lambda base, e: 0.001 + (base - 0.001) * (1 + math.cos(math.pi * e / 10))
                          / 2),
    "LinearLR": (lambda opt: lr_scheduler.LinearLR(opt),
                 lambda base, e: base * (1 / 3 + (1 - 1 / 3) * min(e, 5) / 5)),
    "LinearLR-decay": (lambda opt: lr_scheduler.LinearLR(opt, start_factor=0.8, end_factor=0.05,
                                                         total_iters=13),
                       lambda base, e: base * (0.8 + (0.05 - 0.8) * min(e, 13) / 13)),
}


@pytest.mark.parametrize("name", CLOSED_FORMS)
def test_lr_sequence_follows_the_closed_form(name):
    make_scheduler, formula = CLOSED_FORMS[name]
    np.testing.assert_allclose(lr_sequence(make_scheduler), expected(formula),
                               rtol=1e-12, atol=1e-16)


def test_step_lr_exact_values():
    lrs = lr_sequence(lambda opt: lr_scheduler.StepLR(opt, step_size=2, gamma=0.5), epochs=6)
    assert lrs[:, 0].tolist() == [0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125]


def test_lambda_lr_one_function_per_group():
    lrs = lr_sequence(lambda opt: lr_scheduler.LambdaLR(opt, [lambda e: 1 / (e + 1),
                                                              lambda e: 2.0]))
    np.testing.assert_allclose(lrs[:, 0], [0.1 / (e + 1) for e in range(EPOCHS + 1)], rtol=1e-15)
    np.testing.assert_allclose(lrs[:, 1], [0.06] * (EPOCHS + 1), rtol=1e-15)


def test_warm_up_then_cosine():
    def make(opt):
        warmup = lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=5)
        cosine = lr_scheduler.CosineAnnealingLR(opt, T_max=25, eta_min=1e-4)
        return lr_scheduler.SequentialLR(opt, [warmup, cosine], milestones=[5])

    def formula(base, e):
        if e < 5:  # linear from base/10 up towards base
            return base * (0.1 + 0.9 * e / 5)
        return 1e-4 + (base - 1e-4) * (1 + math.cos(math.pi * (e - 5) / 25)) / 2

    lrs = lr_sequence(make)
    np.testing.assert_allclose(lrs, expected(formula), rtol=1e-12)
    assert lrs[0, 0] == pytest.approx(0.01) and lrs[5, 0] == pytest.approx(0.1)
    assert lrs[30, 0] == pytest.approx(1e-4)


def test_construction_sets_initial_lr_and_takes_the_first_step():
    opt = make_optimizer()
    scheduler = lr_scheduler.LinearLR(opt, start_factor=0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == list(BASE_LRS)
    assert scheduler.base_lrs == list(BASE_LRS)
    assert scheduler.last_epoch == 0
    assert scheduler.get_last_lr() == [0.05, 0.015]
    # A second scheduler keeps the first one's initial_lr.
    second = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    assert second.base_lrs == list(BASE_LRS)


def test_resuming_needs_initial_lr():
    with pytest.raises(KeyError):
        lr_scheduler.StepLR(make_optimizer(), step_size=3, last_epoch=4)


def cosine_with_warmup(opt):
    return lr_scheduler.SequentialLR(opt, [lr_scheduler.LinearLR(opt, total_iters=3),
                                           lr_scheduler.CosineAnnealingLR(opt, T_max=8)], [3])


ROUND_TRIP = [
    lambda opt: lr_scheduler.LambdaLR(opt, lambda e: 1 / (1 + e)),
    lambda opt: lr_scheduler.StepLR(opt, step_size=4, gamma=0.5),
    lambda opt: lr_scheduler.MultiStepLR(opt, milestones=[2, 9, 9], gamma=0.2),
    lambda opt: lr_scheduler.ExponentialLR(opt, gamma=0.9),
    lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=6, eta_min=0.01),
    lambda opt: lr_scheduler.LinearLR(opt, start_factor=0.2, total_iters=10),
    cosine_with_warmup,
]


@pytest.mark.parametrize("make_scheduler", ROUND_TRIP,
                         ids=["LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR",
                              "CosineAnnealingLR", "LinearLR", "SequentialLR"])
def test_state_dict_round_trip(make_scheduler):
    opt = make_optimizer()
    scheduler = make_scheduler(opt)
    for _ in range(7):
        opt.step()
        scheduler.step()
    saved_opt, saved = opt.state_dict(), scheduler.state_dict()
    assert "optimizer" not in saved and not any(callable(v) for v in saved.values())

    # PyTorch's order: build the scheduler, then load the optimiser, then the scheduler.
    opt2 = make_optimizer()
    scheduler2 = make_scheduler(opt2)
    opt2.load_state_dict(saved_opt)
    scheduler2.load_state_dict(saved)
    assert scheduler2.last_epoch == 7 and scheduler2.get_last_lr() == scheduler.get_last_lr()
    for _ in range(10):
        for o, s in ((opt, scheduler), (opt2, scheduler2)):
            o.step()
            s.step()
        assert scheduler2.get_last_lr() == scheduler.get_last_lr()


def test_lambda_lr_state_dict_leaves_out_functions():
    scheduler = lr_scheduler.LambdaLR(make_optimizer(), lambda e: 0.5)
    assert scheduler.state_dict()["lr_lambdas"] == [None, None]


# ---------------------------------------------------------------- ReduceLROnPlateau

def plateau_lrs(metrics, **options):
    opt = make_optimizer()
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, **options)
    lrs = []
    for metric in metrics:
        opt.step()
        scheduler.step(metric)
        lrs.append(scheduler.get_last_lr()[0])
    return lrs, scheduler


def test_plateau_reduces_after_patience_bad_epochs():
    # Epoch 1 sets best = 1; epochs 2, 3 are bad (2 = patience); epoch 4 is the third: reduce.
    lrs, scheduler = plateau_lrs([1.0] * 7, patience=2, factor=0.5)
    assert lrs == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025], rel=1e-15)
    assert scheduler.best == 1.0 and scheduler.last_epoch == 7


def test_plateau_improvement_resets_the_count():
    lrs, _ = plateau_lrs([5, 5, 4, 4, 3, 3, 3, 3], patience=2, factor=0.5)
    assert lrs == pytest.approx([0.1] * 7 + [0.05], rel=1e-15)


def test_plateau_respects_cooldown():
    # patience 1: reduce at epoch 3; cooldown 2 ignores epochs 4 and 5; bad again at 6, 7.
    lrs, _ = plateau_lrs([1.0] * 9, patience=1, cooldown=2, factor=0.5)
    assert lrs == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025],
                                rel=1e-15)
    without, _ = plateau_lrs([1.0] * 5, patience=1, factor=0.5)
    assert without == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025], rel=1e-15)


def test_plateau_respects_min_lr_per_group():
    opt = make_optimizer()
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.1,
                                               min_lr=[0.002, 0.0])
    history = []
    for _ in range(4):
        scheduler.step(1.0)
        history.append(scheduler.get_last_lr())
    np.testing.assert_allclose(history, [[0.1, 0.03], [0.01, 0.003], [0.002, 0.0003],
                                         [0.002, 0.00003]], rtol=1e-12)


def test_plateau_mode_max_with_absolute_threshold():
    # An improvement must beat best + 0.5: 1 -> 1.4 is not one, 1 -> 1.6 is.
    lrs, scheduler = plateau_lrs([1.0, 1.4, 1.6, 1.9, 2.0], mode="max", threshold=0.5,
                                 threshold_mode="abs", patience=0, factor=0.5)
    assert lrs == pytest.approx([0.1, 0.05, 0.05, 0.025, 0.0125], rel=1e-15)
    assert scheduler.best == 1.6


def test_plateau_skips_reductions_smaller_than_eps():
    opt = optim.SGD([autograd.tensor([1.0], requires_grad=True)], lr=1.5e-8)
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    scheduler.step(1.0)
    scheduler.step(1.0)
    assert opt.param_groups[0]["lr"] == 1.5e-8


def test_plateau_state_dict_round_trip():
    _, scheduler = plateau_lrs([3.0, 2.0, 2.0, 2.0], patience=3, cooldown=1)
    saved = scheduler.state_dict()
    other = lr_scheduler.ReduceLROnPlateau(make_optimizer(), patience=3, cooldown=1)
    other.load_state_dict(saved)
    assert (other.best, other.num_bad_epochs, other.last_epoch) == (2.0, 2, 4)
    other.step(2.0)  # the third bad epoch: not yet more than patience
    other.step(2.0)
    assert other.get_last_lr() == pytest.approx([0.01, 0.003])


# ---------------------------------------------------------------- bad arguments

@pytest.mark.parametrize("build", [
    lambda opt: lr_scheduler.LinearLR(opt, start_factor=0.0),
    lambda opt: lr_scheduler.LinearLR(opt, start_factor=1.5),
    lambda opt: lr_scheduler.LinearLR(opt, end_factor=-0.1),
    lambda opt: lr_scheduler.LambdaLR(opt, [lambda e: 1.0]),
    lambda opt: lr_scheduler.ReduceLROnPlateau(opt, factor=1.0),
    lambda opt: lr_scheduler.ReduceLROnPlateau(opt, mode="average"),
    lambda opt: lr_scheduler.ReduceLROnPlateau(opt, threshold_mode="relative"),
    lambda opt: lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.0]),
    lambda opt: lr_scheduler.SequentialLR(opt, [lr_scheduler.StepLR(opt, 2)], milestones=[3]),
    lambda opt: lr_scheduler.SequentialLR(opt, [lr_scheduler.StepLR(make_optimizer(), 2),
                                                lr_scheduler.StepLR(opt, 2)], milestones=[3]),
    lambda opt: lr_scheduler.SequentialLR(opt, [lr_scheduler.ReduceLROnPlateau(opt)], []),
])
def test_bad_arguments_raise(build):
    with pytest.raises(ValueError):
        build(make_optimizer())


def test_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError):
        lr_scheduler.StepLR(object(), step_size=2)
