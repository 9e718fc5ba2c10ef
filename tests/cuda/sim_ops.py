"""Ops on cuda equal the CPU backend: values and gradients (float32, rtol 1e-4).

Run on numba's CUDA simulator by test_simulator.py (NUMBA_ENABLE_CUDASIM=1 in a subprocess).
Sizes are small (the simulator runs every GPU thread as a Python thread) but cover several
blocks, several matmul tiles with ragged edges, broadcasting and the two-launch reduction.
"""
from __future__ import annotations

import numpy as np
import pytest
from sim_common import check_op, close, host, pair

import autograd
import nn

RNG = np.random.default_rng(0)


def rand(*shape, low=None) -> np.ndarray:
    a = RNG.standard_normal(shape).astype(np.float32)
    return np.abs(a) + low if low is not None else a


UNARY = {
    "exp": lambda x: x.exp(), "log": lambda x: x.log(), "sqrt": lambda x: x.sqrt(),
    "sin": lambda x: x.sin(), "cos": lambda x: x.cos(), "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(), "relu": lambda x: x.relu(), "abs": lambda x: abs(x),
    "neg": lambda x: -x, "leaky_relu": lambda x: x.leaky_relu(0.1),
    "pow_scalar": lambda x: x ** 3, "square": lambda x: x.square(),
    "silu": lambda x: nn.functional.silu(x), "rsub": lambda x: 1 - x,
    "rdiv": lambda x: 2 / x, "scale_shift": lambda x: x * 0.5 + 2,
}
POSITIVE = {"log", "sqrt", "rdiv"}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name: str) -> None:
    x = rand(5, 7, low=0.5) if name in POSITIVE else rand(5, 7)
    check_op(UNARY[name], x)


BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((3, 4), ()),
                 ((), (2, 3)), ((2, 3, 1, 5), (3, 4, 1)), ((1, 6), (5, 1))]


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "minimum"])
@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
def test_binary_broadcasting(op: str, shapes: tuple) -> None:
    a, b = rand(*shapes[0]), rand(*shapes[1])
    if op == "div":
        b = np.abs(b) + 0.5
    fn = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
          "div": lambda x, y: x / y, "maximum": autograd.maximum,
          "minimum": autograd.minimum}[op]
    check_op(fn, a, b)


