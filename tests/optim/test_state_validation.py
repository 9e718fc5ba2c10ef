"""load_state_dict validates a checkpoint before the fused kernels index it (issue 11, item 1).

A state buffer of another size than its parameter used to reach the numba updates, which
loop over the parameter's size: out-of-bounds reads and writes (a segfault for a 1e6-element
parameter, values around -1.5e11 written into a 16-element one). Every buffer must now have
its parameter's shape and a real floating dtype, and ``step`` must be a whole number >= 0.
"""
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import autograd
import optim
from optim import fused

ROOT = Path(__file__).parents[2]


def adam_state(n: int = 16, **state):
    p = autograd.tensor(np.ones(n, np.float32), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    saved = {"step": 3, "exp_avg": np.zeros(n, np.float32), "exp_avg_sq": np.zeros(n, np.float32)}
    saved.update(state)
    sd = {"state": {0: saved}, "param_groups": [{**opt.param_groups[0], "params": [0]}]}
    return p, opt, sd


def sgd_state(n: int = 16, **state):
    p = autograd.tensor(np.ones(n, np.float32), requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    sd = opt.state_dict()
    sd["state"] = {0: state}
    return p, opt, sd


BAD_BUFFERS = {
    "too-small": (np.zeros(2, np.float32),
                  r"has shape \(2,\), but the parameter has shape \(16,\)"),
    "too-large": (np.zeros(64, np.float32),
                  r"has shape \(64,\), but the parameter has shape \(16,\)"),
    "2-d": (np.zeros((4, 4), np.float32),
            r"has shape \(4, 4\), but the parameter has shape \(16,\)"),
    "int": (np.zeros(16, np.int64), r"dtype int64"),
    "complex": (np.zeros(16, np.complex64), r"dtype complex64"),
    "bool": (np.zeros(16, bool), r"dtype bool"),
    "object": (np.zeros(16, object), r"dtype object"),
    "list": ([0.0] * 16, r"must be an array of shape \(16,\), got list"),
}


@pytest.mark.parametrize("name", ["exp_avg", "exp_avg_sq"])
@pytest.mark.parametrize("case", BAD_BUFFERS, ids=str)
def test_adam_rejects_a_bad_buffer(name, case):
    bad, message = BAD_BUFFERS[case]
    _, opt, sd = adam_state(**{name: bad})
    before = opt.state_dict()
    with pytest.raises(ValueError, match=rf"'{name}' of parameter 0 \(group 0, index 0\).*"
                                         + message):
        opt.load_state_dict(sd)
    assert opt.state_dict()["state"] == before["state"] == {}  # nothing half-loaded


@pytest.mark.parametrize("case", BAD_BUFFERS, ids=str)
def test_sgd_rejects_a_bad_momentum_buffer(case):
    bad, message = BAD_BUFFERS[case]
    _, opt, sd = sgd_state(momentum_buffer=bad)
    with pytest.raises(ValueError, match=r"'momentum_buffer' of parameter 0 \(group 0, index "
                                         r"0\).*" + message):
        opt.load_state_dict(sd)


@pytest.mark.parametrize("step", [-1, -1.0, float("nan"), float("inf"), 2.5, True, "3",
                                  np.array([1, 2]), 2 ** 60, None])
def test_a_bad_step_is_refused(step):
    _, opt, sd = adam_state(step=step)
    with pytest.raises(ValueError, match=r"'step' of parameter 0 \(group 0, index 0\) must be "
                                         r"a whole number in \[0, 2\*\*53\]"):
        opt.load_state_dict(sd)


@pytest.mark.parametrize("step,expected", [
    (0, 0), (7, 7), (7.0, 7), (np.int32(7), 7), (np.float32(7.0), 7), (np.array(7.0), 7),
    (autograd.tensor(7.0), 7), (2 ** 53, 2 ** 53)])
def test_steps_as_pytorch_saves_them_are_accepted(step, expected):
    p, opt, sd = adam_state(step=step)
    opt.load_state_dict(sd)
    restored = opt.state[p]["step"]
    assert type(restored) is int and restored == expected


def test_the_second_of_two_parameters_is_named():
    a = autograd.tensor(np.ones(3), requires_grad=True)
    b = autograd.tensor(np.ones((2, 5)), requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    sd = opt.state_dict()
    sd["state"] = {0: {"momentum_buffer": np.zeros(3)}, 1: {"momentum_buffer": np.zeros(10)}}
    with pytest.raises(ValueError, match=r"'momentum_buffer' of parameter 1 \(group 1, index 0\) "
                                         r"has shape \(10,\), but the parameter has shape "
                                         r"\(2, 5\)"):
        opt.load_state_dict(sd)


@pytest.mark.parametrize("cls,options,dropped", [
    (optim.Adam, {"amsgrad": True}, "max_exp_avg_sq"),
    (optim.Adam, {}, "exp_avg_sq"),
    (optim.RMSprop, {"momentum": 0.5}, "momentum_buffer"),
    (optim.RMSprop, {"centered": True}, "grad_avg"),
    (optim.Adagrad, {}, "sum"),
    (optim.Adadelta, {}, "acc_delta"),
    (optim.Adadelta, {}, "square_avg"),
    (optim.Adamax, {}, "exp_inf"),
    (optim.NAdam, {}, "mu_product"),
    (optim.NAdam, {}, "exp_avg_sq"),
    (optim.RAdam, {}, "exp_avg"),
])
def test_a_missing_buffer_is_refused(cls, options, dropped):
    p = autograd.tensor(np.ones(4), requires_grad=True)
    opt = cls([p], lr=0.1, **options)
    p.grad = autograd.tensor(np.ones(4))
    opt.step()
    sd = opt.state_dict()
    del sd["state"][0][dropped]
    fresh = cls([autograd.tensor(np.ones(4), requires_grad=True)], lr=0.1, **options)
    with pytest.raises(ValueError, match=rf"parameter 0 \(group 0, index 0\) lacks '{dropped}'"):
        fresh.load_state_dict(sd)


NEW_OPTIMIZER_BUFFERS = [(optim.Adadelta, "square_avg"), (optim.Adadelta, "acc_delta"),
                         (optim.Adamax, "exp_avg"), (optim.Adamax, "exp_inf"),
                         (optim.NAdam, "exp_avg"), (optim.NAdam, "exp_avg_sq"),
                         (optim.RAdam, "exp_avg"), (optim.RAdam, "exp_avg_sq")]


def stepped_state(cls, n=16):
    """A fresh optimiser of `cls` on a float32 parameter and a valid state_dict of one step."""
    p = autograd.tensor(np.ones(n, np.float32), requires_grad=True)
    opt = cls([p], lr=0.1)
    p.grad = autograd.tensor(np.ones(n, np.float32))
    opt.step()
    sd = opt.state_dict()
    return cls([autograd.tensor(np.ones(n, np.float32), requires_grad=True)], lr=0.1), sd


@pytest.mark.parametrize("cls,name", NEW_OPTIMIZER_BUFFERS,
                         ids=[f"{c.__name__}-{n}" for c, n in NEW_OPTIMIZER_BUFFERS])
@pytest.mark.parametrize("case", BAD_BUFFERS, ids=str)
def test_new_optimizers_reject_a_bad_buffer(cls, name, case):
    bad, message = BAD_BUFFERS[case]
    opt, sd = stepped_state(cls)
    sd["state"][0][name] = bad
    with pytest.raises(ValueError, match=rf"'{name}' of parameter 0 \(group 0, index 0\).*"
                                         + message):
        opt.load_state_dict(sd)
    assert opt.state_dict()["state"] == {}  # nothing half-loaded


@pytest.mark.parametrize("cls", [optim.Adadelta, optim.Adamax, optim.NAdam, optim.RAdam])
@pytest.mark.parametrize("step", [-1, float("nan"), 2.5, True, np.array([1, 2])])
def test_new_optimizers_refuse_a_bad_step(cls, step):
    opt, sd = stepped_state(cls)
    sd["state"][0]["step"] = step
    with pytest.raises(ValueError, match=r"'step' of parameter 0 \(group 0, index 0\) must be "
                                         r"a whole number"):
        opt.load_state_dict(sd)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), None, "0.5", True,
                                   np.array([0.5, 0.5]), np.ones(16, np.float32)])
