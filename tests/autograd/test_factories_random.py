"""Factories and sampling (API part 2): full_like empty_like rand_like randn_like
randint_like logspace (dtype=, device=), multinomial, bernoulli, normal, and
autograd.Generator accepted by the random factories as generator=."""
import numpy as np
import pytest

import autograd


def test_like_factories_take_shape_dtype_and_device():
    i, f = autograd.tensor([1, 2]), autograd.tensor([[1.0, 2.0, 3.0]])
    assert autograd.full_like(i, 2.7).tolist() == [2, 2]  # int64 like input (torch casts)
    y = autograd.full_like(f, 0.5, dtype=autograd.float64, device="cpu")
    assert y.dtype == np.float64 and y.tolist() == [[0.5] * 3]
    assert autograd.empty_like(f, dtype=autograd.int32).dtype == np.int32
    assert autograd.empty_like(f).shape == (1, 3)
    r = autograd.rand_like(f)
    assert r.shape == (1, 3) and r.dtype == np.float32 and ((0 <= r.data) & (r.data < 1)).all()
    assert autograd.randn_like(f, dtype=autograd.float64).dtype == np.float64
    k = autograd.randint_like(f, 5)
    assert k.dtype == np.float32 and set(k.tolist()[0]) <= {0, 1, 2, 3, 4}
    k = autograd.randint_like(i, 3, 5)
    assert k.dtype == np.int64 and set(k.tolist()) <= {3, 4}
    assert autograd.full_like(f, 1.0, requires_grad=True).requires_grad


def test_logspace_as_pytorch():
    assert autograd.logspace(0, 2, 3).tolist() == [1.0, 10.0, 100.0]
    assert autograd.logspace(0, 2, 3).dtype == np.float32
    two = autograd.logspace(0, 2, 3, base=2, dtype=autograd.int64)
    assert two.dtype == np.int64 and two.tolist() == [1, 2, 4]
    assert autograd.logspace(0, 1, 0).shape == (0,)
    np.testing.assert_allclose(autograd.logspace(-1, 1, 5, dtype=autograd.float64).data,
                               10.0 ** np.linspace(-1, 1, 5), rtol=1e-15)


def test_generator_makes_draws_reproducible_and_leaves_the_global_one_alone():
    g = autograd.Generator()
    assert g.initial_seed() == 67280421310721  # PyTorch's default seed
    assert g.manual_seed(3) is g and g.initial_seed() == 3
    assert str(g.device) == "cpu"
    draws = []
    for _ in range(2):
        g = autograd.Generator().manual_seed(0)
        draws.append([autograd.rand(3, generator=g).tolist(),
                      autograd.randn(2, generator=g).tolist(),
                      autograd.randint(0, 9, (4,), generator=g).tolist(),
                      autograd.multinomial(autograd.ones(5), 3, generator=g).tolist(),
                      autograd.rand_like(autograd.ones(2), generator=g).tolist()])
    assert draws[0] == draws[1]
    autograd.manual_seed(7)
    a = autograd.rand(4).tolist()
    autograd.manual_seed(7)
    autograd.rand(10, generator=autograd.Generator().manual_seed(1))
    assert autograd.rand(4).tolist() == a  # the global stream did not move
    g = autograd.Generator().manual_seed(5)
    state = g.get_state()
    first = autograd.rand(3, generator=g).tolist()
    g.set_state(state)
    assert autograd.rand(3, generator=g).tolist() == first
    seed = g.seed()
    assert isinstance(seed, int) and g.initial_seed() == seed


