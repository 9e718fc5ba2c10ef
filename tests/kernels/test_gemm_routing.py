"""Where `@`, Linear and attention run numbagrad's gemm instead of numpy's BLAS (issue 21):
the `gemm_matmul` and `gemm_linear` policy families. Forced onto gemm with
`policy.override(numpy_below=0, families=...)`, each routed path gives the values and the
gradients of the BLAS path. By default (the measured policy) `@`, attention and Linear take
gemm only at the sizes where it measured faster."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd
import nn
from autograd import gradcheck, gradgradcheck
from autograd.kernels import policy
from autograd.kernels.jit import linalg as jit_linalg
from autograd.ops import linalg as ops_linalg
from tests.kernels._helpers import DTYPES

GEMM = {"gemm_matmul": 0, "gemm_linear": 0}


def _tol(dtype):
    return {"rtol": 2e-5, "atol": 2e-5} if dtype == np.float32 else {"rtol": 1e-12,
                                                                      "atol": 1e-12}


@pytest.fixture
def gemm_calls(monkeypatch):
    """Counts the calls `@` makes into numbagrad's gemm (jit/linalg.py's route)."""
    calls = []
    real = jit_linalg.gemm

    def counting(*args, **kwargs):
        calls.append(tuple(np.shape(a) for a in args[:2]))
        return real(*args, **kwargs)

    monkeypatch.setattr(jit_linalg, "gemm", counting)
    return calls


@pytest.fixture
def linear_calls(monkeypatch):
    """Counts forwards of the fused Linear op (gemm with the bias in its epilogue)."""
    calls = []
    real = ops_linalg.Linear.forward

    def counting(self, x, w, b):
        calls.append(x.shape)
        return real(self, x, w, b)

    monkeypatch.setattr(ops_linalg.Linear, "forward", counting)
    return calls


def _leaf(rng, shape, dtype):
    return autograd.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)


def _run(fn, leaves):
    """fn's value and the gradients of every leaf for a fixed random upstream gradient."""
    for t in leaves:
        t.grad = None
    y = fn()
    g = np.random.default_rng(7).standard_normal(y.shape).astype(y.data.dtype)
    (y * autograd.tensor(g)).sum().backward()
    return y.data.copy(), [t.grad.data.copy() for t in leaves]


def _same(got, want, dtype):
    (y1, g1), (y2, g2) = got, want
    np.testing.assert_allclose(y1, y2, **_tol(dtype))
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a, b, **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb,ta,tb", [((5, 7), (7, 3), False, False),
                                         ((4, 9, 6), (4, 6, 33), False, False),
                                         ((3, 1, 9, 8), (2, 8, 5), False, False),
                                         ((4, 6, 9), (4, 33, 6), True, True),
                                         ((17, 40), (40, 65), False, False)])
