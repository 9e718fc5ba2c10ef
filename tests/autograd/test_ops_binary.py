"""Binary ops: broadcasting in both directions, gradients, dtype rules, interop, errors."""
import numpy as np
import pytest

import autograd
from autograd import gradcheck, gradgradcheck

BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
    "pow": (lambda a, b: a.abs() ** b, lambda a, b: np.abs(a) ** b),
    "maximum": (autograd.maximum, np.maximum),
    "minimum": (autograd.minimum, np.minimum),
}
SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((1,), (2, 3)), ((), (2, 2))]


def _pair(rng, sa, sb):
    a = rng.standard_normal(sa) + 0.1
    b = rng.standard_normal(sb) + 0.1
    b[np.abs(b) < 0.3] = 0.7  # keep divisors away from zero
    return a, b


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("sa,sb", SHAPES)
def test_forward_and_gradcheck_with_broadcasting(name, sa, sb, rng):
    fn, ref = BINARY[name]
    a, b = _pair(rng, sa, sb)
    out = fn(autograd.tensor(a), autograd.tensor(b))
    np.testing.assert_allclose(out.data, ref(a, b), rtol=1e-12)
    ta = autograd.tensor(a, requires_grad=True)
    tb = autograd.tensor(b, requires_grad=True)
    assert gradcheck(fn, (ta, tb))
    out = fn(ta, tb)
    out.sum().backward()
    assert ta.grad.shape == sa and tb.grad.shape == sb


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow"])
def test_gradgradcheck(name, rng):
    fn, _ = BINARY[name]
    a, b = _pair(rng, (2, 3), (3,))
    assert gradgradcheck(fn, (autograd.tensor(a, requires_grad=True),
                              autograd.tensor(b, requires_grad=True)))


def test_hand_checked_gradients():
    a = autograd.tensor([2.0, 3.0], requires_grad=True)
    b = autograd.tensor([4.0, 5.0], requires_grad=True)
    (a * b + a / b - b ** 2).sum().backward()
    np.testing.assert_allclose(a.grad.data, [4 + 1 / 4, 5 + 1 / 5])
    np.testing.assert_allclose(b.grad.data, [2 - 2 / 16 - 8, 3 - 3 / 25 - 10])


def test_maximum_splits_ties_evenly():
    a = autograd.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = autograd.tensor([1.0, 5.0, 0.0], requires_grad=True)
    autograd.maximum(a, b).sum().backward()
    np.testing.assert_allclose(a.grad.data, [0.5, 0, 1])
    np.testing.assert_allclose(b.grad.data, [0.5, 1, 0])


def test_where_gradient_and_no_nan_from_unselected_branch():
    # the safe-log pattern: masking the input before log leaves no inf to multiply by 0
    x = autograd.tensor([-1.0, 0.0, 4.0], requires_grad=True)
    y = autograd.where(x > 0, x, 1.0).log()
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.25])
    a = autograd.tensor([1.0, 2.0], requires_grad=True)
    b = autograd.tensor([3.0, 4.0], requires_grad=True)
    autograd.where(autograd.tensor([True, False]), a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [1, 0])
    np.testing.assert_array_equal(b.grad.data, [0, 1])
    assert gradcheck(lambda p, q: autograd.where(np.array([[True], [False]]), p, q),
                     (autograd.tensor(np.ones((2, 3)), requires_grad=True),
                      autograd.tensor(np.ones(3), requires_grad=True)))


def test_python_scalars_and_arrays_on_either_side():
    t = autograd.tensor([1.0, 2.0])
    arr = np.array([10.0, 20.0], dtype=np.float32)
    for out, expected in [(t + 1, [2, 3]), (1 + t, [2, 3]), (2 - t, [1, 0]), (t * 2, [2, 4]),
                          (4 / t, [4, 2]), (2 ** t, [2, 4]), (arr + t, [11, 22]),
                          (arr - t, [9, 18]), (arr * t, [10, 40]), (arr / t, [10, 10])]:
        assert isinstance(out, autograd.Tensor)
        np.testing.assert_allclose(out.data, expected)
    m = np.eye(2, dtype=np.float32)
    assert isinstance(m @ t, autograd.Tensor)
    np.testing.assert_allclose((m @ t).data, [1, 2])
    assert np.asarray(t).dtype == np.float32
    cmp = arr > t
    assert isinstance(cmp, autograd.Tensor) and cmp.dtype == bool


def test_dtype_rules():
    f32 = autograd.tensor([1.0, 2.0])
    f64 = autograd.tensor(np.array([1.0, 2.0]))
    assert f32.dtype == np.float32 and f64.dtype == np.float64
    assert (f32 * 2.5).dtype == np.float32
    assert (f32 + np.float64(1.5)).dtype == np.float32  # numpy scalars act like Python's
    assert (f32 + 3).dtype == np.float32
    assert (f32 + f64).dtype == np.float64
    assert (f32 ** 2).dtype == np.float32
    assert (autograd.tensor([1, 2]) + 1).dtype == np.int64


