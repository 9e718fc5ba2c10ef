"""Fast paths of the per-op overhead work (issue 15): two-Tensor arithmetic skipping
`as_tensor_pair`, the binary forward skipping `promote` for equal dtypes, and `sum_to`
answering an equal shape first. Each gives the values and gradients of the general path."""
from __future__ import annotations

import operator

import numpy as np
import pytest

import autograd
from autograd.ops import binary
from autograd.ops.binary import as_tensor_pair

OPS = {"add": (operator.add, binary.Add), "sub": (operator.sub, binary.Sub),
       "mul": (operator.mul, binary.Mul), "truediv": (operator.truediv, binary.Div)}


def leaves(da, db, shape_a=(3, 4), shape_b=(3, 4), param=False):
    rng = np.random.default_rng(0)
    a = autograd.tensor(rng.uniform(0.5, 2.0, shape_a).astype(da), requires_grad=True)
    b = autograd.tensor(rng.uniform(0.5, 2.0, shape_b).astype(db), requires_grad=True)
    if param:
        import nn
        b = nn.Parameter(b.detach())
    return a, b


@pytest.mark.parametrize("name", list(OPS))
@pytest.mark.parametrize("dtypes,shape_b,param", [
    ((np.float32, np.float32), (3, 4), False),
    ((np.float32, np.float64), (3, 4), False),   # promotion still applies
    ((np.float64, np.float64), (4,), False),     # broadcasting still applies
    ((np.float32, np.float32), (3, 4), True),    # a Parameter operand (a Tensor subclass)
])
def test_two_tensor_ops_match_the_general_path(name, dtypes, shape_b, param):
    op, fn = OPS[name]
    results = []
    for fast in (True, False):
        a, b = leaves(*dtypes, shape_b=shape_b, param=param)
        y = op(a, b) if fast else fn.apply(*as_tensor_pair(a, b))
        y.backward(autograd.tensor(np.linspace(-1, 1, 12).reshape(3, 4).astype(y.dtype)))
        results.append((y.detach().numpy(), y.dtype, a.grad.numpy(), b.grad.numpy()))
    (y1, d1, ga1, gb1), (y2, d2, ga2, gb2) = results
    assert d1 == d2 and ga1.dtype == ga2.dtype and gb1.dtype == gb2.dtype
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(ga1, ga2)
    np.testing.assert_array_equal(gb1, gb2)


@pytest.mark.parametrize("name", list(OPS))
def test_two_tensor_ops_under_no_grad_match(name):
    op, fn = OPS[name]
    a, b = leaves(np.float32, np.float64)
    with autograd.no_grad():
        fast, general = op(a, b), fn.apply(*as_tensor_pair(a, b))
    assert fast.dtype == general.dtype == np.float64 and not fast.requires_grad
    np.testing.assert_array_equal(fast.numpy(), general.numpy())


def test_sum_to_equal_shape_returns_self_for_tuples_and_lists():
    t = autograd.tensor(np.arange(6.0).reshape(2, 3))
    assert t.sum_to((2, 3)) is t and t.sum_to([2, 3]) is t
    s = t.sum_to([3])
    np.testing.assert_array_equal(s.numpy(), [3.0, 5.0, 7.0])
    assert t.sum_to((1, 3)).shape == (1, 3)


def test_gradcheck_through_the_fast_paths():
    rng = np.random.default_rng(1)
    a = autograd.tensor(rng.uniform(0.5, 2, (3, 2)), requires_grad=True)
    b = autograd.tensor(rng.uniform(0.5, 2, (3, 2)), requires_grad=True)
    assert autograd.gradcheck(lambda x, y: (x * y - x / y + y).sum_to([2]), (a, b))


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("shape", [(4, 4), (300, 100)])  # numpy's and numba's kernel paths
def test_activation_backward_without_graph_matches_the_op(act, shape):
    """A plain backward calls the act_backward kernel directly; the op (kept for create_graph)
    gives the same values, and so does the whole backward of the activation."""
    from autograd.ops.unary import ActBackward, act_grad
    rng = np.random.default_rng(4)
    x = autograd.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
    g = autograd.tensor(rng.standard_normal(shape).astype(np.float32))
    y = getattr(x, act)()
    with autograd.no_grad():
        fast = act_grad(g, y.detach(), act)
    with autograd.enable_grad():
        general = ActBackward.apply(g, y.detach(), act=act)
    np.testing.assert_array_equal(fast.numpy(), general.numpy())
    y.backward(g)
    np.testing.assert_array_equal(x.grad.numpy(), general.numpy())


def test_activation_second_derivatives_still_use_the_op():
    x = autograd.tensor(np.linspace(-2, 2, 7), requires_grad=True)
    assert autograd.gradgradcheck(lambda t: t.tanh() * t.sigmoid(), (x,))
    (gx,) = autograd.grad(x.tanh().sum(), (x,), create_graph=True)
    assert gx.grad_fn is not None  # the op path: differentiable again
    np.testing.assert_allclose(gx.detach().numpy(), 1 - np.tanh(np.linspace(-2, 2, 7)) ** 2)
