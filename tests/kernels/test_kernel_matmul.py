import numpy as np
import pytest

from tests.kernels._helpers import DTYPES, numba_and_ref

SHAPES = [((0, 3), (3, 4)), ((3, 0), (0, 4)), ((1, 1), (1, 1)), ((5, 7), (7, 3)),
          ((37, 300), (300, 45)), ((130, 33), (33, 70)), ((2, 5, 7), (7, 4)),
          ((3, 1, 9, 8), (2, 8, 5)), ((4, 20, 16), (4, 16, 40))]


def _tol(dtype):
    return {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-10}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", SHAPES)
def test_matmul_layouts(dtype, sa, sb):
    fn, ref = numba_and_ref("matmul")
    rng = np.random.default_rng(0)
    a = rng.standard_normal(sa).astype(dtype)
    b = rng.standard_normal(sb).astype(dtype)
    want = np.matmul(a, b)
    at = np.ascontiguousarray(np.swapaxes(a, -1, -2))
    bt = np.ascontiguousarray(np.swapaxes(b, -1, -2))
    for impl in (fn, ref):
        for args, kw in (((a, b), {}), ((at, b), {"trans_a": True}),
                         ((a, bt), {"trans_b": True}),
                         ((at, bt), {"trans_a": True, "trans_b": True}),
                         ((np.swapaxes(at, -1, -2), b), {})):
            got = impl(*args, **kw)
            assert got.dtype == dtype and got.shape == want.shape
            np.testing.assert_allclose(got, want, **_tol(dtype))


def test_matmul_bad_input():
    fn, _ = numba_and_ref("matmul")
    with pytest.raises(ValueError):
        fn(np.ones((3, 4), np.float32), np.ones((5, 2), np.float32))
    with pytest.raises(ValueError):
        fn(np.ones((2, 3, 4)), np.ones((3, 4, 2)))