def test_nadam_refuses_a_bad_mu_product(value):
    opt, sd = stepped_state(optim.NAdam)
    sd["state"][0]["mu_product"] = value
    with pytest.raises(ValueError, match=r"'mu_product' of parameter 0 \(group 0, index 0\) "
                                         r"must be a finite number"):
        opt.load_state_dict(sd)


@pytest.mark.parametrize("value", [0.5, np.float32(0.5), np.array(0.5), autograd.tensor(0.5)])
def test_nadam_takes_mu_product_as_pytorch_saves_it(value):
    opt, sd = stepped_state(optim.NAdam)
    sd["state"][0]["mu_product"] = value
    opt.load_state_dict(sd)
    restored = next(iter(opt.state.values()))["mu_product"]
    assert type(restored) is float and restored == 0.5


@pytest.mark.parametrize("change,message", [
    ({"lr": -1.0}, r"group 0: Invalid lr value: -1.0"),
    ({"lr": float("nan")}, r"group 0: Invalid lr value: nan"),
    ({"betas": (0.9, 1.5)}, r"group 0: Invalid beta parameter at index 1: 1.5"),
    ({"betas": (0.9, 0.99, 0.5)}, r"group 0: Invalid betas"),
    ({"eps": -1e-8}, r"group 0: Invalid eps value"),
])
def test_bad_group_options_are_refused(change, message):
    _, opt, sd = adam_state()
    sd["param_groups"][0].update(change)
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"] == 0.1