REDUCTIONS = {
    "sum": lambda x: x.sum(), "sum0": lambda x: x.sum(0), "sum_last": lambda x: x.sum(-1),
    "sum_0_2_keepdim": lambda x: x.sum((0, 2), keepdim=True), "mean": lambda x: x.mean(),
    "mean1": lambda x: x.mean(1), "amax": lambda x: x.amax(), "amax1": lambda x: x.amax(1),
    "amin_0_2": lambda x: x.amin((0, 2)), "max": lambda x: x.max(), "var": lambda x: x.var(1),
    "std": lambda x: x.std(),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions(name: str) -> None:
    check_op(REDUCTIONS[name], rand(3, 4, 5))


SELECTIONS = {
    "max_dim": lambda x: x.max(1)[0], "min_dim_keepdim": lambda x: x.min(-1, keepdim=True)[0],
    "logsumexp": lambda x: x.logsumexp(1), "logsumexp_all": lambda x: x.logsumexp((0, 2)),
    "clamp": lambda x: x.clamp(-0.5, 0.7), "clamp_min": lambda x: x.clamp(min=0.1),
    "log_softmax_via_logsumexp": lambda x: x - x.logsumexp(-1, keepdim=True),
}


@pytest.mark.parametrize("name", sorted(SELECTIONS))
def test_selections(name: str) -> None:
    check_op(SELECTIONS[name], rand(3, 4, 5))


def test_argmax_argmin_and_accuracy() -> None:
    a = np.random.default_rng(7).standard_normal((6, 5)).astype(np.float32)
    a[2, 3] = np.nan  # numpy's rule: the first NaN wins
    c, d = pair(a, False)
    for fn in (lambda t: t.argmax(1), lambda t: t.argmin(0, keepdim=True),
               lambda t: t.argmax(), lambda t: t.max(1)[1]):
        got, want = fn(d), fn(c)
        assert got.is_cuda and got.dtype == np.int64
        np.testing.assert_array_equal(host(got), want.numpy())
    labels = autograd.tensor([0, 1, 2, 3, 4, 0], device="cuda")
    accuracy = (d.argmax(1) == labels).float().mean().item()
    assert accuracy == (c.argmax(1) == labels.cpu()).float().mean().item()


def test_whole_sum_of_many_elements_two_launches() -> None:
    """Above 4 x the partials (256 on the simulator) a whole sum runs in two launches."""
    check_op(lambda x: (x * x).sum(), rand(40, 31))
    check_op(lambda x: x.amax(), rand(1000))


MATMULS = {
    "2d_tiles": ((9, 7), (7, 10), lambda a, b: a @ b),
    "a_T": ((7, 9), (7, 10), lambda a, b: a.T @ b),
    "b_T": ((9, 7), (10, 7), lambda a, b: a @ b.T),
    "batched": ((2, 5, 6), (2, 6, 3), lambda a, b: a @ b),
    "broadcast_batch": ((2, 3, 5, 6), (6, 4), lambda a, b: a @ b),
    "broadcast_left": ((5, 6), (3, 6, 2), lambda a, b: a @ b),
    "batch_dims_broadcast": ((2, 1, 3, 4), (1, 3, 4, 2), lambda a, b: a @ b),
    "matvec": ((5, 6), (6,), lambda a, b: a @ b),
    "vecmat": ((6,), (6, 5), lambda a, b: a @ b),
    "linear": ((4, 6), (5, 6), lambda x, w: nn.functional.linear(x, w)),
    # several simulator tiles (8 x 8 outputs, 4 along k) with ragged edges in m, n and k
    "several_tiles": ((21, 13), (13, 19), lambda a, b: a @ b),
    "linear_several_tiles": ((21, 13), (19, 13), lambda x, w: nn.functional.linear(x, w)),
    "attention_scores": ((2, 3, 9, 5), (2, 3, 9, 5), lambda q, k: q @ k.mT),
    "broadcast_weight": ((3, 9, 5), (5, 10), lambda a, b: a @ b),
    "one_by_one": ((1, 1), (1, 1), lambda a, b: a @ b),
    "row_times_column": ((1, 7), (7, 1), lambda a, b: a @ b),
    "outer_k1": ((6, 1), (1, 7), lambda a, b: a @ b),
    "k_zero": ((3, 0), (0, 4), lambda a, b: a @ b),
}


@pytest.mark.parametrize("name", sorted(MATMULS))
def test_matmul(name: str) -> None:
    sa, sb, fn = MATMULS[name]
    check_op(fn, rand(*sa), rand(*sb))


def test_matmul_float64() -> None:
    a, b = np.random.default_rng(2).standard_normal((2, 5, 6, 7))
    check_op(lambda x, y: x @ y.mT, a, b, rtol=1e-12, atol=1e-12)


GEMM_SHAPES = [(1, 1, 1), (3, 5, 7), (1, 9, 6), (6, 9, 1), (19, 9, 17)]  # (m, k, n)


def _gemm(a: np.ndarray, b: np.ndarray, trans_a: bool, trans_b: bool, config: str,
          out=None) -> np.ndarray:
    from autograd.kernels.cuda import linalg, runtime
    got = linalg.gemm(runtime.to_device(a), runtime.to_device(b), trans_a, trans_b, out=out,
                      config=config)
    return runtime.to_host(got)


@pytest.mark.parametrize("config", ["large", "medium", "small"])
def test_gemm_each_configuration_edges_and_transposes(config: str) -> None:
    """Every tile configuration (the GPU's three, at simulator sizes) on shapes below one
    tile, of one row or column, and across several ragged tiles, in every layout."""
    rng = np.random.default_rng(3)
    for m, k, n in GEMM_SHAPES:
        for ta, tb in ((False, False), (True, False), (False, True), (True, True)):
            a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
            b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
            want = (a.T if ta else a).astype(np.float64) @ (b.T if tb else b)
            close(_gemm(a, b, ta, tb, config), want, rtol=1e-4, atol=1e-5)
    a, b = rng.standard_normal((9, 19)), rng.standard_normal((17, 9))  # float64, both T
    close(_gemm(a, b, True, True, config), a.T @ b.T, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("config", ["large", "medium", "small"])
def test_gemm_each_configuration_batch_broadcast_and_empty_k(config: str) -> None:
    rng = np.random.default_rng(4)
    a = rng.standard_normal((3, 10, 6)).astype(np.float32)
    w = rng.standard_normal((9, 6)).astype(np.float32)     # shared by the batch: stride 0
    close(_gemm(a, w, False, True, config), a @ w.T, rtol=1e-4, atol=1e-5)
    close(_gemm(w, a, False, True, config), w @ a.transpose(0, 2, 1), rtol=1e-4, atol=1e-5)
    from autograd.kernels.cuda import runtime
    out = runtime.full((3, 10, 9), 7.0, np.float32)         # k == 0: zeros, written into out
    got = _gemm(np.ones((3, 10, 0), np.float32), np.ones((0, 9), np.float32), False, False,
                config, out=out)
    np.testing.assert_array_equal(got, np.zeros((3, 10, 9), np.float32))


def test_gemm_batch_beyond_the_grid_limit_runs_in_chunks(monkeypatch) -> None:
    """A batch above the grid's z limit (65535 on a GPU; 2 here) launches in chunks, each
    reading its own slice of the operands (none for a broadcast one); too many column blocks
    for the grid's y limit raise, naming the shapes."""
    from autograd.kernels.cuda import linalg
    monkeypatch.setattr(linalg, "MAX_GRID_YZ", 2)
    rng = np.random.default_rng(5)
    a = rng.standard_normal((5, 6, 3)).astype(np.float32)
    b = rng.standard_normal((5, 3, 4)).astype(np.float32)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    close(_gemm(a, b, False, False, "small"), a @ b, rtol=1e-4, atol=1e-5)
    close(_gemm(a, w, False, False, "small"), a @ w, rtol=1e-4, atol=1e-5)
    bn = linalg.CONFIGS["small"][1]  # 4 on the simulator, 16 on a GPU
    with pytest.raises(ValueError, match=rf"{2 * bn + 1} output columns need 3 blocks of {bn}"
                                         r".*\(6, 3\)"):
        _gemm(np.ones((6, 3), np.float32), np.ones((3, 2 * bn + 1), np.float32), False, False,
              "small")


def test_gemm_configuration_chosen_by_output_size() -> None:
    """With 8 multiprocessors (what the simulator pretends to have): the largest tile once it
    gives each a block (float32 only), the medium one while a quarter get one, else 16 x 16
    (the tiles are the simulator's or the GPU's, whichever runs this)."""
    from autograd.kernels.cuda.linalg import CONFIGS, SIM_SMS, choose
    assert SIM_SMS == 8
    lm, ln = CONFIGS["large"][:2]
    mm, mn = CONFIGS["medium"][:2]
    assert choose(4 * lm, 2 * ln, 1, np.float32, sms=8) == "large"        # 4 x 2 blocks
    assert choose(4 * lm, 2 * ln, 1, np.float64, sms=8) == "medium"       # never the largest
    assert choose(4 * lm, ln, 1, np.float32, sms=8) == "medium"           # 4 large blocks
    assert choose(mm, mn, 2, np.float32, sms=8) == "medium"               # the batch counts
    assert choose(mm, mn // 2, 1, np.float32, sms=8) == "small"           # one medium block
    assert choose(1, 1, 1, np.float32, sms=8) == "small"
    with pytest.raises(ValueError, match="config must be one of"):
        _gemm(np.ones((2, 2), np.float32), np.ones((2, 2), np.float32), False, False, "huge")


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax(fn: str) -> None:
    x = rand(4, 9) * 10
    check_op(lambda t: getattr(t, fn)(-1), x)
    check_op(lambda t: getattr(t, fn)(2), rand(2, 3, 5))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy(reduction: str) -> None:
    x = rand(6, 5) * 3
    target = np.array([0, 4, 2, -100, 1, 4])
    weight = np.array([0.5, 1, 2, 1, 3], np.float32)
    for w in (None, weight):
        def loss(t, w=w):
            tgt = autograd.tensor(target, device=t.device)
            wt = None if w is None else autograd.tensor(w, device=t.device)
            return nn.functional.cross_entropy(t, tgt, weight=wt, reduction=reduction)
        check_op(loss, x)


def test_cross_entropy_loss_module_and_all_ignored() -> None:
    check_op(lambda t: nn.CrossEntropyLoss()(t, autograd.tensor([1, 0, 2], device=t.device)),
             rand(3, 4))
    x = autograd.tensor(rand(2, 3), device="cuda")
    loss = nn.functional.cross_entropy(x, autograd.tensor([-100, -100], device="cuda"))
    assert np.isnan(loss.item())  # 0 / 0, as PyTorch


def test_mse_and_layer_norm_compose_from_covered_ops() -> None:
    check_op(lambda a, b: nn.functional.mse_loss(a, b), rand(4, 3), rand(4, 3))
    check_op(lambda a: nn.functional.layer_norm(a, (5,)), rand(3, 5))


def test_where_and_comparisons() -> None:
    a, b = rand(3, 4), rand(3, 4)
    check_op(lambda x, y: autograd.where(x > y, x, y * 2), a, b)
    xa, xd = pair(a, False)
    for op in ("__gt__", "__ge__", "__lt__", "__le__", "__eq__", "__ne__"):
        got = getattr(xd, op)(0.1)
        assert got.dtype == np.bool_
        np.testing.assert_array_equal(host(got), getattr(xa, op)(0.1).numpy())


def test_shape_ops() -> None:
    check_op(lambda x: x.T, rand(3, 4))
    check_op(lambda x: x.permute(2, 0, 1).reshape(5, 12), rand(3, 4, 5))
    check_op(lambda x: x.unsqueeze(1).expand(3, 2, 4).flatten(), rand(3, 4))
    check_op(lambda x: x.transpose(0, 1).contiguous() if hasattr(x, "contiguous")
             else x.transpose(0, 1), rand(3, 4))


def test_gradient_accumulates_over_two_backwards() -> None:
    a = rand(3, 4)
    c, d = pair(a)
    for t in (c, d):
        (t * t).sum().backward()
        (t.exp()).sum().backward()
    close(host(d.grad), c.grad.numpy())


def test_transfers_and_casts() -> None:
    a = rand(2, 3)
    c, d = pair(a)
    assert d.is_cuda and d.get_device() == 0 and str(d.device) == "cuda:0"
    back = d.cpu()
    assert back.device.type == "cpu" and not back.is_cuda
    np.testing.assert_array_equal(back.numpy(), a)
    (back * 3).sum().backward()  # the copy is differentiable: the gradient lands on cuda
    close(host(d.grad), np.full(a.shape, 3, np.float32))
    d64 = d.double()
    assert d64.dtype == np.float64 and d64.is_cuda
    np.testing.assert_array_equal(host(d64), a.astype(np.float64))
    assert d.to("cuda") is d and c.to("cpu") is c
    assert d.to("cpu", np.float64).dtype == np.float64
    assert autograd.tensor(3.5, device="cuda").item() == 3.5
    assert d.detach().tolist() == a.tolist()
    assert "device='cuda:0'" in repr(d)


def test_factories_with_device() -> None:
    for make in (lambda dev: autograd.zeros(2, 3, device=dev),
                 lambda dev: autograd.ones(4, device=dev),
                 lambda dev: autograd.full((2, 2), 7.0, device=dev),
                 lambda dev: autograd.arange(5, device=dev),
                 lambda dev: autograd.eye(3, device=dev)):
        want, got = make("cpu"), make("cuda")
        assert got.is_cuda and got.dtype == want.dtype
        np.testing.assert_array_equal(host(got), want.numpy())
    autograd.manual_seed(4)
    want = autograd.randn(3, 2)
    autograd.manual_seed(4)
    got = autograd.randn(3, 2, device="cuda", requires_grad=True)
    assert got.is_leaf and got.requires_grad
    np.testing.assert_array_equal(host(got), want.numpy())
    like = autograd.zeros_like(got)
    assert like.is_cuda and like.shape == (3, 2)
    np.testing.assert_array_equal(host(autograd.ones_like(got)), np.ones((3, 2), np.float32))


def test_in_place_ops_on_cuda() -> None:
    a = rand(3, 3)
    c, d = pair(a, False)
    for t in (c, d):
        t.add_(1.5)
        t.mul_(2)
        t.sub_(t * 0.25)
    close(host(d), c.numpy())
    d.zero_()
    np.testing.assert_array_equal(host(d), np.zeros((3, 3), np.float32))
    d.fill_(2.5)
    np.testing.assert_array_equal(host(d), np.full((3, 3), 2.5, np.float32))


def test_shared_tiles_are_one_array_per_block_even_when_threads_race(monkeypatch) -> None:
    """numba-cuda's simulator made a block's shared array per line with an unlocked
    check-then-set: threads that asked at once got arrays of their own and the matmul
    computed garbage (seen once in CI, under load). Every allocation here sleeps, so each
    thread is switched out inside it: without runtime.py's lock the product is wrong."""
    import time

    from numba.cuda.simulator import kernelapi
    empty = kernelapi.np.empty

    def slow_empty(*args, **kwargs):
        time.sleep(0.002)
        return empty(*args, **kwargs)
    monkeypatch.setattr(kernelapi.np, "empty", slow_empty)
    rng = np.random.default_rng(9)
    a = rng.standard_normal((9, 7)).astype(np.float32)
    b = rng.standard_normal((7, 6)).astype(np.float32)
    for config in ("large", "medium", "small"):
        close(_gemm(a, b, False, False, config), a @ b, rtol=1e-4, atol=1e-5)
