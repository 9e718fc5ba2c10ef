import numpy as np
import pytest

from tests.kernels._helpers import DTYPES, numba_and_ref, tol, variants

AXES = [None, 0, 1, -1, (0, 1), (1, 2), (0, 2), (0, 1, 2)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(0, 3, 4), (1, 1, 1), (6, 35, 19), (3, 1, 40)])
@pytest.mark.parametrize("name", ["sum", "amax", "amin"])
def test_reductions_match_reference(paths, name, shape, dtype):
    fn, ref = numba_and_ref(name)
    rng = np.random.default_rng(0)
    for _, x in variants(rng, shape, dtype):
        for axis in AXES:
            for keepdims in (False, True):
                try:
                    want = ref(x, axis, keepdims)
                except ValueError:  # max of an empty axis: same error from numba's path
                    with pytest.raises(ValueError):
                        fn(x, axis, keepdims)
                    continue
                got = fn(x, axis, keepdims)
                assert got.dtype == want.dtype and got.shape == want.shape
                np.testing.assert_allclose(got, want, **tol(dtype))


def test_max_propagates_nan(paths):
    fn, ref = numba_and_ref("amax")
    x = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    x[1, 2, 3] = np.nan
    for axis in (0, 1, 2, None):
        np.testing.assert_array_equal(fn(x, axis), ref(x, axis))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("gshape,shape", [((7, 5), (5,)), ((7, 5), (1, 5)), ((7, 5), (7, 1)),
                                          ((2, 7, 5), (5,)), ((3, 4), (3, 4)), ((0, 5), (5,)),
                                          ((4, 3), ()), ((4, 3), (1, 1))])
def test_sum_to_shape(paths, dtype, gshape, shape):
    fn, ref = numba_and_ref("sum_to_shape")
    g = np.random.default_rng(3).standard_normal(gshape).astype(dtype)
    got, want = fn(g, shape), ref(g, shape)
    assert got.shape == tuple(shape) and got.dtype == dtype
    np.testing.assert_allclose(got, want, **tol(dtype))


def test_bad_axis():
    fn, _ = numba_and_ref("sum")
    with pytest.raises((ValueError, TypeError)):
        fn(np.ones((100, 100)), 3)
    with pytest.raises((ValueError, TypeError)):
        fn(np.ones((100, 100)), (0, 0))


def _eight_lane_sum(x2):
    """The row sums in the kernel's order: 8 partial sums over blocks of 8, added left to
    right, then the tail one by one (all in x's dtype)."""
    rows, r = x2.shape
    r8 = r - r % 8
    lanes = [np.zeros(rows, x2.dtype) for _ in range(8)]
    for k in range(0, r8, 8):
        for u in range(8):
            lanes[u] = lanes[u] + x2[:, k + u]
    s = lanes[0]
    for u in range(1, 8):
        s = s + lanes[u]
    for k in range(r8, r):
        s = s + x2[:, k]
    return s


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 1), (3, 8), (4, 37), (2, 3, 129)])
def test_sum_over_last_axis_keeps_its_eight_lane_order(paths, shape, dtype):
    """The last-axis sum keeps its partial sums in registers (it used to allocate an array per
    row): bit-equal to the 8-lane order, including the tail after the last full block."""
    fn, _ = numba_and_ref("sum")
    x = np.random.default_rng(3).standard_normal(shape).astype(dtype)
    got = fn(x, -1)
    want = _eight_lane_sum(x.reshape(-1, shape[-1])).reshape(shape[:-1])
    assert got.dtype == x.dtype
    np.testing.assert_array_equal(got, want)


def test_sum_over_last_axis_with_inf_and_nan(paths):
    fn, ref = numba_and_ref("sum")
    x = np.ones((4, 20), np.float32)
    x[0, 3], x[1, 17], x[2, 5], x[2, 6] = np.inf, np.nan, np.inf, -np.inf
    with np.errstate(invalid="ignore"):  # inf + -inf
        got, want = fn(x, -1), ref(x, -1)
    assert got[0] == np.inf and np.isnan(got[1]) and np.isnan(got[2]) and got[3] == 20
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["sum", "amax", "amin"])
def test_transposed_views_reduce_in_their_own_layout(paths, name, dtype, monkeypatch):
    """A permuted view of a C-contiguous array (a transposed gradient) is reduced over the
    same axes of the underlying layout, without a copy: values, shapes and a C-contiguous
    result equal the reference's for every axis set and keepdims; the copy is not made."""
    import autograd.kernels.jit.reduce as jit_reduce
    fn, ref = numba_and_ref(name)
    base = np.random.default_rng(9).standard_normal((24, 16, 40)).astype(dtype)
    copies = []
    real = np.ascontiguousarray
    monkeypatch.setattr(jit_reduce.np, "ascontiguousarray",
                        lambda a, *k: (copies.append(a.flags.c_contiguous), real(a, *k))[1])
    for perm in ((1, 0, 2), (2, 1, 0), (0, 2, 1)):
        x = base.transpose(perm)
        for axis in ((0, 1), (0,), (1,), (2,), (0, 2), (1, 2), None):
            for keepdims in (False, True):
                got, want = fn(x, axis, keepdims), ref(x, axis, keepdims)
                assert got.shape == want.shape and got.flags.c_contiguous
                np.testing.assert_allclose(got, want, **tol(dtype))
    copies.clear()
    fn(base.transpose(1, 0, 2), (0, 1))  # axes (1, 0) of the layout: a block there
    fn(base.transpose(2, 0, 1), (1, 2))
    assert False not in copies  # the non-contiguous view was not copied
