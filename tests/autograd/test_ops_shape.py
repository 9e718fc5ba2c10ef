"""Shape ops and matmul: values, gradients through views, errors."""
import numpy as np
import pytest

import autograd
from autograd import gradcheck, gradgradcheck

SHAPE_OPS = {
    "reshape": lambda t: t.reshape(4, 6),
    "view_tuple": lambda t: t.view((6, -1)),
    "transpose": lambda t: t.transpose(0, 2),
    "permute": lambda t: t.permute(2, 0, 1),
    "T": lambda t: t.T,
    "flatten": lambda t: t.flatten(1),
    "unsqueeze": lambda t: t.unsqueeze(1),
    "squeeze": lambda t: t.unsqueeze(0).squeeze(),
    "expand": lambda t: t[:, :1].expand(2, 3, 4),
    "broadcast_to": lambda t: t[:1].broadcast_to((5, 3, 4)),
    "cat": lambda t: autograd.cat([t, t * 2], dim=1),
    "stack": lambda t: autograd.stack([t, t + 1], dim=-1),
    "split": lambda t: t.split(2, dim=2)[1],
    "split_sections": lambda t: t.split([1, 3], dim=2)[1],
    "chunk": lambda t: t.chunk(3, dim=1)[2],
}


@pytest.mark.parametrize("name", SHAPE_OPS)
def test_shape_op_gradients(name, rng):
    x = autograd.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    w_shape = SHAPE_OPS[name](x).shape
    w = autograd.tensor(rng.standard_normal(w_shape))
    assert gradcheck(lambda t: SHAPE_OPS[name](t) * w, (x,))
    assert gradgradcheck(lambda t: (SHAPE_OPS[name](t) * w * t.sum()).sum(), (x,))


def test_shape_values():
    x = autograd.arange(24).reshape(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4) and x.size(1) == 3 and x.numel() == 24
    np.testing.assert_array_equal(x.permute(2, 0, 1).data, np.arange(24).reshape(2, 3, 4)
                                  .transpose(2, 0, 1))
    assert x.flatten().shape == (24,) and x.flatten(0, 1).shape == (6, 4)
    assert x.unsqueeze(-1).shape == (2, 3, 4, 1)
    assert autograd.zeros(1, 3, 1).squeeze().shape == (3,)
    assert autograd.zeros(1, 3, 1).squeeze(0).shape == (3, 1)
    assert autograd.zeros(3, 1).expand(-1, 5).shape == (3, 5)
    assert [p.shape for p in autograd.zeros(5, 2).split(2)] == [(2, 2), (2, 2), (1, 2)]
    assert [p.shape for p in autograd.zeros(5, 2).chunk(2)] == [(3, 2), (2, 2)]
    assert autograd.stack([autograd.zeros(2), autograd.ones(2)]).shape == (2, 2)
    np.testing.assert_array_equal(autograd.cat([autograd.ones(1, 2), autograd.zeros(1, 2)]).data,
                                  [[1, 1], [0, 0]])
    assert len(x) == 2 and [r.shape for r in x] == [(3, 4), (3, 4)]


def test_matmul_shapes_and_gradients(rng):
    cases = [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
             ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (3, 4, 2)), ((3, 4), (2, 4, 5))]
    for sa, sb in cases:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        ta = autograd.tensor(a, requires_grad=True)
        tb = autograd.tensor(b, requires_grad=True)
        out = ta @ tb
        np.testing.assert_allclose(out.data, a @ b, rtol=1e-12)
        assert gradcheck(lambda p, q: p @ q, (ta, tb))
    ta = autograd.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    tb = autograd.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    assert gradgradcheck(lambda p, q: (p @ q).tanh(), (ta, tb))


def test_matmul_hand_checked():
    a = autograd.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = autograd.tensor([[5.0], [6.0]], requires_grad=True)
    out = a @ b
    np.testing.assert_array_equal(out.data, [[17], [39]])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.data, [[5, 6], [5, 6]])
    np.testing.assert_array_equal(b.grad.data, [[4], [6]])


