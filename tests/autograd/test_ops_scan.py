"""Scans and the added reductions (API part 2): cumsum cumprod cummax cummin logcumsumexp,
all(dim) any(dim), aminmax, median(dim), var_mean std_mean, count_nonzero,
sum/prod/mean(dtype=). Values are PyTorch 2.13's (literals) or numpy's for integers."""
import numpy as np
import pytest

import autograd
from autograd import gradcheck, gradgradcheck


def rand(*shape, seed=0):
    return autograd.tensor(np.random.default_rng(seed).uniform(0.5, 1.5, shape) *
                           np.random.default_rng(seed + 1).choice([-1, 1], shape),
                           requires_grad=True)


def test_cumsum_values_dtypes_and_gradients():
    x = autograd.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    y = x.cumsum(1)
    np.testing.assert_array_equal(y.data, [[1, 3, 6], [4, 9, 15]])
    np.testing.assert_array_equal(autograd.cumsum(x, dim=0).data, [[1, 2, 3], [5, 7, 9]])
    (y * autograd.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[111, 110, 100]] * 2)
    assert autograd.tensor([1, 2, 3], dtype=autograd.int32).cumsum(0).dtype == np.int64
    assert autograd.tensor([True, True]).cumsum(0).tolist() == [1, 2]
    z = autograd.tensor([1.0, 2.0]).cumsum(0, dtype=autograd.float64)
    assert z.dtype == np.float64 and z.tolist() == [1.0, 3.0]
    a = rand(3, 4)
    assert gradcheck(lambda t: t.cumsum(-1), (a,))
    assert gradgradcheck(lambda t: t.cumsum(0) * t, (a,))


def test_cumprod_gradient_exact_at_zeros_as_pytorch():
    for values, grad in (([2.0, 0.0, 3.0, 0.5], [1.0, 11.0, 0.0, 0.0]),
                         ([2.0, 0.0, 3.0, 0.0], [1.0, 8.0, 0.0, 0.0])):  # torch's values
        x = autograd.tensor(values, dtype=autograd.float64, requires_grad=True)
        y = x.cumprod(0)
        np.testing.assert_array_equal(y.data, np.cumprod(values))
        y.sum().backward()
        np.testing.assert_array_equal(x.grad.data, grad)
    assert autograd.tensor([True, True]).cumprod(0).tolist() == [1, 1]
    a = rand(3, 4)
    assert gradcheck(lambda t: autograd.cumprod(t, 1), (a,))
    assert gradgradcheck(lambda t: autograd.cumprod(t, 1), (a,))
    z = autograd.tensor([[1.5, 0.0, -2.0], [0.5, 2.0, 0.0]], dtype=autograd.float64,
                        requires_grad=True)
    assert gradcheck(lambda t: t.cumprod(1), (z,))
    assert gradgradcheck(lambda t: t.cumprod(1), (z,))


def test_cummax_cummin_as_pytorch():
    x = autograd.tensor([1.0, 3.0, 3.0, 2.0, 5.0, np.nan, 1.0, np.nan])
    values, indices = x.cummax(0)
    np.testing.assert_array_equal(values.data, [1, 3, 3, 3, 5, np.nan, np.nan, np.nan])
    assert indices.tolist() == [0, 1, 2, 2, 4, 5, 5, 7]  # torch: last tie, NaN propagates
    r = autograd.cummin(autograd.tensor([3, 1, 1, 2, 0]), 0)
    assert r.values.tolist() == [3, 1, 1, 1, 0] and r.indices.tolist() == [0, 1, 2, 2, 4]
    v = autograd.tensor([[1.0, 3.0, 2.0], [0.0, -1.0, 4.0]], requires_grad=True)
    v.cummax(1).values.sum().backward()
    np.testing.assert_array_equal(v.grad.data, [[1, 2, 0], [2, 0, 1]])
    a = rand(3, 5)
    assert gradcheck(lambda t: t.cummax(1).values, (a,))
    assert gradgradcheck(lambda t: t.cummin(0).values * t, (a,))


def test_logcumsumexp_values_and_gradients_as_pytorch():
    x = autograd.tensor([0.5, -1.0, 2.0, 0.3], dtype=autograd.float64, requires_grad=True)
    y = x.logcumsumexp(0)
    np.testing.assert_allclose(y.data, [0.5, 0.7014132779827524, 2.241311296657157,
                                        2.3754187037721044], rtol=1e-14)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [2.146155638316192, 0.2557418911325177,
                                             1.4725986030036047, 0.12550386754768544],
                               rtol=1e-13)
    big = autograd.logcumsumexp(autograd.tensor([-1000.0, 0.0, 1000.0]), 0)
    np.testing.assert_array_equal(big.data, [-1000.0, 0.0, 1000.0])  # no overflow
    a = rand(3, 4)
    assert gradcheck(lambda t: t.logcumsumexp(1), (a,))
    assert gradgradcheck(lambda t: t.logcumsumexp(0), (a,))


