"""autograd.compile: a recorded step replays to the eager results, state updates included."""
from __future__ import annotations

import numpy as np
import pytest

import autograd
import nn
import optim
from autograd import Tensor, function


def _data(shape_x, n_classes, steps, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [(autograd.tensor(rng.standard_normal(shape_x).astype(dtype)),
             autograd.tensor(rng.integers(0, n_classes, shape_x[0])))
            for _ in range(steps)]


def _train(make, data, compiled: bool, loss_fn=None):
    """Train a fresh model (seeded) over `data`, eagerly or compiled; return the losses,
    the model, the optimiser and the step."""
    autograd.manual_seed(0)
    model, opt = make()
    loss_fn = loss_fn or nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.detach()

    run = autograd.compile(step) if compiled else step
    losses = [run(x, y).data.item() for x, y in data]
    return np.array(losses), model, opt, run


def _assert_same_training(make, data, rtol=1e-4, atol=1e-5, loss_fn=None):
    le, me, oe, _ = _train(make, data, False, loss_fn)
    lc, mc, oc, run = _train(make, data, True, loss_fn)
    np.testing.assert_allclose(lc, le, rtol=rtol, atol=atol)
    for (name, p), (_, q) in zip(me.named_parameters(), mc.named_parameters()):
        np.testing.assert_allclose(q.data, p.data, rtol=rtol, atol=atol, err_msg=name)
        np.testing.assert_allclose(q.grad.data, p.grad.data, rtol=rtol, atol=atol, err_msg=name)
    for (name, b), (_, c) in zip(me.named_buffers(), mc.named_buffers()):
        np.testing.assert_allclose(c.data, b.data, rtol=rtol, atol=atol, err_msg=name)
    for pe, pc in zip(me.parameters(), mc.parameters()):
        se, sc = oe.state[pe], oc.state[pc]
        assert se.keys() == sc.keys()
        for key in se:
            np.testing.assert_allclose(np.asarray(sc[key]), np.asarray(se[key]), rtol=rtol,
                                       atol=atol, err_msg=key)
    return run


def _mlp():
    model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 16), nn.Tanh(),
                          nn.Linear(16, 5))
    return model, optim.Adam(model.parameters(), lr=1e-2)


def test_mlp_adam_twenty_steps_match_eager(backend):
    run = _assert_same_training(_mlp, _data((8, 20), 5, 20))
    text = run.explain()
    assert "replayed 19x" in text
    if backend == "numba":  # the bias add and the activation: one generated kernel
        assert "fused(add, relu)" in text and "def fused_serial" in text
    else:  # the numpy reference backend runs each kernel as recorded, nothing fused
        assert "fused" not in text


class _Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 8, 3)
        self.bn2 = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8 * 3 * 3, 3)

    def forward(self, x):
        x = nn.functional.max_pool2d(self.bn1(self.conv1(x)).relu(), 2)
        x = self.bn2(self.conv2(x)).relu()
        return self.fc(x.flatten(1))


def _cnn():
    model = _Cnn()
    return model, optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


def test_cnn_with_batchnorm_train_and_eval_match_eager():
    data = _data((6, 1, 10, 10), 3, 20, seed=1)
    _assert_same_training(_cnn, data)
    # eval mode: running statistics are used, and a mode switch records again
    _, me, _, _ = _train(_cnn, data[:5], False)
    _, mc, _, _ = _train(_cnn, data[:5], True)
    me.eval()
    mc.eval()
    infer = autograd.compile(lambda x: mc(x).detach())
    for x, _ in data[5:9]:
        np.testing.assert_allclose(infer(x).data, me(x).data, rtol=1e-4, atol=1e-5)
    mc.train()
    me.train()
    with autograd.no_grad():
        out = infer(data[0][0]).data  # training mode: batch statistics, a new recording
    with autograd.no_grad():
        np.testing.assert_allclose(out, me(data[0][0]).data, rtol=1e-4, atol=1e-5)
    # (eval, grad on) and (train, grad off): one recording each
    assert len([r for rs in infer.recordings.values() for r in rs]) == 2
    for (name, b), (_, c) in zip(me.named_buffers(), mc.named_buffers()):
        np.testing.assert_allclose(c.data, b.data, rtol=1e-4, atol=1e-5, err_msg=name)


