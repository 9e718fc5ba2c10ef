"""Losses: values by hand for every reduction and option, stability, gradients (first and
second order) and bad input."""
import math

import numpy as np
import pytest

import autograd
import nn
import nn.functional as F
from autograd import gradcheck, gradgradcheck

LN2, LN3, LN5 = math.log(2), math.log(3), math.log(5)
# row 0: softmax [1/4, 1/2, 1/4]; row 1: softmax [3/5, 1/5, 1/5]
LOGITS = np.array([[0.0, LN2, 0.0], [LN3, 0.0, 0.0]])
TARGET = np.array([1, 0])


def t64(a, requires_grad=True):
    return autograd.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def test_mse_and_l1_by_hand():
    x, y = autograd.tensor([1.0, 2.0, 3.0]), autograd.tensor([1.0, 0.0, 0.0])
    assert nn.MSELoss()(x, y).item() == pytest.approx(13 / 3)
    assert nn.MSELoss(reduction="sum")(x, y).item() == pytest.approx(13)
    np.testing.assert_allclose(nn.MSELoss(reduction="none")(x, y).data, [0, 4, 9])
    assert nn.L1Loss()(x, y).item() == pytest.approx(5 / 3)
    assert nn.L1Loss(reduction="sum")(x, y).item() == pytest.approx(5)


def test_cross_entropy_by_hand():
    x, t = autograd.tensor(LOGITS), autograd.tensor(TARGET)
    assert nn.CrossEntropyLoss()(x, t).item() == pytest.approx((LN2 + math.log(5 / 3)) / 2)
    np.testing.assert_allclose(nn.CrossEntropyLoss(reduction="none")(x, t).data,
                               [LN2, math.log(5 / 3)])
    assert F.cross_entropy(x, t, reduction="sum").item() == pytest.approx(LN2 + math.log(5 / 3))
    # class weights: mean divides by the total weight of the targets (1 + 2)
    w = autograd.tensor([2.0, 1.0, 1.0])
    assert nn.CrossEntropyLoss(weight=w)(x, t).item() == \
        pytest.approx((1 * LN2 + 2 * math.log(5 / 3)) / 3)
    # ignore_index drops row 1 from the sum and from the count
    assert nn.CrossEntropyLoss(ignore_index=0)(x, t).item() == pytest.approx(LN2)
    # label smoothing 0.3: 0.7 * nll + 0.3 / C * mean(-sum_c log p)
    smooth = (5 * LN2 + 3 * LN5 - LN3) / 2
    assert nn.CrossEntropyLoss(label_smoothing=0.3)(x, t).item() == \
        pytest.approx(0.7 * (LN2 + math.log(5 / 3)) / 2 + 0.1 * smooth)


def test_cross_entropy_with_probability_targets():
    x = autograd.tensor(LOGITS)
    p = autograd.tensor([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]])
    expected = (LN2 + 0.5 * math.log(5 / 3) + 0.5 * LN5) / 2
    assert nn.CrossEntropyLoss()(x, p).item() == pytest.approx(expected)


def test_cross_entropy_is_stable_and_handles_spatial_input():
    x = autograd.tensor([[1000.0, 0.0], [-1000.0, 1000.0]])
    loss = F.cross_entropy(x, autograd.tensor([1, 0]), reduction="none")
    np.testing.assert_allclose(loss.data, [1000.0, 2000.0])
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((2, 3, 2, 2))
    ts = rng.integers(0, 3, (2, 2, 2))
    flat = F.cross_entropy(autograd.tensor(xs.transpose(0, 2, 3, 1).reshape(-1, 3)),
                           autograd.tensor(ts.reshape(-1)), reduction="none")
    spatial = F.cross_entropy(autograd.tensor(xs), autograd.tensor(ts), reduction="none")
    assert spatial.shape == (2, 2, 2)
    np.testing.assert_allclose(spatial.data.ravel(), flat.data)


def test_nll_loss_by_hand():
    logp = autograd.tensor(np.log([[0.25, 0.5, 0.25], [0.6, 0.2, 0.2]]))
    t = autograd.tensor(TARGET)
    assert nn.NLLLoss()(logp, t).item() == pytest.approx((LN2 + math.log(5 / 3)) / 2)
    assert nn.NLLLoss(weight=autograd.tensor([2.0, 1.0, 1.0]), reduction="sum")(logp, t).item() \
        == pytest.approx(LN2 + 2 * math.log(5 / 3))
    assert (nn.LogSoftmax(dim=1)(autograd.tensor(LOGITS)).data == pytest.approx(logp.data))


def test_bce_by_hand_and_log_clamp():
    p, y = autograd.tensor([0.5, 0.8, 0.0]), autograd.tensor([1.0, 0.0, 1.0])
    # log(0) is clamped at -100 as in PyTorch
    assert nn.BCELoss()(p, y).item() == pytest.approx((LN2 + LN5 + 100) / 3, rel=1e-6)
    w = autograd.tensor([1.0, 2.0, 0.0])
    assert nn.BCELoss(weight=w, reduction="sum")(p, y).item() == pytest.approx(LN2 + 2 * LN5,
                                                                               rel=1e-6)
    p1 = t64([0.0, 1.0, 0.3])
    F.binary_cross_entropy(p1, autograd.tensor([0.0, 1.0, 1.0])).backward()
    assert np.isfinite(p1.grad.data).all()


