"""Sorting and selection (API part 2): sort argsort topk kthvalue unique nonzero
masked_select, gather scatter scatter_add scatter_reduce index_select index_add masked_fill,
where(condition). Values are PyTorch 2.13's (literals); gradients by finite differences."""
import numpy as np
import pytest

import autograd
from autograd import gradcheck, gradgradcheck

X = [[3.0, 1.0, 2.0, 1.0], [0.0, 5.0, 5.0, -1.0]]
I = [[0, 0], [1, 0]]
S = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def rand(*shape, seed=0):
    return autograd.tensor(np.random.default_rng(seed).standard_normal(shape),
                           requires_grad=True)


def test_sort_and_argsort_are_stable_and_put_nan_last():
    x = autograd.tensor(X)
    v, i = x.sort(1, descending=True)
    assert v.tolist() == [[3, 2, 1, 1], [5, 5, 0, -1]]
    assert i.tolist() == [[0, 2, 1, 3], [1, 2, 0, 3]]  # equal values keep their order
    assert autograd.argsort(x, 1).tolist() == [[1, 3, 2, 0], [3, 0, 1, 2]]
    assert autograd.sort(x, dim=0).indices.tolist() == np.argsort(X, 0, kind="stable").tolist()
    n = autograd.tensor([1.0, np.nan, 0.0])
    assert n.sort().indices.tolist() == [2, 0, 1]
    assert n.sort(descending=True).indices.tolist() == [1, 0, 2]
    a = rand(3, 5)
    assert gradcheck(lambda t: t.sort(1)[0], (a,))
    assert gradgradcheck(lambda t: t.sort(0, descending=True)[0] * t, (a,))


def test_topk_and_kthvalue_as_pytorch():
    x = autograd.tensor(X)
    r = x.topk(2)
    assert r.values.tolist() == [[3, 2], [5, 5]] and r.indices.tolist() == [[0, 2], [1, 2]]
    r = autograd.topk(x, 2, dim=0, largest=False)
    assert r.values.tolist() == [[0, 1, 2, -1], [3, 5, 5, 1]]
    assert r.indices.tolist() == [[1, 0, 0, 1], [0, 1, 1, 0]]
    k = x.kthvalue(2, 1)
    assert k.values.tolist() == [1, 0] and k.indices.tolist() == [3, 0]
    assert autograd.kthvalue(x, 1, 0, keepdim=True).values.tolist() == [[0, 1, 2, -1]]
    a = rand(3, 6)
    assert gradcheck(lambda t: t.topk(3, dim=1).values, (a,))
    assert gradcheck(lambda t: t.kthvalue(2, 0).values, (a,))
    a = autograd.tensor([0.5, -2.0, 3.0], requires_grad=True)
    a.topk(2).values.sum().backward()
    assert a.grad.tolist() == [1.0, 0.0, 1.0]


def test_unique_nonzero_where():
    u, inv, cnt = autograd.unique(autograd.tensor([3, 1, 3, 2]), return_inverse=True,
                                  return_counts=True)
    assert u.tolist() == [1, 2, 3] and inv.tolist() == [2, 0, 2, 1] and cnt.tolist() == [1, 1, 2]
    assert autograd.tensor([[2.0, 2.0], [1.0, 2.0]]).unique().tolist() == [1.0, 2.0]
    t = autograd.tensor([[0, 1], [2, 0]])
    assert t.nonzero().tolist() == [[0, 1], [1, 0]] and t.nonzero().dtype == np.int64
    rows, cols = autograd.nonzero(t, as_tuple=True)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
    rows, cols = autograd.where(t)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
    assert autograd.where(t > 0, 1.0, 0.0).tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_masked_select_values_and_gradient():
    x = autograd.tensor(X, requires_grad=True)
    y = x.masked_select(x > 1)
    assert y.tolist() == [3, 2, 5, 5]
    y.sum().backward()
    assert x.grad.tolist() == [[1, 0, 1, 0], [0, 1, 1, 0]]
    row = autograd.tensor([True, False, False, True])  # broadcast over the rows
    assert autograd.masked_select(x, row).tolist() == [3, 1, 0, -1]
    a = rand(2, 3)
    assert gradcheck(lambda t: t.masked_select(autograd.tensor([True, False, True])), (a,))


def test_gather_and_its_gradient():
    x = autograd.tensor(X, requires_grad=True)
    y = x.gather(1, autograd.tensor(I))
    assert y.tolist() == [[3, 3], [5, 0]]
    y.sum().backward()
    assert x.grad.tolist() == [[2, 0, 0, 0], [1, 1, 0, 0]]  # repeated index accumulates
    a = rand(3, 4)
    idx = autograd.tensor([[3, 0, 0], [1, 2, 3], [0, 0, 0]])
    assert gradcheck(lambda t: autograd.gather(t, 1, idx), (a,))
    assert gradgradcheck(lambda t: t.gather(1, idx) ** 2, (a,))


def test_scatter_forms_as_pytorch():
    i, s = autograd.tensor(I), autograd.tensor(S)
    assert autograd.zeros(2, 4).scatter(1, i, s).tolist() == [[2, 0, 0, 0], [5, 4, 0, 0]]
    assert autograd.zeros(2, 4).scatter(1, i, 7.0).tolist() == [[7, 0, 0, 0], [7, 7, 0, 0]]
    assert autograd.zeros(2, 4).scatter_add(1, i, s).tolist() == [[3, 0, 0, 0], [5, 4, 0, 0]]
    ones = autograd.ones(2, 4)
    want = {  # torch.ones(2, 4).scatter_reduce(1, i, s, reduce, include_self=...)
        ("sum", True): [[4, 1, 1, 1], [6, 5, 1, 1]],
        ("sum", False): [[3, 1, 1, 1], [5, 4, 1, 1]],
        ("mean", True): [[4 / 3, 1, 1, 1], [3, 2.5, 1, 1]],
        ("mean", False): [[1.5, 1, 1, 1], [5, 4, 1, 1]],
        ("amax", False): [[2, 1, 1, 1], [5, 4, 1, 1]],
        ("amin", True): [[1, 1, 1, 1], [1, 1, 1, 1]],
        ("prod", True): [[2, 1, 1, 1], [5, 4, 1, 1]],
    }
    for (reduce, include), values in want.items():
        got = ones.scatter_reduce(1, i, s, reduce, include_self=include)
        np.testing.assert_allclose(got.data, values, rtol=1e-7, err_msg=f"{reduce} {include}")


