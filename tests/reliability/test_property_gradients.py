"""Property-based gradient tests: every differentiable op of autograd on random shapes
(size-1 and empty dims, broadcasting), checked with gradcheck and, where smooth, with
gradgradcheck, plus random expression graphs composed from them.

All in float64 on the default (numba) backend. Inputs stay in each op's smooth domain and
away from its kinks. Example counts come from the hypothesis profile (see conftest.py).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
from autograd import gradcheck, gradgradcheck

from .helpers import leaf
from .strategies import (
    away,
    basic_index,
    broadcast_pair,
    dims_for,
    distinct,
    output_count,
    reduced_count,
    seeds,
    separated_pair,
    shapes,
    uniform,
)


def check(fn, inputs, second_order=True):
    assert gradcheck(fn, inputs)
    if second_order:
        assert gradgradcheck(fn, inputs)


# ---- unary ---------------------------------------------------------------------------------
# name -> (function, data maker(seed, shape), smooth?)
UNARY = {
    "exp": (lambda x: x.exp(), lambda s, sh: uniform(s, sh, -2, 2), True),
    "log": (lambda x: x.log(), lambda s, sh: uniform(s, sh, 0.2, 3), True),
    "sqrt": (lambda x: x.sqrt(), lambda s, sh: uniform(s, sh, 0.2, 3), True),
    "sin": (lambda x: x.sin(), lambda s, sh: uniform(s, sh, -3, 3), True),
    "cos": (lambda x: x.cos(), lambda s, sh: uniform(s, sh, -3, 3), True),
    "tanh": (lambda x: x.tanh(), lambda s, sh: uniform(s, sh, -3, 3), True),
    "sigmoid": (lambda x: x.sigmoid(), lambda s, sh: uniform(s, sh, -4, 4), True),
    "neg": (lambda x: -x, lambda s, sh: uniform(s, sh), True),
    "relu": (lambda x: x.relu(), lambda s, sh: away(uniform(s, sh)), True),
    "leaky_relu": (lambda x: x.leaky_relu(0.1), lambda s, sh: away(uniform(s, sh)), True),
    "abs": (lambda x: x.abs(), lambda s, sh: away(uniform(s, sh)), True),
    "abs_builtin": (lambda x: abs(x), lambda s, sh: away(uniform(s, sh)), True),
    "clamp": (lambda x: x.clamp(-0.5, 0.7), lambda s, sh: away(uniform(s, sh), (-0.5, 0.7)),
              True),
    "clamp_min": (lambda x: x.clamp(min=0.3), lambda s, sh: away(uniform(s, sh), (0.3,)), True),
    "clamp_max": (lambda x: x.clamp(max=-0.3), lambda s, sh: away(uniform(s, sh), (-0.3,)), True),
    "pow2": (lambda x: x ** 2, lambda s, sh: uniform(s, sh), True),
    "pow3": (lambda x: x.pow(3), lambda s, sh: uniform(s, sh), True),
    "pow_half": (lambda x: x ** 0.5, lambda s, sh: uniform(s, sh, 0.2, 3), True),
    "pow_neg": (lambda x: x ** -1.5, lambda s, sh: uniform(s, sh, 0.3, 3), True),
    "pow0": (lambda x: x ** 0, lambda s, sh: uniform(s, sh), True),
    "pow1": (lambda x: x ** 1, lambda s, sh: uniform(s, sh), True),
    "square": (lambda x: x.square(), lambda s, sh: uniform(s, sh), True),
    "rsub_scalar": (lambda x: 2.5 - x, lambda s, sh: uniform(s, sh), True),
    "rdiv_scalar": (lambda x: 2.0 / x, lambda s, sh: away(uniform(s, sh), delta=0.3), True),
    "rpow_scalar": (lambda x: 2.0 ** x, lambda s, sh: uniform(s, sh), True),
    "norm": (lambda x: x.norm(), lambda s, sh: uniform(s, sh, 0.2, 2), True),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(shape=shapes(), seed=seeds)
def test_unary(name, shape, seed):
    fn, make, smooth = UNARY[name]
    if name == "norm" and not int(np.prod(shape)):
        return  # sqrt(0) of an empty sum: not differentiable
    check(fn, (leaf(make(seed, shape)),), smooth)


# ---- binary with broadcasting -------------------------------------------------------------
def _binary_data(name, seed, sa, sb):
    if name in ("maximum", "minimum"):
        return separated_pair(seed, sa, sb)
    a, b = uniform(seed, sa), uniform(seed + 1, sb)
    if name == "div":
        b = np.sign(b + 1e-9) * (np.abs(b) / 2 + 0.5)
    if name == "pow":
        a = np.abs(a) + 0.3
    return a, b


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "maximum": autograd.maximum,
    "minimum": autograd.minimum,
    "method_add": lambda a, b: a.add(b),
    "method_sub": lambda a, b: a.sub(b),
    "method_mul": lambda a, b: a.mul(b),
    "method_div": lambda a, b: a.div(b),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(pair=broadcast_pair(), seed=seeds)
def test_binary_broadcast(name, pair, seed):
    sa, sb = pair
    a, b = _binary_data(name.replace("method_", ""), seed, sa, sb)
    check(BINARY[name], (leaf(a), leaf(b)))


@pytest.mark.parametrize("name", ["add", "mul", "div", "pow"])
@given(pair=broadcast_pair(), seed=seeds)
def test_binary_one_side_constant(name, pair, seed):
    """Only one operand requires grad (the other's backward branch must be skipped)."""
    sa, sb = pair
    a, b = _binary_data(name, seed, sa, sb)
    check(BINARY[name], (leaf(a), leaf(b, requires_grad=False)))
    check(BINARY[name], (leaf(a, requires_grad=False), leaf(b)))


@given(pair=broadcast_pair(), seed=seeds, numpy_operand=st.booleans())
def test_binary_with_numpy_operand(pair, seed, numpy_operand):
    sa, sb = pair
    a, b = uniform(seed, sa), uniform(seed + 1, sb)
    const = b if numpy_operand else 1.5
    check(lambda x: x * const + const - x / 3.0, (leaf(a),))
    check(lambda x: const * x - const, (leaf(a),))


@given(pair=broadcast_pair(), seed=seeds)
def test_where(pair, seed):
    sa, sb = pair
    rng = np.random.default_rng(seed)
    full = np.broadcast_shapes(sa, sb)
    cond_shape = full[rng.integers(0, len(full) + 1):] if full else ()
    cond = rng.random(cond_shape) > 0.5
    a, b = uniform(seed, sa), uniform(seed + 1, sb)
    check(lambda x, y: autograd.where(cond, x, y), (leaf(a), leaf(b)))
    check(lambda x, y: autograd.where(autograd.tensor(cond), x * y, y.exp()), (leaf(a), leaf(b)))


@given(shape=shapes(min_side=1), seed=seeds)
def test_where_masks_unselected_inf_gradient(shape, seed):
    """The pitfall: where's backward must give the unselected branch an exact zero, never
    g * 0 (NaN where the incoming gradient is inf)."""
    rng = np.random.default_rng(seed)
    cond = rng.random(shape) > 0.5
    a, b = leaf(uniform(seed, shape)), leaf(uniform(seed + 1, shape))
    g = np.where(cond, 1.0, np.inf)  # inf only where a is not selected
    autograd.where(cond, a, b).backward(gradient=autograd.tensor(g))
    assert np.isfinite(a.grad.data).all()
    np.testing.assert_array_equal(a.grad.data, np.where(cond, 1.0, 0.0))
    g2 = np.where(cond, np.inf, 1.0)  # inf only where b is not selected
    b.grad = None
    autograd.where(cond, a, b).backward(gradient=autograd.tensor(g2))
    np.testing.assert_array_equal(b.grad.data, np.where(cond, 0.0, 1.0))


# ---- reductions ----------------------------------------------------------------------------
REDUCTIONS = {
    # name -> (fn(x, dim, keepdim), data maker, needs (count >= k) per group)
    "sum": (lambda x, d, k: x.sum(d, k), uniform, 0),
    "sum_axis": (lambda x, d, k: x.sum(axis=d, keepdim=k), uniform, 0),
    "mean": (lambda x, d, k: x.mean(d, k), uniform, 1),
    "var": (lambda x, d, k: x.var(d, keepdim=k), uniform, 2),
    "var_biased": (lambda x, d, k: x.var(d, unbiased=False, keepdim=k), uniform, 1),
    "std": (lambda x, d, k: x.std(d, keepdim=k), distinct, 2),
    "logsumexp": (lambda x, d, k: x.logsumexp(d, k), uniform, 1),
    "prod": (lambda x, d, k: x.prod(d, k), lambda s, sh: uniform(s, sh, 0.5, 1.5), 0),
    "prod_signed": (lambda x, d, k: x.prod(d, k), lambda s, sh: away(uniform(s, sh), delta=0.3),
                    0),
    "amax": (lambda x, d, k: x.amax(d, k), distinct, 1),
    "amin": (lambda x, d, k: x.amin(d, k), distinct, 1),
    "max_whole": (lambda x, d, k: x.max(None, k) if d is None else x.amax(d, k), distinct, 1),
    "min_whole": (lambda x, d, k: x.min(None, k) if d is None else x.amin(d, k), distinct, 1),
}


EXTREMES = ("amax", "amin", "max_whole", "min_whole")


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(data=st.data(), shape=shapes(), seed=seeds, keepdim=st.booleans())
def test_reduction(name, data, shape, seed, keepdim):
    fn, make, min_count = REDUCTIONS[name]
    dim = data.draw(dims_for(len(shape)), label="dim")
    count, n_out = reduced_count(shape, dim), output_count(shape, dim)
    if count < min_count and n_out:
        return  # the op is undefined on an empty (or one-element, for var) group
    x = leaf(make(seed, shape))
    if name in EXTREMES and count == 0:
        with pytest.raises(ValueError, match="empty|size 0"):
            fn(x, dim, keepdim)  # the max over no element does not exist
        return
    out = fn(x, dim, keepdim)
    assert out.shape == np.sum(np.zeros(shape), axis=dim, keepdims=keepdim).shape
    check(lambda t: fn(t, dim, keepdim), (x,))


@given(data=st.data(), shape=shapes(min_dims=1, min_side=1), seed=seeds, keepdim=st.booleans(),
       which=st.sampled_from(["max", "min"]))
def test_max_min_along_dim(data, shape, seed, keepdim, which):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    x = leaf(distinct(seed, shape))
    _, indices = getattr(x, which)(dim, keepdim)
    ref = getattr(np, f"arg{which}")(x.data, axis=dim)
    np.testing.assert_array_equal(indices.data, np.expand_dims(ref, dim) if keepdim else ref)
    check(lambda t: getattr(t, which)(dim, keepdim)[0], (x,))


@given(shape=shapes(min_dims=1, min_side=1, max_side=3), seed=seeds)
def test_prod_with_zeros(shape, seed):
    """prod's gradient where an element is 0 (the product of the others, no division)."""
    x = uniform(seed, shape, 0.5, 1.5)
    x.reshape(-1)[0] = 0.0
    check(lambda t: t.prod(), (leaf(x),), second_order=False)
    check(lambda t: t.prod(-1), (leaf(x),), second_order=False)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds)
