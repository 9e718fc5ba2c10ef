"""Backend switch and numba hygiene: lazy import, no double compilation, clean errors."""
import subprocess
import sys

import numpy as np
import pytest

import autograd
from autograd import kernels as K


def test_import_autograd_does_not_import_numba():
    code = "import sys, autograd; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_set_backend_switches_and_validates():
    x = np.linspace(-3, 3, 20000, dtype=np.float32)
    assert autograd.get_backend() == "numba"
    try:
        autograd.set_backend("numpy")
        ref = K.relu(x)
    finally:
        autograd.set_backend("numba")
    np.testing.assert_array_equal(K.relu(x), ref)
    with pytest.raises(ValueError):
        autograd.set_backend("cuda")


def test_each_kernel_compiles_once_per_dtype():
    from autograd.kernels.jit import elementwise as E
    from autograd.kernels.jit import tasks
    # large enough for the parallel path (the task loop, where the pool has two threads)
    x = np.ones(2 * K.policy.ELEMENTWISE.parallel_above, np.float32)
    K.relu(x)
    kernel = E.UNARY["relu"].tasks if tasks.threads() > 1 else E.UNARY["relu"].serial
    fn = kernel.compiled[(np.dtype(np.float32), False)]
    K.relu(x * 2)
    K.relu(x[::2].copy())
    assert kernel.compiled[(np.dtype(np.float32), False)] is fn
    assert len(kernel.compiled) == 1
    assert len(getattr(fn, "__wrapped__", fn).signatures) == 1


@pytest.mark.parametrize("bad", [None, "abc", [[1.0, 2.0]], 3.0])
def test_bad_inputs_raise_python_errors(bad):
    from numba.core.errors import TypingError
    a = np.ones((100, 100), np.float32)
    for name, call in [("matmul", lambda: K.matmul.implementation("numba")(a, bad)),
                       ("softmax", lambda: K.softmax.implementation("numba")(bad)),
                       ("cross_entropy",
                        lambda: K.cross_entropy.implementation("numba")(a, bad))]:
        try:
            call()
        except (ValueError, TypeError) as e:
            assert not isinstance(e, TypingError), name