def test_comparisons_have_no_grad():
    x = autograd.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for cmp in (x == 2, x != 2, x < 2, x <= 2, x > 2, x >= 2):
        assert cmp.dtype == bool and not cmp.requires_grad
    np.testing.assert_array_equal((x >= 2).data, [False, True, True])


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "maximum"])
def test_incompatible_shapes_name_op_and_shapes(name):
    fn, _ = BINARY[name]
    # PyTorch raises RuntimeError for a broadcast mismatch; exactly that class
    with pytest.raises(RuntimeError, match=r"\(3, 4\).*\(5,\)") as info:
        fn(autograd.ones(3, 4), autograd.ones(5))
    assert type(info.value) is RuntimeError
    with pytest.raises(RuntimeError, match=name):
        fn(autograd.ones(3, 4), autograd.ones(5))
    with autograd.no_grad(), pytest.raises(RuntimeError, match=name):
        fn(autograd.ones(3, 4), autograd.ones(5))


# ---- x ** y edge gradients: PyTorch 2.13's values (pow_backward_self / _exponent) ---------
NAN, INF = float("nan"), float("inf")
POW_EDGES = [  # (a, b, a ** b, d/da, d/db)
    (0.0, 0.0, 1.0, 0.0, 0.0),
    (0.0, -0.3, INF, -INF, -INF),
    (-2.0, 0.5, NAN, NAN, NAN),
    (-2.0, 2.0, 4.0, -4.0, NAN),
    (-2.0, 3.0, -8.0, 12.0, NAN),
    (0.0, 2.0, 0.0, 0.0, 0.0),
    (0.0, 1.0, 0.0, 1.0, 0.0),
    (0.0, 0.5, 0.0, INF, 0.0),
    (0.0, -1.0, INF, -INF, -INF),
    (0.0, -2.0, INF, -INF, -INF),
    (2.0, 0.0, 1.0, 0.0, 0.6931471805599453),
    (-2.0, 0.0, 1.0, 0.0, NAN),
    (0.0, 1.5, 0.0, 0.0, 0.0),
    (2.0, 3.0, 8.0, 12.0, 5.545177444479562),
    (0.5, -1.0, 2.0, -4.0, -1.3862943611198906),
    (INF, 2.0, INF, INF, INF),
    (-INF, 2.0, INF, -INF, NAN),
    (1.0, NAN, 1.0, NAN, 0.0),
    (NAN, 0.0, 1.0, 0.0, NAN),
]


def _assert_same(got, want, what):
    assert (np.isnan(got) and np.isnan(want)) or got == want, (what, got, want)


@pytest.mark.parametrize("a, b, value, da, db", POW_EDGES)
def test_pow_edge_gradients_match_pytorch(a, b, value, da, db):
    with np.errstate(all="ignore"):
        # tensor ** tensor
        x = autograd.tensor(np.float64(a), requires_grad=True)
        y = autograd.tensor(np.float64(b), requires_grad=True)
        out = x ** y
        out.backward()
        _assert_same(out.item(), value, "value")
        _assert_same(x.grad.item(), da, "d/da")
        _assert_same(y.grad.item(), db, "d/db")
        # tensor ** scalar: the same d/da
        x = autograd.tensor(np.float64(a), requires_grad=True)
        (x ** b).backward()
        _assert_same(x.grad.item(), da, "d/da (scalar exponent)")
        # scalar ** tensor: the same d/db
        y = autograd.tensor(np.float64(b), requires_grad=True)
        (a ** y).backward()
        _assert_same(y.grad.item(), db, "d/db (scalar base)")


def test_pow_tensor_exponent_broadcast_edges():
    x = autograd.tensor(np.array([[0.0], [-2.0], [3.0]]), requires_grad=True)
    y = autograd.tensor(np.array([0.0, 2.0]), requires_grad=True)
    with np.errstate(all="ignore"):
        (x ** y).sum().backward()
    # d/dx: rows sum b a^(b-1) over b in {0, 2}: 0 + 0, 0 + -4, 0 + 6
    np.testing.assert_array_equal(x.grad.data, [[0.0], [-4.0], [6.0]])
    # d/dy: column b=0 sums 0 + NaN + log 3; column b=2: 0 + NaN + 9 log 3
    assert np.isnan(y.grad.data).all()


def test_pow_tensor_exponent_gradcheck_positive_base(rng):
    a = autograd.tensor(np.abs(rng.standard_normal((3, 4))) + 0.5, requires_grad=True)
    b = autograd.tensor(rng.standard_normal((4,)), requires_grad=True)
    assert gradcheck(lambda u, v: u ** v, (a, b))
    assert gradgradcheck(lambda u, v: u ** v, (a, b))
