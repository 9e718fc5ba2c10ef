"""detect_anomaly names the op whose backward produced NaN and where it was created."""
import numpy as np
import pytest

import autograd


def test_nan_in_backward_names_op_and_line():
    x = autograd.tensor([0.0, 1.0], requires_grad=True)
    with autograd.detect_anomaly():
        y = x.sqrt()  # d/dx sqrt at 0 is inf
        with pytest.raises(RuntimeError) as err:
            (y * 0).sum().backward()
    msg = str(err.value)
    assert "SqrtBackward" in msg and "test_anomaly.py:" in msg and "nan" in msg




def test_without_anomaly_mode_nan_passes_silently():
    x = autograd.tensor([0.0], requires_grad=True)
    with np.errstate(all="ignore"):
        (x.sqrt() * 0).sum().backward()
    assert np.isnan(x.grad.data).all()


def test_forward_inf_is_not_an_anomaly():
    # PyTorch checks backward outputs only: log(0) = -inf and -inf masks are legitimate
    with autograd.detect_anomaly():
        x = autograd.tensor([0.0, 1.0], requires_grad=True)
        with np.errstate(divide="ignore"):
            y = x.log()
        assert y.data.tolist() == [-np.inf, 0.0]


def test_masked_softmax_with_minus_inf_under_anomaly_mode():
    scores = autograd.tensor(np.array([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0]]), requires_grad=True)
    mask = autograd.tensor(np.array([[0.0, -np.inf, 0.0], [-np.inf, 0.0, 0.0]]))
    w = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
    with autograd.detect_anomaly():
        p = (scores + mask).softmax(-1)
        (p * autograd.tensor(w)).sum().backward()
    # softmax over the unmasked entries; d/ds_i = p_i (w_i - sum_j p_j w_j), 0 where masked
    keep = np.isfinite(mask.data)
    e = np.where(keep, np.exp(scores.data), 0.0)
    pr = e / e.sum(-1, keepdims=True)
    np.testing.assert_allclose(p.data, pr, rtol=1e-12)
    want = pr * (w - (pr * w).sum(-1, keepdims=True))
    np.testing.assert_allclose(scores.grad.data, want, rtol=1e-12, atol=1e-15)
    assert (scores.grad.data[~keep] == 0).all()
    with autograd.detect_anomaly():
        assert autograd.gradcheck(lambda s: (s + mask).softmax(-1), (scores,))


def test_nan_in_backward_still_raises_after_an_inf_forward():
    x = autograd.tensor([-1.0, 0.0], requires_grad=True)
    with autograd.detect_anomaly(), np.errstate(all="ignore"):
        y = x.sqrt()  # forward NaN is no longer an error ...
        with pytest.raises(RuntimeError, match=r"SqrtBackward.*nan"):
            y.sum().backward()  # ... but the NaN its backward produces is
