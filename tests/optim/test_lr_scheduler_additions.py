"""The schedulers of optim/schedules_*.py (OneCycleLR, CosineAnnealingWarmRestarts,
PolynomialLR, ConstantLR, MultiplicativeLR, ChainedScheduler): lr sequences recorded from
PyTorch 2.13, checkpoints, bad arguments."""
import re

import numpy as np
import pytest

import autograd
import optim
from optim import lr_scheduler

BASE_LRS = (0.1, 0.03)


def make_optimizer(cls=optim.SGD):
    params = [autograd.tensor([1.0], requires_grad=True) for _ in BASE_LRS]
    return cls([{"params": [p], "lr": lr} for p, lr in zip(params, BASE_LRS)], lr=1.0)


# PyTorch 2.13: the same scheduler on torch.optim.SGD with the same two groups; get_last_lr()
# after construction and after each step, and (OneCycleLR) each group's momentum.
TORCH_SEQUENCES = {
    "OneCycleLR": (
        lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=[0.5, 0.2], total_steps=12),
        [
            [0.020000000000000018, 0.008000000000000007],
            [0.17489482710979154, 0.0699579308439166],
            [0.43964257956106434, 0.17585703182442575],
            [0.49720771772545586, 0.19888308709018238],
            [0.46650648492070584, 0.18660259396828235],
            [0.4058728269748815, 0.1623491307899526],
            [0.32368949884755166, 0.12947579953902066],
            [0.23131855133348753, 0.09252742053339501],
            [0.14153049910434962, 0.056612199641739844],
            [0.0667387650944153, 0.02669550603776612],
            [0.01728349371269761, 0.006913397485079045],
            [2e-06, 8e-07],
            [0.017283493712697582, 0.006913397485079033],
        ],
        [
            [0.95, 0.95],
            [0.9177302443521267, 0.9177302443521267],
            [0.8625744625914449, 0.8625744625914449],
            [0.8505584586887436, 0.8505584586887436],
            [0.856698729810778, 0.856698729810778],
            [0.8688255099070633, 0.8688255099070633],
            [0.8852622412794547, 0.8852622412794547],
            [0.9037365046793212, 0.9037365046793212],
            [0.9216941869558779, 0.9216941869558779],
            [0.9366525935914912, 0.9366525935914912],
            [0.9465436874322102, 0.9465436874322102],
            [0.95, 0.95],
            [0.9465436874322102, 0.9465436874322102],
        ],
    ),
    "OneCycleLR-three-phase-linear": (
        lambda opt: lr_scheduler.OneCycleLR(
            opt, max_lr=0.3, epochs=3, steps_per_epoch=4, pct_start=0.25,
            anneal_strategy="linear", three_phase=True, div_factor=10.0, final_div_factor=100.0,
            base_momentum=0.8, max_momentum=0.9),
        [
            [0.03, 0.03],
            [0.165, 0.165],
            [0.30000000000000004, 0.30000000000000004],
            [0.16499999999999998, 0.16499999999999998],
            [0.02999999999999997, 0.02999999999999997],
            [0.025757142857142857, 0.025757142857142857],
            [0.021514285714285715, 0.021514285714285715],
            [0.017271428571428573, 0.017271428571428573],
            [0.013028571428571431, 0.013028571428571431],
            [0.008785714285714286, 0.008785714285714286],
            [0.004542857142857147, 0.004542857142857147],
            [0.00030000000000000165, 0.00030000000000000165],
            [-0.003942857142857137, -0.003942857142857137],
        ],
        [
            [0.9, 0.9],
            [0.8500000000000001, 0.8500000000000001],
            [0.8, 0.8],
            [0.8500000000000001, 0.8500000000000001],
            [0.9, 0.9],
            [0.9, 0.9],
            [0.9, 0.9],
            [0.9, 0.9],
            [0.9, 0.9],
            [0.9, 0.9],
            [0.9, 0.9],
            [0.9, 0.9],
            [0.9, 0.9],
        ],
    ),
    "CosineAnnealingWarmRestarts": (
        lambda opt: lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2, eta_min=0.01),
        [
            [0.1, 0.03],
            [0.0775, 0.024999999999999998],
            [0.032500000000000015, 0.015000000000000003],
            [0.1, 0.03],
            [0.09397114317029975, 0.028660254037844383],
            [0.0775, 0.024999999999999998],
            [0.05500000000000001, 0.019999999999999997],
            [0.032500000000000015, 0.015000000000000003],
            [0.01602885682970026, 0.011339745962155614],
            [0.1, 0.03],
            [0.09846666218300808, 0.029659258262890682],
            [0.09397114317029975, 0.028660254037844383],
            [0.08681980515339464, 0.027071067811865475],
            [0.0775, 0.024999999999999998],
            [0.06664685702961344, 0.022588190451025204],
            [0.05500000000000001, 0.019999999999999997],
            [0.04335314297038658, 0.017411809548974793],
            [0.032500000000000015, 0.015000000000000003],
            [0.023180194846605363, 0.012928932188134526],
            [0.01602885682970026, 0.011339745962155614],
            [0.011533337816991932, 0.010340741737109319],
        ],
        None,
    ),
    "CosineAnnealingWarmRestarts-T_mult-1": (
        lambda opt: lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=4),
        [
            [0.1, 0.03],
            [0.08535533905932738, 0.02560660171779821],
            [0.05, 0.015],
            [0.014644660940672627, 0.004393398282201788],
            [0.1, 0.03],
            [0.08535533905932738, 0.02560660171779821],
            [0.05, 0.015],
            [0.014644660940672627, 0.004393398282201788],
            [0.1, 0.03],
            [0.08535533905932738, 0.02560660171779821],
            [0.05, 0.015],
        ],
        None,
    ),
    "PolynomialLR": (
        lambda opt: lr_scheduler.PolynomialLR(opt, total_iters=6, power=2.0),
        [
            [0.1, 0.03],
            [0.06944444444444446, 0.020833333333333336],
            [0.04444444444444447, 0.013333333333333338],
            [0.02500000000000001, 0.007500000000000001],
            [0.011111111111111117, 0.0033333333333333344],
            [0.0027777777777777775, 0.0008333333333333331],
            [0.0, 0.0],
            [0.0, 0.0],
            [0.0, 0.0],
            [0.0, 0.0],
        ],
        None,
    ),
    "PolynomialLR-default": (
        lambda opt: lr_scheduler.PolynomialLR(opt),
        [
            [0.1, 0.03],
            [0.08000000000000002, 0.024],
            [0.060000000000000005, 0.018],
            [0.04000000000000001, 0.012],
            [0.02, 0.005999999999999998],
            [0.0, 0.0],
            [0.0, 0.0],
            [0.0, 0.0],
        ],
        None,
    ),
    "ConstantLR": (
        lambda opt: lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=4),
        [
            [0.05, 0.015],
            [0.05, 0.015],
            [0.05, 0.015],
            [0.05, 0.015],
            [0.1, 0.03],
            [0.1, 0.03],
            [0.1, 0.03],
            [0.1, 0.03],
        ],
        None,
    ),
    "ConstantLR-default": (
        lambda opt: lr_scheduler.ConstantLR(opt),
        [
            [0.03333333333333333, 0.009999999999999998],
            [0.03333333333333333, 0.009999999999999998],
            [0.03333333333333333, 0.009999999999999998],
            [0.03333333333333333, 0.009999999999999998],
            [0.03333333333333333, 0.009999999999999998],
            [0.1, 0.029999999999999995],
            [0.1, 0.029999999999999995],
            [0.1, 0.029999999999999995],
        ],
        None,
    ),
    "MultiplicativeLR": (
        lambda opt: lr_scheduler.MultiplicativeLR(opt, [lambda e: 0.9, lambda e: 1 - 0.01 * e]),
        [
            [0.1, 0.03],
            [0.09000000000000001, 0.029699999999999997],
            [0.08100000000000002, 0.029105999999999996],
            [0.07290000000000002, 0.028232819999999995],
            [0.06561000000000002, 0.027103507199999995],
            [0.05904900000000002, 0.025748331839999992],
            [0.05314410000000002, 0.02420343192959999],
            [0.04782969000000002, 0.022509191694527992],
            [0.043046721000000024, 0.020708456358965753],
        ],
        None,
    ),
    "ChainedScheduler": (
        lambda opt: lr_scheduler.ChainedScheduler([
            lr_scheduler.ConstantLR(opt, factor=0.1, total_iters=2),
            lr_scheduler.ExponentialLR(opt, gamma=0.9)]),
        [
            [0.010000000000000002, 0.003],
            [0.009000000000000003, 0.0027],
            [0.08100000000000003, 0.024300000000000002],
            [0.07290000000000003, 0.021870000000000004],
            [0.06561000000000003, 0.019683000000000003],
            [0.059049000000000025, 0.017714700000000003],
            [0.05314410000000002, 0.015943230000000003],
            [0.04782969000000002, 0.014348907000000003],
            [0.043046721000000024, 0.012914016300000003],
        ],
        None,
    ),
    "ChainedScheduler-multiplicative-cosine": (
        lambda opt: lr_scheduler.ChainedScheduler([
            lr_scheduler.MultiplicativeLR(opt, lambda e: 0.95),
            lr_scheduler.CosineAnnealingLR(opt, T_max=6)]),
        [
            [0.1, 0.03],
            [0.08863620667976084, 0.02659086200392825],
            [0.0676875, 0.020306249999999998],
            [0.04286874999999999, 0.012860624999999997],
            [0.020362656250000003, 0.006108796875000001],
            [0.005183349433043046, 0.001555004829912914],
            [0.0, 0.0],
            [0.006698729810778065, 0.0020096189432334192],
            [0.02375, 0.0071249999999999985],
        ],
        None,
    ),
}