@pytest.mark.parametrize("reduce", ["sum", "mean", "amax", "amin", "prod"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_gradients(reduce, include_self):
    base = autograd.tensor(np.random.default_rng(1).uniform(0.5, 2.0, (3, 4)),
                           requires_grad=True)
    src = autograd.tensor(np.random.default_rng(2).uniform(0.5, 2.0, (3, 3)),
                          requires_grad=True)
    idx = autograd.tensor([[0, 0, 2], [1, 3, 1], [2, 2, 2]])
    assert gradcheck(lambda b, s: b.scatter_reduce(1, idx, s, reduce,
                                                   include_self=include_self), (base, src))


def test_scatter_and_scatter_add_gradients():
    base, src = rand(3, 4), rand(3, 2, seed=1)
    idx = autograd.tensor([[0, 2], [3, 1], [1, 0]])  # distinct per row: a plain overwrite
    assert gradcheck(lambda b, s: b.scatter(1, idx, s), (base, src))
    dup = autograd.tensor([[0, 0], [3, 3], [1, 0]])
    assert gradcheck(lambda b, s: autograd.scatter_add(b, 1, dup, s), (base, src))
    assert gradgradcheck(lambda b, s: b.scatter_add(1, dup, s) ** 2, (base, src))


def test_index_select_index_add_masked_fill():
    x = autograd.tensor(X, requires_grad=True)
    y = x.index_select(1, autograd.tensor([3, 0, 3]))
    assert y.tolist() == [[1, 3, 1], [-1, 0, -1]]
    y.sum().backward()
    assert x.grad.tolist() == [[1, 0, 0, 2], [1, 0, 0, 2]]
    z = autograd.index_add(autograd.tensor(X), 1, autograd.tensor([0, 0]), autograd.ones(2, 2),
                           alpha=2)
    assert z.tolist() == [[7, 1, 2, 1], [4, 5, 5, -1]]
    f = autograd.tensor(X).masked_fill(autograd.tensor(X) > 1, -1.0)
    assert f.tolist() == [[-1, 1, -1, 1], [0, -1, -1, -1]]
    v = autograd.tensor(9.0, requires_grad=True)
    g = autograd.masked_fill(x, autograd.tensor([True, False, False, False]), v)
    assert g.tolist() == [[9, 1, 2, 1], [9, 5, 5, -1]]
    g.sum().backward()
    assert v.grad.tolist() == 2.0
    assert autograd.tensor([1, 2]).masked_fill(autograd.tensor([True, False]), 2.7).tolist() \
        == [2, 2]
    a, src = rand(3, 4), rand(3, 2, seed=1)
    idx = autograd.tensor([2, 2])
    assert gradcheck(lambda t, s: t.index_add(1, idx, s, alpha=3.0), (a, src))
    assert gradcheck(lambda t: t.index_select(0, autograd.tensor([2, 0, 2])), (a,))
    causal = autograd.tensor(np.triu(np.ones((4, 4), bool), 1))
    assert gradgradcheck(lambda t: t.masked_fill(causal[:3], 0.0) ** 2, (a,))


def test_bad_inputs_raise_naming_the_op():
    x = autograd.tensor(X)
    with pytest.raises(RuntimeError, match="topk: selected index k=5 out of range"):
        x.topk(5)
    with pytest.raises(RuntimeError, match="kthvalue: selected number k=5 out of range"):
        x.kthvalue(5, 1)
    with pytest.raises(IndexError, match="sort: dimension out of range"):
        x.sort(2)
    with pytest.raises(RuntimeError, match="masked_select: expected a bool tensor"):
        x.masked_select(autograd.tensor([1, 0, 0, 1]))
    with pytest.raises(RuntimeError, match="gather: index 4 is out of bounds for dimension 1 "
                                           "with size 4"):
        x.gather(1, autograd.tensor([[4]]))
    with pytest.raises(RuntimeError, match="gather: index tensor must have the same number"):
        x.gather(1, autograd.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="gather: expected an integer index tensor"):
        x.gather(1, autograd.tensor([[0.0]]))
    with pytest.raises(RuntimeError, match="scatter_reduce: reduce argument must be either"):
        x.scatter_reduce(1, autograd.tensor(I), autograd.tensor(S), "bad")
    with pytest.raises(IndexError, match="index_select: index is supposed to be a vector"):
        x.index_select(1, autograd.tensor([[3]]))
    with pytest.raises(RuntimeError, match="index_add: source of shape \\(2, 3\\) does not "
                                           "match \\(2, 2\\)"):
        x.index_add(1, autograd.tensor([0, 1]), autograd.ones(2, 3))
    with pytest.raises(RuntimeError, match="masked_fill: only supports a 0-dimensional"):
        x.masked_fill(x > 1, autograd.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="masked_fill: expected a bool tensor for mask"):
        x.masked_fill(autograd.tensor([1, 0, 0, 0]), 1.0)
    with pytest.raises(TypeError, match="where: give both input and other"):
        autograd.where(x > 1, x)
