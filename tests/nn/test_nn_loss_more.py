"""SmoothL1Loss, HuberLoss, KLDivLoss (issue 14), and cross-entropy / NLL with weight and
ignore_index together: values and gradients against PyTorch 2.13 (recorded literals,
float64), gradcheck / gradgradcheck, errors naming the loss."""
import numpy as np
import pytest

import autograd
import nn
import nn.functional as F
from autograd import gradcheck, gradgradcheck

XS = [[0.2, -1.5, 3.0], [0.9, 0.0, -0.3]]
YS = [[0.0, 0.5, 1.0], [1.0, 0.0, 0.7]]
P = [[0.0, 0.5, 0.5], [0.2, 0.3, 0.5]]


def t64(a, requires_grad=True):
    return autograd.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def value_and_grad(fn):
    x = t64(XS)
    loss = fn(x)
    (g,) = autograd.grad(loss, x)
    return loss.item(), g.data


@pytest.mark.parametrize(("fn", "value", "grad"), [
    (lambda x: nn.SmoothL1Loss()(x, t64(YS, False)), 0.5875,
     [[0.03333333333333333, -0.16666666666666666, 0.16666666666666666],
      [-0.016666666666666663, 0.0, -0.16666666666666666]]),
    (lambda x: nn.SmoothL1Loss(reduction="sum", beta=0.5)(x, t64(YS, False)), 4.3,
     [[0.4, -1.0, 1.0], [-0.19999999999999996, 0.0, -1.0]]),
    (lambda x: nn.HuberLoss(delta=0.5)(x, t64(YS, False)), 0.35833333333333334,
     [[0.03333333333333333, -0.08333333333333333, 0.08333333333333333],
      [-0.016666666666666663, 0.0, -0.08333333333333333]]),
    (lambda x: nn.SmoothL1Loss(beta=0.0)(x, t64(YS, False)), 0.8833333333333333,
     [[1 / 6, -1 / 6, 1 / 6], [-1 / 6, 0.0, -1 / 6]]),
    (lambda x: nn.KLDivLoss()(x.log_softmax(1), t64(P, False)), 0.33363919967068795,
     [[0.009455014677550212, -0.08160605793206813, 0.07215104325451793],
      [0.06426017443033892, -0.010321440755632247, -0.05393873367470669]]),
    (lambda x: nn.KLDivLoss(reduction="sum")(x.log_softmax(1), t64(P, False)),
     2.0018351980241276,
     [[0.056730088065301276, -0.48963634759240876, 0.4329062595271076],
      [0.38556104658203355, -0.06192864453379349, -0.3236324020482402]]),
    (lambda x: nn.KLDivLoss(reduction="batchmean")(x.log_softmax(1), t64(P, False)),
     1.0009175990120638,
     [[0.028365044032650638, -0.24481817379620438, 0.2164531297635538],
      [0.19278052329101678, -0.030964322266896743, -0.1618162010241201]]),
    (lambda x: nn.KLDivLoss(reduction="batchmean", log_target=True)(
        x.log_softmax(1), t64(P, False).clamp(min=1e-3).log()),
     0.9988984466502161,
     [[0.027893409076683286, -0.2448129919700006, 0.2169195828933173],
      [0.19278052329101678, -0.030964322266896743, -0.1618162010241201]]),
])
def test_values_and_gradients_match_pytorch(fn, value, grad):
    v, g = value_and_grad(fn)
    assert v == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(g, grad, rtol=1e-12, atol=1e-15)


def test_reduction_none_shapes_and_values():
    x, y = t64(XS, False), t64(YS, False)
    np.testing.assert_allclose(F.smooth_l1_loss(x, y, reduction="none").data,
                               [[0.02, 1.5, 1.5], [0.005, 0.0, 0.5]], rtol=1e-12)
    np.testing.assert_allclose(
        F.kl_div(x.log_softmax(1), t64(P, False), reduction="none").data,
        [[0.0, 1.9381516873631792, -0.3118483126368209],
         [-0.21485061501435146, 0.06936360991092211, 0.521018828401199]], rtol=1e-12)


def test_gradcheck_and_gradgradcheck_away_from_kinks():
    x = t64([[0.3, -1.7, 2.6], [1.25, 0.4, -0.9]])
    y = t64([[0.1, 0.2, 0.0], [0.0, 0.0, 0.3]])
    for fn in (lambda a, b: F.smooth_l1_loss(a, b), lambda a, b: F.huber_loss(a, b, delta=0.7),
               lambda a, b: F.smooth_l1_loss(a, b, beta=2.0, reduction="sum")):
        assert gradcheck(fn, (x, y))
        assert gradgradcheck(fn, (x, y))
    target = t64([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    for log_target in (False, True):
        tt = target.log() if log_target else target
        def kl(a, b, lt=log_target):
            return F.kl_div(a.log_softmax(1), b, reduction="batchmean", log_target=lt)
        assert gradcheck(kl, (x, t64(tt.data)))
        assert gradgradcheck(kl, (x, t64(tt.data)))


def test_cross_entropy_with_weight_ignore_index_and_smoothing():
    z = t64([[0.3, -1.2, 2.0], [1.5, 0.7, -0.4], [0.1, 0.2, 0.3], [-1.0, 2.0, 0.5]])
    tg = autograd.tensor(np.array([2, -1, 0, 1]))
    w = t64([0.5, 2.0, 1.0], False)
    assert nn.CrossEntropyLoss(weight=w, ignore_index=-1)(z, tg).item() == pytest.approx(
        0.367218646394779, rel=1e-12)
    assert nn.CrossEntropyLoss(weight=w, ignore_index=-1, label_smoothing=0.1)(
        z, tg).item() == pytest.approx(0.479137151892798, rel=1e-12)
    assert nn.NLLLoss(weight=w, ignore_index=-1, reduction="sum")(
        z.log_softmax(1), tg).item() == pytest.approx(1.2852652623817267, rel=1e-12)
    assert gradgradcheck(lambda a: F.cross_entropy(a, tg, weight=w, ignore_index=-1), (z,))


def test_bad_input_errors_name_the_loss():
    x = t64(XS, False)
    with pytest.raises(ValueError, match=r"^SmoothL1Loss\(\): smooth_l1_loss: the target of "
                                         r"shape \(3, 2\)"):
        nn.SmoothL1Loss()(x, t64(np.zeros((3, 2)), False))
    with pytest.raises(ValueError, match="HuberLoss: delta must be positive"):
        nn.HuberLoss(delta=0.0)
    with pytest.raises(ValueError, match="SmoothL1Loss: beta must be non-negative"):
        nn.SmoothL1Loss(beta=-1.0)
    with pytest.raises(ValueError, match="KLDivLoss: 'avg' is not a valid value"):
        nn.KLDivLoss(reduction="avg")
    with pytest.raises(TypeError, match=r"^KLDivLoss\(\): kl_div: expected a floating"):
        nn.KLDivLoss()(autograd.tensor([1, 2]), autograd.tensor([1, 2]))