def test_softmax(name, data, shape, seed):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    x = leaf(uniform(seed, shape, -3, 3))
    check(lambda t: getattr(t, name)(dim), (x,))


# ---- shape ops ------------------------------------------------------------------------------
@given(shape=shapes(), seed=seeds, data=st.data())
def test_reshape_flatten(shape, seed, data):
    x = leaf(uniform(seed, shape))
    n = int(np.prod(shape))
    target = data.draw(st.sampled_from([(n,), (1, n), (n, 1), (-1,), (1, -1, 1)]), label="to")
    check(lambda t: t.reshape(*target) * 2, (x,))
    check(lambda t: t.view(target), (x,))
    if len(shape):
        start = data.draw(st.integers(0, len(shape) - 1), label="start")
        end = data.draw(st.integers(start, len(shape) - 1), label="end")
        check(lambda t: t.flatten(start, end), (x,))
    check(lambda t: t.flatten(), (x,))


@given(shape=shapes(min_dims=1), seed=seeds, data=st.data())
def test_permute_transpose(shape, seed, data):
    x = leaf(uniform(seed, shape))
    dims = data.draw(st.permutations(range(len(shape))), label="dims")
    d0 = data.draw(st.integers(-len(shape), len(shape) - 1), label="d0")
    d1 = data.draw(st.integers(-len(shape), len(shape) - 1), label="d1")
    check(lambda t: t.permute(*dims) * 1.5, (x,))
    check(lambda t: t.transpose(d0, d1) * 1.5, (x,))
    check(lambda t: t.T * 1.5, (x,))


