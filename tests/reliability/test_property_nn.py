"""Property-based gradient tests of nn.functional: linear, conv2d, pooling, normalisation and
every loss, on random shapes and options, in float64, with gradcheck and (smooth ops)
gradgradcheck. These graphs are larger than the autograd ops', so each test runs a third of
the profile's examples (at least 4)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import gradcheck, gradgradcheck

from .helpers import leaf
from .strategies import away, distinct, seeds, uniform

F = pytest.importorskip("nn.functional", reason="nn.functional does not import yet")

FEWER = settings(max_examples=max(4, settings.default.max_examples // 3))


def check(fn, inputs, second_order=True):
    assert gradcheck(fn, inputs)
    if second_order:
        assert gradgradcheck(fn, inputs)


@FEWER
@given(n=st.integers(0, 3), fin=st.integers(1, 4), fout=st.integers(1, 3),
       extra=st.sampled_from([(), (2,)]), bias=st.booleans(), seed=seeds)
def test_linear(n, fin, fout, extra, bias, seed):
    x = leaf(uniform(seed, extra + (n, fin)))
    w = leaf(uniform(seed + 1, (fout, fin)))
    args = (x, w) + ((leaf(uniform(seed + 2, (fout,))),) if bias else ())
    out = F.linear(*args)
    ref = x.data @ w.data.T + (args[2].data if bias else 0)
    np.testing.assert_allclose(out.data, ref, rtol=1e-12, atol=1e-12)
    check(lambda *a: F.linear(*a), args)


@st.composite
def conv_case(draw):
    groups = draw(st.sampled_from([1, 1, 2]))
    cin = groups * draw(st.integers(1, 2))
    cout = groups * draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.sampled_from([1, 2, (1, 2)]))
    dilation = draw(st.sampled_from([1, 1, 2]))
    padding = draw(st.sampled_from([0, 1, (1, 0)]))
    dh = dilation * (kh - 1) + 1
    dw = dilation * (kw - 1) + 1
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    h = draw(st.integers(max(1, dh - 2 * ph), max(1, dh - 2 * ph) + 3))
    w = draw(st.integers(max(1, dw - 2 * pw), max(1, dw - 2 * pw) + 3))
    n = draw(st.integers(0, 2))
    bias = draw(st.booleans())
    return {"x": (n, cin, h, w), "w": (cout, cin // groups, kh, kw), "bias": bias,
            "stride": stride, "padding": padding, "dilation": dilation, "groups": groups}


@FEWER
@given(case=conv_case(), seed=seeds)
def test_conv2d(case, seed):
    x = leaf(uniform(seed, case["x"]))
    w = leaf(uniform(seed + 1, case["w"]))
    args = (x, w) + ((leaf(uniform(seed + 2, case["w"][:1])),) if case["bias"] else ())
    kw = {k: case[k] for k in ("stride", "padding", "dilation", "groups")}

    def fn(*a):
        return F.conv2d(a[0], a[1], a[2] if len(a) > 2 else None, **kw)

    out = fn(*args)
    assert out.shape[:2] == (case["x"][0], case["w"][0])
    check(fn, args, second_order=x.data.size <= 60)


@FEWER
@given(n=st.integers(1, 2), c=st.integers(1, 2), h=st.integers(2, 6), w=st.integers(2, 6),
       k=st.integers(1, 3), stride=st.sampled_from([None, 1, 2]), pad=st.integers(0, 1),
       seed=seeds)
def test_max_pool2d(n, c, h, w, k, stride, pad, seed):
    if k > min(h, w) + 2 * pad or 2 * pad > k:
        return  # invalid geometry (tested in the error table)
    x = leaf(distinct(seed, (n, c, h, w)))  # no ties: the max is unique in every window
    check(lambda t: F.max_pool2d(t, k, stride, pad), (x,))


@FEWER
@given(n=st.integers(1, 2), c=st.integers(1, 2), h=st.integers(2, 6), w=st.integers(2, 6),
       k=st.integers(1, 3), stride=st.sampled_from([None, 1, 2]), pad=st.integers(0, 1),
       include=st.booleans(), seed=seeds)
def test_avg_pool2d(n, c, h, w, k, stride, pad, include, seed):
    if k > min(h, w) + 2 * pad or 2 * pad > k:
        return
    x = leaf(uniform(seed, (n, c, h, w)))
    check(lambda t: F.avg_pool2d(t, k, stride, pad, count_include_pad=include), (x,))


@FEWER
@given(n=st.integers(2, 4), c=st.integers(1, 3), extra=st.sampled_from([(), (2,), (2, 2)]),
       affine=st.booleans(), seed=seeds)
def test_batch_norm_training(n, c, extra, affine, seed):
    x = leaf(uniform(seed, (n, c) + extra))
    args = (x,)
    if affine:
        args += (leaf(uniform(seed + 1, (c,), 0.5, 1.5)), leaf(uniform(seed + 2, (c,))))

    def fn(t, *wb):
        return F.batch_norm(t, None, None, *(wb or (None, None)), training=True)

    out = fn(*args).data.reshape(n, c, -1)
    if not affine:
        np.testing.assert_allclose(out.mean((0, 2)), 0, atol=1e-10)
    check(fn, args, second_order=x.data.size <= 24)


@FEWER
@given(n=st.integers(2, 4), c=st.integers(1, 3), seed=seeds)
def test_batch_norm_running_stats_and_eval(n, c, seed):
    x = leaf(uniform(seed, (n, c)))
    rm, rv = autograd.tensor(np.zeros(c)), autograd.tensor(np.ones(c))
    F.batch_norm(x, rm, rv, training=True, momentum=0.5)
    np.testing.assert_allclose(rm.data, 0.5 * x.data.mean(0), rtol=1e-10)
    np.testing.assert_allclose(rv.data, 0.5 + 0.5 * x.data.var(0, ddof=1), rtol=1e-10)
    check(lambda t: F.batch_norm(t, rm, rv, training=False), (x,))


@FEWER
@given(lead=st.sampled_from([(), (2,), (2, 1)]), norm=st.sampled_from([(3,), (2, 3)]),
       affine=st.booleans(), seed=seeds)
def test_layer_norm(lead, norm, affine, seed):
    x = leaf(uniform(seed, lead + norm))
    args = (x,)
    if affine:
        args += (leaf(uniform(seed + 1, norm, 0.5, 1.5)), leaf(uniform(seed + 2, norm)))

    def fn(t, *wb):
        return F.layer_norm(t, norm, *wb)

    check(fn, args)


# ---- losses -------------------------------------------------------------------------------
REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


@FEWER
@given(n=st.integers(1, 4), c=st.integers(2, 4), reduction=REDUCTIONS,
       smoothing=st.sampled_from([0.0, 0.1]), weighted=st.booleans(),
       ignore=st.booleans(), seed=seeds)
def test_cross_entropy_indices(n, c, reduction, smoothing, weighted, ignore, seed):
    rng = np.random.default_rng(seed)
    x = leaf(uniform(seed, (n, c), -3, 3))
    target = rng.integers(0, c, n)
    if ignore and n > 1:
        target[0] = -100  # ignore_index: contributes nothing
    weight = autograd.tensor(rng.uniform(0.5, 2, c)) if weighted else None
    t = autograd.tensor(target)
    check(lambda a: F.cross_entropy(a, t, weight=weight, reduction=reduction,
                                    label_smoothing=smoothing), (x,))


@FEWER
@given(n=st.integers(1, 3), c=st.integers(2, 4), d=st.integers(1, 3), reduction=REDUCTIONS,
       seed=seeds)
def test_cross_entropy_spatial_and_probabilities(n, c, d, reduction, seed):
    rng = np.random.default_rng(seed)
    x = leaf(uniform(seed, (n, c, d), -3, 3))
    t = autograd.tensor(rng.integers(0, c, (n, d)))
    check(lambda a: F.cross_entropy(a, t, reduction=reduction), (x,))
    probs = rng.dirichlet(np.ones(c), n)
    p = leaf(probs)
    x2 = leaf(uniform(seed + 1, (n, c), -3, 3))
    check(lambda a, b: F.cross_entropy(a, b, reduction=reduction), (x2, p))


@FEWER
@given(n=st.integers(1, 4), c=st.integers(2, 4), reduction=REDUCTIONS, seed=seeds)
def test_nll_loss(n, c, reduction, seed):
    rng = np.random.default_rng(seed)
    x = leaf(uniform(seed, (n, c), -3, 3))
    t = autograd.tensor(rng.integers(0, c, n))
    check(lambda a: F.nll_loss(a.log_softmax(1), t, reduction=reduction), (x,))


@FEWER
@given(shape=st.sampled_from([(3,), (2, 3), (2, 1, 2)]), reduction=REDUCTIONS, seed=seeds)
def test_regression_losses(shape, reduction, seed):
    x, y = leaf(uniform(seed, shape)), leaf(uniform(seed + 1, shape))
    check(lambda a, b: F.mse_loss(a, b, reduction=reduction), (x, y))
    diff = away(x.data - y.data, delta=0.1)  # |x - y| has a kink at 0
    x1 = leaf(y.data + diff)
    check(lambda a, b: F.l1_loss(a, b, reduction=reduction), (x1, y))


@FEWER
@given(shape=st.sampled_from([(3,), (2, 3)]), reduction=REDUCTIONS, weighted=st.booleans(),
       seed=seeds)
def test_binary_cross_entropy(shape, reduction, weighted, seed):
    p = leaf(uniform(seed, shape, 0.1, 0.9))
    y = leaf(uniform(seed + 1, shape, 0, 1))
    w = autograd.tensor(uniform(seed + 2, shape, 0.5, 2)) if weighted else None
    check(lambda a, b: F.binary_cross_entropy(a, b, weight=w, reduction=reduction), (p, y))


@FEWER
@given(shape=st.sampled_from([(3,), (2, 3)]), reduction=REDUCTIONS, pos=st.booleans(),
       seed=seeds)
def test_binary_cross_entropy_with_logits(shape, reduction, pos, seed):
    x = leaf(uniform(seed, shape, -4, 4))
    y = leaf(uniform(seed + 1, shape, 0, 1))
    pw = autograd.tensor(uniform(seed + 2, shape[-1:], 0.5, 2)) if pos else None
    check(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction,
                                                          pos_weight=pw), (x, y))


@FEWER
@given(n=st.integers(1, 5), reduction=REDUCTIONS, seed=seeds)
def test_hinge_loss(n, reduction, seed):
    rng = np.random.default_rng(seed)
    y = rng.choice([-1.0, 1.0], n)
    # the kink is at y f(x) = 1: keep f(x) = y (1 + u) with |u| >= 0.1
    f = y * (1 + away(rng.uniform(-2, 2, n), delta=0.1))
    check(lambda a: F.hinge_loss(a, autograd.tensor(y), reduction=reduction), (leaf(f),))


@FEWER
@given(shape=st.sampled_from([(2, 3), (1, 2, 3)]), slope=st.sampled_from([0.01, 0.3]),
       seed=seeds)
def test_activations(shape, slope, seed):
    x = leaf(away(uniform(seed, shape)))
    check(lambda t: F.relu(t), (x,))
    check(lambda t: F.leaky_relu(t, slope), (x,))
    check(lambda t: F.sigmoid(t) * F.tanh(t), (x,))
    check(lambda t: F.softmax(t, -1), (x,))
    check(lambda t: F.log_softmax(t, 0), (x,))
    if hasattr(F, "softplus"):
        check(lambda t: F.softplus(t), (x,))


@FEWER
@given(shape=st.sampled_from([(1, 1, 3, 3), (2, 1, 2, 4)]),
       widths=st.sampled_from([(1, 1), (0, 2, 1, 0), (1, 0, 0, 1)]),
       mode=st.sampled_from(["constant", "replicate", "reflect", "circular"]), seed=seeds)
def test_pad(shape, widths, mode, seed):
    x = leaf(uniform(seed, shape))
    check(lambda t: F.pad(t, widths, mode=mode), (x,))


@FEWER
@given(seed=seeds, n=st.integers(1, 3))
def test_small_cnn_end_to_end(seed, n):
    """conv -> batch norm -> relu -> max pool -> linear -> cross-entropy, gradient-checked as
    one function of the input and every weight."""
    rng = np.random.default_rng(seed)
    x = leaf(rng.standard_normal((n + 1, 1, 4, 4)))
    w = leaf(rng.standard_normal((2, 1, 3, 3)) * 0.5)
    lw = leaf(rng.standard_normal((3, 2 * 2 * 2)) * 0.5)
    t = autograd.tensor(rng.integers(0, 3, n + 1))

    def fn(x, w, lw):
        h = F.conv2d(x, w, padding=1)
        h = F.batch_norm(h, None, None, training=True)
        h = F.max_pool2d(h.tanh(), 2)  # tanh instead of relu: no kink at 0
        return F.cross_entropy(F.linear(h.flatten(1), lw), t)

    assert gradcheck(fn, (x, w, lw))
