"""More elementwise binary ops (API part 2): atan2 hypot logaddexp lerp fmod remainder
floor_divide div(rounding_mode=) clamp_min clamp_max, // and %, the bitwise operators on
integer and bool tensors, logical_*, isclose allclose equal. Values are PyTorch 2.13's
(literals); integer results are checked against numpy where the semantics agree."""
import numpy as np
import pytest

import autograd
from autograd import gradcheck, gradgradcheck

A = [0.5, -1.25, 2.0, -0.75]
B = [1.5, 0.5, -0.25, -2.0]
# torch.<name>(a, b) with float64 a = A, b = B: (values, d sum / da, d sum / db)
EXPECTED = {
    "atan2": ([0.3217505543966422, -1.1902899496825317, 1.695151321341658, -2.782821983319221],
              [0.6000000000000001, 0.27586206896551724, -0.06153846153846154,
               -0.4383561643835616],
              [-0.2, 0.6896551724137931, -0.49230769230769234, 0.1643835616438356]),
    "hypot": ([1.5811388300841898, 1.346291201783626, 2.0155644370746373, 2.1360009363293826],
              [0.31622776601683794, -0.9284766908852594, 0.9922778767136677,
               -0.3511234415883917],
              [0.9486832980505138, 0.3713906763541037, -0.12403473458920847,
               -0.9363291775690445]),
    "logaddexp": ([1.8132616875182228, 0.6602241504380872, 2.100206558916747,
                   -0.4980709186546271],
                  [0.2689414213699951, 0.14804719803168948, 0.9046505351008906,
                   0.7772998611746911],
                  [0.7310585786300049, 0.8519528019683106, 0.09534946489910949,
                   0.22270013882530884]),
    "fmod": ([0.5, -0.25, 0.0, -0.75], [1.0] * 4, [0.0, 2.0, 8.0, 0.0]),
    "remainder": ([0.5, 0.25, 0.0, -0.75], [1.0] * 4, [0.0, 3.0, 8.0, 0.0]),
}


def pair():
    return (autograd.tensor(A, dtype=autograd.float64, requires_grad=True),
            autograd.tensor(B, dtype=autograd.float64, requires_grad=True))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_values_and_gradients_match_pytorch(name):
    a, b = pair()
    y = getattr(autograd, name)(a, b)
    values, ga, gb = EXPECTED[name]
    np.testing.assert_allclose(y.data, values, rtol=1e-14, atol=1e-15)
    y.sum().backward()
    np.testing.assert_allclose(a.grad.data, ga, rtol=1e-14)
    np.testing.assert_allclose(b.grad.data, gb, rtol=1e-14)
    np.testing.assert_array_equal(getattr(a, name)(b).data, y.data)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_first_and_second_derivatives_with_broadcasting(name):
    rng = np.random.default_rng(3)
    a = autograd.tensor(rng.uniform(0.3, 2.0, (3, 4)) * rng.choice([-1, 1], (3, 4)),
                        requires_grad=True)
    b = autograd.tensor(rng.uniform(0.55, 0.95, (4,)), requires_grad=True)  # no ties
    assert gradcheck(lambda x, y: getattr(autograd, name)(x, y), (a, b))
    assert gradgradcheck(lambda x, y: getattr(autograd, name)(x, y), (a, b))


def test_logaddexp_does_not_overflow():
    y = autograd.logaddexp(autograd.tensor([1000.0, -1000.0]), autograd.tensor([1000.0, -1000.0]))
    np.testing.assert_allclose(y.data, [1000.6931762695312, -999.3068237304688], rtol=1e-7)


def test_lerp_with_scalar_and_tensor_weights():
    a, b = pair()
    np.testing.assert_allclose(a.lerp(b, 0.3).data, [0.8, -0.725, 1.325, -1.125], rtol=1e-14)
    w = autograd.tensor([0.0, 0.25, 0.5, 1.0], dtype=autograd.float64, requires_grad=True)
    y = autograd.lerp(a, b, w)
    np.testing.assert_allclose(y.data, [0.5, -0.8125, 0.875, -2.0], rtol=1e-14)
    y.sum().backward()
    np.testing.assert_allclose(a.grad.data, [1.0, 0.75, 0.5, 0.0])
    np.testing.assert_allclose(b.grad.data, [0.0, 0.25, 0.5, 1.0])
    np.testing.assert_allclose(w.grad.data, [1.0, 1.75, -2.25, -1.25])
    a, b = pair()
    assert gradgradcheck(lambda x, y, z: x.lerp(y, z), (a, b, w.detach().requires_grad_()))


