"""Determinism: with autograd.manual_seed, training runs repeat bit for bit on the numba
backend, in one process and across processes (whatever the hash seed)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import autograd

from .helpers import requires_nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_random_factories_repeat():
    def draw():
        autograd.manual_seed(123)
        return [autograd.rand(3, 4).data, autograd.randn(5).data,
                autograd.randint(0, 10, (6,)).data]

    for a, b in zip(draw(), draw()):
        np.testing.assert_array_equal(a, b)


def test_data_loader_shuffle_repeats():
    from autograd.data import DataLoader, TensorDataset

    x = np.arange(50, dtype=np.float32)[:, None]

    def order():
        loader = DataLoader(TensorDataset(x, np.arange(50)), batch_size=8, shuffle=True, seed=7)
        return [yb.data.tolist() for _ in range(2) for _, yb in loader]

    first, second = order(), order()
    assert first == second
    assert first[:7] != first[7:]  # reshuffled every epoch


def _synthetic_digits(seed=0, n=96):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 10, n)
    return x, y


def _train_demo_model(steps=12, backend="numba", kind="cnn"):
    """The CLI demo's model, optimiser and schedule on synthetic 8x8 digits."""
    import nn
    import optim
    from autograd.cli.demo import build_model, build_schedule
    from autograd.data import DataLoader, TensorDataset

    autograd.set_backend(backend)
    autograd.manual_seed(0)
    x, y = _synthetic_digits()
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, seed=0)
    model = build_model(kind)
    opt = optim.Adam(model.parameters(), lr=3e-3)
    sched = build_schedule(opt, steps)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    while len(losses) < steps:
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break
    return np.array(losses), {k: v.data.copy() for k, v in model.state_dict().items()}


@requires_nn
@pytest.mark.parametrize("kind", ["cnn", "mlp"])
def test_demo_model_training_is_bit_identical(kind):
    (l1, s1), (l2, s2) = _train_demo_model(kind=kind), _train_demo_model(kind=kind)
    assert l1.tobytes() == l2.tobytes(), (l1, l2)
    assert s1.keys() == s2.keys()
    for k in s1:
        assert s1[k].tobytes() == s2[k].tobytes(), k


@requires_nn
def test_dropout_is_reproducible():
    import nn

    def run():
        autograd.manual_seed(5)
        layer = nn.Dropout(0.5)
        return [layer(autograd.ones(4, 6)).data for _ in range(3)]

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)


@requires_nn
def test_numba_and_numpy_backends_agree_on_training():
    """Same seed on both backends: losses agree to float32 tolerance (they need not be
    bit-identical: the kernels may sum in a different order)."""
    l_numba, _ = _train_demo_model(steps=6, backend="numba")
    l_numpy, _ = _train_demo_model(steps=6, backend="numpy")
    np.testing.assert_allclose(l_numba, l_numpy, rtol=1e-4)


_CHILD = """
import json, sys
sys.path.insert(0, {root!r})
from tests.reliability.test_determinism import _train_demo_model
losses, state = _train_demo_model(steps=6)
print(json.dumps({{"losses": losses.tolist(), "state": {{k: v.ravel().tolist()[:50]
                                                      for k, v in state.items()}}}}))
"""


@requires_nn
def test_training_is_bit_identical_across_processes():
    """Two fresh interpreters with different hash seeds (set / dict-of-object iteration
    order, id-based ordering) train to the same bits."""
    out = []
    for hash_seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        proc = subprocess.run([sys.executable, "-c", _CHILD.format(root=ROOT)], env=env,
                              capture_output=True, text=True, timeout=300, cwd=ROOT,
                              check=False)
        assert proc.returncode == 0, proc.stderr[-3000:]
        out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert out[0] == out[1]


@requires_nn
def test_cli_demo_is_bit_identical(tmp_path, capsys):
    pytest.importorskip("sklearn", reason="the CLI demo needs scikit-learn's digits")
    from autograd.cli import main

    results = []
    for run in ("a", "b"):
        ckpt = tmp_path / f"{run}.ckpt"
        assert main(["demo", "--epochs", "1", "--limit", "200", "--out", str(ckpt),
                     "--no-progress"]) == 0
        printed = capsys.readouterr().out
        accuracy = [line for line in printed.splitlines() if "test accuracy" in line]
        results.append((autograd.load(str(ckpt)), accuracy[0].split("(")[0]))
    (a, acc_a), (b, acc_b) = results
    assert acc_a == acc_b
    assert a["model"].keys() == b["model"].keys()
    for k in a["model"]:
        assert a["model"][k].data.tobytes() == b["model"][k].data.tobytes(), k


_PARALLEL_CHILD = """
import sys
sys.path.insert(0, {root!r})
import numba
from tests.reliability.test_determinism import _train_demo_model
first, s1 = _train_demo_model(steps=6)
second, s2 = _train_demo_model(steps=6)
try:
    layer = numba.threading_layer()
except ValueError:
    layer = "none"
same = first.tobytes() == second.tobytes() and all(s1[k].tobytes() == s2[k].tobytes()
                                                   for k in s1)
print(layer, "same" if same else "DIFFERENT")
"""


@requires_nn
def test_training_with_parallel_kernels_is_bit_identical(parallel_numba_cache):
    """With a numba cache holding the kernels' parallel (prange) variants (a warm default
    cache may hold only serial ones, see test_numba_cache.py), two training runs in one
    process agree to the bit."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(parallel_numba_cache))
    proc = subprocess.run([sys.executable, "-c", _PARALLEL_CHILD.format(root=ROOT)], env=env,
                          capture_output=True, text=True, timeout=300, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    layer, verdict = proc.stdout.strip().splitlines()[-1].split()
    assert verdict == "same", f"threading layer {layer}"