@given(shape=shapes(), seed=seeds, data=st.data())
def test_unsqueeze_squeeze_expand(shape, seed, data):
    x = leaf(uniform(seed, shape))
    d = data.draw(st.integers(-len(shape) - 1, len(shape)), label="unsqueeze")
    check(lambda t: t.unsqueeze(d) * 1.5, (x,))
    check(lambda t: t.squeeze() * 1.5, (x,))
    if len(shape):
        sd = data.draw(st.integers(-len(shape), len(shape) - 1), label="squeeze")
        check(lambda t: t.squeeze(sd) * 1.5, (x,))
    # expand every size-1 dim (and a new leading one) to 3
    target = (2,) + tuple(3 if n == 1 else n for n in shape)
    check(lambda t: t.expand(*target) * 1.5, (x,))
    check(lambda t: t.broadcast_to(target), (x,))
    check(lambda t: t.expand(2, *[-1] * len(shape)) * 1.5, (x,))


@given(shape=shapes(min_dims=1), seed=seeds, data=st.data(), n=st.integers(1, 3))
def test_cat_stack(shape, seed, data, n):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    sizes = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n), label="sizes")
    pieces = []
    for i, k in enumerate(sizes):
        s = list(shape)
        s[dim] = k
        pieces.append(leaf(uniform(seed + i, tuple(s))))
    check(lambda *ts: autograd.cat(list(ts), dim) * 1.5, tuple(pieces))
    same = tuple(leaf(uniform(seed + i, shape)) for i in range(n))
    sdim = data.draw(st.integers(-len(shape) - 1, len(shape)), label="stack_dim")
    check(lambda *ts: autograd.stack(ts, sdim) * 1.5, same)