def test_all_any_along_dims():
    t = autograd.tensor([[1, 0], [7, 0]])
    assert t.all(1).tolist() == [False, False] and t.any(1).tolist() == [True, True]
    assert t.any(dim=0, keepdim=True).tolist() == [[True, False]]
    assert autograd.all(t, dim=(0, 1)).tolist() is False
    assert t.all(axis=0).tolist() == np.all([[1, 0], [7, 0]], axis=0).tolist()
    assert autograd.any(t).tolist() is True and t.all().dtype == np.bool_


def test_aminmax_median_count_nonzero():
    t = autograd.tensor([[1, 5], [7, 0]])
    r = t.aminmax()
    assert r.min.tolist() == 0 and r.max.tolist() == 7
    r = autograd.aminmax(t, dim=1, keepdim=True)
    assert r.min.tolist() == [[1], [0]] and r.max.tolist() == [[5], [7]]
    assert autograd.tensor([3, 1, 4, 2]).median().tolist() == 2  # lower median
    m = autograd.tensor([[3.0, 1.0, 4.0, 2.0], [1.0, np.nan, 0.0, 5.0]]).median(1)
    np.testing.assert_array_equal(m.values.data, [2.0, np.nan])
    assert m.indices.tolist() == [3, 1]
    k = autograd.median(autograd.tensor([[3.0, 1.0, 4.0]]), 1, keepdim=True)
    assert k.values.tolist() == [[3.0]] and k.indices.tolist() == [[0]]
    x = autograd.tensor([[0.3, -1.0, 2.0], [0.1, 0.7, 0.5]], dtype=autograd.float64,
                        requires_grad=True)
    assert gradcheck(lambda a: a.median(1).values, (x,))
    assert gradcheck(lambda a: a.median(), (x,))
    x.median().backward()
    np.testing.assert_array_equal(x.grad.data, [[1, 0, 0], [0, 0, 0]])  # 0.3 is the median
    c = autograd.tensor([[0, 1], [2, 2]])
    assert c.count_nonzero().tolist() == 3 and c.count_nonzero().dtype == np.int64
    assert autograd.count_nonzero(c, 1).tolist() == [1, 2]
    assert c.count_nonzero(dim=(0, 1)).tolist() == 3


def test_var_mean_std_mean_as_pytorch():
    x = autograd.tensor([[1.0, 2.0], [3.0, 4.0]])
    v, m = autograd.var_mean(x, 1, correction=0, keepdim=True)
    assert v.tolist() == [[0.25], [0.25]] and m.tolist() == [[1.5], [3.5]]
    s, m = autograd.std_mean(x)
    np.testing.assert_allclose(s.data, 1.2909944487358056, rtol=1e-7)
    assert m.tolist() == 2.5
    a = rand(3, 4)
    assert gradcheck(lambda t: autograd.var_mean(t, 0)[0] + autograd.std_mean(t, 0)[1], (a,))
    assert gradgradcheck(lambda t: autograd.std_mean(t, 1)[0], (a,))


def test_sum_prod_mean_with_dtype():
    t = autograd.tensor([[1, 0], [7, 0]])
    s = t.sum(dtype=autograd.float32)
    assert s.dtype == np.float32 and s.tolist() == 8.0
    m = t.mean(dtype=autograd.float64)
    assert m.dtype == np.float64 and m.tolist() == 2.0
    f = autograd.tensor([[1.5, 2.0], [7.0, 0.0]])
    assert f.prod(1, dtype=autograd.int64).tolist() == [2, 0]  # torch casts first
    assert autograd.sum(f, dtype=autograd.int64).tolist() == 10
    x = autograd.tensor([1.0, 2.0], requires_grad=True)
    y = x.sum(dtype=autograd.float64)
    assert y.dtype == np.float64
    y.backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [1.0, 1.0]


def test_bad_inputs_raise_naming_the_op():
    x = autograd.ones(2, 3)
    with pytest.raises(IndexError, match="cumsum: dimension out of range"):
        x.cumsum(2)
    with pytest.raises(TypeError, match="cumprod: missing the required argument 'dim'"):
        x.cumprod()
    with pytest.raises(IndexError, match="cummax: dimension out of range"):
        x.cummax(-3)
    with pytest.raises(NotImplementedError, match="logcumsumexp: .*int64"):
        autograd.tensor([1, 2]).logcumsumexp(0)
    with pytest.raises(IndexError, match="median: cannot compute the median of dim 1"):
        autograd.ones(2, 0).median(1)
    with pytest.raises(RuntimeError, match="aminmax: cannot compute"):
        autograd.ones(0).aminmax()
    with pytest.raises(IndexError, match="all: dimension out of range"):
        x.all(2)
    with pytest.raises(TypeError, match="var_mean: argument 'input' must be a Tensor"):
        autograd.var_mean([1.0, 2.0])
