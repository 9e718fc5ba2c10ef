"""More elementwise unary ops (API part 2, "More tensor operations"): values against
PyTorch 2.13's (float64 literals), first and second derivatives by finite differences,
dtype rules and errors."""
import math

import numpy as np
import pytest

import autograd
from autograd import gradcheck, gradgradcheck

X = [-0.7, -0.2, 0.1, 0.45, 0.9]          # inside every domain below
P = [1.5, 2.0, 7.25, 40.0]                # positive, > 1 (acosh)

# torch.<name>(torch.tensor(X or P, dtype=torch.float64)).tolist()
EXPECTED = {
    "tan": (X, [-0.8422883804630794, -0.2027100355086725, 0.10033467208545055,
                0.4830550656165784, 1.2601582175503392]),
    "asin": (X, [-0.775397496610753, -0.2013579207903308, 0.1001674211615598,
                 0.46676533904729633, 1.1197695149986342]),
    "acos": (X, [2.34619382340565, 1.7721542475852274, 1.4706289056333368,
                 1.1040309877476002, 0.45102681179626236]),
    "atan": (X, [-0.6107259643892086, -0.19739555984988078, 0.09966865249116204,
                 0.4228539261329407, 0.7328151017865066]),
    "sinh": (X, [-0.7585837018395334, -0.20133600254109402, 0.10016675001984403,
                 0.46534201693419774, 1.0265167257081753]),
    "cosh": (X, [1.255169005630943, 1.020066755619076, 1.0050041680558035,
                 1.102970168555971, 1.4330863854487745]),
    "asinh": (X, [-0.6526665660823557, -0.19869011034924142, 0.09983407889920758,
                  0.43604966885174057, 0.8088669356527824]),
    "atanh": (X, [-0.8673005276940531, -0.2027325540540822, 0.10033534773107558,
                  0.48470027859405174, 1.4722194895832204]),
    "erf": (X, [-0.6778011938374184, -0.22270258921047847, 0.1124629160182849,
                0.47548171978692366, 0.7969082124228322]),
    "erfc": (X, [1.6778011938374184, 1.2227025892104786, 0.887537083981715,
                 0.5245182802130763, 0.20309178757716786]),
    "exp2": (X, [0.6155722066724582, 0.8705505632961241, 1.0717734625362931,
                 1.3660402567543954, 1.8660659830736148]),
    "expm1": (X, [-0.5034146962085905, -0.18126924692201815, 0.10517091807564763,
                  0.5683121854901688, 1.4596031111569496]),
    "log1p": (X, [-1.203972804325936, -0.22314355131420976, 0.09531017980432487,
                  0.371563556432483, 0.6418538861723948]),
    "acosh": (P, [0.9624236501192069, 1.3169578969248166, 2.669358110903154,
                  4.381870348040067]),
    "log2": (P, [0.5849625007211562, 1.0, 2.8579809951275723, 5.321928094887363]),
    "log10": (P, [0.17609125905568124, 0.3010299956639812, 0.8603380065709937,
                  1.6020599913279623]),
    "rsqrt": (P, [0.8164965809277261, 0.7071067811865475, 0.3713906763541037,
                  0.15811388300841897]),
    "reciprocal": (P, [0.6666666666666666, 0.5, 0.13793103448275862, 0.025]),
}
SMOOTH = sorted(EXPECTED)


@pytest.mark.parametrize("name", SMOOTH)
def test_values_match_pytorch_and_both_forms_agree(name):
    inputs, want = EXPECTED[name]
    x = autograd.tensor(inputs, dtype=autograd.float64)
    got = getattr(x, name)()
    assert got.dtype == np.float64
    np.testing.assert_allclose(got.data, want, rtol=1e-14, atol=1e-15)
    np.testing.assert_array_equal(getattr(autograd, name)(x).data, got.data)


@pytest.mark.parametrize("name", SMOOTH)
def test_first_and_second_derivatives(name):
    inputs, _ = EXPECTED[name]
    x = autograd.tensor(inputs, dtype=autograd.float64, requires_grad=True)
    assert gradcheck(lambda t: getattr(t, name)(), (x,))
    assert gradgradcheck(lambda t: getattr(t, name)(), (x,))


@pytest.mark.parametrize("name", SMOOTH)
def test_integer_input_gives_the_default_float_dtype(name):
    with np.errstate(invalid="ignore", divide="ignore"):  # asin(2) is NaN, as in PyTorch
        y = getattr(autograd, name)(autograd.tensor([2, 3]))
    assert y.dtype == np.float32  # as PyTorch: int64 in, float32 out


def test_erf_tails_and_float32():
    # torch.erfc(torch.tensor([10.0], dtype=float64)): erfc is not 1 - erf in the tail
    got = autograd.erfc(autograd.tensor([10.0], dtype=autograd.float64))
    np.testing.assert_allclose(got.data, [2.088487583762545e-45], rtol=1e-14)
    y = autograd.tensor([0.5]).erf()
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data, [math.erf(0.5)], rtol=1e-7)
    x = autograd.tensor([0.3], requires_grad=True)
    x.erf().backward(autograd.tensor([1.0]))
    np.testing.assert_allclose(x.grad.data, [2 / math.sqrt(math.pi) * math.exp(-0.09)],
                               rtol=1e-6)


