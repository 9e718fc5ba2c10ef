"""Creating tensors, dtype rules, conversion and attributes."""
import numpy as np
import pytest

import autograd


def test_dtype_of_python_data():
    assert autograd.tensor(1.5).dtype == np.float32
    assert autograd.tensor([[1.0, 2]]).dtype == np.float32
    assert autograd.tensor(3).dtype == np.int64
    assert autograd.tensor([True]).dtype == bool
    assert autograd.tensor(np.zeros(2, np.float64)).dtype == np.float64
    assert autograd.tensor([1, 2], dtype=np.float64).dtype == np.float64
    autograd.set_default_dtype(np.float64)
    try:
        assert autograd.tensor([1.0]).dtype == np.float64
        assert autograd.get_default_dtype() == np.float64
        assert autograd.zeros(2).dtype == np.float64
    finally:
        autograd.set_default_dtype(np.float32)
    with pytest.raises(TypeError, match="float16"):
        autograd.set_default_dtype(np.float16)


def test_factories():
    assert autograd.zeros(2, 3).shape == (2, 3) and autograd.zeros((2, 3)).data.sum() == 0
    assert autograd.ones(4).data.sum() == 4
    np.testing.assert_array_equal(autograd.full((2,), 7.0).data, [7, 7])
    assert autograd.empty(3, dtype=np.float64).dtype == np.float64
    like = autograd.zeros_like(autograd.ones(2, 2, dtype=np.float64))
    assert like.shape == (2, 2) and like.dtype == np.float64
    assert autograd.ones_like(autograd.zeros(3)).data.sum() == 3
    np.testing.assert_array_equal(autograd.arange(4).data, [0, 1, 2, 3])
    assert autograd.arange(4).dtype == np.int64
    np.testing.assert_allclose(autograd.arange(0, 1, 0.25).data, [0, 0.25, 0.5, 0.75])
    np.testing.assert_allclose(autograd.linspace(0, 1, 5).data, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_array_equal(autograd.eye(2).data, [[1, 0], [0, 1]])
    r = autograd.randint(0, 5, (100,))
    assert r.dtype == np.int64 and r.data.min() >= 0 and r.data.max() < 5
    assert autograd.randn(2, 3, requires_grad=True).requires_grad


def test_manual_seed_makes_random_factories_reproducible():
    autograd.manual_seed(123)
    a = (autograd.rand(3).data, autograd.randn(3).data, autograd.randint(10, (3,)).data)
    autograd.manual_seed(123)
    b = (autograd.rand(3).data, autograd.randn(3).data, autograd.randint(10, (3,)).data)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    u = autograd.rand(10000).data
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.02


def test_from_numpy_shares_memory_and_numpy_returns_array():
    a = np.zeros(3, dtype=np.float32)
    t = autograd.from_numpy(a)
    a[0] = 5
    assert t.data[0] == 5
    assert t.numpy() is a
    w = autograd.tensor([1.0], requires_grad=True)
    assert w.numpy() is not w.data  # a copy for tensors that require grad


def test_conversion_and_attributes():
    t = autograd.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert t.is_leaf and t.grad_fn is None and t.ndim == 2 and len(t) == 2
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert t.sum().item() == 10.0 and float(t[0, 0]) == 1.0
    y = t * 2
    assert not y.is_leaf and "MulBackward" in repr(y)
    d = y.detach()
    assert not d.requires_grad and d.data is y.data
    c = t.clone()
    assert c.data is not t.data and c.requires_grad
    c.sum().backward()
    np.testing.assert_array_equal(t.grad.data, np.ones((2, 2)))
    h = t.astype(np.float64)
    assert h.dtype == np.float64 and h.requires_grad
    assert t.to(np.float64).dtype == np.float64 and t.to("cpu") is t
    assert t.double().dtype == np.float64 and autograd.tensor([1.5]).long().dtype == np.int64
    with pytest.raises(ValueError, match="one element"):
        t.item()
    assert "requires_grad=True" in repr(t)
    assert hash(t) != hash(t.clone())
    np.testing.assert_array_equal(np.asarray(t), t.data)


def test_requires_grad_rules():
    t = autograd.tensor([1.0])
    assert t.requires_grad_() is t and t.requires_grad
    with pytest.raises(TypeError, match="int64"):
        autograd.tensor([1]).requires_grad_()
    with pytest.raises(TypeError, match="ragged|non-numeric"):
        autograd.tensor([[1.0], [2.0, 3.0]])
    with pytest.raises(RuntimeError, match="non-leaf"):
        (t * 2).requires_grad_(False)


def test_cast_gradient_flows_back_in_input_dtype():
    x = autograd.tensor([1.0, 2.0], requires_grad=True)
    (x.astype(np.float64) ** 2).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [2, 4])


def test_linspace_integer_dtype_truncates_toward_zero_as_pytorch():
    # torch.linspace(start, end, steps, dtype=torch.int32 / torch.int64) in PyTorch 2.13
    cases = {(-5, 5, 7): [-5, -3, -1, 0, 1, 3, 5], (-3.7, 3.7, 5): [-3, -1, 0, 1, 3],
             (-1, 1, 5): [-1, 0, 0, 0, 1], (0, 10, 4): [0, 3, 6, 10],
             (-10, -1, 4): [-10, -7, -4, -1], (-2.5, 3, 1): [-2]}
    for (start, end, steps), expected in cases.items():
        for dtype in (np.int32, np.int64):
            out = autograd.linspace(start, end, steps, dtype=dtype)
            assert out.dtype == dtype
            np.testing.assert_array_equal(out.data, expected, err_msg=str((start, end, steps)))


def test_clamp_without_bounds_raises_as_pytorch():
    x = autograd.tensor([1.0, 2.0])
    for fn in (lambda: x.clamp(), lambda: x.clamp(None, None), lambda: x.clip()):
        with pytest.raises(RuntimeError, match="At least one of 'min' or 'max' must not be None"):
            fn()
    np.testing.assert_array_equal(x.clamp(max=1.5).data, [1.0, 1.5])


def test_zero_dim_argmax_max_split_as_pytorch():
    z = autograd.tensor(3.5, requires_grad=True)
    for dim in (0, -1):
        for fn in (z.argmax, z.argmin):
            out = fn(dim)
            assert out.shape == () and out.dtype == np.int64 and out.item() == 0
        assert z.argmax(dim, keepdim=True).shape == ()
    for name in ("max", "min"):
        res = getattr(z, name)(0)
        values, indices = res  # a (values, indices) pair, like for other dims
        assert res.values is values and res.indices is indices
        assert values.shape == () and values.item() == 3.5
        assert indices.shape == () and indices.dtype == np.int64 and indices.item() == 0
        assert getattr(z, name)(-1, keepdim=True).values.shape == ()
        z.grad = None
        values.backward()
        assert z.grad.item() == 1.0
    for fn in (lambda: z.argmax(1), lambda: z.max(1), lambda: z.min(-2)):
        with pytest.raises(IndexError):
            fn()
    # PyTorch: "split expects at least a 1-dimensional tensor" (RuntimeError), also chunk
    for fn in (lambda: z.split(1), lambda: z.split([1]), lambda: z.chunk(1)):
        with pytest.raises(RuntimeError, match="1-dimensional"):
            fn()
    assert autograd.ones(0, 3).argmax(1).shape == (0,)  # reducing a non-empty dim is fine
    with pytest.raises(IndexError, match="argmax"):
        autograd.ones(0, 3).argmax()