@given(shape=shapes(min_dims=1), seed=seeds, data=st.data())
def test_split_chunk(shape, seed, data):
    dim = data.draw(st.integers(0, len(shape) - 1), label="dim")
    size = data.draw(st.integers(1, 4), label="size")
    chunks = data.draw(st.integers(1, 4), label="chunks")
    x = leaf(uniform(seed, shape))
    check(lambda t: tuple(p * (i + 1) for i, p in enumerate(t.split(size, dim))), (x,))
    check(lambda t: tuple(p * (i + 1) for i, p in enumerate(t.chunk(chunks, dim))), (x,))
    n = shape[dim]
    cut = data.draw(st.integers(0, n), label="cut")
    check(lambda t: t.split([cut, n - cut], dim)[1] * 2, (x,))


# ---- indexing -------------------------------------------------------------------------------
@given(shape=shapes(min_dims=1), seed=seeds, data=st.data())
def test_basic_indexing(shape, seed, data):
    idx = data.draw(basic_index(shape), label="idx")
    x = leaf(uniform(seed, shape))
    np.testing.assert_array_equal(x[idx].data, x.data[idx])
    check(lambda t: t[idx] * 1.5, (x,))


@given(shape=shapes(min_dims=1, min_side=1), seed=seeds, data=st.data())
def test_advanced_indexing(shape, seed, data):
    """Integer arrays (with repeats, negatives, as list / ndarray / Tensor) and boolean masks;
    repeated indices must accumulate."""
    x = leaf(uniform(seed, shape))
    n = shape[0]
    ints = data.draw(st.lists(st.integers(-n, n - 1), min_size=0, max_size=6), label="ints")
    kind = data.draw(st.sampled_from(["list", "array", "tensor"]), label="kind")
    idx = {"list": ints, "array": np.asarray(ints, dtype=np.int64),
           "tensor": autograd.tensor(np.asarray(ints, dtype=np.int64))}[kind]
    if kind == "list" and not ints:
        idx = np.zeros(0, dtype=np.int64)
    check(lambda t: t[idx] * 1.5, (x,))
    mask = np.random.default_rng(seed).random(shape) > 0.5
    check(lambda t: t[mask] * 1.5, (x,))
    check(lambda t: t[autograd.tensor(mask)] - 1, (x,))
    if len(shape) >= 2:
        m = shape[1]
        cols = data.draw(st.lists(st.integers(-m, m - 1), min_size=1, max_size=4), label="c")
        rows = np.resize(np.asarray(ints or [0]), len(cols))
        check(lambda t: t[rows, cols] * 1.5, (x,))
        check(lambda t: t[:, cols] * 1.5, (x,))
        row_mask = np.random.default_rng(seed + 1).random(n) > 0.3
        check(lambda t: t[row_mask, ...] * 1.5, (x,))


