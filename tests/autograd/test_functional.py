"""jacobian, hessian, vjp, hvp against closed forms; the lecture's Hessian test."""
import numpy as np
import pytest

import autograd
from autograd.functional import critical_point, hessian, hvp, jacobian, vjp


def f64(a, grad=False):
    return autograd.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def test_jacobian_single_and_tuple():
    x = f64([1.0, 2.0, 3.0])
    j = jacobian(lambda t: t ** 2, x)
    np.testing.assert_allclose(j.data, np.diag([2.0, 4.0, 6.0]))
    a, b = f64([[1.0, 2.0]]), f64([3.0, 4.0])
    (ja, jb) = jacobian(lambda p, q: p * q, (a, b))
    assert ja.shape == (1, 2, 1, 2) and jb.shape == (1, 2, 2)
    np.testing.assert_allclose(jb.data[0], np.diag([1.0, 2.0]))
    outs = jacobian(lambda p: (p.sum(), p * 2), x)
    assert outs[0].shape == (3,) and outs[1].shape == (3, 3)
    np.testing.assert_allclose(outs[1].data, 2 * np.eye(3))


def test_hessian_of_quadratic_form():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    x = f64([0.5, -1.0])
    h = hessian(lambda t: t @ autograd.tensor(A) @ t, x)
    np.testing.assert_allclose(h.data, A + A.T)
    ha = hessian(lambda p, q: (p * q * q).sum(), (f64([1.0]), f64([2.0])))
    np.testing.assert_allclose([[ha[0][0].item(), ha[0][1].item()],
                                [ha[1][0].item(), ha[1][1].item()]], [[0, 4], [4, 2]])


def test_vjp_and_hvp():
    x = f64([1.0, 2.0])
    out, v = vjp(lambda t: t ** 3, x, f64([1.0, 1.0]))
    np.testing.assert_allclose(out.data, [1, 8])
    np.testing.assert_allclose(v.data, [3, 12])
    out, hv = hvp(lambda t: (t ** 3).sum(), x, f64([1.0, 0.5]))
    np.testing.assert_allclose(hv.data, [6 * 1 * 1.0, 6 * 2 * 0.5])
    with pytest.raises(RuntimeError, match="scalar"):
        vjp(lambda t: t * 2, x)


def test_critical_point_saddle_minimum_maximum():
    origin = f64([0.0, 0.0])
    saddle = critical_point(lambda w: w[0] ** 2 - w[1] ** 2, origin)
    assert saddle.kind == "saddle point"
    assert saddle.gradient_norm == 0
    np.testing.assert_allclose(saddle.eigenvalues, [-2, 2])
    np.testing.assert_allclose(np.abs(saddle.escape_direction), [0, 1])
    minimum = critical_point(lambda w: (w ** 2).sum(), origin)
    assert minimum.kind == "local minimum" and minimum.escape_direction is None
    assert minimum.minimum_ratio == 1.0
    maximum = critical_point(lambda w: -(w ** 2).sum(), origin)
    assert maximum.kind == "local maximum"
    flat = critical_point(lambda w: w[0] ** 2 + w[1] ** 4, origin)
    assert flat.kind == "degenerate"


def test_two_weight_network_saddle_and_escape():
    """The lecture's y = w1 w2 x with data (x=1, y_hat=1) and MSE loss: a saddle at w = 0."""
    def loss(w):
        return (1.0 - w[0] * w[1] * 1.0) ** 2

    cp = critical_point(loss, f64([0.0, 0.0]))
    assert cp.kind == "saddle point"
    np.testing.assert_allclose(cp.hessian, [[0, -2], [-2, 0]])
    np.testing.assert_allclose(cp.eigenvalues, [-2, 2])
    np.testing.assert_allclose(np.abs(cp.escape_direction), [2 ** -0.5, 2 ** -0.5])
    assert np.sign(cp.escape_direction[0]) == np.sign(cp.escape_direction[1])
    step = f64(0.1 * cp.escape_direction)
    assert loss(step).item() < loss(f64([0.0, 0.0])).item()


def test_critical_point_reports_non_critical_gradient():
    cp = critical_point(lambda w: (w ** 2).sum(), f64([1.0, 0.0]))
    assert not cp.is_critical and cp.gradient_norm == pytest.approx(2.0)
