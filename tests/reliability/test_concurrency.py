"""Concurrency: grad mode (and anomaly mode) are thread-local, and threads training separate
models at the same time get exactly what they get one after the other."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import autograd

from .helpers import leaf, requires_nn

JOIN_TIMEOUT = 120  # a deadlock fails the test instead of hanging CI


def _run_threads(targets):
    """Start one thread per target at the same moment (a barrier); re-raise the first error."""
    barrier = threading.Barrier(len(targets))
    errors, results = [None] * len(targets), [None] * len(targets)

    def wrap(i, fn):
        try:
            barrier.wait()
            results[i] = fn()
        except BaseException as e:  # noqa: BLE001 - reported in the main thread
            errors[i] = e

    threads = [threading.Thread(target=wrap, args=(i, fn), daemon=True)
               for i, fn in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a thread deadlocked"
    for e in errors:
        if e is not None:
            raise e
    return results


def test_grad_mode_is_thread_local():
    entered, checked = threading.Event(), threading.Event()
    seen = {}

    def in_no_grad():
        with autograd.no_grad():
            entered.set()
            assert checked.wait(JOIN_TIMEOUT)
            seen["inside"] = autograd.is_grad_enabled()
            x = leaf([1.0, 2.0])
            seen["records_inside"] = (x * 2).requires_grad

    def with_grad():
        assert entered.wait(JOIN_TIMEOUT)  # the other thread is inside no_grad now
        seen["other"] = autograd.is_grad_enabled()
        x = leaf([1.0, 2.0])
        y = (x * x).sum()
        y.backward()
        seen["grad"] = x.grad.data.tolist()
        checked.set()

    _run_threads([in_no_grad, with_grad])
    assert seen == {"inside": False, "records_inside": False, "other": True,
                    "grad": [2.0, 4.0]}
    assert autograd.is_grad_enabled()


def test_new_thread_starts_with_grad_enabled():
    """A thread started while the main thread is in no_grad still starts with grad on."""
    with autograd.no_grad():
        (enabled,) = _run_threads([autograd.is_grad_enabled])
        assert not autograd.is_grad_enabled()
    assert enabled


def test_set_grad_enabled_and_decorator_in_threads():
    @autograd.no_grad()
    def predict(x):
        return x * 2

    def worker(flag):
        def run():
            autograd.set_grad_enabled(flag)
            out = []
            for _ in range(200):
                x = leaf([1.0])
                out.append(((x * 3).requires_grad, predict(x).requires_grad,
                            autograd.is_grad_enabled()))
            return out
        return run

    on, off = _run_threads([worker(True), worker(False)])
    assert set(on) == {(True, False, True)}
    assert set(off) == {(False, False, False)}


def test_anomaly_mode_is_thread_local():
    entered, done = threading.Event(), threading.Event()

    def anomalous():
        with autograd.detect_anomaly():
            entered.set()
            assert done.wait(JOIN_TIMEOUT)

    def normal():
        assert entered.wait(JOIN_TIMEOUT)
        try:
            x = leaf([0.0, 1.0])
            x.sqrt().sum().backward()  # inf gradient: only an error under detect_anomaly
            return np.isinf(x.grad.data[0])
        finally:
            done.set()

    assert _run_threads([anomalous, normal])[1]


def _mlp_run(seed: int, steps: int = 30):
    """A small MLP trained with plain autograd ops and a manual SGD update."""
    rng = np.random.default_rng(seed)
    x = autograd.tensor(rng.standard_normal((64, 10)))
    y = autograd.tensor(rng.standard_normal((64, 1)))
    w1 = autograd.tensor(rng.standard_normal((10, 32)) * 0.3, requires_grad=True)
    b1 = autograd.tensor(np.zeros(32), requires_grad=True)
    w2 = autograd.tensor(rng.standard_normal((32, 1)) * 0.3, requires_grad=True)
    losses = []
    for _ in range(steps):
        h = (x @ w1 + b1).tanh()
        loss = ((h @ w2 - y) ** 2).mean() + 0.1 * (h.softmax(1) * h.log_softmax(1)).sum(1).mean()
        loss.backward()
        with autograd.no_grad():
            for p in (w1, b1, w2):
                p -= 0.05 * p.grad
                p.grad = None
        losses.append(loss.item())
    return np.array(losses), w1.data.copy()


@pytest.mark.parametrize("n_threads", [2, 4])
def test_threads_training_autograd_models_match_sequential(n_threads):
    sequential = [_mlp_run(seed) for seed in range(n_threads)]
    parallel = _run_threads([lambda s=seed: _mlp_run(s) for seed in range(n_threads)])
    for (l1, w1), (l2, w2) in zip(sequential, parallel):
        np.testing.assert_array_equal(l1, l2)
        np.testing.assert_array_equal(w1, w2)


def test_threads_with_large_elementwise_kernels():
    """Arrays large enough for the threaded elementwise kernels (a shared helper thread),
    called from several threads at once: correct results, no deadlock."""
    rng = np.random.default_rng(0)
    data = [rng.standard_normal(300_000) for _ in range(4)]

    def work(a):
        def run():
            x = autograd.tensor(a, requires_grad=True)
            out = None
            for _ in range(10):
                y = x.exp() + x.tanh() + x.sin() + x.sigmoid()
                y.sum().backward()
                out = y.data
            return out, x.grad.data
        return run

    results = _run_threads([work(a) for a in data])
    for a, (y, g) in zip(data, results):
        s = 1 / (1 + np.exp(-a))
        np.testing.assert_allclose(y, np.exp(a) + np.tanh(a) + np.sin(a) + s, rtol=1e-12,
                                   atol=1e-12)
        np.testing.assert_allclose(
            g, 10 * (np.exp(a) + 1 - np.tanh(a) ** 2 + np.cos(a) + s * (1 - s)), rtol=1e-10)


@requires_nn
def test_threads_training_nn_models_match_sequential():
    """Two CNNs (Conv2d, BatchNorm2d, MaxPool2d, Linear, Adam) trained at the same time in
    two threads give bit-identical losses and weights to training them one after the other."""
    import nn
    import optim

    def build(seed):
        autograd.manual_seed(seed)  # the generator is global: build in the main thread
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 10))
        rng = np.random.default_rng(seed)
        x = autograd.tensor(rng.standard_normal((32, 1, 8, 8)).astype(np.float32))
        y = autograd.tensor(rng.integers(0, 10, 32))
        return model, x, y

    def train(model, x, y, steps=25):
        opt = optim.Adam(model.parameters(), lr=1e-2)
        loss_fn = nn.CrossEntropyLoss()
        losses = []
        for _ in range(steps):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return np.array(losses), [p.data.copy() for p in model.parameters()]

    sequential = [train(*build(seed)) for seed in (0, 1)]
    setups = [build(seed) for seed in (0, 1)]
    parallel = _run_threads([lambda s=s: train(*s) for s in setups])
    for (l1, p1), (l2, p2) in zip(sequential, parallel):
        np.testing.assert_array_equal(l1, l2)
        for a, b in zip(p1, p2):
            np.testing.assert_array_equal(a, b)


def test_parallel_kernels_from_threads_with_workqueue_layer(parallel_numba_cache):
    """numba falls back to its workqueue layer where neither OpenMP nor TBB is installed
    (slim containers); that layer aborts the whole process (SIGABRT) when parallel kernels
    are launched from two threads at once. Three threads run a workload touching every
    kernel family with large arrays, in a child (`_parallel_workload.py`) so that an abort
    cannot take pytest down."""
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, NUMBA_THREADING_LAYER="workqueue",
               NUMBA_CACHE_DIR=str(parallel_numba_cache))
    proc = subprocess.run([sys.executable, "-m", "tests.reliability._parallel_workload",
                           "large,small,large", "3"], env=env, cwd=root, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    layer, verdict = proc.stdout.strip().splitlines()[-1].split()
    if layer == "none":
        pytest.skip("no kernel launched a parallel region (nothing to race)")
    assert verdict == "ok"


@requires_nn
def test_threads_running_every_kernel_family_match_numpy(parallel_numba_cache):
    """Three threads running conv, pooling, batch norm, reductions, softmax, elementwise
    and matmul on large arrays (parallel kernels where the layer allows) at once: every
    result equals the numpy backend's (no shared scratch buffers, no races)."""
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, NUMBA_CACHE_DIR=str(parallel_numba_cache))
    proc = subprocess.run([sys.executable, "-m", "tests.reliability._parallel_workload",
                           "large,small,large", "3"], env=env, cwd=root, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1].split()[1] == "ok"


