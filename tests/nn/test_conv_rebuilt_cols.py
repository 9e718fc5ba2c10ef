"""conv2d's patch matrix: kept from forward when small, rebuilt from x in backward when large
(autograd/ops/conv.py, KEEP_COLS_BYTES; issue 15's 128x128 peak memory). Both ways give
bit-equal values and gradients, first and second order; a large one is not held by the graph."""
from __future__ import annotations

import numpy as np
import pytest

import autograd
import nn.functional as F
from autograd.ops import conv


def run(keep_bytes, monkeypatch, dtype=np.float64, groups=1, stride=1, create_graph=False):
    monkeypatch.setattr(conv, "KEEP_COLS_BYTES", keep_bytes)
    rng = np.random.default_rng(0)
    x = autograd.tensor(rng.standard_normal((2, 4, 7, 6)).astype(dtype), requires_grad=True)
    w = autograd.tensor(rng.standard_normal((6, 4 // groups, 3, 3)).astype(dtype),
                        requires_grad=True)
    b = autograd.tensor(rng.standard_normal(6).astype(dtype), requires_grad=True)
    y = F.conv2d(x, w, b, stride=stride, padding=1, groups=groups)
    held = y.grad_fn.cols is not None
    (gx, gw, gb) = autograd.grad((y * y).sum(), (x, w, b), create_graph=create_graph)
    out = [y.detach().numpy(), gx.detach().numpy(), gw.detach().numpy(), gb.detach().numpy()]
    if create_graph:
        out += [g.numpy() for g in autograd.grad((gw * gw).sum() + gx.sum(), (x, w))]
    return held, out


@pytest.mark.parametrize("groups,stride,dtype", [(1, 1, np.float64), (2, 2, np.float32),
                                                  (1, 2, np.float32)])
def test_rebuilt_patches_give_the_same_gradients(monkeypatch, groups, stride, dtype):
    held_kept, kept = run(1 << 30, monkeypatch, dtype, groups, stride)
    held_rebuilt, rebuilt = run(0, monkeypatch, dtype, groups, stride)
    assert held_kept and not held_rebuilt
    for a, b in zip(kept, rebuilt):
        np.testing.assert_array_equal(a, b)


def test_rebuilt_patches_under_create_graph(monkeypatch):
    _, kept = run(1 << 30, monkeypatch, create_graph=True)
    _, rebuilt = run(0, monkeypatch, create_graph=True)
    assert len(kept) == 6
    for a, b in zip(kept, rebuilt):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_gradcheck_with_rebuilt_patches(monkeypatch):
    monkeypatch.setattr(conv, "KEEP_COLS_BYTES", 0)
    rng = np.random.default_rng(2)
    x = autograd.tensor(rng.standard_normal((1, 2, 5, 4)), requires_grad=True)
    w = autograd.tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    assert autograd.gradcheck(lambda a, b: F.conv2d(a, b, padding=1), (x, w))


def test_large_patches_are_not_kept_by_default():
    """A 16 x 8 x 64 x 64 input with a 3x3 kernel: cols is 16 * 72 * 4096 floats (18.9 MB)."""
    x = autograd.tensor(np.ones((16, 8, 64, 64), np.float32), requires_grad=True)
    w = autograd.tensor(np.ones((4, 8, 3, 3), np.float32), requires_grad=True)
    assert F.conv2d(x, w, padding=1).grad_fn.cols is None
    small = F.conv2d(x[:1, :, :8, :8], w, padding=1)
    assert small.grad_fn.cols is not None
