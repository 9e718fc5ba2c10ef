"""The Optimizer base: parameter groups, zero_grad, step with a closure, checkpoints."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd
import optim

# One configuration per optimiser that creates every state buffer it has.
ALL_OPTIMIZERS = [
    (optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (optim.SGD, {"lr": 0.05, "momentum": 0.9, "dampening": 0.1}),
    (optim.Adagrad, {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    (optim.RMSprop, {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.01}),
    (optim.Adam, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}),
    (optim.AdamW, {"lr": 0.01, "amsgrad": True}),
    (optim.Adadelta, {"lr": 0.5, "rho": 0.8, "weight_decay": 0.01}),
    (optim.Adamax, {"lr": 0.01, "weight_decay": 0.01}),
    (optim.NAdam, {"lr": 0.01, "weight_decay": 0.01, "momentum_decay": 0.1}),
    (optim.NAdam, {"lr": 0.01, "weight_decay": 0.01, "decoupled_weight_decay": True}),
    (optim.RAdam, {"lr": 0.01, "betas": (0.9, 0.9), "weight_decay": 0.01}),
    (optim.RAdam, {"lr": 0.01, "betas": (0.9, 0.9), "weight_decay": 0.01,
                   "decoupled_weight_decay": True}),
]
IDS = [f"{cls.__name__}-{i}" for i, (cls, _) in enumerate(ALL_OPTIMIZERS)]


def make_params(dtype=np.float32):
    rng = np.random.default_rng(0)
    return [autograd.tensor(rng.normal(size=shape).astype(dtype), requires_grad=True)
            for shape in [(3, 4), (4,), ()]]


def set_grads(params, step):
    for i, p in enumerate(params):  # deterministic gradients that differ per step and param
        p.grad = autograd.tensor(np.cos(p.data * (step + 1) + i).astype(p.dtype))


def test_param_groups_use_their_own_options(backend):
    a = autograd.tensor([1.0, 2.0], requires_grad=True)
    b = autograd.tensor([3.0], requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[0]["momentum"] == 0 and opt.param_groups[1]["momentum"] == 0.9
    assert opt.param_groups[1]["params"] == [b]
    a.grad = autograd.tensor([1.0, -2.0])
    b.grad = autograd.tensor([2.0])
    opt.step()
    np.testing.assert_allclose(a.data, [0.9, 2.2], rtol=1e-6)
    np.testing.assert_allclose(b.data, [2.0], rtol=1e-6)


def test_params_without_grad_are_untouched(backend):
    a = autograd.tensor([1.0, 2.0], requires_grad=True)
    b = autograd.tensor([3.0, 4.0], requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = autograd.tensor([1.0, 1.0])
    before = b.data.copy()
    opt.step()
    np.testing.assert_array_equal(b.data, before)
    assert not opt.state.get(b)
    np.testing.assert_allclose(a.data, [0.9, 1.9], rtol=1e-6)


@pytest.mark.parametrize("cls,options", ALL_OPTIMIZERS, ids=IDS)
def test_float32_stays_float32(cls, options, backend):
    params = make_params(np.float32)
    opt = cls(params, **options)
    for step in range(2):
        set_grads(params, step)
        opt.step()
    for p in params:
        assert p.dtype == np.float32 and p.grad_fn is None and p.requires_grad
        assert all(v.dtype == np.float32 for v in opt.state[p].values()
                   if isinstance(v, np.ndarray))


def test_zero_grad():
    a = autograd.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([a], lr=0.1)
    a.grad = autograd.tensor([5.0, 6.0])
    grad_array = a.grad.data
    opt.zero_grad(set_to_none=False)
    assert a.grad.data is grad_array
    np.testing.assert_array_equal(grad_array, [0.0, 0.0])
    opt.zero_grad()
    assert a.grad is None


def test_step_with_closure_returns_the_loss():
    x = autograd.tensor([3.0], requires_grad=True)
    opt = optim.SGD([x], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        return loss

    with autograd.no_grad():  # the closure gets grad mode back
        loss = opt.step(closure)
    assert loss.item() == 9.0
    np.testing.assert_allclose(x.data, [3.0 - 0.25 * 6.0])


@pytest.mark.parametrize("cls,options", ALL_OPTIMIZERS, ids=IDS)
def test_step_with_closure_is_a_step_after_backward(cls, options, backend):
    # step(closure) re-evaluates the loss under enable_grad (even inside no_grad), returns
    # it, and then takes the same step as a backward by hand followed by step().
    def loss_of(params):
        return sum(((p * p).sum() * (i + 1) + p.sum().sin()) for i, p in enumerate(params))

    params, manual = make_params(np.float64), make_params(np.float64)
    opt, opt_manual = cls(params, **options), cls(manual, **options)
    calls = []

    def closure():
        opt.zero_grad()
        loss = loss_of(params)
        loss.backward()
        calls.append(loss.item())
        return loss

    for step in range(3):
        with autograd.no_grad():
            loss = opt.step(closure)
        opt_manual.zero_grad()
        want = loss_of(manual)
        want.backward()
        opt_manual.step()
        assert len(calls) == step + 1
        assert loss.item() == want.item()
        for p, q in zip(params, manual):
            np.testing.assert_array_equal(p.data, q.data)
    assert calls[2] < calls[0]  # the closure saw the updated parameters: descending


def test_step_builds_no_graph_and_invalidates_stale_graphs():
    x = autograd.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([x], lr=0.1)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    opt.step()
    assert x.is_leaf and x.grad_fn is None
    # The update wrote x in place, as PyTorch's does: the old graph may not be reused.
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_add_param_group_and_duplicates():
    a = autograd.tensor([1.0], requires_grad=True)
    b = autograd.tensor([2.0], requires_grad=True)
    opt = optim.Adagrad([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.2})
    assert opt.param_groups[1]["lr"] == 0.2 and opt.param_groups[1]["eps"] == 1e-10
    b.grad = autograd.tensor([1.0])
    opt.step()  # the new group's state is created on its first step
    np.testing.assert_allclose(b.data, [2.0 - 0.2], rtol=1e-6)
    with pytest.raises(ValueError):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError):
        optim.SGD([a, a], lr=0.1)
    with pytest.raises(ValueError):
        optim.SGD([{"params": [a]}, {"params": [a]}], lr=0.1)
    with pytest.raises(ValueError):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError):
        optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(TypeError):
        optim.SGD(a, lr=0.1)
    with pytest.raises(ValueError):  # a group's own options are checked too
        opt.add_param_group({"params": [autograd.tensor([0.0], requires_grad=True)], "lr": -1})


def test_state_dict_layout():
    params = make_params()
    opt = optim.Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.5}], lr=0.1)
    set_grads(params[1:], 0)
    params[0].grad = None
    opt.step()
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.1, 0.5]
    assert sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(sd["state"]) == [1, 2]
    assert sorted(sd["state"][1]) == ["exp_avg", "exp_avg_sq", "step"]
    assert sd["state"][1]["step"] == 1 and type(sd["state"][1]["step"]) is int
    # Only values that a checkpoint file can hold: plain Python values and numpy arrays.
    plain = (dict, list, tuple, int, float, str, bool, type(None), np.ndarray)

    def check(value):
        assert isinstance(value, plain), type(value)
        if isinstance(value, dict):
            for k, v in value.items():
                check(k)
                check(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                check(v)
    check(sd)


@pytest.mark.parametrize("cls,options", ALL_OPTIMIZERS, ids=IDS)
def test_state_dict_round_trip_continues_bit_identically(cls, options, backend):
    params = make_params()
    opt = cls([{"params": params[:2]}, {"params": params[2:], "lr": 0.03}], **options)
    for step in range(3):
        set_grads(params, step)
        opt.step()
    saved = opt.state_dict()

    copies = [autograd.tensor(p.data.copy(), requires_grad=True) for p in params]
    restored = cls([{"params": copies[:2]}, {"params": copies[2:]}], **options)
    restored.load_state_dict(saved)
    assert restored.param_groups[1]["lr"] == 0.03
    # The loaded state is a copy: scribbling on the saved dict changes nothing.
    for state in saved["state"].values():
        for value in state.values():
            if isinstance(value, np.ndarray):
                value.fill(np.nan)

    for step in range(3, 6):
        set_grads(params, step)
        set_grads(copies, step)
        opt.step()
        restored.step()
        for p, q in zip(params, copies):
            np.testing.assert_array_equal(p.data, q.data)


def test_state_dict_is_a_snapshot():
    p = autograd.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = autograd.tensor([1.0, 1.0])
    opt.step()
    saved = opt.state_dict()
    opt.step()
    np.testing.assert_array_equal(saved["state"][0]["momentum_buffer"], [1.0, 1.0])


def test_load_state_dict_rejects_a_different_layout():
    a, b = (autograd.tensor([1.0], requires_grad=True) for _ in range(2))
    saved = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError):
        optim.SGD([a], lr=0.1).load_state_dict(saved)


def test_import_optim_does_not_import_numba():
    code = ("import sys, autograd; before = 'numba' in sys.modules; import optim; "
            "assert ('numba' in sys.modules) == before")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
