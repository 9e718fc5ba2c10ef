"""Layout ops (API part 2): flip roll repeat repeat_interleave tile tril triu diag diagonal
unflatten unfold narrow contiguous view_as reshape_as expand_as movedim swapaxes t unbind
outer, autograd.einsum meshgrid cartesian_prod. Values are PyTorch 2.13's (literals);
gradients by finite differences."""
import numpy as np
import pytest

import autograd
from autograd import gradcheck, gradgradcheck


def grid():
    return autograd.arange(12.0).reshape(3, 4)


def rand(*shape, seed=0):
    return autograd.tensor(np.random.default_rng(seed).standard_normal(shape),
                           requires_grad=True)


def test_flip_roll_repeat_tile_values():
    x = grid()
    assert x.flip(0).tolist() == np.flip(x.data, 0).tolist()
    assert autograd.flip(x, (0, 1)).tolist() == np.flip(x.data).tolist()
    assert x.roll(1, 1).tolist() == np.roll(x.data, 1, 1).tolist()
    assert autograd.roll(x, 2).tolist() == [[10, 11, 0, 1], [2, 3, 4, 5], [6, 7, 8, 9]]
    assert x.roll((1, -1), (0, 1)).tolist() == np.roll(x.data, (1, -1), (0, 1)).tolist()
    assert autograd.tensor([1, 2]).repeat(2, 2).tolist() == [[1, 2, 1, 2], [1, 2, 1, 2]]
    assert x.repeat(1, 2, 1).shape == (1, 6, 4)
    assert x[:1].tile(2).tolist() == [[0, 1, 2, 3, 0, 1, 2, 3]]
    assert autograd.tile(x, (2, 1, 1)).shape == (2, 3, 4)


def test_repeat_interleave_forms():
    assert autograd.tensor([1, 2, 3]).repeat_interleave(2).tolist() == [1, 1, 2, 2, 3, 3]
    m = autograd.tensor([[1, 2], [3, 4]])
    assert autograd.repeat_interleave(m, autograd.tensor([1, 2]), dim=0).tolist() == \
        [[1, 2], [3, 4], [3, 4]]
    assert m.repeat_interleave(2).tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    assert autograd.repeat_interleave(autograd.tensor([2, 1])).tolist() == [0, 0, 1]


def test_triangles_and_diagonals_as_pytorch():
    x = grid()
    assert x.tril().tolist() == np.tril(x.data).tolist()
    assert autograd.triu(x, 1).tolist() == np.triu(x.data, 1).tolist()
    assert autograd.tril(x, -1).tolist() == np.tril(x.data, -1).tolist()
    assert autograd.diag(autograd.tensor([1.0, 2.0]), 1).tolist() == \
        [[0, 1, 0], [0, 0, 2], [0, 0, 0]]
    assert x.diag(-1).tolist() == [4, 9] and x.diag().tolist() == [0, 5, 10]
    assert x.diagonal(1).tolist() == [1, 6, 11]
    cube = autograd.arange(24.0).reshape(2, 3, 4)
    assert autograd.diagonal(cube, 0, 1, 2).tolist() == [[0, 5, 10], [12, 17, 22]]
    assert cube.diagonal(offset=-1, dim1=-1, dim2=0).tolist() == \
        np.diagonal(cube.data, -1, 2, 0).tolist()