class _Block(nn.Module):
    """A pre-norm transformer block over token embeddings, as in minGPT."""

    def __init__(self, vocab=11, width=16, heads=2, length=6):
        super().__init__()
        self.tok = nn.Embedding(vocab, width)
        self.pos = nn.Embedding(length, width)
        self.ln1 = nn.LayerNorm(width)
        # no in-projection bias: the key bias has a zero gradient, which AdamW would turn
        # into steps of rounding noise (eager and compiled alike, but not the same noise)
        self.attn = nn.MultiheadAttention(width, heads, bias=False, batch_first=True)
        self.ln2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width,
                                                                                     width))
        self.head = nn.Linear(width, vocab)
        self.length = length

    def forward(self, idx):
        t = idx.shape[1]
        x = self.tok(idx) + self.pos(autograd.arange(t))
        h = self.ln1(x)
        mask = autograd.ones(t, t, dtype=autograd.bool).triu(1)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        x = x + self.mlp(self.ln2(x))
        return self.head(x)


def _gpt_data(steps, seed=3):
    rng = np.random.default_rng(seed)
    return [(autograd.tensor(rng.integers(0, 11, (4, 6))),
             autograd.tensor(rng.integers(0, 11, (4, 6)))) for _ in range(steps)]


def test_attention_block_adamw_matches_eager():
    def make():
        model = _Block()
        return model, optim.AdamW(model.parameters(), lr=3e-3)

    def loss_fn(logits, y):
        return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    _assert_same_training(make, _gpt_data(20), loss_fn=loss_fn)


def test_a_new_shape_records_again_and_stays_correct():
    data = _data((8, 20), 5, 4) + _data((3, 20), 5, 3, seed=5) + _data((8, 20), 5, 3, seed=6)
    run = _assert_same_training(_mlp, data)
    assert len(run.recordings) == 2  # batch 8 and batch 3: one recording each
    assert sum(r.replays for rs in run.recordings.values() for r in rs) == len(data) - 2


def test_scheduler_and_accumulation_inside_the_step_are_replayed():
    data = _data((8, 20), 5, 12, seed=7)

    def train(compiled):
        autograd.manual_seed(0)
        model, _ = _mlp()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
        sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

        def step(x, y):  # no zero_grad: gradients accumulate across steps, as eagerly
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            sched.step()
            return loss.detach()
        run = autograd.compile(step) if compiled else step
        return [run(x, y).data.item() for x, y in data], model, opt
    le, me, oe = train(False)
    lc, mc, oc = train(True)
    np.testing.assert_allclose(lc, le, rtol=1e-4, atol=1e-6)
    assert oc.param_groups[0]["lr"] == oe.param_groups[0]["lr"] == 0.1 * 0.5 ** 6
    for p, q in zip(me.parameters(), mc.parameters()):
        np.testing.assert_allclose(q.grad.data, p.grad.data, rtol=1e-4, atol=1e-6)


def test_values_computed_without_a_graph_are_replayed():
    """Comparisons and argmax (no Function) computed inside the step follow the data."""
    autograd.manual_seed(0)
    model, _ = _mlp()

    def accuracy(x, y):
        with autograd.no_grad():
            return (model(x).argmax(1) == y).sum(), model(x).max(1).indices

    run = autograd.compile(accuracy)
    for x, y in _data((16, 20), 5, 5, seed=9):
        correct, idx = run(x, y)
        with autograd.no_grad():
            logits = model(x).data
        assert correct.data.item() == int((logits.argmax(1) == y.data).sum())
        np.testing.assert_array_equal(idx.data, logits.argmax(1))


