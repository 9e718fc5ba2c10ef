"""Reductions: dim / keepdim / axis, values, gradients (ties included), softmax family."""
import numpy as np
import pytest

import autograd
from autograd import gradcheck, gradgradcheck

DIMS = [None, 0, 1, -1, (0, 2), (1,)]
SMOOTH = {
    "sum": (lambda t, d, k: t.sum(d, k), lambda a, d, k: a.sum(d, keepdims=k)),
    "mean": (lambda t, d, k: t.mean(d, k), lambda a, d, k: a.mean(d, keepdims=k)),
    "var": (lambda t, d, k: t.var(d, keepdim=k), lambda a, d, k: a.var(d, ddof=1, keepdims=k)),
    "std": (lambda t, d, k: t.std(d, keepdim=k), lambda a, d, k: a.std(d, ddof=1, keepdims=k)),
    "logsumexp": (lambda t, d, k: t.logsumexp(d, k),
                  lambda a, d, k: np.log(np.exp(a).sum(d, keepdims=k))),
    "prod": (lambda t, d, k: t.prod(d, k),
             lambda a, d, k: a.prod(d, keepdims=k)),
}




@pytest.mark.parametrize("name", SMOOTH)
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_smooth_reductions(name, dim, keepdim, rng):
    fn, ref = SMOOTH[name]
    a = rng.standard_normal((2, 3, 4))
    out = fn(autograd.tensor(a), dim, keepdim)
    np.testing.assert_allclose(out.data, ref(a, dim, keepdim), rtol=1e-10)
    x = autograd.tensor(a, requires_grad=True)
    assert gradcheck(lambda t: fn(t, dim, keepdim), (x,))


@pytest.mark.parametrize("name", SMOOTH)
def test_smooth_reductions_second_order(name, rng):
    fn, _ = SMOOTH[name]
    x = autograd.tensor(rng.standard_normal((2, 3)) + 0.5, requires_grad=True)
    assert gradgradcheck(lambda t: fn(t, 1, False), (x,))


def test_axis_alias_and_hand_values():
    x = autograd.tensor([[1.0, 2.0], [3.0, 5.0]])
    np.testing.assert_allclose(x.sum(axis=0).data, [4, 7])
    np.testing.assert_allclose(x.mean(axis=1).data, [1.5, 4])
    np.testing.assert_allclose(x.var().data, np.var([1, 2, 3, 5], ddof=1), rtol=1e-6)
    np.testing.assert_allclose(x.var(unbiased=False).data, np.var([1, 2, 3, 5]), rtol=1e-6)
    np.testing.assert_allclose(x.prod().data, 30)
    assert x.sum(1, keepdim=True).shape == (2, 1)


def test_var_of_large_mean_is_accurate():
    base = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
    x = autograd.tensor(base + 1e6)
    np.testing.assert_allclose(x.var(unbiased=False).item(), 1.25, rtol=1e-3)


def test_max_min_whole_tensor_split_ties():
    x = autograd.tensor([[1.0, 3.0], [3.0, 0.0]], requires_grad=True)
    m = x.max()
    assert m.item() == 3.0
    m.backward()
    np.testing.assert_allclose(x.grad.data, [[0, 0.5], [0.5, 0]])
    y = autograd.tensor([2.0, -1.0, -1.0], requires_grad=True)
    y.min().backward()
    np.testing.assert_allclose(y.grad.data, [0, 0.5, 0.5])


def test_max_along_dim_returns_values_and_indices():
    x = autograd.tensor([[1.0, 5.0, 5.0], [7.0, 2.0, 0.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(values.data, [5, 7])
    np.testing.assert_array_equal(indices.data, [1, 0])
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 1, 0], [1, 0, 0]])
    v, i = x.min(0, keepdim=True)
    assert v.shape == (1, 3) and i.shape == (1, 3)
    np.testing.assert_array_equal(i.data, [[0, 1, 1]])


