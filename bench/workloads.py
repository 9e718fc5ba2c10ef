"""The workloads both sides of a comparison time: the same inputs and models for numbagrad
(bench/kernels.py, overhead.py, training.py) and for PyTorch (bench/torch_ref.py, in its
own process), so that no bench module reaches into another's helpers."""
from __future__ import annotations

import numpy as np

from .timing import QUICK

N_OPS = 20  # length of the per-op overhead chain


def matmul_sizes() -> list:
    return [64, 256, 512] if QUICK[0] else [64, 128, 256, 512, 1024]


def elementwise_inputs(dt, n: int = 1_000_000) -> tuple:
    """x, y, z, pos, X (1000 x 1000 view of x), bias, tanh(x): the same for every library."""
    rng = np.random.default_rng(0)
    x, y, z = (rng.standard_normal(n).astype(dt) for _ in range(3))
    pos = np.abs(x) + dt(0.1)
    return x, y, z, pos, x.reshape(1000, -1), y[:1000].copy(), np.tanh(x)


def conv_inputs() -> tuple:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 8, 14, 14)).astype(np.float32)
    w = (rng.standard_normal((16, 8, 3, 3)) * 0.1).astype(np.float32)
    return x, w, np.zeros(16, np.float32)


def chain(x, c):
    """N_OPS tiny add/mul/tanh ops on x (the per-op overhead workload)."""
    y = x
    for i in range(N_OPS):
        k = i % 3
        y = y + c if k == 0 else (y * c if k == 1 else y.tanh())
    return y


def chain_inputs() -> tuple:
    rng = np.random.default_rng(0)
    return (rng.standard_normal((8, 8)).astype(np.float32),
            rng.standard_normal((8, 8)).astype(np.float32))


def mlp(nn):
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def cnn(nn):
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(784, 10))


def data(kind: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    if kind == "mlp":
        x = rng.standard_normal((128, 784)).astype(np.float32)
        y = rng.integers(0, 10, 128)
    else:
        x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
        y = rng.integers(0, 10, 64)
    return x, y


def torch_step(torch, kind: str):
    """A closure running one SGD step of PyTorch's model (the twin of training.ours_step)."""
    tnn = torch.nn
    torch.manual_seed(0)
    model = mlp(tnn) if kind == "mlp" else cnn(tnn)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    xv, yv = data(kind)
    x, y = torch.from_numpy(xv), torch.from_numpy(yv)

    def step():
        opt.zero_grad()
        loss = tnn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step
