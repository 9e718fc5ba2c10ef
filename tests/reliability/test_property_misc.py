"""Properties beyond single ops: derivatives of any order, autograd.functional against
finite differences, save/load round trips, and the data utilities' invariants."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd
from autograd import functional as AF
from autograd import gradgradcheck

from .helpers import leaf
from .strategies import seeds, shapes, uniform

SMOOTH = {
    "exp": lambda x: x.exp(), "sin": lambda x: x.sin(), "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(), "log": lambda x: (x * x + 1).log(),
    "sqrt": lambda x: (x * x + 1).sqrt(), "pow": lambda x: (x * x + 1) ** -1.5,
    "softmax": lambda x: x.softmax(-1), "logsumexp": lambda x: x.logsumexp(-1, keepdim=True),
    "var": lambda x: x.var(-1, keepdim=True) if x.shape[-1] > 1 else x * x,
    "div": lambda x: x / (x * x + 2), "prod": lambda x: x.prod(-1, keepdim=True),
}


@pytest.mark.parametrize("name", sorted(SMOOTH))
@given(shape=shapes(min_dims=1, max_dims=2, min_side=1, max_side=3), seed=seeds)
def test_third_order(name, shape, seed):
    """gradgradcheck of the first derivative checks the third derivative: every backward is
    itself differentiable, twice."""
    f = SMOOTH[name]

    @autograd.enable_grad()  # gradcheck evaluates fn under no_grad for finite differences
    def first(x):
        (g,) = autograd.grad(f(x).sum(), [x], create_graph=True)
        return g

    assert gradgradcheck(first, (leaf(uniform(seed, shape, -1.5, 1.5)),))


@given(n=st.integers(1, 4), seed=seeds)
def test_hessian_matches_finite_differences(n, seed):
    def f(x):
        return (x.sin() * x.exp()).sum() + (x * x).sum() * x.tanh().sum()

    x0 = uniform(seed, (n,), -1, 1)
    h = AF.hessian(f, leaf(x0)).data
    eps = 1e-5
    num = np.zeros((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = eps
        gp = AF.jacobian(f, leaf(x0 + e)).data
        gm = AF.jacobian(f, leaf(x0 - e)).data
        num[:, j] = (gp - gm) / (2 * eps)
    np.testing.assert_allclose(h, num, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h, h.T, rtol=1e-10, atol=1e-12)


@given(m=st.integers(1, 3), n=st.integers(1, 3), seed=seeds)
def test_jacobian_vjp_hvp_consistent(m, n, seed):
    rng = np.random.default_rng(seed)
    w = autograd.tensor(rng.standard_normal((m, n)))

    def f(x):
        return (w @ x).tanh()

    x0 = leaf(uniform(seed, (n,)))
    jac = AF.jacobian(f, x0).data
    assert jac.shape == (m, n)
    v = autograd.tensor(rng.standard_normal(m))
    _, vj = AF.vjp(f, x0, v)
    np.testing.assert_allclose(vj.data, v.data @ jac, rtol=1e-10, atol=1e-12)

    def g(x):
        return (f(x) ** 2).sum()

    u = autograd.tensor(rng.standard_normal(n))
    _, hv = AF.hvp(g, x0, u)
    np.testing.assert_allclose(hv.data, AF.hessian(g, x0).data @ u.data, rtol=1e-8,
                               atol=1e-10)


# ---- save / load --------------------------------------------------------------------------
DTYPES = st.sampled_from([np.float32, np.float64, np.float16, np.int64, np.int32, np.int8,
                          np.uint8, np.bool_])


@st.composite
def arrays(draw):
    dtype = draw(DTYPES)
    shape = draw(shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
    a = draw(hnp.arrays(dtype, shape))
    if a.ndim >= 2 and draw(st.booleans()):
        a = a.T  # non-contiguous
    return a


leaves = st.one_of(
    arrays(), arrays().map(autograd.Tensor),
    st.integers(-2**62, 2**62), st.floats(allow_nan=False), st.text(max_size=8),
    st.booleans(), st.none())
trees = st.recursive(leaves, lambda children: st.one_of(
    st.lists(children, max_size=3),
    st.dictionaries(st.text(min_size=1, max_size=5), children, max_size=3)), max_leaves=8)


def _same(a, b, where="obj"):
    if isinstance(a, autograd.Tensor):
        assert isinstance(b, autograd.Tensor), where
        _same(a.data, b.data, where + ".data")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, where
        assert a.tobytes() == np.ascontiguousarray(b).tobytes(), where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), where
        for k in a:
            _same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert type(a) is type(b) and a == b, (where, a, b)


@given(obj=trees)
def test_save_load_round_trip(obj, tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "obj.ckpt"
    autograd.save(obj, str(path))
    _same(obj, autograd.load(str(path)))


# ---- data utilities -------------------------------------------------------------------------
@given(n=st.integers(0, 40), batch=st.integers(1, 9), drop_last=st.booleans(),
       shuffle=st.booleans(), seed=st.integers(0, 100))
def test_data_loader_covers_every_sample_once(n, batch, drop_last, shuffle, seed):
    from autograd.data import DataLoader, TensorDataset

    x = np.arange(n, dtype=np.float32).reshape(n, 1)
    loader = DataLoader(TensorDataset(x, np.arange(n)), batch_size=batch, shuffle=shuffle,
                        drop_last=drop_last, seed=seed)
    seen = [yb.data.tolist() for _, yb in loader]
    assert len(seen) == len(loader)
    flat = [i for b in seen for i in b]
    expected = n - n % batch if drop_last else n
    assert len(flat) == expected and len(set(flat)) == expected
    assert all(len(b) == batch for b in seen[:-1])
    assert all(1 <= len(b) <= batch for b in seen)
    if drop_last:
        assert all(len(b) == batch for b in seen)
    if not shuffle:
        assert flat == list(range(expected))


@given(n=st.integers(2, 50), k=st.integers(2, 6), seed=st.integers(0, 100))
def test_kfold_partitions(n, k, seed):
    from autograd.data import kfold

    if k > n:
        return
    folds = list(kfold(n, k, shuffle=True, seed=seed))
    assert len(folds) == k
    vals = np.concatenate([v for _, v in folds])
    assert sorted(vals.tolist()) == list(range(n))
    for tr, va in folds:
        assert not set(tr.tolist()) & set(va.tolist())
        assert len(tr) + len(va) == n
    sizes = [len(v) for _, v in folds]
    assert max(sizes) - min(sizes) <= 1


@given(n=st.integers(1, 60), cuts=st.lists(st.integers(0, 20), min_size=1, max_size=4),
       seed=st.integers(0, 100))
def test_random_split_partitions(n, cuts, seed):
    from autograd.data import TensorDataset, random_split

    lengths = list(cuts[:-1]) + [n - sum(cuts[:-1])]
    if lengths[-1] < 0:
        return
    ds = TensorDataset(np.arange(n, dtype=np.float32), np.arange(n))
    parts = random_split(ds, lengths, seed=seed)
    assert [len(p) for p in parts] == lengths
    got = sorted(int(p[i][1].item()) for p in parts for i in range(len(p)))
    assert got == list(range(n))