_HELPER_RACE = r"""
import os, sys, threading
import numpy as np
sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show up quickly
import time
import threading as _threading
from autograd.kernels.jit import helper_thread as threads


class _SlowThreading:
    # threading, but creating a lock or semaphore yields the GIL: widens the race windows
    # (without it the old code failed in ~1 of 300 trials; with it, in the first few)
    def __getattr__(self, name):
        return getattr(_threading, name)

    @staticmethod
    def Lock():
        time.sleep(1e-4)
        return _threading.Lock()

    @staticmethod
    def Semaphore(value=1):
        time.sleep(1e-4)
        return _threading.Semaphore(value)


threads.threading = _SlowThreading()
N_THREADS, TRIALS = int(sys.argv[1]), int(sys.argv[2])
x = np.random.default_rng(0).random(1 << 12) + 0.5
expected = np.log(x)
h = len(x) // 2
for trial in range(TRIALS):
    threads._helper = threads._Helper()  # a helper that has never run: its first use races
    barrier = threading.Barrier(N_THREADS)
    errors = []

    def work():
        try:
            barrier.wait()
            out = np.empty_like(x)
            threads.split_halves(lambda a, o: np.log(a, out=o), (x[:h], out[:h]),
                                 (x[h:], out[h:]))
            if not np.array_equal(out, expected):
                errors.append("wrong result")
        except BaseException as e:
            errors.append(repr(e))

    pool = [threading.Thread(target=work, daemon=True) for _ in range(N_THREADS)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(10)
    if any(t.is_alive() for t in pool):
        print(f"HANG in trial {trial}", flush=True)
        os._exit(3)
    if errors:
        print(f"trial {trial}: {errors[0]}", flush=True)
        os._exit(4)
print("ok")
"""