def test_matmul_routed_to_gemm_same_values_and_grads(dtype, sa, sb, ta, tb, gemm_calls):
    rng = np.random.default_rng(1)
    a, b = _leaf(rng, sa, dtype), _leaf(rng, sb, dtype)

    def fn():
        return (a.mT if ta else a) @ (b.mT if tb else b)

    with policy.override(numpy_below=policy.NEVER, families=("gemm_matmul",)):
        blas = _run(fn, [a, b])
    assert gemm_calls == []  # these products are all below the measured line: BLAS
    with policy.override(numpy_below=0, families=("gemm_matmul",)):
        ours = _run(fn, [a, b])
    # the forward and both backward products went to gemm
    assert len(gemm_calls) == 3
    _same(ours, blas, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xshape", [(6, 13), (2, 5, 13), (1, 13), (40, 13)])
def test_linear_routed_to_fused_gemm_same_values_and_grads(dtype, xshape, linear_calls):
    rng = np.random.default_rng(2)
    lin = nn.Linear(13, 35)
    if dtype == np.float64:
        lin = lin.double()
    x = _leaf(rng, xshape, dtype)
    leaves = [x, lin.weight, lin.bias]
    blas = _run(lambda: lin(x), leaves)
    assert linear_calls == []
    with policy.override(numpy_below=0, families=("gemm_linear",)):
        y = lin(x)
        assert type(y.grad_fn).__name__ == "Linear"
        ours = _run(lambda: lin(x), leaves)
    assert len(linear_calls) == 2
    _same(ours, blas, dtype)


def test_linear_routed_gradcheck_and_gradgradcheck(linear_calls):
    rng = np.random.default_rng(3)
    x = _leaf(rng, (4, 3, 5), np.float64)
    w = _leaf(rng, (6, 5), np.float64)
    b = _leaf(rng, (6,), np.float64)
    with policy.override(numpy_below=0, families=("gemm_linear",)):
        assert gradcheck(lambda x, w, b: nn.functional.linear(x, w, b), (x, w, b))
        assert gradgradcheck(lambda x, w, b: nn.functional.linear(x, w, b).tanh(), (x, w, b))
    assert linear_calls


def test_linear_not_routed_without_bias_or_with_mixed_dtypes(linear_calls):
    rng = np.random.default_rng(4)
    x32 = _leaf(rng, (3, 5), np.float32)
    w64 = _leaf(rng, (2, 5), np.float64)
    b64 = _leaf(rng, (2,), np.float64)
    with policy.override(numpy_below=0, families=("gemm_linear",)):
        y = nn.functional.linear(x32.double(), w64)  # no bias: nothing to fuse
        y2 = nn.functional.linear(x32, w64, b64)  # mixed dtypes: BLAS's promotion
    assert linear_calls == []
    want = x32.data.astype(np.float64) @ w64.data.T
    np.testing.assert_allclose(y.data, want, rtol=1e-6)
    np.testing.assert_allclose(y2.data, want + b64.data, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_attention_routed_to_gemm_same_values_and_grads(dtype, gemm_calls):
    rng = np.random.default_rng(5)
    q = _leaf(rng, (2, 3, 7, 16), dtype)
    k = _leaf(rng, (2, 3, 9, 16), dtype)
    v = _leaf(rng, (2, 3, 9, 8), dtype)

    def fn():
        return nn.functional.scaled_dot_product_attention(q, k, v, is_causal=False)

    blas = _run(fn, [q, k, v])
    assert gemm_calls == []
    with policy.override(numpy_below=0, families=("gemm_matmul",)):
        ours = _run(fn, [q, k, v])
    # forward: q k^T and P v; backward: dV, dP, dQ, dK
    assert len(gemm_calls) >= 6
    _same(ours, blas, dtype)


def test_matmul_route_threshold_is_per_product_macs(gemm_calls):
    """numpy_below counts multiply-adds per product (m * k * n), not the whole batch."""
    a = np.ones((8, 4, 5), np.float32)
    b = np.ones((8, 5, 32), np.float32)
    with policy.override(numpy_below=4 * 5 * 32 + 1, families=("gemm_matmul",)):
        autograd.tensor(a) @ autograd.tensor(b)
    assert gemm_calls == []
    with policy.override(numpy_below=4 * 5 * 32, families=("gemm_matmul",)):
        y = autograd.tensor(a) @ autograd.tensor(b)
    assert gemm_calls == [((8, 4, 5), (8, 5, 32))]
    np.testing.assert_array_equal(y.data, np.full((8, 4, 32), 5, np.float32))


def test_gemm_route_measured_policy():
    """The measured policy: Linear with bias on gemm from 2^18 to 2^28 multiply-adds where
    the output fills the column tiles (32 float32, 16 float64 wide) to within 1/8; `@` from
    2^17 to 2^28 per product likewise; numpy_below=0 forces gemm."""
    lin, mm = policy.GEMM_LINEAR, policy.GEMM_MATMUL
    assert policy.gemm_route(lin, 128 * 784 * 256, 256, 4)
    assert policy.gemm_route(lin, 64 * 64 * 64, 64, 8)
    assert policy.gemm_route(lin, 1 << 18, 288, 4)          # 9 tiles for 288: exact
    assert not policy.gemm_route(lin, (1 << 18) - 1, 256, 4)  # the call's fixed cost
    assert not policy.gemm_route(lin, (1 << 28) + 1, 256, 4)  # BLAS on every core
    assert not policy.gemm_route(lin, 1024 * 128 * 10, 10, 4)  # 10 of 32 columns used
    assert not policy.gemm_route(lin, 256 * 256 * 48, 48, 4)   # 48 of 64
    assert policy.gemm_route(lin, 256 * 256 * 48, 48, 8)       # 3 whole float64 tiles
    assert not policy.gemm_route(lin, 256 * 256 * 36, 36, 4)   # 36 of 64 (< 7/8)
    assert policy.gemm_route(mm, 64 * 32 * 64, 64, 4)      # attention's q k^T per head
    assert policy.gemm_route(mm, 128 * 64 * 128, 128, 8)
    assert not policy.gemm_route(mm, 16 * 16 * 16, 16, 4)  # 4,096 MACs: BLAS
    assert not policy.gemm_route(mm, (1 << 17) - 1, 64, 4)
    assert not policy.gemm_route(mm, (1 << 28) + 1, 256, 4)
    assert not policy.gemm_route(mm, 64 * 32 * 64, 64, 4, broadcast_a=True)  # a conv's weight
    assert policy.gemm_route(mm, 64 * 32 * 64, 64, 4, broadcast_a=True, threads=2)  # parallel
    with policy.override(numpy_below=0, families=("gemm_matmul",)):
        assert policy.gemm_route(mm, 1, 1, 4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_default_policy_routes_a_measured_win(dtype, linear_calls):
    """nn.Linear(256, 128) on a batch of 64 (2M multiply-adds, whole tiles) takes the fused
    gemm by default, with BLAS's values and gradients; its 10-wide head stays on BLAS."""
    rng = np.random.default_rng(6)
    lin, head = nn.Linear(256, 128), nn.Linear(128, 10)
    if dtype == np.float64:
        lin, head = lin.double(), head.double()
    x = _leaf(rng, (64, 256), dtype)
    leaves = [x, lin.weight, lin.bias, head.weight, head.bias]
    ours = _run(lambda: head(lin(x)), leaves)
    assert len(linear_calls) == 1 and linear_calls[0] == (64, 256)
    with policy.override(numpy_below=policy.NEVER, families=("gemm_linear",)):
        blas = _run(lambda: head(lin(x)), leaves)
    assert len(linear_calls) == 1
    _same(ours, blas, dtype)


def test_routed_matmul_keeps_numpys_errors_and_int_semantics(gemm_calls):
    with policy.override(numpy_below=0, families=("gemm_matmul",)):
        with pytest.raises((ValueError, RuntimeError), match="matmul"):
            autograd.tensor(np.ones((2, 3))) @ autograd.tensor(np.ones((4, 2)))
        y = autograd.tensor(np.arange(6).reshape(2, 3)) @ autograd.tensor(
            np.arange(6).reshape(3, 2))
    assert gemm_calls == []  # ints stay numpy's
    np.testing.assert_array_equal(y.data, np.arange(6).reshape(2, 3) @ np.arange(6).reshape(3, 2))


SIM_LINEAR = """
import numpy as np
import autograd, nn
from autograd.kernels import policy
lin = nn.Linear(6, 32)
x = autograd.tensor(np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32))
want = lin(x).data
linc = lin.to("cuda")
with policy.override(numpy_below=0, families=("gemm_linear",)):
    y = linc(x.to("cuda"))
    assert y.is_cuda and type(y.grad_fn).__name__ != "Linear", type(y.grad_fn).__name__
    np.testing.assert_allclose(y.cpu().data, want, rtol=1e-5, atol=1e-5)
print("ok")
"""


@pytest.mark.skipif(importlib.util.find_spec("numba_cuda") is None,
                    reason="numba-cuda is not installed (pip install numbagrad[cuda])")
def test_linear_route_leaves_device_tensors_on_their_device():
    """gemm is a host kernel: a Linear on cuda tensors keeps MatMul + add (the device's
    kernels) even where the policy routes every size to gemm (numba's CUDA simulator, in a
    subprocess: it must be chosen before numba.cuda is imported)."""
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=str(root))
    proc = subprocess.run([sys.executable, "-c", SIM_LINEAR], cwd=root, env=env, check=False,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]


@pytest.mark.parametrize("dtype", DTYPES)
def test_attention_sized_matmul_default_policy_takes_gemm(dtype, gemm_calls):
    """Attention's per-head products (64 x 32 @ 32 x 64, 131,072 multiply-adds each) are on
    the measured side of the `gemm_matmul` line: by default `q @ k^T` and `p @ v` run on
    gemm (forward and both backward products), with BLAS's values and gradients."""
    rng = np.random.default_rng(9)
    q, k = _leaf(rng, (8, 64, 32), dtype), _leaf(rng, (8, 64, 32), dtype)

    def fn():
        return (q @ k.mT) @ k

    with policy.override(numpy_below=policy.NEVER, families=("gemm_matmul",)):
        blas = _run(fn, [q, k])
    assert gemm_calls == []
    ours = _run(fn, [q, k])
    assert len(gemm_calls) >= 4  # both forwards, and the backward products of that size
    _same(ours, blas, dtype)


def test_conv_weight_broadcast_over_patches_takes_gemm_only_in_parallel(gemm_calls,
                                                                        monkeypatch):
    """A conv's weight times its patches is one matrix broadcast over the batch (A's batch
    smaller than B's): BLAS where gemm runs one thread, gemm where it runs more (beside
    OpenBLAS's spinning worker the next gemm ran at one thread's speed), same values."""
    import nn.functional as F
    rng = np.random.default_rng(11)
    x = _leaf(rng, (2, 8, 32, 32), np.float32)
    w = _leaf(rng, (32, 8, 3, 3), np.float32)
    monkeypatch.setattr(jit_linalg.tasks, "threads", lambda: 1)
    y = F.conv2d(x, w, padding=1)
    y.sum().backward()
    assert not any(len(sa) < len(sb) for sa, sb in gemm_calls), gemm_calls
    monkeypatch.setattr(jit_linalg.tasks, "threads", lambda: 2)
    y2 = F.conv2d(x, w, padding=1)
    assert any(len(sa) < len(sb) for sa, sb in gemm_calls)
    np.testing.assert_allclose(y2.data, y.data, **_tol(np.float32))
