"""Shared by the sim_*.py cuda tests (run on the CUDA simulator by test_simulator.py)."""
from __future__ import annotations

import os

import numpy as np

import autograd

# On the simulator through test_simulator.py; on a real GPU with NUMBAGRAD_TEST_ON_GPU=1 (the
# same checks then run the compiled kernels: see the GPU section of docs/api.md).
assert (os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
        or os.environ.get("NUMBAGRAD_TEST_ON_GPU") == "1"), "run through tests/cuda/test_simulator.py"
assert autograd.cuda.is_available()

RTOL, ATOL = 1e-4, 1e-6


def pair(a: np.ndarray, requires_grad: bool = True) -> tuple:
    """The same leaf on the CPU and on cuda."""
    return (autograd.tensor(a, requires_grad=requires_grad),
            autograd.tensor(a, requires_grad=requires_grad, device="cuda"))


def host(t) -> np.ndarray:
    assert t.device == autograd.device("cuda", 0), t.device
    return t.cpu().numpy()


def close(got, want, rtol: float = RTOL, atol: float = ATOL) -> None:
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def check_op(fn, *arrays: np.ndarray, rtol: float = RTOL, atol: float = ATOL) -> None:
    """fn on cuda equals fn on the CPU: the value, and the gradient of every input under a
    random upstream gradient."""
    cpu, dev = zip(*(pair(a) for a in arrays))
    out_cpu, out_dev = fn(*cpu), fn(*dev)
    assert out_dev.device.type == "cuda" and out_dev.shape == out_cpu.shape
    assert out_dev.dtype == out_cpu.dtype
    close(host(out_dev), out_cpu.numpy(), rtol, atol)
    if not out_cpu.requires_grad:
        return
    w = np.random.default_rng(1).standard_normal(out_cpu.shape).astype(out_cpu.dtype)
    (out_cpu * autograd.tensor(w)).sum().backward()
    (out_dev * autograd.tensor(w, device="cuda")).sum().backward()
    for c, d in zip(cpu, dev):
        assert (c.grad is None) == (d.grad is None)
        if c.grad is not None:
            assert d.grad.device.type == "cuda"
            close(host(d.grad), c.grad.numpy(), rtol, max(atol, 1e-5))