def test_bce_with_logits_by_hand_and_stable():
    x, y = autograd.tensor([0.0, 1000.0, -1000.0]), autograd.tensor([1.0, 0.0, 0.0])
    np.testing.assert_allclose(nn.BCEWithLogitsLoss(reduction="none")(x, y).data,
                               [LN2, 1000.0, 0.0])
    loss = nn.BCEWithLogitsLoss(pos_weight=autograd.tensor([3.0, 1.0, 1.0]), reduction="none")
    np.testing.assert_allclose(loss(x, y).data, [3 * LN2, 1000.0, 0.0])
    xg = t64([0.0, 50.0, -50.0])
    F.binary_cross_entropy_with_logits(xg, autograd.tensor([1.0, 0.0, 1.0]),
                                       reduction="sum").backward()
    np.testing.assert_allclose(xg.grad.data, [-0.5, 1.0, -1.0])  # sigmoid(x) - y


def test_hinge_loss_by_hand():
    x, y = autograd.tensor([0.5, -2.0, 3.0]), autograd.tensor([1.0, -1.0, -1.0])
    assert nn.HingeLoss()(x, y).item() == pytest.approx(1.5)
    np.testing.assert_allclose(nn.HingeLoss(reduction="none")(x, y).data, [0.5, 0.0, 4.0])
    with pytest.raises(ValueError):
        nn.HingeLoss()(x, autograd.tensor([1.0, 0.0, 1.0]))


def test_losses_gradcheck():
    rng = np.random.default_rng(1)
    x = t64(rng.standard_normal((4, 3)))
    t = autograd.tensor(np.array([0, 2, 1, 2]))
    y = t64(rng.standard_normal((4, 3)))
    w = autograd.tensor(np.array([1.0, 2.0, 0.5]))
    probs = t64(rng.uniform(0.1, 0.9, (4, 3)))
    targets01 = t64(rng.uniform(0, 1, (4, 3)))
    signs = autograd.tensor(np.where(rng.standard_normal((4, 3)) > 0, 1.0, -1.0))
    cases = [
        (lambda a, b: F.mse_loss(a, b), (x, y)),
        (lambda a, b: F.l1_loss(a, b), (x, y)),
        (lambda a: F.cross_entropy(a, t, weight=w, ignore_index=1, label_smoothing=0.2), (x,)),
        (lambda a, b: F.cross_entropy(a, b.softmax(1)), (x, y)),
        (lambda a: F.nll_loss(a.log_softmax(1), t, weight=w), (x,)),
        (lambda a, b: F.binary_cross_entropy(a, b), (probs, targets01)),
        (lambda a, b: F.binary_cross_entropy_with_logits(
            a, b, pos_weight=autograd.tensor(np.array([1.0, 2.0, 3.0]))), (x, targets01)),
        (lambda a: F.hinge_loss(a * 0.3, signs), (x,)),
    ]
    for fn, inputs in cases:
        assert gradcheck(fn, inputs)
        assert gradcheck(lambda *a, fn=fn: fn(*a) * 1.0, inputs)


def test_smooth_losses_gradgradcheck():
    rng = np.random.default_rng(2)
    x = t64(rng.standard_normal((3, 3)))
    y = t64(rng.standard_normal((3, 3)))
    t = autograd.tensor(np.array([0, 2, 1]))
    targets01 = t64(rng.uniform(0, 1, (3, 3)))
    probs = t64(rng.uniform(0.1, 0.9, (3, 3)))
    assert gradgradcheck(lambda a, b: F.mse_loss(a, b), (x, y))
    assert gradgradcheck(lambda a: F.cross_entropy(a, t, label_smoothing=0.1), (x,))
    assert gradgradcheck(lambda a: F.cross_entropy(a, t, reduction="none"), (x,))
    assert gradgradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b), (x, targets01))
    assert gradgradcheck(lambda a, b: F.binary_cross_entropy(a, b), (probs, targets01))


def test_class_index_out_of_range_names_loss_and_shape():
    x = autograd.zeros(2, 3)
    with pytest.raises(IndexError) as e:
        nn.CrossEntropyLoss()(x, autograd.tensor([0, 3]))
    assert "CrossEntropyLoss" in str(e.value) and "3" in str(e.value)
    assert "(2, 3)" in str(e.value)
    with pytest.raises(IndexError) as e:
        nn.NLLLoss()(x, autograd.tensor([-1, 0]))
    assert "NLLLoss" in str(e.value) and "(2, 3)" in str(e.value)
    with pytest.raises(ValueError) as e:
        nn.CrossEntropyLoss()(x, autograd.tensor([0, 1, 2]))
    assert "(2, 3)" in str(e.value) and "(3,)" in str(e.value)
    with pytest.raises(ValueError):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError):
        nn.BCELoss()(autograd.tensor([1.5]), autograd.tensor([1.0]))
