"""gemm's parallel runs through the task pool (autograd/kernels/jit/tasks.py): the caller and
helper threads claim tasks from an atomic counter, so the values equal the serial run's on
every split, a helper busy elsewhere does not hold the caller up, concurrent callers share
the pool, and a helper's error reaches the caller."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

from autograd import kernels as K
from autograd.kernels import policy
from autograd.kernels.jit._native import fetch_add, sched_yield
from autograd.kernels.jit.tasks import claim, finish
from tests.kernels._helpers import DTYPES


def _gemm():
    return K.gemm.implementation("numba")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("packed_from", [1, 1 << 62])
def test_task_split_equals_the_serial_run(monkeypatch, dtype, packed_from):
    """Every split (one product per task, column panels x row blocks, the packed kernel's
    two phases) gives the serial kernel's exact values."""
    from autograd.kernels.jit import gemm as jit_gemm
    from autograd.kernels.jit import tasks
    monkeypatch.setattr(jit_gemm, "PACKED_FROM", packed_from)
    monkeypatch.setattr(tasks, "threads", lambda: 3)  # more threads than cores: still exact
    rng = np.random.default_rng(0)
    shapes = [((3, 70, 300), (300, 40)), ((64, 9, 5), (64, 5, 33)), ((1, 1), (1, 1)),
              ((130, 257), (257, 90)), ((2, 17, 3), (3, 100)), ((70, 1100), (1100, 40))]
    for sa, sb in shapes:
        a = rng.standard_normal(sa).astype(dtype)
        b = rng.standard_normal(sb).astype(dtype)
        bias = rng.standard_normal(sb[-1]).astype(dtype)
        with policy.override(parallel_above=policy.NEVER, families=("gemm",)):
            want = _gemm()(a, b, bias, "relu")
        with policy.override(parallel_above=-1, families=("gemm",)):
            got = _gemm()(a, b, bias, "relu")
            got_t = _gemm()(a, np.ascontiguousarray(np.swapaxes(b, -1, -2)).swapaxes(-1, -2),
                            bias, "relu")
        np.testing.assert_array_equal(got, want, err_msg=str((sa, sb)))
        np.testing.assert_array_equal(got_t, want, err_msg=str((sa, sb)))


def test_concurrent_callers_share_the_pool():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((8, 40, 64)).astype(np.float32)
    b = rng.standard_normal((8, 64, 48)).astype(np.float32)
    want = np.matmul(a.astype(np.float64), b)
    errors = []

    def work():
        try:
            for _ in range(20):
                np.testing.assert_allclose(_gemm()(a, b), want, rtol=1e-4, atol=1e-4)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    with policy.override(parallel_above=-1, families=("gemm",)):
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in threads)


def _loop_sig(dt):
    from numba import types
    return types.boolean(types.Array(types.int64, 1, "C"))


def _fail_on_task_1(ctr):
    """Task 0 waits (up to ~1 s) for the other thread to claim task 1, which raises."""
    last = False
    t = claim(ctr)
    while t < 2:
        if t == 1:
            raise MemoryError("task 1 out of memory")
        spins = 0
        while fetch_add(ctr, 0, 0) < 2 and spins < 3_000_000:
            spins += 1
            sched_yield()
        last = finish(ctr, 2)
        t = claim(ctr)
    return last


def test_a_helper_error_reaches_the_caller(monkeypatch):
    """A task that raises on the helper thread (where numba can only report it as
    unraisable) makes `run` raise it on the caller, with its message."""
    from autograd.kernels.jit import tasks
    from autograd.kernels.jit._common import lazy_njit
    kernel = lazy_njit(_loop_sig, nogil=True, cache=False)(_fail_on_task_1)
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_value))
    a = np.ones((64, 16, 16))
    with policy.override(parallel_above=-1, families=("gemm",)):
        _gemm()(a, a)  # the helpers are up
    with pytest.raises(MemoryError, match="task 1 out of memory"):
        tasks.run(kernel, np.float64, (tasks.new_counter(),), 2)
    assert any(isinstance(e, MemoryError) for e in seen)  # it did fail on the helper
    np.testing.assert_array_equal(tasks._pool.boxes[:, 0], tasks.FREE)  # mailboxes free
    with policy.override(parallel_above=-1, families=("gemm",)):
        np.testing.assert_allclose(_gemm()(a, a), np.matmul(a, a))  # the pool still works


def test_bad_shapes_raise_before_any_thread_runs():
    from autograd.kernels.jit import gemm as jit_gemm
    from autograd.kernels.jit import tasks
    f = np.zeros
    with pytest.raises(ValueError, match="gemm_direct_tasks: arguments of inconsistent"):
        tasks.run(jit_gemm.gemm_direct_tasks, np.float32,
                  (f((1, 4, 5), np.float32), f((1, 6, 3), np.float32), f(0, np.float32), 0,
                   1, tasks.new_counter(), f((1, 4, 3), np.float32)), 2)