def test_shape_errors():
    """Shape mismatches raise RuntimeError (PyTorch's class), exactly, never ValueError."""
    cases = [
        (lambda: autograd.ones(3, 4) @ autograd.ones(5, 2), r"matmul.*\(3, 4\).*\(5, 2\)"),
        (lambda: autograd.ones(2, 3).reshape(5), r"reshape.*\(5,\).*\(2, 3\)"),
        (lambda: autograd.ones(2, 3).view(-1, -1), r"reshape"),
        (lambda: autograd.ones(2, 3).expand(4, 3), "expand"),
        (lambda: autograd.ones(2, 3).expand(3), "expand"),
        (lambda: autograd.ones(1, 1).expand(3), "expand"),
        (lambda: autograd.ones(2, 3).expand(-1, 2, 3), "expand.*-1"),
        (lambda: autograd.ones(2, 3).permute(0, 0), "permutation"),
        (lambda: autograd.ones(2, 3).permute(0), "permutation"),
        (lambda: autograd.cat([autograd.ones(2, 3), autograd.ones(2, 4)]), "cat"),
        (lambda: autograd.cat([autograd.ones(2, 3), autograd.ones(3)]), "cat"),
        (lambda: autograd.cat([autograd.tensor(1.0), autograd.tensor(2.0)]), "cat.*zero-dim"),
        (lambda: autograd.stack([autograd.ones(2), autograd.ones(3)]), "stack"),
        (lambda: autograd.stack([]), "stack"),
        (lambda: autograd.tensor(2.0) @ autograd.ones(2), "matmul"),
        (lambda: autograd.ones(3) @ autograd.ones(4), "matmul"),
        (lambda: autograd.ones(2, 2, 3) @ autograd.ones(3, 3, 4), "matmul"),
        (lambda: autograd.ones(5).split([2, 2]), "split"),
        (lambda: autograd.ones(5).split([6, -1]), "split"),
        (lambda: autograd.ones(5).split(0), "split"),
        (lambda: autograd.ones(5).chunk(0), "chunk"),
    ]
    for fn, pattern in cases:
        with pytest.raises(RuntimeError, match=pattern) as info:
            fn()
        assert type(info.value) is RuntimeError, (pattern, type(info.value))


def test_out_of_range_dims_raise_index_error():
    """As PyTorch: a dim out of range is an IndexError, not a shape error."""
    x = autograd.ones(2, 3)
    for fn in (lambda: x.permute(0, 5), lambda: autograd.cat([x, x], 5),
               lambda: autograd.stack([x, x], 5), lambda: x.split(1, 5),
               lambda: x.argmax(5), lambda: x.max(5)):
        with pytest.raises(IndexError):
            fn()
    # an empty cat list is a ValueError in PyTorch too
    with pytest.raises(ValueError, match="cat.*empty"):
        autograd.cat([])


def test_split_chunk_sizes_as_pytorch():
    x = autograd.arange(5.0)
    assert [t.shape for t in x.split(3)] == [(3,), (2,)]
    assert [t.shape for t in x.chunk(3)] == [(2,), (2,), (1,)]
    assert [t.shape for t in autograd.ones(0).split(2)] == [(0,)]
    assert [t.shape for t in autograd.ones(0).split(0)] == [(0,)]
    assert [t.shape for t in autograd.ones(2, 5).split(2, -1)] == [(2, 2), (2, 2), (2, 1)]


@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
def test_matmul_op_with_transpose_flags(trans_a, trans_b, rng):
    from autograd.ops.linalg import MatMul
    a = autograd.tensor(rng.standard_normal((2, 4, 3) if trans_a else (2, 3, 4)),
                        requires_grad=True)
    b = autograd.tensor(rng.standard_normal((5, 4) if trans_b else (4, 5)), requires_grad=True)

    def f(p, q):
        return MatMul.apply(p, q, trans_a=trans_a, trans_b=trans_b)
    expected = (np.swapaxes(a.data, -1, -2) if trans_a else a.data) @ (
        b.data.T if trans_b else b.data)
    np.testing.assert_allclose(f(a, b).data, expected, rtol=1e-12)
    assert gradcheck(f, (a, b))
    assert gradgradcheck(f, (a, b))


def test_non_integer_sizes_and_dims_raise_type_error():
    """As PyTorch: reshape(2.0, 3) is a TypeError, never silently truncated to 2."""
    x = autograd.ones(2, 3)
    for fn, op in ((lambda: x.reshape(2.0, 3), "reshape"), (lambda: x.view((3, 2.5)), "reshape"),
                   (lambda: x.permute("a", "b"), "permute"), (lambda: x.expand(2.0, 3), "expand")):
        with pytest.raises(TypeError, match=op):
            fn()
    assert x.reshape(autograd.tensor(3), np.int64(2)).shape == (3, 2)