@given(shape=shapes(min_dims=1, min_side=1), seed=seeds, data=st.data())
def test_setitem_differentiable(shape, seed, data):
    """y = x.clone(); y[idx] = v: gradient to x outside idx, to v at idx."""
    idx = data.draw(basic_index(shape), label="idx")
    x = uniform(seed, shape)
    v = uniform(seed + 1, x[idx].shape)

    def fn(a, b):
        y = a * 1.0
        y[idx] = b
        return y * 2

    check(fn, (leaf(x), leaf(v)))


# ---- matmul -------------------------------------------------------------------------------
@st.composite
def matmul_shapes(draw):
    m, k, n = (draw(st.integers(0, 3)) for _ in range(3))
    kind = draw(st.sampled_from(["1d1d", "1d2d", "2d1d", "2d", "batched", "batched1d"]))
    batch = draw(broadcast_pair(0, 2, 1, 3))
    if kind == "1d1d":
        return (k,), (k,)
    if kind == "1d2d":
        return (k,), batch[1] + (k, n)
    if kind == "2d1d":
        return batch[0] + (m, k), (k,)
    if kind == "2d":
        return (m, k), (k, n)
    if kind == "batched1d":
        return (k,), batch[1] + (k, n)
    return batch[0] + (m, k), batch[1] + (k, n)


@given(pair=matmul_shapes(), seed=seeds)
def test_matmul(pair, seed):
    sa, sb = pair
    a, b = uniform(seed, sa), uniform(seed + 1, sb)
    out = leaf(a) @ leaf(b)
    np.testing.assert_allclose(out.data, np.matmul(a, b), rtol=1e-12, atol=1e-12)
    check(lambda x, y: x @ y, (leaf(a), leaf(b)))
    check(lambda x, y: autograd.matmul(x, y), (leaf(a), leaf(b, requires_grad=False)),
          second_order=False)


@given(pair=matmul_shapes(), seed=seeds)
def test_matmul_non_contiguous(pair, seed):
    """Transposed (non-contiguous) operands through the numba matmul."""
    sa, sb = pair
    if len(sa) < 2 or len(sb) < 2:
        return
    a, b = uniform(seed, sa), uniform(seed + 1, sb)
    at = np.ascontiguousarray(np.swapaxes(a, -1, -2))
    bt = np.ascontiguousarray(np.swapaxes(b, -1, -2))
    check(lambda x, y: x.mT @ y.mT, (leaf(at), leaf(bt)))


# ---- random expression graphs -----------------------------------------------------------
# Smooth ops only, each wrapped to keep its input in the smooth domain and its output
# bounded; a step may reuse a node (x * x, a node feeding two later ops).
GRAPH_UNARY = {
    "exp": lambda x: (x.tanh() * 2).exp(),
    "log": lambda x: (x * x + 0.5).log(),
    "sqrt": lambda x: (x * x + 0.25).sqrt(),
    "sin": lambda x: x.sin(),
    "cos": lambda x: x.cos(),
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "pow3": lambda x: x.tanh() ** 3,
    "pow_frac": lambda x: (x * x + 0.5) ** -0.7,
    "neg": lambda x: -x,
    "square": lambda x: x * x,
    "clone": lambda x: x.clone(),
}
GRAPH_BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 0.5),
    "pow": lambda a, b: (a * a + 0.5) ** b.tanh(),
}


def _safe_group(shape, dim, min_count):
    """The reduction is defined: every group holds min_count elements, or there is no group."""
    return reduced_count(shape, dim) >= min_count or output_count(shape, dim) == 0


