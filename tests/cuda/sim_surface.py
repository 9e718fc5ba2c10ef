"""The rest of the surface on cuda: the elementwise math, tests and logical ops, scans,
reductions, argsort, pooling, padding, losses, clipping, schedules, saving and loading,
higher-order gradients, and a model trained on cuda equal to the same on the CPU.

Run on numba's CUDA simulator by test_simulator.py (NUMBA_ENABLE_CUDASIM=1 in a subprocess).
Values and gradients are compared with the CPU backend (float32, rtol 1e-4); sizes are
small but cover several blocks of the simulator's 16-thread grid.
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from sim_common import check_op, close, host, pair

import autograd
import nn
import nn.functional as F
import optim
from autograd import kernels as K

RNG = np.random.default_rng(0)


def rand(*shape, low=None, high=None) -> np.ndarray:
    if low is not None:
        return RNG.uniform(low, high, shape).astype(np.float32)
    return RNG.standard_normal(shape).astype(np.float32)


def on(t, a, **kwargs):
    """A constant (no grad) on t's device."""
    return autograd.tensor(a, device=t.device, **kwargs)


# ---- elementwise math ------------------------------------------------------------------------

UNARY = {  # name -> (fn, input range)
    "tan": (lambda x: x.tan(), (-1, 1)), "asin": (lambda x: x.asin(), (-0.9, 0.9)),
    "acos": (lambda x: x.acos(), (-0.9, 0.9)), "atan": (lambda x: x.atan(), (-3, 3)),
    "sinh": (lambda x: x.sinh(), (-2, 2)), "cosh": (lambda x: x.cosh(), (-2, 2)),
    "asinh": (lambda x: x.asinh(), (-3, 3)), "acosh": (lambda x: x.acosh(), (1.1, 4)),
    "atanh": (lambda x: x.atanh(), (-0.9, 0.9)), "exp2": (lambda x: x.exp2(), (-3, 3)),
    "expm1": (lambda x: x.expm1(), (-1, 1)), "log2": (lambda x: x.log2(), (0.1, 4)),
    "log10": (lambda x: x.log10(), (0.1, 4)), "log1p": (lambda x: x.log1p(), (-0.5, 3)),
    "rsqrt": (lambda x: x.rsqrt(), (0.2, 4)), "reciprocal": (lambda x: x.reciprocal(), (0.5, 3)),
    "erf": (lambda x: x.erf(), (-2, 2)), "erfc": (lambda x: x.erfc(), (-2, 2)),
    "frac": (lambda x: x.frac(), (-3, 3)), "softsign": (lambda x: F.softsign(x), (-3, 3)),
    "softplus": (lambda x: F.softplus(x), (-3, 3)),
    "logsigmoid": (lambda x: F.logsigmoid(x), (-3, 3)), "mish": (lambda x: F.mish(x), (-3, 3)),
    "gelu_erf": (lambda x: F.gelu(x), (-3, 3)),
    "nan_to_num": (lambda x: x.nan_to_num(), (-3, 3)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_math(name: str) -> None:
    fn, (lo, hi) = UNARY[name]
    check_op(fn, rand(5, 7, low=lo, high=hi))


BINARY = {
    "atan2": lambda a, b: autograd.atan2(a, b), "hypot": lambda a, b: autograd.hypot(a, b),
    "logaddexp": lambda a, b: autograd.logaddexp(a, b),
    "fmod": lambda a, b: autograd.fmod(a, b), "remainder": lambda a, b: a % b,
    "lerp": lambda a, b: autograd.lerp(a, b, 0.3),
    "pow_tensor": lambda a, b: a.abs() ** b,  # Pow's backward asks `(a > 0).all()` on cuda
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_math_with_broadcasting(name: str) -> None:
    check_op(BINARY[name], rand(3, 4, low=-2, high=2), rand(4, low=0.5, high=2))


def test_rounding_values_and_zero_gradients_on_cuda() -> None:
    x = np.array([-2.5, -1.5, -0.7, -0.5, 0.0, 0.3, 0.5, 1.5, 2.5, 2.51, 7.0], np.float32)
    for fn in (lambda t: t.floor(), lambda t: t.ceil(), lambda t: t.trunc(),
               lambda t: t.round(), lambda t: t.round(decimals=1), lambda t: t.sign(),
               lambda t: t.div(on(t, np.float32(0.7)), rounding_mode="trunc"),
               lambda t: t.div(on(t, np.float32(0.7)), rounding_mode="floor")):
        check_op(fn, x)  # round: half to even, as numpy / PyTorch
    np.testing.assert_array_equal(host(autograd.tensor(x, device="cuda").round()),
                                  [-2, -2, -1, -0, 0, 0, 0, 2, 2, 3, 7])
    big = np.array([1234.5, -1250.0, 5.55], np.float32)
    check_op(lambda t: t.round(decimals=-2), big)


def test_floor_divide_and_integer_division_on_cuda() -> None:
    a = np.array([7, -7, 7, -7, 0, 9], np.int64)
    b = np.array([2, 2, -2, -2, 3, 4], np.int64)
    ca, da = pair(a, False)
    cb, db = pair(b, False)
    for fn in (lambda x, y: x // y, lambda x, y: x % y, lambda x, y: autograd.fmod(x, y),
               lambda x, y: x.div(y, rounding_mode="trunc"),
               lambda x, y: x.div(y, rounding_mode="floor")):
        got, want = fn(da, db), fn(ca, cb)
        assert got.dtype == want.dtype == np.int64
        np.testing.assert_array_equal(host(got), want.numpy())
    f = rand(4, 5, low=-5, high=5)
    cf, df = pair(f, False)
    close(host(df // 1.5), (cf // 1.5).numpy())
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        da // autograd.tensor([1, 1, 0, 1, 1, 1], device="cuda")


def test_tests_and_logical_ops_with_nan_and_inf() -> None:
    a = np.array([[0.0, np.nan, np.inf], [-np.inf, 1.0, -2.0]], np.float32)
    b = np.array([[0.0, np.nan, np.inf], [np.inf, 1.00001, -2.1]], np.float32)
    (ca, da), (cb, db) = pair(a, False), pair(b, False)
    for fn in (lambda x, y: x.isnan(), lambda x, y: x.isinf(), lambda x, y: x.isfinite(),
               lambda x, y: autograd.isclose(x, y),
               lambda x, y: autograd.isclose(x, y, equal_nan=True),
               lambda x, y: autograd.logical_xor(x > 0, y > 0), lambda x, y: (x > 0) ^ (y > 0),
               lambda x, y: (x > 0) | (y < 0), lambda x, y: ~(x > 0)):
        got, want = fn(da, db), fn(ca, cb)
        assert got.is_cuda and got.dtype == np.bool_
        np.testing.assert_array_equal(host(got), want.numpy())
    assert autograd.allclose(db[1:, 1:], da[1:, 1:], atol=0.2)
    assert not autograd.allclose(db, da)
    ints = autograd.tensor([1, 2], device="cuda")
    np.testing.assert_array_equal(host(ints.isfinite()), [True, True])


def test_bitwise_ops_of_integers_and_bools() -> None:
    """Integer & | ^ ~ << >> are bitwise (they were logical ops with bool results on cuda)."""
    a, b = np.array([1, 2, 6, -5, 12]), np.array([3, 3, 5, 1, 2])
    (ca, da), (cb, db) = pair(a, False), pair(b, False)
    for fn in (lambda x, y: x & y, lambda x, y: x | y, lambda x, y: x ^ y,
               lambda x, y: x << y, lambda x, y: x >> y, lambda x, y: ~x,
               lambda x, y: x & 6, lambda x, y: 7 ^ x, lambda x, y: x.int() | y.int(),
               lambda x, y: (x > 0) ^ (y > 2), lambda x, y: ~(x > 0),
               lambda x, y: (x > 0) & (y > 2), lambda x, y: (x > 0) | (y > 2)):
        got, want = fn(da, db), fn(ca, cb)
        assert got.is_cuda and got.dtype == want.dtype
        np.testing.assert_array_equal(host(got), want.numpy())


def test_equal_of_cuda_tensors() -> None:
    a = autograd.tensor([1.0, np.nan, 2.0], device="cuda")
    assert autograd.equal(a[::2], a[::2]) and not autograd.equal(a, a)  # NaN != NaN
    assert not autograd.equal(a, autograd.ones(2, device="cuda"))
    assert autograd.tensor([1, 2], device="cuda").equal(autograd.tensor([1, 2], device="cuda"))


def test_sampling_on_cuda_draws_what_the_cpu_draws() -> None:
    """The draws come from the CPU generator: seeded alike, both devices give the same."""
    w = rand(3, 6, low=0, high=1)
    w[1, 2] = 0
    for fn in (lambda t: t.multinomial(4), lambda t: t.multinomial(9, replacement=True),
               lambda t: t[0].multinomial(6), lambda t: t.bernoulli(),
               lambda t: autograd.bernoulli(t, generator=autograd.Generator().manual_seed(1))):
        autograd.manual_seed(3)
        want = fn(autograd.tensor(w))
        autograd.manual_seed(3)
        got = fn(autograd.tensor(w, device="cuda"))
        assert got.is_cuda and got.dtype == want.dtype
        np.testing.assert_array_equal(host(got), want.numpy())


# ---- scans and reductions ----------------------------------------------------------------------

SCANS = {
    "cumsum1": lambda x: x.cumsum(1), "cumsum0": lambda x: x.cumsum(0),
    "cumsum_last_3d": lambda x: x.reshape(2, 3, 6).cumsum(-1),
    "cumprod1": lambda x: x.cumprod(1), "cumprod0": lambda x: x.cumprod(0),
    "logcumsumexp": lambda x: x.logcumsumexp(1),
}


@pytest.mark.parametrize("name", sorted(SCANS))
def test_scans(name: str) -> None:
    check_op(SCANS[name], rand(4, 9, low=0.5, high=1.5) if "prod" in name else rand(4, 9))


def test_prod_and_cumprod_gradients_where_the_input_has_zeros() -> None:
    """The exact products-of-the-others paths (a zero in a reduced group)."""
    a = rand(3, 4, 2, low=0.5, high=1.5)
    a[1, 2, 0] = a[2, 0, 1] = a[0, 1, 1] = a[0, 3, 1] = 0
    for fn in (lambda t: t.prod(1), lambda t: t.prod(), lambda t: t.prod((0, 2)),
               lambda t: t.cumprod(1), lambda t: t.cumprod(0)):
        check_op(fn, a)


def test_integer_cumsum_is_int64_and_exact() -> None:
    a = np.arange(-20, 20, dtype=np.int32).reshape(4, 10)
    c, d = pair(a, False)
    got = d.cumsum(1)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(host(got), c.cumsum(1).numpy())
    np.testing.assert_array_equal(host(d.cumprod(0)), c.cumprod(0).numpy())


REDUCTIONS = {
    "prod1": lambda x: x.prod(1), "prod_all": lambda x: x.prod(),
    "prod_keepdim": lambda x: x.prod(0, keepdim=True), "norm": lambda x: x.norm(),
    "norm1_dim": lambda x: x.norm(1, 1), "norm_inf": lambda x: x.norm(float("inf"), 0),
    "norm3": lambda x: x.norm(3, 1), "median_dim": lambda x: x.median(1)[0],
    "median_all": lambda x: x.median(), "var_mean": lambda x: autograd.var_mean(x, 1)[0],
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions(name: str) -> None:
    check_op(REDUCTIONS[name], rand(3, 5, low=0.5, high=1.5) if "prod" in name
             else rand(3, 5))


def test_truth_reductions_and_counts() -> None:
    a = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [2.0, -1.0, 3.0]], np.float32)
    c, d = pair(a, False)
    for fn in (lambda t: t.any(), lambda t: t.all(), lambda t: (t != 0).any(1),
               lambda t: (t != 0).all(1), lambda t: t.any(0, keepdim=True),
               lambda t: t.count_nonzero(), lambda t: t.count_nonzero(0),
               lambda t: t.prod(1), lambda t: autograd.tensor([[1, 2], [3, 4]],
                                                              device=t.device).prod(0)):
        got, want = fn(d), fn(c)
        assert got.is_cuda and got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(host(got), want.numpy())
    empty = autograd.zeros(2, 0, device="cuda")
    np.testing.assert_array_equal(host(empty.prod(1)), [1, 1])
    np.testing.assert_array_equal(host(empty.all(1)), [True, True])
    np.testing.assert_array_equal(host(empty.any(1)), [False, False])


def test_argsort_is_stable_with_nan_last() -> None:
    a = RNG.integers(0, 4, (3, 37)).astype(np.float32)  # many ties; 37: ragged merge runs
    a[1, 5] = a[2, 30] = np.nan
    c, d = pair(a, False)
    for fn in (lambda t: t.argsort(1), lambda t: t.argsort(0),
               lambda t: t.argsort(1, descending=True)):
        got, want = fn(d), fn(c)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(host(got), want.numpy())
    np.testing.assert_array_equal(host(d.argsort(1))[1, -1], 5)
    check_op(lambda t: t.median(0)[0], rand(7, 4))


SELECTIONS = {
    "sort": lambda t: t.sort(1)[0], "sort_desc": lambda t: t.sort(0, descending=True)[0],
    "topk": lambda t: t.topk(3, 1)[0], "topk_smallest": lambda t: t.topk(2, 0, largest=False)[0],
    "kthvalue": lambda t: t.kthvalue(4, 1)[0], "cummax": lambda t: t.cummax(1)[0],
    "cummin": lambda t: t.cummin(0)[0],
}


@pytest.mark.parametrize("name", sorted(SELECTIONS))
def test_sort_and_select_gradients(name: str) -> None:
    check_op(SELECTIONS[name], rand(4, 9))


def test_sort_topk_kthvalue_cummax_values_and_indices_with_ties() -> None:
    """Values and indices through argsort / take / accumulate, ties kept in order."""
    a = RNG.integers(0, 5, (4, 9)).astype(np.float32)
    c, d = pair(a, False)
    for fn in (lambda t: t.sort(1), lambda t: t.sort(0, descending=True),
               lambda t: t.topk(3, 1), lambda t: t.topk(2, 0, largest=False),
               lambda t: t.kthvalue(4, 1), lambda t: t.cummax(1), lambda t: t.cummin(0)):
        (gv, gi), (wv, wi) = fn(d), fn(c)
        assert gv.is_cuda and gi.is_cuda and gi.dtype == np.int64
        np.testing.assert_array_equal(host(gv), wv.numpy())
        np.testing.assert_array_equal(host(gi), wi.numpy())


@pytest.mark.parametrize("shifts", [(2, 1), ((1, -3), (0, 2)), (7, None), (-1, 0)], ids=str)
def test_roll(shifts: tuple) -> None:
    check_op(lambda t: t.roll(*shifts) if shifts[1] is not None else t.roll(shifts[0]),
             rand(3, 4, 5))


EINSUMS = {
    "matmul": ("ij,jk->ik", (3, 4), (4, 5)), "batched": ("bij,bjk->bik", (2, 3, 4), (2, 4, 5)),
    "transpose": ("ij->ji", (3, 4)), "total": ("ij->", (3, 4)), "dot": ("i,i->", (4,), (4,)),
    "outer": ("i,j->ij", (3,), (4,)), "attention": ("bhqd,bhkd->bhqk", (2, 2, 3, 4),
                                                     (2, 2, 5, 4)),
    "chain": ("ij,jk,kl->il", (2, 3), (3, 4), (4, 2)),
    "ellipsis_broadcast": ("...ij,...jk->...ik", (2, 3, 4), (4, 5)),
    "implicit": ("ijk,k", (2, 3, 4), (4,)), "rowwise": ("ij,ij->i", (3, 4), (3, 4)),
    "sum_only_in_one": ("ijk,jl->il", (2, 3, 4), (3, 5)),
}


@pytest.mark.parametrize("name", sorted(EINSUMS))
def test_einsum(name: str) -> None:
    equation, *shapes = EINSUMS[name]
    check_op(lambda *t: autograd.einsum(equation, *t), *(rand(*s) for s in shapes))


# ---- pooling and padding ---------------------------------------------------------------------

POOLS = {
    "avg2": lambda x: F.avg_pool2d(x, 2), "avg3_s2_p1": lambda x: F.avg_pool2d(x, 3, 2, 1),
    "avg_no_pad_count": lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
    "avg_overlap": lambda x: F.avg_pool2d(x, (3, 2), 1),
    "avg_ceil": lambda x: F.avg_pool2d(x, 2, ceil_mode=True),
    "avg_divisor": lambda x: F.avg_pool2d(x, 2, divisor_override=3),
    "avg1d": lambda x: F.avg_pool1d(x.reshape(2, 3, 25), 4, 3),
    "adaptive_avg": lambda x: F.adaptive_avg_pool2d(x, (2, 3)),
    "adaptive_avg_1": lambda x: nn.AdaptiveAvgPool2d(1)(x),
    "max_ceil": lambda x: F.max_pool2d(x, 2, ceil_mode=True),
    "module": lambda x: nn.AvgPool2d(2, 1, padding=1)(x),
}


@pytest.mark.parametrize("name", sorted(POOLS))
def test_pooling(name: str) -> None:
    check_op(POOLS[name], rand(2, 3, 5, 5))


@pytest.mark.parametrize("size", [2, (3, 4), (5, 7), (None, 3), 1], ids=str)
def test_adaptive_max_pool_values_indices_and_gradients(size) -> None:
    a = rand(2, 3, 5, 7)
    a[1, 2, 0, 0] = np.nan  # NaN wins its bin, as on the CPU
    check_op(lambda t: F.adaptive_max_pool2d(t, size), a)
    c, d = pair(a, False)
    (vc, ic), (vd, idx) = (F.adaptive_max_pool2d(t, size, return_indices=True) for t in (c, d))
    assert idx.is_cuda and idx.dtype == np.int64
    np.testing.assert_array_equal(host(idx), ic.numpy())
    np.testing.assert_array_equal(host(vd), vc.numpy())
    check_op(lambda t: nn.AdaptiveMaxPool2d(2)(t), a[0])  # unbatched (C, H, W)


def test_avg_pool_second_derivative_on_cuda() -> None:
    """AvgPool2dBackward's backward is AvgPool2d: a gradient of a gradient."""
    x, w = rand(1, 2, 4, 4), rand(1, 2, 2, 2)
    out = []
    for dev in ("cpu", "cuda"):
        t = autograd.tensor(x, device=dev, requires_grad=True)
        (g,) = autograd.grad((F.avg_pool2d(t, 2) * on(t, w)).sum() ** 2, t, create_graph=True)
        (gg,) = autograd.grad((g * g).sum(), t)
        out.append(gg.cpu().numpy())
    close(out[1], out[0])


PADS = {
    "last": lambda x: F.pad(x, (1, 2)), "last_two": lambda x: F.pad(x, (1, 0, 2, 1), value=3.5),
    "all_four": lambda x: F.pad(x, (1, 1, 0, 2, 1, 0, 2, 0)),
}


@pytest.mark.parametrize("name", sorted(PADS))
def test_constant_pad(name: str) -> None:
    check_op(PADS[name], rand(2, 3, 4, 5))


# ---- losses ----------------------------------------------------------------------------------

P, Y, W = rand(4, 3, low=0.05, high=0.95), rand(4, 3, low=0, high=1), rand(4, 3, low=0, high=2)
POS_WEIGHT = rand(3, low=0.5, high=2)
SIGNS = np.array([1.0, -1.0, -1.0, 1.0], np.float32)
LOSSES = {
    "bce": lambda p: F.binary_cross_entropy(p, on(p, Y)),
    "bce_weight_sum": lambda p: F.binary_cross_entropy(p, on(p, Y), weight=on(p, W),
                                                       reduction="sum"),
    "bce_module_none": lambda p: nn.BCELoss(reduction="none")(p, on(p, Y)),
    "bce_logits": lambda x: F.binary_cross_entropy_with_logits(x * 4 - 2, on(x, Y)),
    "bce_logits_pos_weight": lambda x: nn.BCEWithLogitsLoss(pos_weight=on(x, POS_WEIGHT))(
        x * 4 - 2, on(x, Y)),
    "kl_div": lambda p: F.kl_div(p.log(), on(p, Y / Y.sum(1, keepdims=True)),
                                 reduction="batchmean"),
    "kl_div_log_target": lambda p: nn.KLDivLoss(reduction="sum", log_target=True)(
        p.log(), on(p, np.log(P[::-1].copy()))),
    "hinge": lambda p: F.hinge_loss(p[:, 0] - 0.5, on(p, SIGNS)),
    "smooth_l1": lambda p: F.smooth_l1_loss(p, on(p, Y), beta=0.3),
    "huber": lambda p: nn.HuberLoss(delta=0.2)(p, on(p, Y)),
    "l1": lambda p: F.l1_loss(p, on(p, Y)),
    "ce_label_smoothing": lambda x: F.cross_entropy(x, on(x, np.array([0, 2, 1, 2])),
                                                    label_smoothing=0.2),
    "ce_label_smoothing_weight_ignore": lambda x: nn.CrossEntropyLoss(
        weight=on(x, POS_WEIGHT), ignore_index=1, label_smoothing=0.1)(
            x, on(x, np.array([0, 2, 1, 2]))),
    "ce_probabilities": lambda x: F.cross_entropy(x, on(x, Y), label_smoothing=0.05),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses(name: str) -> None:
    check_op(LOSSES[name], P)


def test_loss_input_checks_on_cuda() -> None:
    p = autograd.tensor(np.array([0.5, 1.5], np.float32), device="cuda")
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(p, autograd.tensor([0.0, 1.0], device="cuda"))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.BCELoss()(-p, autograd.tensor([0.0, 1.0], device="cuda"))
    ok = nn.BCELoss()(p * 0.5, autograd.tensor([0.0, 1.0], device="cuda"))
    assert ok.is_cuda and abs(ok.item() - 0.5 * (-np.log(0.75) - np.log(0.75))) < 1e-5


def test_cross_entropy_second_derivative_on_cuda() -> None:
    x, t = rand(4, 5), np.array([1, 0, 4, 2])
    out = []
    for dev in ("cpu", "cuda"):
        xt = autograd.tensor(x, device=dev, requires_grad=True)
        (g,) = autograd.grad(F.cross_entropy(xt, on(xt, t)), xt, create_graph=True)
        (gg,) = autograd.grad((g * g).sum(), xt)
        assert gg.device.type == dev
        out.append(gg.cpu().numpy())
    close(out[1], out[0])


# ---- clipping, schedules, saving ---------------------------------------------------------------

def _model_with_grads(device: str) -> nn.Module:
    autograd.manual_seed(3)
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2)).to(device)
    (model(autograd.tensor(rand(5, 4) * 0 + 1, device=device)) ** 2).sum().backward()
    return model


def test_clip_grad_norm_and_value_on_cuda() -> None:
    for clip in (lambda ps: nn.utils.clip_grad_norm_(ps, 0.3),
                 lambda ps: nn.utils.clip_grad_norm_(ps, 0.3, norm_type=float("inf")),
                 lambda ps: nn.utils.clip_grad_value_(ps, 0.05)):
        cpu, dev = _model_with_grads("cpu"), _model_with_grads("cuda")
        norm_cpu, norm_dev = clip(cpu.parameters()), clip(dev.parameters())
        if norm_cpu is not None:
            assert norm_dev.is_cuda
            close(norm_dev.item(), norm_cpu.item())
        for pc, pd in zip(cpu.parameters(), dev.parameters()):
            assert pd.grad.is_cuda
            close(host(pd.grad), pc.grad.numpy())


def test_clip_grad_norm_stays_on_the_device(monkeypatch) -> None:
    """As PyTorch's: the norm and the factor are computed on the device, nothing is copied
    to the host (unless error_if_nonfinite asks); a non-finite norm raises when asked."""
    from autograd.kernels.cuda import runtime

    def no_copy(x):
        raise AssertionError("clip_grad_norm_ copied a cuda array to the host")

    model = _model_with_grads("cuda")
    with monkeypatch.context() as patch:
        patch.setattr(runtime, "to_host", no_copy)
        norm = nn.utils.clip_grad_norm_(model.parameters(), 0.3)
        nn.utils.clip_grad_norm_(model.parameters(), 0.3, norm_type=1.0)
    assert norm.is_cuda and norm.dtype == np.float32
    close(nn.utils.clip_grad_norm_(model.parameters(), 1.0, norm_type=1.0).item(), 0.3,
          rtol=1e-5)  # the last clip's norm, after it scaled
    model[0].bias.grad.fill_(float("inf"))
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(model.parameters(), 0.3, error_if_nonfinite=True)


def test_parameters_to_vector_and_back_on_cuda() -> None:
    model = _model_with_grads("cuda")
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.is_cuda and vec.shape == (4 * 3 + 3 + 3 * 2 + 2,)
    nn.utils.vector_to_parameters(vec * 2, model.parameters())
    assert model[0].weight.is_cuda
    close(host(nn.utils.parameters_to_vector(model.parameters())), 2 * host(vec))


def test_save_and_load_cuda_tensors(tmp_path) -> None:
    a = autograd.tensor(rand(2, 3), device="cuda", requires_grad=True)
    raw = autograd.tensor(np.arange(4), device="cuda").data  # optimiser state is raw arrays
    path = tmp_path / "t.pt"
    autograd.save({"a": a, "again": [a], "raw": raw, "cpu": autograd.ones(2)}, path)
    back = autograd.load(path)  # back on the device each was saved from, as PyTorch
    assert back["a"].is_cuda and back["a"].requires_grad and back["a"] is back["again"][0]
    assert not back["cpu"].is_cuda
    np.testing.assert_array_equal(host(back["a"]), host(a.detach()))
    assert type(back["raw"]) is type(raw)
    np.testing.assert_array_equal(back["raw"].get(), [0, 1, 2, 3])
    on_cpu = autograd.load(path, map_location="cpu")
    assert not on_cpu["a"].is_cuda and isinstance(on_cpu["raw"], np.ndarray)
    np.testing.assert_array_equal(on_cpu["a"].numpy(), host(a.detach()))
    mapped = autograd.load(path, map_location={"cuda:0": "cpu", "cpu": "cuda"})
    assert not mapped["a"].is_cuda and mapped["cpu"].is_cuda
    seen = []
    autograd.load(path, map_location=lambda t, location: seen.append(location))
    assert sorted(seen) == ["cpu", "cuda:0"]
    again = autograd.load(path, map_location=lambda t, location: None)
    assert again["a"].is_cuda and not again["cpu"].is_cuda


def test_state_dicts_move_between_devices(tmp_path) -> None:
    autograd.manual_seed(1)
    dev = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).cuda()
    dev(autograd.tensor(rand(5, 3), device="cuda"))  # running statistics move
    autograd.save(dev.state_dict(), tmp_path / "m.pt")
    cpu = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    cpu.load_state_dict(autograd.load(tmp_path / "m.pt"))  # cuda tensors into a cpu model
    assert not cpu[0].weight.is_cuda
    for (name, pc), pd in zip(cpu.state_dict().items(), dev.state_dict().values()):
        np.testing.assert_array_equal(pc.numpy(), host(pd), err_msg=name)
    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).cuda()
    fresh.load_state_dict(cpu.state_dict())  # and cpu tensors into a cuda model
    assert fresh[1].running_var.is_cuda
    np.testing.assert_array_equal(host(fresh[1].running_var), cpu[1].running_var.numpy())


def test_optimiser_state_saved_and_resumed_on_cuda(tmp_path) -> None:
    """Adam 4 steps on cuda == 2 steps, save, load (map_location="cuda"), 2 more steps."""
    x, t = rand(6, 3), rand(6, 1)

    def steps(model, opt, n):
        for _ in range(n):
            opt.zero_grad()
            F.mse_loss(model(autograd.tensor(x, device="cuda")),
                       autograd.tensor(t, device="cuda")).backward()
            opt.step()

    autograd.manual_seed(2)
    straight = nn.Linear(3, 1).cuda()
    opt = optim.Adam(straight.parameters(), lr=0.1)
    steps(straight, opt, 4)
    autograd.manual_seed(2)
    resumed = nn.Linear(3, 1).cuda()
    opt = optim.Adam(resumed.parameters(), lr=0.1)
    steps(resumed, opt, 2)
    autograd.save({"model": resumed.state_dict(), "opt": opt.state_dict()}, tmp_path / "c.pt")
    state = autograd.load(tmp_path / "c.pt", map_location="cuda")
    autograd.manual_seed(5)
    model = nn.Linear(3, 1).cuda()
    model.load_state_dict(state["model"])
    opt = optim.Adam(model.parameters(), lr=0.1)
    opt.load_state_dict(state["opt"])
    assert type(opt.state[model.weight]["exp_avg"]) is type(model.weight.data)
    steps(model, opt, 2)
    close(host(model.weight), host(straight.weight))


def test_printing_and_python_values_of_cuda_tensors() -> None:
    d = autograd.tensor([[1.5, -2.0], [0.25, 4.0]], device="cuda")
    assert "device='cuda:0'" in str(d) and "1.5" in str(d) and "0.25" in repr(d)
    assert d.tolist() == [[1.5, -2.0], [0.25, 4.0]] and d[...].sum().item() == 3.75
    assert f"{d.sum():.2f}" == "3.75" and float(d.amax()) == 4.0 and int(d.argmax()) == 3
    assert bool((d > 0).any()) and not bool((d > 0).all())


def test_cuda_works_before_nn_is_imported() -> None:
    """The cuda backend registers pooling / conv / batch-norm kernels whose declarations
    `import nn` used to load: a cuda tensor used first thing raised KeyError."""
    code = ("import autograd; x = autograd.ones(3, device='cuda'); "
            "print((x + x).cumsum(0).tolist())")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[2.0, 4.0, 6.0]"


# ---- bad input at the kernels' boundary --------------------------------------------------------

def test_kernels_refuse_bad_input_with_a_clear_message() -> None:
    ints = autograd.tensor([[1, 2]], device="cuda").data
    floats = autograd.tensor(rand(2, 3), device="cuda").data
    with pytest.raises(TypeError, match="cuda tan: expected a floating cuda array"):
        K.tan(ints)
    with pytest.raises(ValueError, match=r"cuda avg_pool2d: expected a floating \(N, C, H, W\)"):
        K.avg_pool2d(floats, 2, 2, 2, 2, 0, 0)
    with pytest.raises(IndexError, match="take: index 5 is out of bounds for axis 1"):
        np.take(floats, [0, 5], axis=1)
    with pytest.raises(ValueError, match="pad: negative widths"):
        np.pad(floats, ((0, 0), (-1, 0)))
    with pytest.raises(np.exceptions.AxisError, match="axis 2 is out of bounds"):
        np.cumsum(floats, axis=2)


# ---- a model trained on cuda equals the same on the CPU ------------------------------------------

def _logistic_regression(device: str) -> tuple:
    """BCE-with-logits logistic regression with SGD and a StepLR schedule, 5 steps; then a
    small CNN with average pooling, Adam and cosine annealing, 3 steps."""
    data = np.random.default_rng(4)
    x, y = data.standard_normal((8, 3)).astype(np.float32), data.integers(0, 2, (8, 1))
    autograd.manual_seed(0)
    model = nn.Linear(3, 1).to(device)
    opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.5)
    schedule = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    xs, ys = autograd.tensor(x, device=device), autograd.tensor(y, device=device).float()
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(xs), ys)
        loss.backward()
        opt.step()
        schedule.step()
        losses.append(loss.item())
    images = autograd.tensor(data.standard_normal((4, 1, 6, 6)).astype(np.float32),
                             device=device)
    labels = autograd.tensor(data.integers(0, 3, 4), device=device)
    autograd.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.Softplus(), nn.AvgPool2d(2),
                        nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(8, 3)).to(device)
    opt2 = optim.Adam(cnn.parameters(), lr=0.05)
    cosine = optim.lr_scheduler.CosineAnnealingLR(opt2, T_max=3)
    for _ in range(3):
        opt2.zero_grad()
        loss = F.cross_entropy(cnn(images), labels, label_smoothing=0.1)
        loss.backward()
        opt2.step()
        cosine.step()
        losses.append(loss.item())
    weights = [p.cpu().numpy().copy() for p in [*model.parameters(), *cnn.parameters()]]
    return losses, weights, schedule.get_last_lr() + cosine.get_last_lr()


def test_training_on_cuda_equals_training_on_cpu() -> None:
    losses_cpu, weights_cpu, lrs_cpu = _logistic_regression("cpu")
    losses_dev, weights_dev, lrs_dev = _logistic_regression("cuda")
    close(losses_dev, losses_cpu)
    for got, want in zip(weights_dev, weights_cpu):
        close(got, want, atol=1e-6)
    assert lrs_dev == lrs_cpu and losses_cpu[4] < losses_cpu[0]
