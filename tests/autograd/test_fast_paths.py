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
        fast = act_grad(g, y.grad_fn, act)  # the activation's node: its saved output
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


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "relu"])
def test_activation_fast_backward_keeps_the_saved_output_checks(act):
    """The no-graph backward reads the saved output's array (`Function.output_array`), yet
    still refuses an output written in place after forward, and a second backward."""
    x = autograd.tensor(np.linspace(-1, 1, 6).astype(np.float32), requires_grad=True)
    y = getattr(x, act)()
    y.mul_(2)
    with pytest.raises(RuntimeError, match=rf"output of {act.capitalize()}Backward, a tensor "
                                           rf"of shape \(6,\), is at version 1; expected "
                                           rf"version 0"):
        y.sum().backward()
    y = getattr(x, act)()
    z = y.sum()
    z.backward(retain_graph=False)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.grad_fn.output_array()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        z.backward()


def test_activation_backward_kernel_rejects_unknown_activation():
    from autograd import kernels as K
    for shape in ((4, 4), (300, 100)):  # the small (numpy) and the numba paths
        g = np.ones(shape, np.float32)
        with pytest.raises(ValueError, match="unknown activation 'gelu'"):
            K.act_backward(g, g, "gelu")


def _gelu_composite(x):
    """F.gelu's former composition, 0.5 x (1 + erf(x / sqrt 2)): the general path."""
    return 0.5 * x * (1 + (x * 0.7071067811865476).erf())


def _gelu_op(x):
    from autograd.ops.unary import Gelu
    return Gelu.apply(x)


def test_functional_gelu_is_the_fused_op_on_the_numba_backend():
    import nn.functional as F
    x = autograd.tensor(np.linspace(-2, 2, 5).astype(np.float32), requires_grad=True)
    name = type(F.gelu(x).grad_fn).__name__
    assert name == ("Gelu" if autograd.get_backend() == "numba" else "Mul")