def test_amax_gradcheck_without_ties(rng):
    x = autograd.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert gradcheck(lambda t: t.amax(1), (x,))
    assert gradcheck(lambda t: t.max(0).values, (x,))
    assert gradcheck(lambda t: t.amin((0, 1)), (x,))


def test_argmax_argmin():
    x = autograd.tensor([[1.0, 9.0, 3.0], [4.0, 0.0, 6.0]])
    np.testing.assert_array_equal(x.argmax(1).data, [1, 2])
    np.testing.assert_array_equal(x.argmin(dim=0).data, [0, 1, 0])
    assert x.argmax().item() == 1
    assert x.argmax(1).dtype == np.int64 and not x.argmax(1).requires_grad


def test_prod_gradient_with_zeros():
    x = autograd.tensor([2.0, 0.0, 3.0], requires_grad=True)
    x.prod().backward()
    np.testing.assert_allclose(x.grad.data, [0, 6, 0])
    y = autograd.tensor([[0.0, 0.0, 3.0]], requires_grad=True)
    y.prod(1).sum().backward()
    np.testing.assert_allclose(y.grad.data, [[0, 0, 0]])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_log_softmax(dim, rng):
    a = rng.standard_normal((3, 4))
    e = np.exp(a - a.max(dim, keepdims=True))
    sm = e / e.sum(dim, keepdims=True)
    x = autograd.tensor(a, requires_grad=True)
    np.testing.assert_allclose(x.softmax(dim).data, sm, rtol=1e-12)
    np.testing.assert_allclose(x.log_softmax(dim).data, np.log(sm), rtol=1e-12)
    w = autograd.tensor(rng.standard_normal((3, 4)))
    assert gradcheck(lambda t: t.softmax(dim) * w, (x,))
    assert gradcheck(lambda t: t.log_softmax(dim) * w, (x,))
    assert gradgradcheck(lambda t: (t.softmax(dim) * w).sum(), (x,))
    assert gradgradcheck(lambda t: (t.log_softmax(dim) * w).sum(), (x,))


def test_softmax_family_stable_for_huge_inputs():
    x = autograd.tensor([[1e4, -1e4, 0.0]], requires_grad=True)
    for out in (x.softmax(-1), x.log_softmax(-1), x.logsumexp(-1)):
        assert np.isfinite(out.data).all()
        x.grad = None
        out.sum().backward()
        assert np.isfinite(x.grad.data).all()
    np.testing.assert_allclose(x.logsumexp(-1).data, [1e4])


def test_bad_dim_raises():
    x = autograd.ones(2, 3)
    with pytest.raises(IndexError, match="out of range"):
        x.sum(2)
    with pytest.raises(IndexError, match="out of range"):
        x.softmax(5)
    with pytest.raises(ValueError, match="empty"):
        autograd.zeros(0).max()


