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


def test_nan_in_forward_is_reported():
    with autograd.detect_anomaly():
        x = autograd.tensor([-1.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="Log"):
            x.log()


def test_without_anomaly_mode_nan_passes_silently():
    x = autograd.tensor([0.0], requires_grad=True)
    with np.errstate(all="ignore"):
        (x.sqrt() * 0).sum().backward()
    assert np.isnan(x.grad.data).all()
