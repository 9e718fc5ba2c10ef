"""Same-shape binary arithmetic below the parallel threshold runs numpy's own loop (10-20%
faster than the serial numba kernel, issue 15); with `numpy_below=0` the serial kernel still
runs. Both give bit-equal results, NaN and inf included, and honour `out`."""
from __future__ import annotations

import numpy as np
import pytest

from autograd import kernels as K
from autograd.kernels import policy
from autograd.kernels.jit import elementwise as E

NAMES = ["add", "sub", "mul", "div", "maximum", "minimum"]


def operands(dtype, n=1 << 14):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    a[:6] = [np.nan, np.inf, -np.inf, 0.0, 1.0, np.nan]
    b[:6] = [1.0, np.inf, 2.0, 0.0, np.nan, np.nan]
    return a, b


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_numpy_loop_equals_the_serial_kernel(name, dtype):
    a, b = operands(dtype)
    kernel = getattr(K, name)
    assert policy.ELEMENTWISE.numpy_below > 0 and a.size > policy.ELEMENTWISE.numpy_below
    with np.errstate(all="ignore"):
        fast = kernel(a, b)
        with policy.override(numpy_below=0, parallel_above=policy.NEVER,
                             families=("elementwise",)):
            serial = kernel(a, b)
            out = np.empty_like(a)
            assert kernel(a, b, out=out) is out
        out2 = np.empty_like(a)
        assert kernel(a, b, out=out2) is out2
    flat = E.BINARY[name][0].serial
    assert (np.dtype(dtype), False) in flat.compiled  # the override really ran numba
    assert fast.dtype == serial.dtype == dtype
    np.testing.assert_array_equal(fast, serial)
    np.testing.assert_array_equal(out, serial)
    np.testing.assert_array_equal(out2, serial)


def test_bias_rows_still_take_the_numba_kernel():
    """The broadcast of a row (a bias) keeps numba's kernel (~2x numpy's there)."""
    rng = np.random.default_rng(1)
    x, bias = rng.standard_normal((64, 256)), rng.standard_normal(256)
    rows = E.BINARY["add"][1].serial
    rows.compiled.pop((np.dtype(np.float64), False), None)
    got = K.add(x, bias)
    assert (np.dtype(np.float64), False) in rows.compiled
    np.testing.assert_array_equal(got, x + bias)