TORCH_ADAM_BETAS = [
    [[0.9, 0.999], [0.9, 0.999]],
    [[0.8005584586887436, 0.999], [0.8005584586887436, 0.999]],
    [[0.8188255099070634, 0.999], [0.8188255099070634, 0.999]],
    [[0.8537365046793213, 0.999], [0.8537365046793213, 0.999]],
    [[0.8866525935914913, 0.999], [0.8866525935914913, 0.999]],
    [[0.9, 0.999], [0.9, 0.999]],
    [[0.8866525935914913, 0.999], [0.8866525935914913, 0.999]],
]

TORCH_FRACTIONAL = [  # (epoch, lrs, T_cur, T_i, last_epoch)
    (0.5, [0.0855017856687341, 0.025753048327204937], 0.5, 2, 0),
    (1.0, [0.0505, 0.0155], 1.0, 2, 1),
    (1.5, [0.0154982143312659, 0.0052469516727950615], 1.5, 2, 1),
    (2.25, [0.09904887137995991, 0.02972138656584684], 0.25, 4, 2),
    (3.5, [0.06944282990207196, 0.021048909769293803], 1.5, 4, 3),
    (5.0, [0.0154982143312659, 0.0052469516727950615], 3.0, 4, 5),
    (6.75, [0.09786854661874435, 0.029375634868117027], 0.75, 8, 6),
    (13.0, [0.004767963140691307, 0.002103746778586342], 7.0, 8, 13),
]