def test_item_inside_a_compiled_step_names_the_line():
    model, _ = _mlp()

    def step(x):
        loss = model(x).sum()
        if loss.item() > 0:  # data-dependent control flow
            loss = loss * 2
        return loss.detach()
    run = autograd.compile(step)
    with pytest.raises(RuntimeError, match=r"Tensor\.item\(\).*test_compile\.py:\d+: if loss"):
        run(autograd.randn(4, 20))
    for read in (lambda t: bool(t.sum() > 0), lambda t: t.tolist(), lambda t: t.numpy(),
                 lambda t: f"{t.sum():.3f}"):
        with pytest.raises(RuntimeError, match="autograd.compile"):
            autograd.compile(read)(autograd.randn(3))


def test_dropout_draws_fresh_masks_from_the_eager_generator():
    drop = nn.Dropout(0.5)
    run = autograd.compile(lambda x: drop(x))
    x = autograd.ones(2000)
    autograd.manual_seed(11)
    compiled = [run(x).data for _ in range(4)]
    autograd.manual_seed(11)
    eager = [drop(x).data for _ in range(4)]
    for c, e in zip(compiled, eager):
        np.testing.assert_array_equal(c, e)  # the same draws, in the same order
    assert not np.array_equal(compiled[1], compiled[2])  # each replay draws a new mask
    zeros = np.mean([np.mean(c == 0) for c in compiled])
    assert abs(zeros - 0.5) < 0.03
    assert set(np.unique(np.concatenate(compiled))) == {0.0, 2.0}


def test_fused_kernel_equals_the_unfused_kernels_values_and_gradients():
    rng = np.random.default_rng(4)
    a0 = rng.standard_normal((64, 33))
    bias = rng.standard_normal(33)

    def f(a, b):
        a.requires_grad_(False)
        w = autograd.tensor(a0, requires_grad=True)
        y = ((w * a + b).tanh() * 0.5 - a.exp() / (b.abs() + 1)).sigmoid().relu()
        y.sum().backward()
        return y.detach(), w.grad

    for dtype in (np.float32, np.float64):
        a = autograd.tensor(rng.standard_normal((64, 33)).astype(dtype))
        b = autograd.tensor(bias.astype(dtype))
        run = autograd.compile(f)
        run(a, b)
        a2 = autograd.tensor(rng.standard_normal((64, 33)).astype(dtype))
        y_c, g_c = run(a2, b)
        y_e, g_e = f(a2, b)
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(y_c.data, y_e.data, rtol=tol, atol=tol)
        np.testing.assert_allclose(g_c.data, g_e.data, rtol=tol, atol=tol)
        assert ("fused(" in run.explain()) == (autograd.get_backend() == "numba")


def test_a_replay_creates_no_graph_objects(monkeypatch):
    run = _assert_same_training(_mlp, _data((8, 20), 5, 3))
    made = []
    original = function.Function.__dict__["apply"]

    def counting(cls, *inputs, **kwargs):
        made.append(cls)
        return original.__func__(cls, *inputs, **kwargs)
    monkeypatch.setattr(function.Function, "apply", classmethod(counting))
    tensors = []
    wrap = Tensor.__dict__["wrap"]

    def counting_wrap(*args, **kwargs):
        tensors.append(1)
        return wrap.__func__(*args, **kwargs)
    monkeypatch.setattr(Tensor, "wrap", staticmethod(counting_wrap))
    x, y = _data((8, 20), 5, 1, seed=8)[0]
    run(x, y)
    assert made == []
    assert len(tensors) <= 1 + 6  # the returned loss, the .grad of six parameters at most


def test_inputs_that_require_grad_are_refused_and_graph_results_run_eagerly():
    with pytest.raises(RuntimeError, match="requires grad"):
        autograd.compile(lambda x: x * 2)(autograd.randn(3, requires_grad=True))
    w = autograd.randn(3, requires_grad=True)
    run = autograd.compile(lambda x: (x * w).sum())
    out = run(autograd.randn(3))
    assert out.requires_grad  # a result with a graph: the function runs eagerly
    out.backward()
    assert w.grad is not None
    assert "runs eagerly" in run.explain()