_FIRST_LARGE_LOG = r"""
import sys, threading
import numpy as np
import autograd
x = np.random.default_rng(0).random(1 << 18) + 0.5
barrier = threading.Barrier(8)
errors = []
def work():
    try:
        barrier.wait()
        out = autograd.tensor(x).log().data
        if not np.array_equal(out, np.log(x)):
            errors.append("wrong result")
    except BaseException as e:
        errors.append(repr(e))
pool = [threading.Thread(target=work, daemon=True) for _ in range(8)]
for t in pool:
    t.start()
for t in pool:
    t.join(20)
print("HANG" if any(t.is_alive() for t in pool) else (errors[0] if errors else "ok"))
"""


def _run_child(code: str, *args: str, timeout: float) -> str:
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        proc = subprocess.run([sys.executable, "-c", code, *args], cwd=root,
                              capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the child hung for {timeout} s (deadlock)")
    return f"rc={proc.returncode} {proc.stdout.strip()} {proc.stderr[-1500:]}".strip()


def test_first_use_of_the_ufunc_helper_from_many_threads_never_hangs():
    """Regression: `_Helper.run` re-initialised itself unguarded, so threads making their first
    large ufunc call at once could swap its semaphores under each other (deadlock) or clear
    the job another thread had just posted (TypeError: 'NoneType' object is not callable).
    8 threads race on a fresh helper, 200 times, in a child with a timeout."""
    assert _run_child(_HELPER_RACE, "8", "200", timeout=60) == "rc=0 ok"


_AFTER_FORK = r"""
import os, sys
import numpy as np
from autograd.kernels.jit import helper_thread as threads
x = np.random.default_rng(0).random(1 << 12) + 0.5
h = len(x) // 2

def split_log():
    out = np.empty_like(x)
    threads.split_halves(lambda a, o: np.log(a, out=o), (x[:h], out[:h]), (x[h:], out[h:]))
    return np.array_equal(out, np.log(x))

assert split_log()  # the parent's helper thread is running now
pid = os.fork()
if pid == 0:  # the child has no helper thread: it must start its own, not wait forever
    os._exit(0 if split_log() else 5)
_, status = os.waitpid(pid, 0)
print("ok" if status == 0 and split_log() else f"child status {status}")
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_helper_thread_works_in_a_forked_child():
    assert _run_child(_AFTER_FORK, timeout=60) == "rc=0 ok"


def test_first_large_log_from_eight_threads_in_a_fresh_process():
    """The public path: the first large `log()` of a fresh process, from 8 threads at once."""
    assert _run_child(_FIRST_LARGE_LOG, timeout=60) == "rc=0 ok"