@pytest.mark.parametrize("name", TORCH_SEQUENCES)
def test_lr_sequence_matches_pytorch(name):
    make, lrs, momenta = TORCH_SEQUENCES[name]
    opt = make_optimizer()
    scheduler = make(opt)
    got, got_momenta = [scheduler.get_last_lr()], [[g["momentum"] for g in opt.param_groups]]
    for _ in range(len(lrs) - 1):
        opt.step()
        scheduler.step()
        got.append(scheduler.get_last_lr())
        got_momenta.append([g["momentum"] for g in opt.param_groups])
        assert got[-1] == [g["lr"] for g in opt.param_groups]
    np.testing.assert_allclose(got, lrs, rtol=1e-13, atol=0)
    if momenta is not None:
        np.testing.assert_allclose(got_momenta, momenta, rtol=1e-13, atol=0)


def test_one_cycle_cycles_adams_beta1():
    opt = make_optimizer(optim.Adam)
    scheduler = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=6, base_momentum=0.8,
                                        max_momentum=0.9)
    betas = [[list(g["betas"]) for g in opt.param_groups]]
    for _ in range(6):
        opt.step()
        scheduler.step()
        betas.append([list(g["betas"]) for g in opt.param_groups])
    np.testing.assert_allclose(betas, TORCH_ADAM_BETAS, rtol=1e-13, atol=0)
    # a seventh step is past total_steps
    with pytest.raises(ValueError, match=r"^Tried to step 7 times. The specified number of "
                                         r"total steps is 6$"):
        scheduler.step()