# torch: a = [7., -7., 7., -7., 5.5], b = [2., 2., -2., -2., 0.] (float32)
FA, FB = [7.0, -7.0, 7.0, -7.0, 5.5], [2.0, 2.0, -2.0, -2.0, 0.0]


def test_division_modes_on_floats_match_pytorch():
    a, b = autograd.tensor(FA), autograd.tensor(FB)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal((a // b).data, [3.0, -4.0, -4.0, 3.0, np.inf])
        np.testing.assert_array_equal(autograd.floor_divide(a, b).data, (a // b).data)
        np.testing.assert_array_equal(a.div(b, rounding_mode="trunc").data,
                                      [3.0, -3.0, -3.0, 3.0, np.inf])
        np.testing.assert_array_equal(autograd.div(a, b, rounding_mode="floor").data,
                                      [3.0, -4.0, -4.0, 3.0, np.inf])
        np.testing.assert_array_equal((a % b).data, [1.0, 1.0, -1.0, -1.0, np.nan])
        np.testing.assert_array_equal(a.fmod(b).data, [1.0, -1.0, 1.0, -1.0, np.nan])
    np.testing.assert_allclose(a.div(b[:4].abs().sum()).data, np.float32(FA) / 8)


def test_integer_division_and_remainder_match_pytorch():
    i, j = autograd.tensor([7, -7, 7, -7]), autograd.tensor([2, 2, -2, -2])
    assert (i // j).tolist() == [3, -4, -4, 3] and (i // j).dtype == np.int64
    assert (i % j).tolist() == [1, 1, -1, -1]
    assert autograd.fmod(i, j).tolist() == [1, -1, 1, -1]
    assert i.div(j, rounding_mode="trunc").tolist() == [3, -3, -3, 3]
    assert i.div(j, rounding_mode="floor").tolist() == (np.array([7, -7, 7, -7]) //
                                                        np.array([2, 2, -2, -2])).tolist()
    assert (i // 2.5).tolist() == [2.0, -3.0, 2.0, -3.0] and (i // 2.5).dtype == np.float32
    assert (7 // i[:2]).tolist() == [1, -1] and (7 % i[:2]).tolist() == [0, 0]
    assert (i % 2.5).tolist() == [2.0, 0.5, 2.0, 0.5]
    assert (i / j).dtype == np.float32  # true division


def test_rounded_division_has_zero_gradient_and_floor_divide_none():
    a = autograd.tensor([1.5, -2.5], requires_grad=True)
    a.div(2.0, rounding_mode="floor").sum().backward()
    np.testing.assert_array_equal(a.grad.data, [0.0, 0.0])
    with pytest.raises(RuntimeError, match="derivative of floor_divide is not implemented"):
        (a // 2.0).sum().backward()


def test_clamp_min_and_max_route_gradients_as_pytorch():
    x = autograd.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = autograd.tensor([2.0, 2.0, 2.0], requires_grad=True)
    y = autograd.clamp_min(x, m)
    np.testing.assert_array_equal(y.data, [2.0, 2.0, 3.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 1.0])  # torch: self >= min
    np.testing.assert_array_equal(m.grad.data, [1.0, 0.0, 0.0])
    z = autograd.tensor([1.0, 5.0]).clamp_max(autograd.tensor([2.0, 2.0]))
    assert z.tolist() == [1.0, 2.0]
    w = autograd.tensor([1, 5]).clamp_min(2.5)
    assert w.dtype == np.float32 and w.tolist() == [2.5, 5.0]
    assert autograd.tensor([np.nan]).clamp_max(1.0).isnan().tolist() == [True]


def test_bitwise_operators_match_numpy_and_pytorch():
    a, b = np.array([7, -7, 7, -7]), np.array([2, 2, -2, -2])
    i, j = autograd.tensor(a), autograd.tensor(b)
    assert (i & j).tolist() == (a & b).tolist() == [2, 0, 6, -8]
    assert (i | 3).tolist() == (a | 3).tolist() == [7, -5, 7, -5]
    assert (3 ^ i).tolist() == (3 ^ a).tolist() == [4, -6, 4, -6]
    assert (~i).tolist() == (~a).tolist() == [-8, 6, -8, 6]
    assert (i << 2).tolist() == (a << 2).tolist() == [28, -28, 28, -28]
    assert (1 << j.abs()).tolist() == [4, 4, 4, 4]
    assert (3 >> autograd.tensor([0, 1])).tolist() == [3, 1]
    assert (i >> 1).tolist() == (a >> 1).tolist() == [3, -4, 3, -4]
    assert autograd.bitwise_xor(i, j).tolist() == (a ^ b).tolist()
    assert i.bitwise_or(j).tolist() == (a | b).tolist()
    assert autograd.bitwise_not(i).tolist() == (~a).tolist()
    assert autograd.bitwise_left_shift(i, 1).tolist() == (a << 1).tolist()
    assert i.bitwise_right_shift(1).tolist() == (a >> 1).tolist()
    t, f = autograd.tensor([True, False]), autograd.tensor([True, True])
    assert (t & f).dtype == np.bool_ and (t & f).tolist() == [True, False]
    assert (~t).tolist() == [False, True]
    assert (t & 1).dtype == np.int64 and (t & 1).tolist() == [1, 0]


def test_logical_ops_give_bool_tensors():
    x, y = autograd.tensor([1.0, 0.0, 2.0, 0.0]), autograd.tensor([2, 2, 0, 0])
    for name in ("logical_and", "logical_or", "logical_xor"):
        got = getattr(autograd, name)(x, y)
        assert got.dtype == np.bool_
        assert got.tolist() == getattr(np, name)([1.0, 0.0, 2.0, 0.0], [2, 2, 0, 0]).tolist()
    assert x.logical_and(True).tolist() == [True, False, True, False]


def test_isclose_allclose_equal():
    x = autograd.tensor([1.0, np.nan, np.inf, 1.0])
    y = autograd.tensor([1.0 + 1e-6, np.nan, np.inf, 1.1])
    assert autograd.isclose(x, y).tolist() == [True, False, True, False]
    assert x.isclose(y, equal_nan=True).tolist() == [True, True, True, False]
    assert x.isclose(y, rtol=0.2, equal_nan=True).tolist() == [True] * 4
    assert autograd.isclose(autograd.tensor([1, 2]), autograd.tensor([1, 3])).tolist() == \
        [True, False]
    assert autograd.allclose(autograd.tensor([1.0, 2.0]), autograd.tensor([1.0, 2.00001]))
    assert not autograd.tensor([1.0, 2.0]).allclose(autograd.tensor([1.0, 2.1]))
    assert autograd.equal(autograd.tensor([1.0, 2.0]), autograd.tensor([1, 2])) is True
    assert autograd.tensor([1.0, 2.0]).equal(autograd.tensor([[1.0, 2.0]])) is False


def test_bad_inputs_raise_naming_the_op():
    f, i = autograd.tensor([1.5]), autograd.tensor([7, -7])
    with pytest.raises(NotImplementedError, match="bitwise_and: .*float32"):
        _ = f & 1
    with pytest.raises(TypeError, match="bitwise_not.*float32"):
        _ = ~f
    with pytest.raises(NotImplementedError, match="bitwise_left_shift"):
        _ = i << autograd.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        _ = i // autograd.tensor([0, 1])
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        _ = i % 0
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        autograd.fmod(i, autograd.tensor([1, 0]))
    with pytest.raises(RuntimeError, match="rounding_mode to be one of None, 'trunc', or "
                                           "'floor' but found 'bad'"):
        f.div(2, rounding_mode="bad")
    with pytest.raises(NotImplementedError, match="hypot: .*int64"):
        autograd.hypot(i, i)
    with pytest.raises(NotImplementedError, match="logaddexp: .*int64"):
        autograd.logaddexp(i, i)
    with pytest.raises(RuntimeError, match="lerp: expected dtype float32 for `end` but got "
                                           "dtype float64"):
        f.lerp(autograd.tensor([2.0], dtype=autograd.float64), 0.5)
    with pytest.raises(RuntimeError, match="atan2: shapes \\(2,\\) and \\(3,\\)"):
        autograd.atan2(autograd.ones(2), autograd.ones(3))
    with pytest.raises(RuntimeError, match="isclose: float32 did not match float64"):
        f.isclose(autograd.tensor([1.5], dtype=autograd.float64))
    with pytest.raises(RuntimeError, match="rtol and atol must be greater"):
        f.isclose(f, rtol=-1)
    with pytest.raises(RuntimeError, match="logical_or: shapes"):
        autograd.logical_or(autograd.ones(2), autograd.ones(3))