@st.composite
def expression_graphs(draw):
    """(leaf arrays, program): the program is a list of steps, each a function of the list
    of nodes built so far returning a new node; the dry run that chooses the steps runs on
    the real data, so every step fits the shapes it meets."""
    n_leaves = draw(st.integers(1, 3))
    base = draw(shapes(min_dims=0, max_dims=3, min_side=0, max_side=3), label="base")
    seed = draw(seeds, label="seed")
    rng = np.random.default_rng(seed)
    leaves = []
    for i in range(n_leaves):
        # each leaf takes the base shape with some dims set to 1 or dropped (broadcasting)
        s = list(base)
        for j in range(len(s)):
            if rng.random() < 0.3:
                s[j] = 1
        s = s[int(rng.integers(0, len(s) + 1)) if rng.random() < 0.3 else 0:]
        leaves.append(rng.uniform(-1.5, 1.5, size=tuple(s)))
    nodes = [autograd.tensor(a) for a in leaves]
    program = []
    n_steps = draw(st.integers(1, 7), label="steps")
    for _ in range(n_steps):
        i = draw(st.integers(0, len(nodes) - 1), label="node")
        x = nodes[i]
        kind = draw(st.sampled_from(["unary", "binary", "binary", "reduce", "softmax",
                                     "shape", "index", "where", "matmul"]), label="kind")
        step = None
        if kind == "binary":
            j = draw(st.integers(0, len(nodes) - 1), label="other")
            try:
                np.broadcast_shapes(x.shape, nodes[j].shape)
            except ValueError:
                j = i
            name = draw(st.sampled_from(sorted(GRAPH_BINARY)), label="binary")
            step = (f"{name}(n{i}, n{j})",
                    lambda ns, i=i, j=j, f=GRAPH_BINARY[name]: f(ns[i], ns[j]))
        elif kind == "reduce" and x.ndim:
            name = draw(st.sampled_from(["sum", "mean", "logsumexp", "var", "prod"]),
                        label="reduce")
            dim = draw(dims_for(x.ndim, allow_none=False), label="dim")
            need = {"var": 2, "mean": 1, "logsumexp": 1}.get(name, 0)
            if _safe_group(x.shape, dim, need):
                # keepdim so that the result still broadcasts against the other nodes
                step = (f"n{i}.{name}({dim}, keepdim=True)",
                        lambda ns, i=i, d=dim, m=name: getattr(ns[i], m)(d, keepdim=True))
        elif kind == "softmax" and x.ndim:
            dim = draw(st.integers(-x.ndim, x.ndim - 1), label="sdim")
            name = draw(st.sampled_from(["softmax", "log_softmax"]))
            step = (f"n{i}.{name}({dim})", lambda ns, i=i, d=dim, m=name: getattr(ns[i], m)(d))
        elif kind == "shape" and x.ndim >= 2:
            d0, d1 = draw(st.permutations(range(x.ndim)))[:2]
            how = draw(st.sampled_from(["transpose", "flatten_back", "unsqueeze_squeeze"]))
            if how == "transpose":
                step = (f"n{i}.transpose({d0}, {d1}).transpose({d0}, {d1})",
                        lambda ns, i=i, a=d0, b=d1: (ns[i].transpose(a, b) * 1.0)
                        .transpose(a, b))
            elif how == "flatten_back":
                shp = x.shape
                step = (f"n{i}.flatten().reshape{shp}",
                        lambda ns, i=i, s=shp: (ns[i].flatten() * 1.0).reshape(*s))
            else:
                step = (f"n{i}.unsqueeze(0).squeeze(0)",
                        lambda ns, i=i: ns[i].unsqueeze(0).squeeze(0))
        elif kind == "index" and x.ndim and x.shape[0]:
            n = x.shape[0]
            idx = np.asarray(draw(st.lists(st.integers(-n, n - 1), min_size=n, max_size=n),
                                  label="perm"))
            # a gather of n rows (repeats accumulate) keeps the shape: fits everywhere
            step = (f"n{i}[{idx.tolist()}]", lambda ns, i=i, ix=idx: ns[i][ix])
        elif kind == "where":
            j = draw(st.integers(0, len(nodes) - 1), label="other")
            try:
                shp = np.broadcast_shapes(x.shape, nodes[j].shape)
            except ValueError:
                j, shp = i, x.shape
            cond = rng.random(shp) > 0.5
            step = (f"where(mask, n{i}, n{j})",
                    lambda ns, i=i, j=j, c=cond: autograd.where(c, ns[i], ns[j]))
        elif kind == "matmul" and x.ndim >= 2:
            # x @ x^T-like square product keeps broadcasting simple: (.., m, k) @ (.., k, k)
            k = x.shape[-1]
            w = rng.uniform(-1, 1, (k, k))
            step = (f"n{i} @ W{k}x{k}", lambda ns, i=i, w=w: ns[i] @ autograd.tensor(w))
        if step is None:
            name = draw(st.sampled_from(sorted(GRAPH_UNARY)), label="unary")
            step = (f"{name}(n{i})", lambda ns, i=i, f=GRAPH_UNARY[name]: f(ns[i]))
        nodes.append(step[1](nodes))
        program.append(step)
    return leaves, program