def test_one_cycle_sets_pytorchs_group_keys():
    opt = make_optimizer()
    lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=10)
    group = opt.param_groups[0]
    assert group["initial_lr"] == 0.5 / 25 and group["max_lr"] == 0.5
    assert group["min_lr"] == 0.5 / 25 / 1e4
    assert group["max_momentum"] == 0.95 and group["base_momentum"] == 0.85


def test_warm_restarts_at_fractional_epochs():
    opt = make_optimizer()
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=0.001)
    for epoch, lrs, t_cur, t_i, last_epoch in TORCH_FRACTIONAL:
        scheduler.step(epoch)
        np.testing.assert_allclose(scheduler.get_last_lr(), lrs, rtol=1e-13, atol=0)
        assert (scheduler.T_cur, scheduler.T_i, scheduler.last_epoch) == (t_cur, t_i,
                                                                          last_epoch)
    with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
        scheduler.step(-1)


def test_constant_and_polynomial_closed_forms_in_sequential_lr():
    # SequentialLR switches with the closed form: ConstantLR for 3 epochs, then PolynomialLR
    # from the base lr, (1 − e/4)² for e = epoch − 3.
    opt = make_optimizer()
    scheduler = lr_scheduler.SequentialLR(opt, [
        lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=10),
        lr_scheduler.PolynomialLR(opt, total_iters=4, power=2.0)], milestones=[3])
    lrs = [scheduler.get_last_lr()]
    for _ in range(8):
        opt.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr())
    want = [[base * (0.5 if e < 3 else (1 - min(e - 3, 4) / 4) ** 2) for base in BASE_LRS]
            for e in range(9)]
    np.testing.assert_allclose(lrs, want, rtol=1e-14, atol=1e-18)


def counting_lambda():
    """A callable object with state, which MultiplicativeLR's state_dict keeps."""
    class Decay:
        def __init__(self):
            self.factor = 0.9

        def __call__(self, epoch):
            return self.factor
    return Decay()


ROUND_TRIP = {
    "OneCycleLR": lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=[0.5, 0.2], total_steps=30),
    "CosineAnnealingWarmRestarts": lambda opt: lr_scheduler.CosineAnnealingWarmRestarts(
        opt, T_0=3, T_mult=2, eta_min=0.01),
    "PolynomialLR": lambda opt: lr_scheduler.PolynomialLR(opt, total_iters=12, power=1.5),
    "ConstantLR": lambda opt: lr_scheduler.ConstantLR(opt, factor=0.25, total_iters=9),
    "MultiplicativeLR": lambda opt: lr_scheduler.MultiplicativeLR(opt, lambda e: 0.9),
    "ChainedScheduler": lambda opt: lr_scheduler.ChainedScheduler([
        lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=9),
        lr_scheduler.ExponentialLR(opt, gamma=0.9)]),
}


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_state_dict_round_trip(name):
    make_scheduler = ROUND_TRIP[name]
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
    assert scheduler2.get_last_lr() == scheduler.get_last_lr()
    for _ in range(10):
        for o, s in ((opt, scheduler), (opt2, scheduler2)):
            o.step()
            s.step()
        assert scheduler2.get_last_lr() == scheduler.get_last_lr()
        assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups]