def test_replaced_parameters_record_again():
    data = _data((8, 20), 5, 6, seed=12)
    autograd.manual_seed(0)
    model, _ = _mlp()
    step = autograd.compile(lambda x: model(x).sum().detach())
    step(data[0][0])
    step(data[1][0])
    model[0].weight.data = model[0].weight.data * 2  # a new array: the guard notices
    with autograd.no_grad():
        expected = model(data[2][0]).sum().data
    np.testing.assert_allclose(step(data[2][0]).data, expected, rtol=1e-5)
    assert len(next(iter(step.recordings.values()))) == 2


def test_compile_checks_its_argument_and_explains_before_recording():
    with pytest.raises(TypeError, match="callable"):
        autograd.compile(3)
    run = autograd.compile(lambda x: x)
    assert "nothing recorded" in run.explain()
    with pytest.raises(TypeError, match="numpy arrays"):
        run(np.ones(3))


def test_inputs_are_handed_over_without_writes_and_results_are_fresh():
    rng = np.random.default_rng(13)
    run = autograd.compile(lambda a, b, c: a * b + c)  # fused: one FMA, hence atol
    results = []
    for _ in range(3):
        a, b, c = (autograd.tensor(rng.standard_normal((50, 40)).astype(np.float32))
                   for _ in range(3))
        kept = [t.data.copy() for t in (a, b, c)]
        out = run(a, b, c)
        np.testing.assert_allclose(out.data, kept[0] * kept[1] + kept[2], rtol=1e-6, atol=1e-6)
        for t, before in zip((a, b, c), kept):
            np.testing.assert_array_equal(t.data, before)  # the caller's arrays: untouched
        results.append((out, kept))
    for out, (a, b, c) in results:  # earlier results are not overwritten by later calls
        np.testing.assert_allclose(out.data, a * b + c, rtol=1e-6, atol=1e-6)
    # a transposed (non-contiguous) input is copied in, and gives the same answer
    a = autograd.tensor(rng.standard_normal((40, 50)).astype(np.float32)).T
    b, c = (autograd.tensor(rng.standard_normal((50, 40)).astype(np.float32)) for _ in range(2))
    np.testing.assert_allclose(run(a, b, c).data, a.data * b.data + c.data, rtol=1e-6,
                               atol=1e-6)


def test_in_place_writes_to_an_input_never_reach_the_callers_tensor():
    def f(x):
        x.mul_(2)
        return x + 1
    run = autograd.compile(f)
    for k in range(3):
        x = autograd.full((4,), float(k))
        np.testing.assert_array_equal(run(x).data, np.full(4, 2.0 * k + 1))
        np.testing.assert_array_equal(x.data, np.full(4, float(k)))


def test_grad_assignments_in_the_step_are_replayed():
    x = autograd.tensor([0.5, -1.0, 2.0], requires_grad=True)

    def step():
        x.grad = None  # each call starts from no gradient, as eagerly
        (x * x).sum().backward()
        return x.grad
    run = autograd.compile(step)
    for _ in range(4):
        np.testing.assert_allclose(run().data, [1.0, -2.0, 4.0])
    np.testing.assert_allclose(x.grad.data, [1.0, -2.0, 4.0])


def test_compiled_functions_do_not_nest_and_data_dependent_views_refuse_to_replay():
    inner = autograd.compile(lambda x: x * 2)
    outer = autograd.compile(lambda x: inner(x) + 1)
    with pytest.raises(RuntimeError, match="do not nest"):
        outer(autograd.ones(3))
    pick = autograd.compile(lambda x, i: x[i] * 2)  # a row chosen by a tensor's value
    x = autograd.tensor(np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(pick(x, autograd.tensor(1)).data, [4.0, 6.0])
    np.testing.assert_array_equal(pick(x, autograd.tensor(1)).data, [4.0, 6.0])
    with pytest.raises(RuntimeError, match="cannot be replayed"):
        pick(x, autograd.tensor(2))