def test_multinomial_frequencies_and_without_replacement():
    g = autograd.Generator().manual_seed(0)
    w = autograd.tensor([1.0, 2.0, 7.0])  # unnormalised weights
    draws = autograd.multinomial(w, 20000, replacement=True, generator=g)
    assert draws.dtype == np.int64 and draws.shape == (20000,)
    freq = np.bincount(draws.data, minlength=3) / 20000
    np.testing.assert_allclose(freq, [0.1, 0.2, 0.7], atol=0.015)
    rows = autograd.tensor([[0.0, 1.0, 0.0, 1.0], [5.0, 0.0, 0.0, 0.0]])
    out = rows.multinomial(2, generator=g)
    assert out.shape == (2, 2)
    assert sorted(out.tolist()[0]) == [1, 3]  # without replacement: both non-zero ones
    assert out.tolist()[1][0] == 0
    assert autograd.multinomial(autograd.tensor([0.0, 1.0, 0.0]), 2).tolist()[0] == 1
    perm = autograd.multinomial(autograd.ones(6), 6, generator=g)
    assert sorted(perm.tolist()) == list(range(6))


def test_bernoulli_and_normal_statistics():
    g = autograd.Generator().manual_seed(1)
    p = autograd.full((20000,), 0.3)
    b = autograd.bernoulli(p, generator=g)
    assert b.dtype == np.float32 and set(np.unique(b.data)) <= {0.0, 1.0}
    assert abs(b.data.mean() - 0.3) < 0.015
    assert autograd.tensor([0.0, 1.0]).bernoulli().tolist() == [0.0, 1.0]
    assert autograd.ones(3).bernoulli(0.0).tolist() == [0.0, 0.0, 0.0]
    n = autograd.normal(2.0, 3.0, size=(20000,), generator=g)
    assert n.dtype == np.float32
    assert abs(n.data.mean() - 2.0) < 0.1 and abs(n.data.std() - 3.0) < 0.1
    m = autograd.normal(autograd.tensor([1.0, -5.0], dtype=autograd.float64),
                        autograd.tensor([0.0, 0.0], dtype=autograd.float64))
    assert m.dtype == np.float64 and m.tolist() == [1.0, -5.0]
    assert autograd.normal(autograd.zeros(2, 3), 1.0).shape == (2, 3)
    assert autograd.normal(0.0, autograd.ones(4)).shape == (4,)


def test_bad_inputs_raise_naming_the_op():
    with pytest.raises(RuntimeError, match="multinomial: probability tensor contains"):
        autograd.multinomial(autograd.tensor([-1.0, 1.0]), 1)
    with pytest.raises(RuntimeError, match="sum of probabilities <= 0"):
        autograd.multinomial(autograd.tensor([0.0, 0.0]), 1)
    with pytest.raises(RuntimeError, match="multinomial: only supports floating-point"):
        autograd.multinomial(autograd.tensor([1, 1]), 1)
    with pytest.raises(RuntimeError, match="multinomial: prob_dist must be 1 or 2 dim"):
        autograd.multinomial(autograd.ones(2, 2, 2), 1)
    with pytest.raises(RuntimeError, match="cannot sample n_sample \\(3\\) > "
                                           "prob_dist.size\\(-1\\) \\(2\\)"):
        autograd.multinomial(autograd.ones(2), 3)
    with pytest.raises(RuntimeError, match="bernoulli: expected every probability in"):
        autograd.bernoulli(autograd.tensor([1.5]))
    with pytest.raises(NotImplementedError, match="bernoulli: .*int64"):
        autograd.tensor([1, 0]).bernoulli()
    with pytest.raises(RuntimeError, match="normal: expects std >= 0.0"):
        autograd.normal(autograd.ones(2), -1.0)
    with pytest.raises(NotImplementedError, match="rand_like: .*int64"):
        autograd.rand_like(autograd.tensor([1, 2]))
    with pytest.raises(TypeError, match="generator must be an autograd.Generator"):
        autograd.rand(2, generator=5)
    saved = autograd.cuda._state.get("available")
    autograd.cuda._state["available"] = False  # a machine without CUDA, whatever this one has
    try:
        with pytest.raises(RuntimeError, match="full_like: cannot place a tensor on 'cuda"):
            autograd.full_like(autograd.ones(2), 1.0, device="cuda")
    finally:
        autograd.cuda._state.pop("available")
        if saved is not None:
            autograd.cuda._state["available"] = saved
    with pytest.raises(TypeError, match="full_like: argument 'input' must be a Tensor"):
        autograd.full_like([1.0], 2.0)