def test_multiplicative_lr_state_dict_keeps_only_callable_objects():
    decay = counting_lambda()
    opt = make_optimizer()
    scheduler = lr_scheduler.MultiplicativeLR(opt, [lambda e: 0.5, decay])
    saved = scheduler.state_dict()
    assert saved["lr_lambdas"] == [None, {"factor": 0.9}]
    decay.factor = 0.1
    scheduler.load_state_dict(saved)
    assert decay.factor == 0.9


BAD = [
    (lambda opt: lr_scheduler.ConstantLR(opt, factor=1.5), ValueError,
     "Constant multiplicative factor expected to be between 0 and 1."),
    (lambda opt: lr_scheduler.ConstantLR(opt, factor=-0.1), ValueError,
     "Constant multiplicative factor expected to be between 0 and 1."),
    (lambda opt: lr_scheduler.MultiplicativeLR(opt, [lambda e: 1.0]), ValueError,
     "Expected 2 lr_lambdas, but got 1"),
    (lambda opt: lr_scheduler.MultiplicativeLR(opt, 0.9), TypeError,
     "lr_lambda should be a function, but got float"),
    (lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=0.1), ValueError,
     "You must define either total_steps OR (epochs AND steps_per_epoch)"),
    (lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=0), ValueError,
     "Expected positive integer total_steps, but got 0"),
    (lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=0.1, epochs=2, steps_per_epoch=-1),
     ValueError, "Expected positive integer steps_per_epoch, but got -1"),
    (lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=5, pct_start=1.5),
     ValueError, "Expected float between 0 and 1 pct_start, but got 1.5"),
    (lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=5, pct_start=1),
     ValueError, "Expected float between 0 and 1 pct_start, but got 1"),
    (lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=5,
                                         anneal_strategy="exp"), ValueError,
     "anneal_strategy must be one of 'cos' or 'linear', instead got exp"),
    (lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=[0.1], total_steps=5), ValueError,
     ("max_lr must have the same length as optimizer.param_groups. max_lr has 1 values, "
     "param_groups has 2.")),
    (lambda opt: lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=0), ValueError,
     "Expected positive integer T_0, but got 0"),
    (lambda opt: lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2.5), ValueError,
     "Expected positive integer T_0, but got 2.5"),
    (lambda opt: lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0), ValueError,
     "Expected integer T_mult >= 1, but got 0"),
    (lambda opt: lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, eta_min="0"),
     ValueError, "Expected float or int eta_min, but got 0 of type <class 'str'>"),
    (lambda opt: lr_scheduler.ChainedScheduler([]), ValueError,
     "ChainedScheduler expects at least one scheduler to be chained, but got no scheduler."),
    (lambda opt: lr_scheduler.ChainedScheduler([lr_scheduler.ReduceLROnPlateau(opt)]),
     ValueError, "ChainedScheduler does not support `ReduceLROnPlateau` scheduler"),
    (lambda opt: lr_scheduler.ChainedScheduler([
        lr_scheduler.StepLR(opt, 2), lr_scheduler.StepLR(make_optimizer(), 2)]), ValueError,
     ("ChainedScheduler expects all schedulers to belong to the same optimizer, but got "
     "scheduler StepLR at index 1")),
    (lambda opt: lr_scheduler.ChainedScheduler([object()]), TypeError,
     "ChainedScheduler at index 0 should have `optimizer` as its attribute."),
]


@pytest.mark.parametrize("build,error,message", BAD, ids=[m[:50] for _, _, m in BAD])
def test_bad_arguments_raise(build, error, message):
    with pytest.raises(error, match=f"^{re.escape(message)}"):
        build(make_optimizer())


def test_one_cycle_momentum_needs_an_optimizer_with_momentum():
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        lr_scheduler.OneCycleLR(make_optimizer(optim.Adagrad), max_lr=0.1, total_steps=5)
    # without cycling it is fine
    scheduler = lr_scheduler.OneCycleLR(make_optimizer(optim.Adagrad), max_lr=0.1,
                                        total_steps=5, cycle_momentum=False)
    np.testing.assert_allclose(scheduler.get_last_lr(), [0.1 / 25, 0.1 / 25], rtol=1e-14)
