"""A weight shared by every batch item (a Linear layer on (batch, tokens, features), or
`x @ W` with a 2-D W) gets its gradient as one product over the flattened rows instead of a
batch of products and a sum (autograd/ops/linalg.py), and the forward of a stack of
matrices times one matrix is one product (kernels/jit/linalg.py, jit/gemm.py): the values
equal the per-batch definition, and gradcheck holds in float64."""
from __future__ import annotations

import numpy as np
import pytest

import autograd
import nn.functional as F
from autograd import gradcheck
from autograd.kernels import policy


def _t(rng, shape, dtype=np.float64):
    return autograd.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)


@pytest.mark.parametrize("route", ["blas", "gemm"])
def test_linear_weight_grad_over_flattened_rows(route):
    rng = np.random.default_rng(0)
    x, w, b = _t(rng, (3, 5, 7)), _t(rng, (4, 7)), _t(rng, (4,))
    below = 0 if route == "gemm" else policy.NEVER
    with policy.override(numpy_below=below, families=("gemm_linear",)):
        y = F.linear(x, w, b)
        g = rng.standard_normal(y.shape)
        y.backward(autograd.tensor(g))
        assert gradcheck(lambda x, w, b: F.linear(x, w, b), (x, w, b))
    xd = x.data
    np.testing.assert_allclose(y.data, xd @ w.data.T + b.data, rtol=1e-12)
    np.testing.assert_allclose(w.grad.data, sum(g[i].T @ xd[i] for i in range(3)), rtol=1e-12)
    np.testing.assert_allclose(b.grad.data, g.sum((0, 1)), rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, g @ w.data, rtol=1e-12)


@pytest.mark.parametrize("trans_b", [False, True])
def test_matmul_with_a_2d_operand_grad_over_flattened_rows(trans_b):
    rng = np.random.default_rng(1)
    a = _t(rng, (2, 3, 4, 5))
    w = _t(rng, (6, 5) if trans_b else (5, 6))
    fn = (lambda a, w: a @ w.mT) if trans_b else (lambda a, w: a @ w)
    y = fn(a, w)
    g = rng.standard_normal(y.shape)
    y.backward(autograd.tensor(g))
    wd = w.data.T if trans_b else w.data
    want = sum(a.data[i, j].T @ g[i, j] for i in range(2) for j in range(3))
    np.testing.assert_allclose(y.data, a.data @ wd, rtol=1e-12)
    np.testing.assert_allclose(w.grad.data, want.T if trans_b else want, rtol=1e-12)
    assert gradcheck(fn, (a, w))


def test_stacked_forward_is_one_product_and_equal(monkeypatch):
    """(batch, m, k) @ (k, n) with a contiguous stack: the BLAS kernel sees one 2-D product
    (a view of the rows), and so does gemm; a non-contiguous stack keeps numpy's loop."""
    from autograd.kernels import linalg as ref_linalg
    seen = []
    real = ref_linalg.blas_matmul
    monkeypatch.setattr(ref_linalg, "blas_matmul",
                        lambda a, b, out=None: (seen.append(a.ndim), real(a, b, out))[1])
    rng = np.random.default_rng(2)
    for dtype in (np.float32, np.float64):
        a = rng.standard_normal((4, 6, 8)).astype(dtype)
        b = rng.standard_normal((8, 3)).astype(dtype)
        got = autograd.kernels.matmul(a, b)
        np.testing.assert_allclose(got, np.matmul(a, b), rtol=1e-5)
        out = np.empty((4, 6, 3), dtype)
        assert autograd.kernels.matmul(a, b, out=out) is out
        np.testing.assert_allclose(out, np.matmul(a, b), rtol=1e-5)
        strided = a.transpose(1, 0, 2)
        np.testing.assert_allclose(autograd.kernels.matmul(strided, b), np.matmul(strided, b),
                                   rtol=1e-5)
        gemm = autograd.kernels.gemm.implementation("numba")
        bias = rng.standard_normal(3).astype(dtype)
        np.testing.assert_allclose(gemm(a, b, bias, "relu"),
                                   np.maximum(np.matmul(a, b) + bias, 0), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(gemm(strided, b), np.matmul(strided, b), rtol=1e-5,
                                   atol=1e-6)
    if policy.get_backend() == "numba":  # the numpy backend is the plain reference
        assert seen[:2] == [2, 2] and seen[2] == 3


@pytest.mark.parametrize("sa, sb", [((1, 0, 0), (0,)), ((2, 3, 0), (0, 4)), ((0, 3, 2), (2, 4)),
                                    ((2, 0, 3), (3, 5)), ((2, 3, 4), (4, 0))])
def test_stacked_products_with_an_empty_dim(sa, sb):
    """A stack times one matrix with a zero-length dim (found by the property tests: the
    flattened rows reshaped with -1 failed when k == 0): numpy's values, zero gradients."""
    a = autograd.tensor(np.ones(sa), requires_grad=True)
    b = autograd.tensor(np.ones(sb), requires_grad=True)
    out = a @ b
    np.testing.assert_array_equal(out.data, np.ones(sa) @ np.ones(sb))
    out.sum().backward()
    A, B, G = np.ones(sa), np.ones(sb), np.ones(out.shape)
    rows = int(np.prod(sa[:-1]))
    if len(sb) == 1:
        ga, gb = G[..., None] * B, (A * G[..., None]).reshape(rows, sb[0]).sum(0)
    else:
        ga, gb = G @ B.T, A.reshape(rows, sa[-1]).T @ G.reshape(rows, sb[1])
    np.testing.assert_array_equal(a.grad.data, ga)
    np.testing.assert_array_equal(b.grad.data, gb)