def test_views_and_reorderings():
    x = grid()
    assert x.unflatten(1, (2, -1)).shape == (3, 2, 2)
    assert autograd.unflatten(x, -1, (2, 2)).tolist() == x.data.reshape(3, 2, 2).tolist()
    assert autograd.arange(7.0).unfold(0, 3, 2).tolist() == [[0, 1, 2], [2, 3, 4], [4, 5, 6]]
    assert autograd.arange(24.0).reshape(2, 3, 4).unfold(1, 2, 1).shape == (2, 2, 4, 2)
    assert x.narrow(1, -2, 2).tolist() == x.data[:, 2:].tolist()
    assert autograd.narrow(x, 0, 1, 1).tolist() == [[4, 5, 6, 7]]
    assert x.contiguous() is x
    tt = x.t().contiguous()
    assert tt.data.flags.c_contiguous and tt.tolist() == x.data.T.tolist()
    assert x.view_as(autograd.zeros(2, 6)).shape == (2, 6)
    assert x.reshape_as(autograd.zeros(6, 2)).shape == (6, 2)
    assert autograd.tensor([1.0, 2.0]).expand_as(autograd.zeros(3, 2)).tolist() == [[1, 2]] * 3
    z = autograd.zeros(2, 3, 4)
    assert autograd.movedim(z, 0, -1).shape == (3, 4, 2)
    assert z.movedim((0, 1), (2, 0)).shape == (3, 4, 2)
    assert autograd.swapaxes(z, 0, 2).shape == (4, 3, 2)
    assert autograd.t(x).shape == (4, 3) and autograd.tensor([1, 2]).t().shape == (2,)
    assert [r.tolist() for r in autograd.unbind(x, 1)][1] == [1, 5, 9]
    assert len(x.unbind()) == 3
    assert autograd.outer(autograd.tensor([1.0, 2.0]), autograd.tensor([3.0, 4.0, 5.0])) \
        .tolist() == [[3, 4, 5], [6, 8, 10]]


SHAPE_OPS = {
    "flip": lambda t: t.flip(0, 1) * t,
    "roll": lambda t: t.roll((1, 2), (0, 1)) * t,
    "repeat": lambda t: t.repeat(2, 1, 3),
    "tile": lambda t: t.tile(2),
    "repeat_interleave": lambda t: t.repeat_interleave(autograd.tensor([2, 0, 1]), dim=0),
    "tril": lambda t: t.tril(1) * t,
    "triu": lambda t: autograd.triu(t, -1),
    "diag": lambda t: t.diag(1) * t[0, 0],
    "diag_embed": lambda t: t[0].diag(-1),
    "diagonal": lambda t: t.reshape(2, 2, 3).diagonal(0, 0, 2) ** 2,
    "unflatten": lambda t: t.unflatten(1, (2, 2)),
    "unfold": lambda t: t.unfold(1, 2, 1) ** 2,
    "narrow": lambda t: t.narrow(1, 1, 2),
    "movedim": lambda t: t.reshape(3, 2, 2).movedim(0, 2),
    "swapaxes": lambda t: t.swapaxes(0, 1) * 2,
    "t": lambda t: t.t() ** 2,
    "unbind": lambda t: t.unbind(1)[2] * t.unbind(1)[0],
    "outer": lambda t: autograd.outer(t[0], t[1]),
    "contiguous": lambda t: t.t().contiguous() ** 2,
    "view_as": lambda t: t.view_as(autograd.zeros(4, 3)) ** 2,
    "expand_as": lambda t: t[0].expand_as(t) * t,
}


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_first_and_second_derivatives(name):
    a = rand(3, 4)
    assert gradcheck(SHAPE_OPS[name], (a,))
    assert gradgradcheck(SHAPE_OPS[name], (a,))


def test_einsum_values_and_gradients():
    x = grid()
    np.testing.assert_array_equal(autograd.einsum("ij,jk->ik", x, x.t()).data,
                                  x.data @ x.data.T)
    assert autograd.einsum("ii", autograd.eye(3)).tolist() == 3.0
    assert autograd.einsum("i,j", autograd.tensor([1.0, 2.0]),
                           autograd.tensor([3.0, 4.0])).tolist() == [[3, 4], [6, 8]]
    assert autograd.einsum("...ij->...ji", autograd.zeros(2, 3, 4)).shape == (2, 4, 3)
    assert autograd.einsum("bij,bjk", autograd.ones(2, 3, 4), autograd.ones(2, 4, 5)).shape \
        == (3, 5)  # implicit output: the letters seen once, sorted
    a, b, c = rand(2, 3, 4), rand(2, 4, seed=1), rand(5, seed=2)
    for eq, ops in (("bij,bj->bi", (a, b)), ("bij,k->bik", (a, c)), ("bij->j", (a,)),
                    ("...j,bj->...b", (a, b)), ("bij,bj,k", (a, b, c))):
        assert gradcheck(lambda *t, eq=eq: autograd.einsum(eq, *t), ops), eq
    assert gradgradcheck(lambda s, t: autograd.einsum("bij,bj->bi", s, t), (a, b))
    assert gradcheck(lambda s, t: autograd.einsum("bij,bj->bi", [s, t]), (a, b))