BUSY_HELPER = """
import threading, time
import numpy as np
from numba import types
from autograd import kernels as K
from autograd.kernels import policy
from autograd.kernels.jit import tasks
from autograd.kernels.jit._common import lazy_njit
from autograd.kernels.jit._native import fetch_add, sched_yield
gemm = K.gemm.implementation("numba")
rng = np.random.default_rng(0)
a = rng.standard_normal((64, 64, 32)).astype(np.float32)
b = rng.standard_normal((64, 32, 64)).astype(np.float32)
x = rng.standard_normal((128, 784)).astype(np.float32)
w = rng.standard_normal((784, 256)).astype(np.float32)
n = tasks.threads()

@lazy_njit(lambda dt: types.boolean(types.Array(types.int64, 1, "C"),
                                    types.Array(types.int64, 1, "C")), nogil=True, cache=False)
def hold(release, ctr):  # each thread takes one task and keeps it until released
    last = False
    while True:
        t = tasks.claim(ctr)
        if t >= n:
            return last
        while fetch_add(release, 0, 0) == 0:
            sched_yield()
        last = tasks.finish(ctr, n)

with policy.override(parallel_above=-1, families=("gemm",)):
    gemm(a, b)  # compiled, helpers started
    release, ctr = np.zeros(1, np.int64), tasks.new_counter()
    holder = threading.Thread(target=tasks.run, args=(hold, np.float64, (release, ctr), n))
    holder.start()
    deadline = time.monotonic() + 60
    while ctr[0] < n and time.monotonic() < deadline:  # every helper is inside `hold`
        time.sleep(0.001)
    assert ctr[0] >= n, ctr
    t0 = time.perf_counter()
    for _ in range(20):
        assert np.allclose(gemm(a, b), np.matmul(a, b), rtol=1e-4, atol=1e-4)
        assert np.allclose(gemm(x, w), x @ w, rtol=1e-3, atol=1e-3)
    took = time.perf_counter() - t0
    release[0] = 1
    holder.join(60)
    assert not holder.is_alive()
print("ok", took)
"""


def test_a_helper_without_a_core_does_not_hold_the_caller_up():
    """While every helper thread is busy with another caller's long job, gemm's parallel
    calls still finish, the caller doing every task: a launch only offers its job, and
    never waits for a helper that did not take it (a static split, as numba's threading
    layers make, would wait here until the other job ends)."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(BUSY_HELPER)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0 and proc.stdout.startswith("ok"), proc.stderr[-2000:]


FORKED = """
import os, sys
import numpy as np
from autograd import kernels as K
from autograd.kernels import policy
gemm = K.gemm.implementation("numba")
a = np.random.default_rng(0).standard_normal((16, 40, 40)).astype(np.float32)
with policy.override(parallel_above=-1, families=("gemm",)):
    gemm(a, a)  # the parent's helper threads exist now
    pid = os.fork()
    if pid == 0:  # the child has none: it starts its own
        import threading
        ok = np.allclose(gemm(a, a), np.matmul(a, a), rtol=1e-4, atol=1e-4)
        helpers = [t for t in threading.enumerate() if t.name == "numbagrad-task"]
        os._exit(0 if ok and helpers and all(t.is_alive() for t in helpers) else 3)
    _, status = os.waitpid(pid, 0)
print("ok" if os.waitstatus_to_exitcode(status) == 0 else f"child failed: {status}")
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_child_starts_its_own_helpers():
    """A child of fork has no helper threads (the parent's mailboxes lead nowhere): its first
    parallel call starts its own, and the result is right."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(FORKED)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]


def test_home_block_is_the_current_core_modulo_the_blocks():
    """Claims by home block start at the block of the thread's core: on Linux `current_cpu`
    is glibc's sched_getcpu (a core this process may run on), elsewhere -1 (block 0)."""
    import os

    from numba import njit

    from autograd.kernels.jit._native import current_cpu
    from autograd.kernels.jit.tasks import home_block

    @njit
    def where(blocks):
        return current_cpu(), home_block(blocks)

    if not sys.platform.startswith("linux"):
        assert where(3) == (-1, 0)
        return
    last = max(os.sched_getaffinity(0))
    got = {}

    def pinned():  # a thread of its own, pinned to one core (the test's thread stays free)
        os.sched_setaffinity(0, {last})
        got.update({blocks: where(blocks) for blocks in (1, 2, 3, 7)})

    t = threading.Thread(target=pinned)
    t.start()
    t.join(timeout=60)
    assert got == {blocks: (last, last % blocks) for blocks in (1, 2, 3, 7)}
