import numpy as np
import pytest

from tests.kernels._helpers import DTYPES, numba_and_ref, tol, variants


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(0, 5), (1, 1), (3, 10), (4, 5, 33)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax(paths, name, shape, dtype):
    fn, ref = numba_and_ref(name)
    rng = np.random.default_rng(0)
    for _, x in variants(rng, shape, dtype):
        x = x * 30  # large logits: must not overflow
        for axis in (-1, 0):
            got, want = fn(x, axis), ref(x, axis)
            assert got.dtype == dtype and got.shape == want.shape
            np.testing.assert_allclose(got, want, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,c", [(0, 4), (1, 1), (17, 10), (64, 3)])
def test_cross_entropy(paths, dtype, n, c):
    fn, ref = numba_and_ref("cross_entropy")
    bfn, bref = numba_and_ref("cross_entropy_backward")
    rng = np.random.default_rng(1)
    z = (rng.standard_normal((n, c)) * 40).astype(dtype)
    t = rng.integers(0, c, n)
    (loss, p), (loss2, p2) = fn(z, t), ref(z, t)
    assert loss.dtype == p.dtype == dtype and loss.shape == (n,)
    np.testing.assert_allclose(loss, loss2, **tol(dtype))
    np.testing.assert_allclose(p, p2, **tol(dtype))
    g = rng.standard_normal(n).astype(dtype)
    np.testing.assert_allclose(bfn(p, t, g), bref(p2, t, g), **tol(dtype))
    # non-contiguous logits and int32 targets
    zt = np.ascontiguousarray(z.T).T
    np.testing.assert_allclose(fn(zt, t.astype(np.int32))[0], loss2, **tol(dtype))


def test_cross_entropy_bad_input():
    fn, _ = numba_and_ref("cross_entropy")
    z = np.zeros((4, 3), np.float32)
    with pytest.raises(ValueError):
        fn(z, np.array([0, 1, 2, 3]))         # class index out of range
    with pytest.raises(ValueError):
        fn(z, np.array([0, 1]))               # wrong length
    with pytest.raises(TypeError):
        fn(z, np.array([0.0, 1, 2, 0]))       # float targets
    with pytest.raises(ValueError):
        fn(np.zeros(3, np.float32), np.array([0]))
