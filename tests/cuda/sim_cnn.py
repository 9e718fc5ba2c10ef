"""The CNN ops on cuda equal the CPU backend: conv2d (im2col + matmul, col2im in backward),
max pooling, batch norm (batch statistics, running statistics, eval mode); and a small CNN
trained 2 steps on cuda equals the same CNN trained on the CPU.

Run on numba's CUDA simulator by test_simulator.py; sizes are tiny (the simulator runs every
GPU thread as a Python thread).
"""
from __future__ import annotations

import numpy as np
import pytest
from sim_common import check_op, close

import autograd
import nn
import optim

RNG = np.random.default_rng(0)


def rand(*shape) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


CONVS = {  # (input shape, weight shape, conv2d keyword arguments)
    "plain": ((2, 2, 5, 5), (3, 2, 3, 3), {}),
    "padding": ((1, 2, 4, 5), (2, 2, 3, 3), {"padding": 1}),
    "stride_dilation": ((1, 1, 7, 6), (2, 1, 3, 2), {"stride": 2, "dilation": (2, 1),
                                                      "padding": (1, 0)}),
    "groups_bias": ((1, 4, 4, 4), (4, 2, 2, 2), {"groups": 2, "bias": True}),
}


@pytest.mark.parametrize("name", sorted(CONVS))
def test_conv2d(name: str) -> None:
    sx, sw, kwargs = CONVS[name]
    kwargs = dict(kwargs)
    if kwargs.pop("bias", False):
        check_op(lambda x, w, b: nn.functional.conv2d(x, w, b, **kwargs), rand(*sx), rand(*sw),
                 rand(sw[0]))
    else:
        check_op(lambda x, w: nn.functional.conv2d(x, w, **kwargs), rand(*sx), rand(*sw))


POOLS = {
    "2x2": {"kernel_size": 2},
    "overlapping_padded": {"kernel_size": 3, "stride": 1, "padding": 1},
    "dilated": {"kernel_size": 2, "stride": 2, "dilation": 2},
}


@pytest.mark.parametrize("name", sorted(POOLS))
def test_max_pool2d(name: str) -> None:
    check_op(lambda x: nn.functional.max_pool2d(x, **POOLS[name]), rand(2, 2, 5, 6))


def test_batch_norm_layer_train_and_eval() -> None:
    x = rand(3, 2, 2, 3) * 2 + 1
    layers = {}
    for device in ("cpu", "cuda"):
        autograd.manual_seed(0)
        layers[device] = nn.BatchNorm2d(2, momentum=0.3).to(device)
    check_op(lambda t: layers[t.device.type](t), x)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        want, got = getattr(layers["cpu"], name), getattr(layers["cuda"], name)
        assert got.is_cuda
        close(got.cpu().numpy(), want.numpy())
    for layer in layers.values():
        layer.eval()
    check_op(lambda t: layers[t.device.type](t), x)


def test_small_cnn_two_steps_on_cuda_equal_the_cpu() -> None:
    data, target = rand(2, 1, 6, 6), np.array([1, 3])
    results = {}
    for device in ("cpu", "cuda"):
        autograd.manual_seed(0)
        # no conv bias: before batch norm its gradient is 0 up to rounding, which Adam's
        # normalisation would blow up into a step of size lr in a rounding-dependent direction
        model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, bias=False), nn.BatchNorm2d(2),
                              nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(18, 4)).to(device)
        opt = optim.Adam(model.parameters(), lr=0.05)
        x, t = autograd.tensor(data, device=device), autograd.tensor(target, device=device)
        losses = []
        for _ in range(2):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), t)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        results[device] = losses, [p.cpu().numpy() for p in model.parameters()]
    close(results["cuda"][0], results["cpu"][0])
    for got, want in zip(results["cuda"][1], results["cpu"][1]):
        close(got, want, atol=1e-6)