def run_program(program, leaves):
    nodes = list(leaves)
    for _, f in program:
        nodes.append(f(nodes))
    last = nodes[-1]
    # also return a second node when there is one, so two outputs share a graph
    return (last, nodes[-2]) if len(program) >= 2 else last


@given(graph=expression_graphs())
def test_random_expression_graph(graph):
    arrays, program = graph
    text = "; ".join(s for s, _ in program)
    inputs = tuple(leaf(a) for a in arrays)
    fn = lambda *ts: run_program(program, ts)
    try:
        assert gradcheck(fn, inputs), text
        assert gradgradcheck(fn, inputs), text
    except Exception as e:  # name the program in the failure
        raise AssertionError(f"program: {text}; leaf shapes {[a.shape for a in arrays]}") from e


@given(graph=expression_graphs())
def test_random_expression_graph_backends_agree(graph):
    """The numba and numpy backends give the same values and gradients on the same graph."""
    arrays, program = graph
    results = {}
    for backend in ("numba", "numpy"):
        autograd.set_backend(backend)
        inputs = [leaf(a) for a in arrays]
        outs = run_program(program, inputs)
        outs = outs if isinstance(outs, tuple) else (outs,)
        total = sum((o * o).sum() for o in outs)
        total.backward()
        results[backend] = ([o.data for o in outs],
                            [t.grad.data if t.grad is not None else None for t in inputs])
    autograd.set_backend("numba")
    for a, b in zip(results["numba"][0] + results["numba"][1],
                    results["numpy"][0] + results["numpy"][1]):
        if a is None or b is None:
            assert a is None and b is None
        else:
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@given(graph=expression_graphs())
def test_random_graph_grad_matches_backward(graph):
    """autograd.grad and .backward agree, and backward accumulates on a second call."""
    arrays, program = graph
    inputs = [leaf(a) for a in arrays]
    outs = run_program(program, inputs)
    outs = outs if isinstance(outs, tuple) else (outs,)
    total = sum((o * 1.5).sum() for o in outs)
    grads = autograd.grad(total, inputs, retain_graph=True, allow_unused=True)
    total.backward(retain_graph=True)
    for t, g in zip(inputs, grads):
        if g is None:
            assert t.grad is None
            continue
        np.testing.assert_allclose(t.grad.data, g.data, rtol=1e-12, atol=1e-12)
    first = [None if t.grad is None else t.grad.data.copy() for t in inputs]
    total.backward()
    for t, g in zip(inputs, first):
        if g is not None:
            np.testing.assert_allclose(t.grad.data, 2 * g, rtol=1e-12, atol=1e-12)


# ---- dtype discipline ---------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_keeps_dtype(name, dtype):
    fn, make, _ = UNARY[name]
    x = autograd.tensor(make(0, (2, 3)).astype(dtype), requires_grad=True)
    y = fn(x)
    y.sum().backward()
    assert y.dtype == dtype and x.grad.dtype == dtype
    (g,) = autograd.grad(fn(x).sum(), [x], create_graph=True)
    assert g.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_keeps_dtype(name, dtype):
    a_arr, b_arr = _binary_data(name.replace("method_", ""), 0, (2, 3), (3,))
    a = autograd.tensor(a_arr.astype(dtype), requires_grad=True)
    b = autograd.tensor(b_arr.astype(dtype), requires_grad=True)
    y = BINARY[name](a, b)
    y.sum().backward()
    assert y.dtype == a.grad.dtype == b.grad.dtype == dtype
    # a Python scalar never upcasts
    assert (a * 2.5).dtype == (2.5 - a).dtype == (a ** 2.0).dtype == dtype
