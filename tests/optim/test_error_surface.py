"""The lecture's error surface f(x, y) = ½(x² + 100y²), from (−4, 1), 200 steps.

A valley 10 times steeper across than along: plain gradient descent must keep lr < 2/100 to
stay stable across the valley, and then crawls along it (x shrinks by 1 − lr per step), while
the adaptive methods scale each coordinate's step and reach the minimum.
"""
import math

import numpy as np
import pytest

import autograd
import optim

START = (-4.0, 1.0)


def descend(make_optimizer, dtype, steps=200):
    x = autograd.tensor(np.array(START[0], dtype=dtype), requires_grad=True)
    y = autograd.tensor(np.array(START[1], dtype=dtype), requires_grad=True)
    opt = make_optimizer([x, y])
    for _ in range(steps):
        opt.zero_grad()
        loss = 0.5 * (x ** 2 + 100 * y ** 2)
        loss.backward()
        opt.step()
    assert x.dtype == dtype and y.dtype == dtype
    return math.hypot(x.item(), y.item())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_plain_sgd_crawls_along_the_valley(dtype, backend):
    distance = descend(lambda ps: optim.SGD(ps, lr=0.019), dtype)
    # By hand: x₂₀₀ = −4·(1 − 0.019)²⁰⁰ and y₂₀₀ = (1 − 1.9)²⁰⁰ ≈ 7e−10.
    assert distance > 0.05
    assert distance == pytest.approx(4 * 0.981 ** 200, rel=1e-4)  # 0.0862...


# The final distance PyTorch 2.13 reaches in float64 with the same settings.
ADAPTIVE = [
    (lambda ps: optim.Adagrad(ps, lr=1.0), 1.749808726103264e-14),
    (lambda ps: optim.RMSprop(ps, lr=0.1), 1.2420350764553035e-26),
    (lambda ps: optim.Adam(ps, lr=0.1), 0.00013386383750327134),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make_optimizer,torch_distance", ADAPTIVE,
                         ids=["Adagrad", "RMSprop", "Adam"])
def test_adaptive_methods_reach_the_minimum(make_optimizer, torch_distance, dtype, backend):
    distance = descend(make_optimizer, dtype)
    assert distance < 1e-3
    if dtype == np.float64:
        assert distance == pytest.approx(torch_distance, rel=1e-9)