def test_gelu_op_matches_the_composition_in_float64_and_differentiates_twice():
    rng = np.random.default_rng(5)
    xv = np.concatenate([rng.standard_normal(300) * 3, [-9.0, -6.0, 0.0, 6.0]])
    grads = []
    for fn in (_gelu_op, _gelu_composite):
        x = autograd.tensor(xv, requires_grad=True)
        y = fn(x)
        (gx,) = autograd.grad(y.sum(), (x,), create_graph=True)
        (ggx,) = autograd.grad(gx.sum(), (x,))
        grads.append((y.detach().numpy(), gx.detach().numpy(), ggx.numpy()))
    (y1, g1, gg1), (y2, g2, gg2) = grads
    assert y1.dtype == np.float64
    np.testing.assert_allclose(y1, y2, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(g1, g2, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(gg1, gg2, rtol=1e-13, atol=1e-300)
    x = autograd.tensor(rng.standard_normal(7), requires_grad=True)
    assert autograd.gradcheck(_gelu_op, (x,)) and autograd.gradgradcheck(_gelu_op, (x,))


@pytest.mark.parametrize("n", [5, 100_000])  # below and above the elementwise numpy threshold
def test_gelu_op_float32_values_and_plain_backward_match_the_composition(n):
    """float32's fused kernels use Abramowitz-Stegun's erf (within 1.5e-7, as PyTorch's):
    within float32 rounding of the exact values, and of the composition's."""
    import math
    rng = np.random.default_rng(6)
    xv = (rng.standard_normal(n) * 3).astype(np.float32)
    xv[:5] = [-12.0, -5.0, -1e-4, 0.0, 4.0]
    gv = rng.standard_normal(n).astype(np.float32)
    out = []
    for fn in (_gelu_op, _gelu_composite):
        x = autograd.tensor(xv, requires_grad=True)
        y = fn(x)
        y.backward(autograd.tensor(gv))
        out.append((y.detach().numpy(), x.grad.numpy()))
    (y1, g1), (y2, g2) = out
    assert y1.dtype == g1.dtype == np.float32
    x64 = xv.astype(np.float64)
    one_plus_erf = np.array([math.erfc(-v / math.sqrt(2)) for v in x64])  # no cancellation
    exact = 0.5 * x64 * one_plus_erf
    dexact = gv * (0.5 * one_plus_erf + x64 * np.exp(-0.5 * x64 * x64) / math.sqrt(2 * math.pi))
    scale = np.maximum(np.abs(x64), 1e-30)
    assert (np.abs(y1 - exact) <= 2.5e-7 * scale).all()
    assert (np.abs(g1 - dexact) <= 4e-7 * (1 + scale) * np.abs(gv) + 1e-30).all()
    # the composition rounds each of its five steps: agreement to a few float32 ulp
    np.testing.assert_allclose(y1, y2, rtol=0, atol=1e-6 * max(1.0, float(np.abs(xv).max())))
    np.testing.assert_allclose(g1, g2, rtol=0, atol=2e-6 * float(np.abs(gv).max()) * 4)
    if autograd.get_backend() == "numba":  # the reference's float32 1 + erf is 0 at -12
        # the left tail keeps its relative accuracy (1 + erf is computed as erfc there)
        assert y1[0] < 0 and abs(y1[0] - exact[0]) < 0.05 * abs(exact[0])
        assert abs(y1[1] - exact[1]) < 0.01 * abs(exact[1])


def test_gelu_kernels_give_one_value_at_every_size():
    """The numba kernel runs at every size (no numpy fallback for small arrays), so a value
    does not depend on the size of the tensor it sits in."""
    from autograd import kernels as K
    xv = np.linspace(-6, 6, 20_001).astype(np.float32)
    g = np.ones_like(xv)
    big, big_b = K.gelu(xv), K.gelu_backward(g, xv)
    small = np.concatenate([K.gelu(xv[i:i + 7]) for i in range(0, xv.size, 7)])
    small_b = np.concatenate([K.gelu_backward(g[i:i + 7], xv[i:i + 7])
                              for i in range(0, xv.size, 7)])
    np.testing.assert_array_equal(big, small)
    np.testing.assert_array_equal(big_b, small_b)


@pytest.mark.parametrize("shape,keepdim", [((3, 4), False), ((3, 4), True), ((), False),
                                           ((1, 1), False), ((2, 1, 3), True)])
def test_full_sum_backward_fast_path_matches_broadcast_to(shape, keepdim):
    """A plain backward of a full sum fills the input's shape with the gradient (np.full)
    instead of running BroadcastTo; create_graph keeps the op. Same values and dtypes."""
    xv = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape) + 1
    x = autograd.tensor(xv, requires_grad=True)
    y = x.sum(keepdim=keepdim) if keepdim else x.sum()
    gv = np.full(y.shape, 2.5, np.float32)
    y.backward(autograd.tensor(gv))
    (g2,) = autograd.grad(x.sum(keepdim=keepdim) if keepdim else x.sum(), (x,),
                          autograd.tensor(gv), create_graph=True)
    assert x.grad.shape == shape and x.grad.dtype == np.float32
    assert g2.grad_fn is None or g2.shape == shape
    np.testing.assert_array_equal(x.grad.numpy(), np.full(shape, 2.5, np.float32))
    np.testing.assert_array_equal(g2.detach().numpy(), x.grad.numpy())
    assert not np.shares_memory(x.grad.numpy(), gv)


def test_implicit_gradient_of_a_0d_output_is_a_fresh_one():
    x = autograd.tensor(np.float64(3.0), requires_grad=True)
    y = x * 2.0
    y.backward()
    assert x.grad.dtype == np.float64 and x.grad.item() == 2.0
    z = autograd.tensor(np.ones((1, 1), np.float32), requires_grad=True)
    (z * 3).backward()  # one element, not 0-d: np.ones_like's path
    np.testing.assert_array_equal(z.grad.numpy(), [[3.0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("idx", [np.array([[1, 2, 1], [0, 1, 4]]), np.array([-1, 0, -1, 3]),
                                 np.array([2, 2, 2], dtype=np.int32), np.zeros(0, np.int64)])
def test_rows_by_integer_array_backward_matches_np_add_at(dtype, idx):
    """x[int array] on a 2-D tensor (an embedding): backward adds rows with the
    index_add_rows kernel; repeated (and negative) indices accumulate as np.add.at does."""
    rng = np.random.default_rng(7)
    x = autograd.tensor(rng.standard_normal((5, 3)).astype(dtype), requires_grad=True)
    g = rng.standard_normal(idx.shape + (3,)).astype(dtype)
    x[idx].backward(autograd.tensor(g))
    expected = np.zeros((5, 3), dtype)
    np.add.at(expected, idx, g)
    assert x.grad.dtype == dtype
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_embedding_backward_matches_np_add_at_and_the_kernel_checks_its_rows():
    import nn
    from autograd import kernels as K
    rng = np.random.default_rng(8)
    emb = nn.Embedding(65, 16)
    tokens = rng.integers(0, 65, (4, 50))
    g = rng.standard_normal((4, 50, 16)).astype(np.float32)
    emb(autograd.tensor(tokens)).backward(autograd.tensor(g))
    expected = np.zeros((65, 16), np.float32)
    np.add.at(expected, tokens, g)
    np.testing.assert_array_equal(emb.weight.grad.numpy(), expected)
    out = np.zeros((3, 2), np.float32)
    with pytest.raises(IndexError):
        K.index_add_rows(out, np.array([0, 3]), np.ones((2, 2), np.float32))
    with pytest.raises(ValueError):
        K.index_add_rows(out, np.array([0, 1]), np.ones((3, 2), np.float32))


def _layer_norm_composite(x, dims, weight, bias, eps):
    """nn.functional.layer_norm's composition (the path the fused op replaced)."""
    axes = tuple(range(x.ndim - dims, x.ndim))
    centred = x - x.mean(axes, keepdim=True)
    out = centred * ((centred * centred).mean(axes, keepdim=True) + eps) ** -0.5
    if weight is not None:
        out = out * weight
    return out if bias is None else out + bias


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
@pytest.mark.parametrize("shape,dims", [((6, 5, 16), 1), ((3, 4, 6), 2), ((1000, 40), 1)])
def test_layer_norm_op_matches_the_composition(dtype, tol, affine, shape, dims):
    import nn.functional as F
    rng = np.random.default_rng(9)
    xv = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    wv = rng.uniform(0.5, 1.5, shape[-dims:]).astype(dtype)
    bv = rng.standard_normal(shape[-dims:]).astype(dtype)
    gv = rng.standard_normal(shape).astype(dtype)
    results = []
    for fused in (True, False):
        x = autograd.tensor(xv, requires_grad=True)
        w = autograd.tensor(wv, requires_grad=True) if affine in ("both", "weight") else None
        b = autograd.tensor(bv, requires_grad=True) if affine in ("both", "bias") else None
        y = (F.layer_norm(x, shape[-dims:], w, b, eps=1e-5) if fused
             else _layer_norm_composite(x, dims, w, b, 1e-5))
        if fused:
            assert type(y.grad_fn).__name__ == "LayerNorm"
        y.backward(autograd.tensor(gv))
        results.append([y.detach().numpy(), x.grad.numpy()]
                       + [p.grad.numpy() for p in (w, b) if p is not None])
    for a, b in zip(*results):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol * float(np.abs(b).max()))


def test_layer_norm_op_differentiates_twice_and_checks_its_inputs():
    import nn.functional as F
    rng = np.random.default_rng(10)
    x = autograd.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    w = autograd.tensor(rng.uniform(0.5, 1.5, 5), requires_grad=True)
    b = autograd.tensor(rng.standard_normal(5), requires_grad=True)

    def fn(x, w, b):
        return F.layer_norm(x, (5,), w, b)
    assert autograd.gradcheck(fn, (x, w, b)) and autograd.gradgradcheck(fn, (x, w, b))
    (gx,) = autograd.grad((F.layer_norm(x, (5,), w, b) ** 2).sum(), (x,), create_graph=True)
    (gx2,) = autograd.grad((_layer_norm_composite(x, 1, w, b, 1e-5) ** 2).sum(), (x,),
                           create_graph=True)
    np.testing.assert_allclose(gx.detach().numpy(), gx2.detach().numpy(), rtol=1e-12,
                               atol=1e-12)
    y = F.layer_norm(x, (5,), w, b)
    with autograd.no_grad():
        w.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    # a weight of another dtype takes the composition (numpy's promotion), as before
    y = F.layer_norm(x, (5,), autograd.tensor(np.ones(5, np.float32)), None)
    assert type(y.grad_fn).__name__ != "LayerNorm" and y.dtype == np.float64


@pytest.mark.parametrize("shape", [(2, 3, 5), (16, 4, 64, 64)])  # numpy's and numba's softmax
def test_attention_softmax_fast_path_matches_numpy_and_keeps_dead_rows(shape):
    """Attention's row softmax runs the softmax kernel unless a row comes out NaN (fully
    masked, or holding NaN): then the general path, which zeroes fully masked rows."""
    from autograd.ops.attention import _softmax_rows
    rng = np.random.default_rng(11)
    s = rng.standard_normal(shape).astype(np.float32) * 4
    s = np.where(np.triu(np.ones(shape[-2:], bool), 1), np.float32(-np.inf), s)
    e = np.exp(s - s.max(-1, keepdims=True))
    expected = e / e.sum(-1, keepdims=True)
    p, dead = _softmax_rows(s)
    assert p.dtype == np.float32 and not dead.any()
    np.testing.assert_allclose(p, expected, rtol=2e-6, atol=1e-7)
    s2 = s.copy()
    s2[(0,) * (len(shape) - 2) + (1,)] = -np.inf          # one fully masked row
    s2[(0,) * (len(shape) - 2) + (2, 0)] = np.nan         # one row holding NaN
    p2, dead2 = _softmax_rows(s2)
    row = (0,) * (len(shape) - 2)
    np.testing.assert_array_equal(p2[row + (1,)], 0)
    assert dead2[row + (1, 0)] and dead2.sum() == 1
    assert np.isnan(p2[row + (2,)]).all()
    keep = np.ones(shape[:-1], bool)
    keep[row + (1,)] = keep[row + (2,)] = False
    np.testing.assert_allclose(p2[keep], expected[keep], rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("shape,dim", [((3, 5), -1), ((3, 5), 0), ((64, 4, 300), -1),
                                       ((64, 300, 4), 1)])
def test_softmax_backward_kernel_matches_the_ops_formula(shape, dim):
    """A plain backward of softmax runs the softmax_backward kernel; create_graph keeps the
    Tensor formula y (g - sum(g y)). Same values (to float32 rounding), any dim."""
    rng = np.random.default_rng(12)
    xv = (rng.standard_normal(shape) * 3).astype(np.float32)
    gv = rng.standard_normal(shape).astype(np.float32)
    x = autograd.tensor(xv, requires_grad=True)
    x.softmax(dim).backward(autograd.tensor(gv))
    x2 = autograd.tensor(xv, requires_grad=True)
    (g2,) = autograd.grad(x2.softmax(dim), (x2,), autograd.tensor(gv), create_graph=True)
    assert x.grad.dtype == np.float32 and g2.grad_fn is not None
    np.testing.assert_allclose(x.grad.numpy(), g2.detach().numpy(), rtol=1e-5, atol=1e-7)
    y = np.exp(xv - xv.max(dim, keepdims=True))
    y /= y.sum(dim, keepdims=True)
    expected = y * (gv - (gv * y).sum(dim, keepdims=True))
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-4, atol=1e-6)


def test_attention_backward_fast_path_matches_create_graph_path():
    import nn.functional as F
    rng = np.random.default_rng(13)
    q, k, v = (rng.standard_normal((2, 3, 40, 16)).astype(np.float32) for _ in range(3))
    mask = np.triu(np.full((40, 40), -np.inf, np.float32), 1)
    go = autograd.tensor(rng.standard_normal((2, 3, 40, 16)).astype(np.float32))
    grads = []
    for create_graph in (False, True):
        ts = [autograd.tensor(a, requires_grad=True) for a in (q, k, v)]
        out = F.scaled_dot_product_attention(*ts, attn_mask=autograd.tensor(mask))
        grads.append([g.detach().numpy() for g in
                      autograd.grad(out, ts, go, create_graph=create_graph)])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_act_backward_reference_keeps_dtype_and_values(dtype):
    """The reference writes 1 as a 0-d array of y's dtype (cheaper than numpy converting a
    Python 1 on each call): bit-identical values, y's dtype kept (float16 included)."""
    from autograd import kernels as K
    rng = np.random.default_rng(14)
    g, y = (rng.uniform(-1, 1, (5, 7)).astype(dtype) for _ in range(2))
    tanh = K.act_backward.reference(g, y, "tanh")
    sig = K.act_backward.reference(g, y, "sigmoid")
    assert tanh.dtype == sig.dtype == dtype
    np.testing.assert_array_equal(tanh, g * (1 - y * y))
    np.testing.assert_array_equal(sig, g * (y * (1 - y)))


def test_fast_backward_paths_on_0d_and_empty_tensors():
    """numpy gives 0-d results as scalars: the no-graph paths (which read the saved output's
    array) still give 0-d gradients of the right values, and empty tensors empty ones."""
    import math

    import nn.functional as F
    v = 0.3
    expected = {"softmax": 0.0, "tanh": 1 - math.tanh(v) ** 2,
                "sigmoid": (1 / (1 + math.exp(-v))) * (1 - 1 / (1 + math.exp(-v))),
                "relu": 1.0,
                "gelu": 0.5 * (1 + math.erf(v / math.sqrt(2)))
                + v * math.exp(-v * v / 2) / math.sqrt(2 * math.pi)}
    for name, d in expected.items():
        x = autograd.tensor(np.float32(v), requires_grad=True)
        y = {"softmax": lambda t: t.softmax(0), "gelu": F.gelu}.get(
            name, lambda t, n=name: getattr(t, n)())(x)
        y.backward()
        assert x.grad.shape == () and x.grad.dtype == np.float32, name
        assert abs(x.grad.item() - d) < 1e-6, name
    for fn in (lambda t: t.softmax(-1), F.gelu, lambda t: F.layer_norm(t, (3,)), lambda t: t.tanh()):
        x = autograd.tensor(np.zeros((0, 3), np.float32), requires_grad=True)
        fn(x).sum().backward()
        assert x.grad.shape == (0, 3)


@pytest.mark.parametrize("rows,cols", [(7, 3), (4096, 513)])  # tiny; odd width, parallel path
def test_layer_norm_kernels_match_their_references(rows, cols):
    from autograd.kernels import layernorm as L
    rng = np.random.default_rng(15)
    x = (rng.standard_normal((rows, cols)) * 2 + 3).astype(np.float32)
    w, b = rng.standard_normal(cols).astype(np.float32), rng.standard_normal(cols).astype(np.float32)
    got, ref = L.layer_norm_forward(x, w, b, 1e-5), L.layer_norm_forward.reference(x, w, b, 1e-5)
    for a, r in zip(got, ref):
        assert a.dtype == np.float32 and a.shape == r.shape
        np.testing.assert_allclose(a, r, rtol=1e-5, atol=1e-5 * float(np.abs(r).max()))
    g = rng.standard_normal((rows, cols)).astype(np.float32)
    got = L.layer_norm_backward(g, ref[1], ref[2], w)
    for a, r in zip(got, L.layer_norm_backward.reference(g, ref[1], ref[2], w)):
        assert a.dtype == np.float32 and a.shape == r.shape
        np.testing.assert_allclose(a, r, rtol=1e-4, atol=1e-5 * float(np.abs(r).max()))