def test_state_for_an_unknown_or_repeated_index_is_refused():
    _, opt, sd = adam_state()
    sd["state"][5] = sd["state"].pop(0)
    with pytest.raises(ValueError, match=r"state for parameter index 5, which no parameter "
                                         r"group lists"):
        opt.load_state_dict(sd)
    a, b = (autograd.tensor(np.ones(2), requires_grad=True) for _ in range(2))
    opt = optim.SGD([a, b], lr=0.1)
    sd = opt.state_dict()
    sd["param_groups"][0]["params"] = [0, 0]
    with pytest.raises(ValueError, match=r"repeated parameter index 0 at position 1"):
        opt.load_state_dict(sd)


def test_float64_state_is_cast_to_a_float32_parameter():
    p = autograd.tensor(np.ones(4, np.float32), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    m = np.array([0.1, -0.2, 0.3, 1e-40])  # 1e-40: representable in float64, subnormal in f32
    v = np.array([0.01, 0.04, 0.09, 0.0])
    opt.load_state_dict({"state": {0: {"step": 2.0, "exp_avg": m, "exp_avg_sq": v}},
                         "param_groups": [{**opt.state_dict()["param_groups"][0]}]})
    state = opt.state[p]
    assert state["step"] == 2 and type(state["step"]) is int
    for name, want in (("exp_avg", m), ("exp_avg_sq", v)):
        assert state[name].dtype == np.float32 and state[name].flags.c_contiguous
        np.testing.assert_array_equal(state[name], want.astype(np.float32))
    # and it steps (fused under numba): one Adam step from that state, by hand in float64
    g = np.array([1.0, 1.0, -1.0, 0.5])
    p.grad = autograd.tensor(g.astype(np.float32))
    opt.step()
    m3 = 0.9 * m.astype(np.float32) + 0.1 * g
    v3 = 0.999 * v + 0.001 * g * g
    want = 1 - 0.1 / (1 - 0.9 ** 3) * m3 / (np.sqrt(v3) / np.sqrt(1 - 0.999 ** 3) + 1e-8)
    np.testing.assert_allclose(p.data, want, rtol=1e-5)


def test_a_state_dict_with_tensors_and_string_keys_round_trips():
    # PyTorch-style values: a 0-d tensor step, tensor buffers, and indices as strings (JSON)
    p = autograd.tensor(np.arange(3.0), requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    buf = autograd.tensor([1.0, 2.0, 3.0])
    opt.load_state_dict({"state": {"0": {"momentum_buffer": buf}},
                         "param_groups": [{**opt.state_dict()["param_groups"][0],
                                           "params": ["0"]}]})
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"], [1.0, 2.0, 3.0])
    assert opt.state[p]["momentum_buffer"] is not buf.data
    p.grad = autograd.tensor(np.ones(3))
    opt.step()
    np.testing.assert_allclose(p.data, np.arange(3.0) - 0.1 * (0.9 * np.array([1, 2, 3]) + 1))


def test_a_none_momentum_buffer_is_a_fresh_start():
    p, opt, sd = sgd_state(n=3, momentum_buffer=None)
    opt.load_state_dict(sd)
    p.grad = autograd.tensor(np.full(3, 2.0, np.float32))
    opt.step()
    np.testing.assert_allclose(p.data, 1 - 0.1 * 2.0)


@pytest.mark.parametrize("kind,make", [
    ("adam", "optim.Adam([p], lr=0.1)"),
    ("sgd", "optim.SGD([p], lr=0.1, momentum=0.9)"),
])
def test_a_hostile_checkpoint_on_a_large_parameter_raises_instead_of_crashing(kind, make):
    # Before the fix this segfaulted (or scribbled over the heap): a 2-element buffer for a
    # 1e6-element parameter, read and written for 1e6 elements by the fused kernel.
    code = textwrap.dedent(f"""
        import numpy as np, autograd, optim
        autograd.set_backend("numba")
        p = autograd.tensor(np.ones(1_000_000, np.float32), requires_grad=True)
        opt = {make}
        sd = opt.state_dict()
        small = np.zeros(2, np.float32)
        sd["state"] = {{0: {{"step": 5, "exp_avg": small, "exp_avg_sq": small,
                            "momentum_buffer": small}}}}
        try:
            opt.load_state_dict(sd)
        except ValueError as e:
            assert "(2,)" in str(e) and "(1000000,)" in str(e), e
            print("REFUSED")
        else:
            p.grad = autograd.tensor(np.ones(1_000_000, np.float32))
            opt.step()
            print("STEPPED", float(p.data.min()))
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, check=False,
                          text=True, timeout=300)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert proc.stdout.strip() == "REFUSED"


def test_a_gradient_array_replaced_behind_the_setter_is_refused(backend):
    p = autograd.tensor(np.ones(16), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = autograd.tensor(np.ones(16))
    p.grad.data = np.ones(2)
    with pytest.raises(RuntimeError, match=r"gradient has shape \(2,\) but its parameter has "
                                           r"shape \(16,\)"):
        opt.step()
    np.testing.assert_array_equal(p.data, np.ones(16))


# ---- the fused kernels' own boundary check ----------------------------------------------------

# Each case calls one fused update with arrays that disagree. Before the check the kernels
# read and wrote past the end of the smaller arrays, so the calls run in a subprocess.
FUSED_SCRIPT = """
import json, numpy as np
from optim import fused
CASES = {"small-state": dict(n_buf=2), "large-state": dict(n_buf=64),
         "small-grad": dict(n_buf=16, grad_n=2), "int-state": dict(n_buf=16, buf=np.int64),
         "float32-state": dict(n_buf=16, buf=np.float32)}
def arrays(n_buf, grad_n=16, buf=np.float64):
    return np.ones(16), np.ones(grad_n), np.zeros(n_buf, buf)
CALLS = {
    "sgd_update": lambda p, g, b: fused.sgd_update(p, g, b, 0.1, 0.9, 0.0, 0.0, False, False,
                                                   False),
    "adagrad_update": lambda p, g, b: fused.adagrad_update(p, g, b, 0.1, 0.0, 1e-10, False),
    "rmsprop_update": lambda p, g, b: fused.rmsprop_update(p, g, b, b.copy(), b.copy(), 0.1,
                                                           0.99, 1e-8, 0.0, 0.5, True, False),
    "adam_update": lambda p, g, b: fused.adam_update(p, g, b, b.copy(), b.copy(), 1.0, 0.0,
                                                     0.9, 0.999, 0.1, 0.5, 1e-8, True, False),
    "adadelta_update": lambda p, g, b: fused.adadelta_update(p, g, b, b.copy(), 1.0, 0.9, 1e-6,
                                                             0.0, False),
    "adamax_update": lambda p, g, b: fused.adamax_update(p, g, b, b.copy(), 0.1, 0.9, 0.999,
                                                         1e-8, 0.0, False),
    "nadam_update": lambda p, g, b: fused.nadam_update(p, g, b, b.copy(), 1.0, 0.0, 0.9, 0.999,
                                                       0.1, 1e-8, 0.1, 0.1, False),
    "radam_update": lambda p, g, b: fused.radam_update(p, g, b, b.copy(), 1.0, 0.0, 0.9, 0.999,
                                                       0.1, 0.5, 0.5, 0.5, 1e-8, False),
}
out = {}
for kernel, call in CALLS.items():
    for case, kw in CASES.items():
        p, g, b = arrays(**kw)
        try:
            call(p, g, b)
            out[kernel + "/" + case] = "no error; param changed: " + str(bool((p != 1).any()))
        except ValueError as e:
            out[kernel + "/" + case] = "ValueError: " + str(e)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def fused_results():
    proc = subprocess.run([sys.executable, "-c", FUSED_SCRIPT], cwd=ROOT, capture_output=True, check=False,
                          text=True, timeout=300)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", ["small-state", "large-state", "small-grad", "int-state",
                                  "float32-state"])
@pytest.mark.parametrize("kernel", ["sgd_update", "adagrad_update", "rmsprop_update",
                                    "adam_update", "adadelta_update", "adamax_update",
                                    "nadam_update", "radam_update"])
def test_fused_updates_refuse_inconsistent_arrays(fused_results, kernel, case):
    assert re.fullmatch(rf"ValueError: {kernel}: every array must have the parameter's shape "
                        r"and dtype .*param \(16,\) float64, grad \(\d+,\) float64, .*",
                        fused_results[f"{kernel}/{case}"])


def test_fused_updates_refuse_a_non_contiguous_state():
    param, grad = np.ones(8), np.ones(8)
    buf = np.zeros(16)[::2]
    with pytest.raises(ValueError, match=r"sgd_update: .*momentum_buffer \(8,\) float64 "
                                         r"non-contiguous"):
        fused.sgd_update(param, grad, buf, 0.1, 0.9, 0.0, 0.0, False, False, False)
    np.testing.assert_array_equal(param, np.ones(8))


def test_can_fuse_looks_at_the_state_buffers():
    a = np.zeros(4, np.float32)
    assert fused.can_fuse(a, a, a, a)
    assert not fused.can_fuse(a, a, a.astype(np.float64))
    assert not fused.can_fuse(a, a, np.zeros(8, np.float32)[::2])