def test_meshgrid_and_cartesian_prod():
    gx, gy = autograd.meshgrid(autograd.tensor([1, 2]), autograd.tensor([3, 4, 5]))
    assert gx.tolist() == [[1, 1, 1], [2, 2, 2]] and gy.tolist() == [[3, 4, 5]] * 2
    xy = autograd.meshgrid(autograd.tensor([1, 2]), autograd.tensor([3, 4, 5]), indexing="xy")
    assert xy[0].tolist() == [[1, 2]] * 3
    assert autograd.cartesian_prod(autograd.tensor([1, 2]), autograd.tensor([3, 4])).tolist() \
        == [[1, 3], [1, 4], [2, 3], [2, 4]]
    a, b = rand(2), rand(3, seed=1)
    assert gradcheck(lambda s, t: autograd.meshgrid(s, t)[0] * autograd.meshgrid(s, t)[1],
                     (a, b))
    assert gradcheck(lambda s, t: autograd.cartesian_prod(s, t) ** 2, (a, b))


def test_bad_inputs_raise_naming_the_op():
    x = grid()
    with pytest.raises(RuntimeError, match="narrow: start \\(3\\) \\+ length \\(2\\) exceeds"):
        x.narrow(1, 3, 2)
    with pytest.raises(RuntimeError, match="unflatten: sizes \\(3, -1\\) don't multiply"):
        x.unflatten(1, (3, -1))
    with pytest.raises(RuntimeError, match="tril: input tensor must have at least 2 dim"):
        autograd.ones(3).tril()
    with pytest.raises(RuntimeError, match="unfold: maximum size for the tensor at dimension 1 "
                                           "is 4 but size is 5"):
        x.unfold(1, 5, 1)
    with pytest.raises(RuntimeError, match="t\\(\\) expects a tensor with <= 2 dimensions, but "
                                           "self is 3D"):
        autograd.ones(2, 2, 2).t()
    with pytest.raises(RuntimeError, match="repeat: number of repeat dims \\(1\\)"):
        x.repeat(2)
    with pytest.raises(RuntimeError, match="einsum: ij,jk->ik with shapes"):
        autograd.einsum("ij,jk", x, x)
    with pytest.raises(RuntimeError, match="movedim: dims \\(0, 0\\) has a repeated dim"):
        autograd.movedim(x, (0, 0), (1, 0))
    with pytest.raises(RuntimeError, match="diag: expected a 1-D or 2-D tensor"):
        autograd.diag(autograd.ones(2, 2, 2))
    with pytest.raises(RuntimeError, match="outer: expected 1-D tensors"):
        autograd.outer(x, x)
    with pytest.raises(IndexError, match="flip: dimension out of range"):
        x.flip(2)
    with pytest.raises(RuntimeError, match="meshgrid: indexing must be 'ij' or 'xy'"):
        autograd.meshgrid(x[0], indexing="ji")
    with pytest.raises(RuntimeError, match="einsum: the gradient of an operand with a "
                                           "repeated subscript"):
        autograd.einsum("ii->i", autograd.eye(2).requires_grad_()).sum().backward()


def test_index_with_a_bare_none_adds_a_leading_dim():
    """x[None] is (1, ...) as in PyTorch (it used to return x itself), with its gradient."""
    x = autograd.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = x[None]
    assert y.shape == (1, 2, 3)
    np.testing.assert_array_equal(y.detach().numpy()[0], x.detach().numpy())
    (y * autograd.tensor(np.arange(6.0).reshape(1, 2, 3))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(6.0).reshape(2, 3))
    assert gradcheck(lambda t: t[None] * 2, (x,))