def test_outside_the_domain_gives_nan_as_pytorch():
    with np.errstate(invalid="ignore", divide="ignore"):
        x = autograd.tensor([2.0, -1.0, 0.0])
        assert np.isnan(x.asin().data[0]) and np.isnan(x.acosh().data[1])
        assert np.isnan(x.rsqrt().data[1]) and x.rsqrt().data[2] == np.inf
        assert x.reciprocal().data[2] == np.inf


# torch.<name>(torch.tensor(Y, dtype=torch.float32)).tolist()
Y = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.7, -0.0]
ROUNDED = {
    "sign": [-1.0, -1.0, -1.0, 1.0, 1.0, 1.0, 0.0],
    "floor": [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, -0.0],
    "ceil": [-2.0, -1.0, -0.0, 1.0, 2.0, 3.0, -0.0],
    "round": [-2.0, -2.0, -0.0, 0.0, 2.0, 3.0, -0.0],
    "trunc": [-2.0, -1.0, -0.0, 0.0, 1.0, 2.0, -0.0],
    "frac": [-0.5, -0.5, -0.5, 0.5, 0.5, 0.7000000476837158, 0.0],
}


@pytest.mark.parametrize("name", sorted(ROUNDED))
def test_rounding_values_and_gradients(name):
    x = autograd.tensor(Y, requires_grad=True)
    y = getattr(autograd, name)(x)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.data, np.float32(ROUNDED[name]))
    np.testing.assert_array_equal(np.signbit(y.data), np.signbit(ROUNDED[name]))
    y.backward(autograd.ones(7) * 3)
    np.testing.assert_array_equal(x.grad.data, np.full(7, 3.0 if name == "frac" else 0.0))


def test_rounding_keeps_integer_and_bool_dtypes_as_pytorch():
    i = autograd.tensor([3, -2, 0])
    for name in ("floor", "ceil", "round", "trunc", "nan_to_num"):
        y = getattr(i, name)()
        assert y.dtype == np.int64 and y.tolist() == [3, -2, 0]
    assert i.sign().tolist() == [1, -1, 0] and i.sign().dtype == np.int64
    b = autograd.tensor([True, False])
    assert b.sign().dtype == np.bool_ and b.sign().tolist() == [True, False]
    assert b.nan_to_num().tolist() == [True, False]


def test_round_with_decimals_matches_pytorch():
    x = autograd.tensor([1.2345, -2.675, 1234.5, 0.125], dtype=autograd.float64,
                        requires_grad=True)
    y = x.round(decimals=2)
    np.testing.assert_array_equal(y.data, [1.23, -2.68, 1234.5, 0.12])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros(4))
    z = autograd.round(autograd.tensor([1234.5, -1250.0, 1350.0], dtype=autograd.float64),
                       decimals=-2)
    np.testing.assert_array_equal(z.data, [1200.0, -1200.0, 1400.0])


def test_nan_to_num_values_and_gradient():
    x = autograd.tensor([1.0, np.nan, np.inf, -np.inf], requires_grad=True)
    y = x.nan_to_num(nan=2.0, posinf=9.0)
    # torch.nan_to_num(..., nan=2.0, posinf=9.0): -inf becomes float32's lowest
    np.testing.assert_array_equal(y.data, np.float32([1.0, 2.0, 9.0, -3.4028234663852886e38]))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.0, 0.0, 0.0])
    x64 = autograd.tensor([0.5, -1.5], dtype=autograd.float64, requires_grad=True)
    assert gradcheck(lambda t: autograd.nan_to_num(t * t), (x64,))


def test_tests_give_bool_tensors():
    x = autograd.tensor([1.0, np.nan, np.inf, -np.inf, 0.0])
    assert autograd.isnan(x).tolist() == [False, True, False, False, False]
    assert x.isinf().tolist() == [False, False, True, True, False]
    assert x.isfinite().tolist() == [True, False, False, False, True]
    assert x.logical_not().tolist() == [False, False, False, False, True]
    i = autograd.tensor([3, 0])
    assert i.isnan().tolist() == [False, False] and i.isfinite().tolist() == [True, True]
    assert autograd.logical_not(i).dtype == np.bool_
    assert autograd.logical_not(i).tolist() == np.logical_not([3, 0]).tolist()


def test_bad_inputs_raise_naming_the_op():
    with pytest.raises(NotImplementedError, match="frac: .*int64"):
        autograd.tensor([1, 2]).frac()
    with pytest.raises(NotImplementedError, match="floor: .*bool"):
        autograd.tensor([True]).floor()
    with pytest.raises(NotImplementedError, match="round: decimals=1 .*int64"):
        autograd.tensor([1, 2]).round(decimals=1)
    with pytest.raises(TypeError, match="round: decimals must be an int"):
        autograd.tensor([1.0]).round(decimals=1.5)


@pytest.mark.parametrize("name", ["erf", "erfc"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numba_erf_matches_the_reference(name, dtype):
    from autograd import kernels as K
    from autograd.kernels import policy
    x = (np.random.default_rng(1).standard_normal((33, 65)) * 3).astype(dtype)
    x[0, :3] = [np.nan, np.inf, -np.inf]
    kernel = getattr(K, name)
    with policy.override(numpy_below=0, parallel_above=policy.NEVER):
        got = kernel.implementation("numba")(x)
    want = kernel.reference(x)
    assert got.dtype == want.dtype == dtype
    np.testing.assert_allclose(got, want, rtol=1e-6 if dtype == np.float32 else 1e-15)
