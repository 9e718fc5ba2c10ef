"""A model trained on cuda equals the same model trained on the CPU.

Run on numba's CUDA simulator by test_simulator.py. The MLP (Linear, ReLU, Linear,
CrossEntropyLoss) takes 5 steps of SGD / Adam / AdamW (3 of the other optimisers) on each
device from the same initial weights; losses and final weights agree to float32 rounding. A training step launches the
same number of kernels every time (reported by bench/gpu.py).
"""
from __future__ import annotations

import numpy as np
import pytest
from sim_common import close, host

import autograd
import nn
import optim
from autograd.kernels.cuda import runtime

DATA = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
TARGET = np.array([0, 2, 1, 2])


def make_model() -> nn.Module:
    autograd.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))


OPTIMISERS = {
    "sgd_momentum": lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
    "sgd_nesterov_decay": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True,
                                              weight_decay=0.01),
    "sgd_dampening_maximize": lambda p: optim.SGD(p, lr=0.05, momentum=0.5, dampening=0.3,
                                                  maximize=True),
    "adam": lambda p: optim.Adam(p, lr=0.01),
    "adam_amsgrad_l2": lambda p: optim.Adam(p, lr=0.01, amsgrad=True, weight_decay=0.1),
    "adamw": lambda p: optim.AdamW(p, lr=0.01, weight_decay=0.1),
    "adagrad": lambda p: optim.Adagrad(p, lr=0.05, weight_decay=0.01),
    "rmsprop_centered_momentum": lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5,
                                                         centered=True),
    "rmsprop": lambda p: optim.RMSprop(p, lr=0.01),
    "adadelta": lambda p: optim.Adadelta(p, lr=1.0, weight_decay=0.01),
    "adamax": lambda p: optim.Adamax(p, lr=0.02),
    "nadam": lambda p: optim.NAdam(p, lr=0.02),
    "radam_decoupled": lambda p: optim.RAdam(p, lr=0.02, weight_decay=0.1,
                                             decoupled_weight_decay=True),
}


def train(device: str, make_optimiser, steps: int = 5, set_to_none: bool = True) -> tuple:
    model = make_model().to(device)
    params = list(model.parameters())
    opt = make_optimiser(params)
    x = autograd.tensor(DATA, device=device)
    t = autograd.tensor(TARGET, device=device)
    losses = []
    for _ in range(steps):
        opt.zero_grad(set_to_none=set_to_none)
        loss = nn.functional.cross_entropy(model(x), t)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert all(p.device.type == device for p in model.parameters())
    assert [id(p) for p in model.parameters()] == [id(p) for p in params]
    return losses, [p.cpu().numpy().copy() for p in model.parameters()]


# the MLP's five steps with the optimisers of the issue; the other optimisers take three
FIVE_STEPS = ("sgd_momentum", "sgd_nesterov_decay", "adam", "adam_amsgrad_l2", "adamw")


@pytest.mark.parametrize("name", sorted(OPTIMISERS))
def test_steps_on_cuda_equal_steps_on_cpu(name: str) -> None:
    steps = 5 if name in FIVE_STEPS else 3
    losses_cpu, weights_cpu = train("cpu", OPTIMISERS[name], steps)
    losses_dev, weights_dev = train("cuda", OPTIMISERS[name], steps)
    close(losses_dev, losses_cpu)
    for got, want in zip(weights_dev, weights_cpu):
        close(got, want, atol=1e-6)
    assert losses_cpu[-1] != losses_cpu[0]  # the model did move


def test_zero_grad_to_zeros_on_cuda() -> None:
    losses_cpu, weights_cpu = train("cpu", OPTIMISERS["sgd_momentum"], 3, set_to_none=False)
    losses_dev, weights_dev = train("cuda", OPTIMISERS["sgd_momentum"], 3, set_to_none=False)
    close(losses_dev, losses_cpu)
    for got, want in zip(weights_dev, weights_cpu):
        close(got, want, atol=1e-6)


def test_module_moves_back_and_forth() -> None:
    model = make_model()
    weight = model[0].weight
    before = weight.numpy().copy()
    model.cuda()
    assert model[0].weight is weight and weight.is_cuda
    model.to("cpu")
    assert not weight.is_cuda
    np.testing.assert_array_equal(weight.numpy(), before)
    model.to(autograd.device("cuda"))
    out = model(autograd.tensor(DATA, device="cuda"))
    assert out.is_cuda and out.shape == (4, 3)
    close(host(out), make_model()(autograd.tensor(DATA)).detach().numpy())


def test_a_training_step_launches_a_fixed_number_of_kernels() -> None:
    model = make_model().to("cuda")
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, t = autograd.tensor(DATA, device="cuda"), autograd.tensor(TARGET, device="cuda")
    counts = []
    for _ in range(3):
        start = runtime.launch_count()
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), t).backward()
        opt.step()
        counts.append(runtime.launch_count() - start)
    assert counts[1] == counts[2], counts
    assert 10 <= counts[-1] <= 40, counts
