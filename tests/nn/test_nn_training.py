"""End to end: an MLP and a small CNN fit a fixed small batch with plain gradient steps."""
import numpy as np

import autograd
import nn


def sgd_step(model, lr):
    with autograd.no_grad():
        for p in model.parameters():
            p.data -= lr * p.grad.data
    model.zero_grad()


def test_mlp_drives_loss_to_zero():
    autograd.manual_seed(0)
    rng = np.random.default_rng(0)
    x = autograd.tensor(rng.standard_normal((16, 4)).astype(np.float32))
    y = autograd.tensor(rng.integers(0, 3, 16))
    model = nn.MLP([4, 32, 32, 3])
    loss_fn = nn.CrossEntropyLoss()
    first = None
    for _ in range(300):
        loss = loss_fn(model(x), y)
        first = loss.item() if first is None else first
        loss.backward()
        sgd_step(model, 0.5)
    assert first > 0.8 and loss.item() < 0.02
    assert (model(x).argmax(1).data == y.data).all()


def test_small_cnn_drives_loss_to_zero():
    autograd.manual_seed(1)
    rng = np.random.default_rng(1)
    x = autograd.tensor(rng.standard_normal((8, 1, 8, 8)).astype(np.float32))
    y = autograd.tensor(rng.integers(0, 2, 8))
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 2))
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(100):
        loss = loss_fn(model(x), y)
        loss.backward()
        sgd_step(model, 0.1)
    assert loss.item() < 0.02
    assert model[1].num_batches_tracked.item() == 100
    assert model(x).dtype == np.float32