# ---- norm and std: PyTorch's values and gradients (literals from PyTorch 2.13, float64) ----
INF = float("inf")
NORM_CASES = [  # (p, dim, x, norm, gradient of norm(...).sum())
    (2, None, [0.0, 0.0, 0.0], 0.0, [0.0, 0.0, 0.0]),
    (3, None, [0.0, 0.0, 0.0], 0.0, [0.0, 0.0, 0.0]),
    (1, None, [0.0, 0.0, 0.0], 0.0, [0.0, 0.0, 0.0]),
    (0.5, None, [0.0, 0.0, 0.0], 0.0, [0.0, 0.0, 0.0]),
    (0.5, None, [0.0, 1.0, 4.0], 9.0, [0.0, 3.0, 1.5]),
    (1.5, None, [0.0, 1.0, 4.0], 4.3267487109222245, [0.0, 0.4807498567691361,
                                                      0.9614997135382722]),
    (-1, None, [0.0, 1.0, 4.0], 0.0, [0.0, 0.0, 0.0]),
    (-1, None, [2.0, 1.0, 4.0], 0.5714285714285714, [0.08163265306122448, 0.32653061224489793,
                                                     0.02040816326530612]),
    (2, 1, [[0.0, 0.0], [3.0, 4.0]], [0.0, 5.0], [[0.0, 0.0], [0.6, 0.8]]),
    (INF, None, [2.0, -3.0, 4.0], 4.0, [0.0, 0.0, 1.0]),
    (-INF, None, [2.0, -3.0, 4.0], 2.0, [1.0, 0.0, 0.0]),
    (INF, None, [4.0, -3.0, -4.0], 4.0, [0.5, 0.0, -0.5]),  # ties share the gradient
    (-INF, None, [2.0, -2.0, 4.0], 2.0, [0.5, -0.5, 0.0]),
    (INF, 1, [[4.0, -3.0, -4.0], [1.0, 2.0, -3.0]], [4.0, 3.0], [[0.5, 0.0, -0.5],
                                                                  [0.0, 0.0, -1.0]]),
    (INF, None, [0.0, 0.0, 0.0], 0.0, [0.0, 0.0, 0.0]),
    (-INF, None, [0.0, 1.0], 0.0, [0.0, 0.0]),
    (0, None, [2.0, 0.0, 4.0], 2.0, [0.0, 0.0, 0.0]),  # count of non-zeros, no gradient
    (0, 1, [[2.0, 0.0, 4.0], [0.0, 0.0, 1.0]], [2.0, 1.0], [[0.0] * 3, [0.0] * 3]),
    ("fro", None, [[1.0, 2.0], [3.0, 4.0]], 5.477225575051661,
     [[0.18257418583505536, 0.3651483716701107], [0.5477225575051661, 0.7302967433402214]]),
]


@pytest.mark.parametrize("p, dim, x, value, grad", NORM_CASES)
def test_norm_values_and_gradients_match_pytorch(p, dim, x, value, grad):
    t = autograd.tensor(np.array(x), requires_grad=True)
    out = t.norm(p, dim)
    np.testing.assert_allclose(out.data, value, rtol=1e-12)
    out.sum().backward()
    assert np.isfinite(t.grad.data).all()
    np.testing.assert_allclose(t.grad.data, grad, rtol=1e-12, atol=1e-15)


def test_norm_float32_inf_and_zero():
    x = autograd.tensor([2.0, -3.0, 4.0])
    assert x.norm(INF).item() == 4.0 and x.norm(-INF).item() == 2.0
    assert x.norm(0).item() == 3.0 and x.norm(0).dtype == np.float32


@pytest.mark.parametrize("p", [2, 3, 1.5, 0.5, -1, 1, INF, -INF])
@pytest.mark.parametrize("dim", [None, 1])
def test_norm_gradcheck(p, dim, rng):
    x = autograd.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert gradcheck(lambda t: t.norm(p, dim), (x,))
    if p not in (1, INF, -INF):  # piecewise linear: second derivative 0, nothing to check
        assert gradgradcheck(lambda t: t.norm(p, dim), (x,))


def test_norm_bad_input():
    with pytest.raises(RuntimeError, match="norm.*floating point.*int64"):
        autograd.tensor([1, 2]).norm()
    with pytest.raises(RuntimeError, match="norm.*empty"):
        autograd.zeros(0).norm(INF)
    with pytest.raises(ValueError, match="norm: p must be"):
        autograd.ones(2).norm("nuc")


def test_std_of_constant_input_has_zero_gradient():
    # PyTorch 2.13: std([3, 3, 3]) = 0 with gradient [0, 0, 0]; one element: NaN and NaN
    x = autograd.tensor(np.array([3.0, 3.0, 3.0]), requires_grad=True)
    x.std().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0])
    x = autograd.tensor(np.array([[3.0, 3.0], [1.0, 2.0]]), requires_grad=True)
    x.std(1).sum().backward()
    np.testing.assert_allclose(x.grad.data, [[0.0, 0.0], [-0.7071067811865476,
                                                          0.7071067811865476]], rtol=1e-12)
    x = autograd.tensor([3.0], requires_grad=True)
    with np.errstate(all="ignore"):
        x.std().backward()
    assert np.isnan(x.grad.data).all()
