"""Parallel kernels without a parallel region: a persistent pool of Python threads that run
a nogil numba task loop alongside the caller, each claiming the next task from an atomic
counter.

Why not `prange` (numba's threading layers), measured on 2 cores (`python -m bench --only
gemm`, and an empty `prange` region): numba's `workqueue` layer costs 45-345 us per launch;
OpenMP with passive threads (OMP_WAIT_POLICY=PASSIVE, GOMP_SPINCOUNT=0) 45 us; OpenMP with
spinning threads 1.5 us, but then a region whose second thread lost its core to another
process waits for it at the closing barrier: 64 small products took 32 ms instead of 0.2 ms
while a child process spun on one core. Both layers split the iterations statically.

Here a launch costs one queue put per helper (8-18 us with nothing to do). No thread spins
on a core: a helper polls its bell, yielding the core between polls, for ~200 us after each
job (the next launch of a training step usually comes sooner; a sleeping thread's wake-up
costs 15-35 us here), then sleeps on its queue. The split is dynamic: the caller runs the
same loop and claims tasks itself, so a helper that has not been scheduled yet simply claims
nothing (it wakes later, finds the counter exhausted and returns), and the caller waits only
for tasks a helper has actually claimed and not finished, polling the done word that the
last task sets (no GIL, no Event) before it sleeps. What it still costs: a helper needs the
GIL to pick up a job, so it starts a few to ~35 us after the caller, and under load (another
process on a core) a launch costs the caller 3-10% over a serial run (policy.GEMM's comment),
but never a scheduler slice per launch, as a static split does.

A task loop is an `njit(nogil=True)` function (compiled serial, through `lazy_njit`) that
takes a counter array `ctr` (`new_counter`: next task and tasks done per phase, then the
done word; the last int64 array among its arguments), claims tasks with `claim(ctr)`,
counts each finished one with `finish(ctr, ntasks)` and returns True when the task it
finished was the last one (and when there are no tasks at all). It allocates what it needs
before its first claim.
"""
from __future__ import annotations

import os
import queue
import sys
import threading
import time

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, register_jitable

from ._common import check_failed
from .helper_thread import cpu_count


@intrinsic
def fetch_add(typingctx, arr_ty, idx_ty, val_ty):
    """Atomically add val to arr[idx] (an int64 array); returns the value before."""
    if not (isinstance(arr_ty, types.Array) and arr_ty.dtype == types.int64):
        return None
    sig = types.int64(arr_ty, idx_ty, val_ty)

    def codegen(context, builder, signature, args):
        aty = signature.args[0]
        ary = context.make_array(aty)(context, builder, args[0])
        idx = context.cast(builder, args[1], signature.args[1], types.intp)
        val = context.cast(builder, args[2], signature.args[2], types.int64)
        ptr = cgutils.get_item_pointer(context, builder, aty, ary, [idx])
        return builder.atomic_rmw("add", ptr, val, "seq_cst")

    return sig, codegen


@register_jitable(inline="always")
def claim(ctr, phase=0):
    """The next task's index in `phase` (>= the task count once none is left)."""
    return fetch_add(ctr, 2 * phase, 1)


@register_jitable(inline="always")
def finish(ctr, ntasks, phase=0):
    """Count one finished task of `phase`; True if it was the last of ntasks (then, in the
    last phase, also set the done word that the caller polls)."""
    last = fetch_add(ctr, 2 * phase + 1, 1) == ntasks - 1
    if last and 2 * phase + 3 == ctr.shape[0]:
        fetch_add(ctr, ctr.shape[0] - 1, 1)
    return last


@register_jitable(inline="always")
def finished(ctr, phase=0):
    """How many tasks of `phase` are finished (an atomic read)."""
    return fetch_add(ctr, 2 * phase + 1, 0)


@intrinsic
def _sched_yield(typingctx):
    """libc's sched_yield(): let another runnable thread have this core, if one waits."""
    sig = types.int32()

    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(ir.IntType(32), [])
        return builder.call(cgutils.get_or_insert_function(builder.module, fnty, "sched_yield"),
                            [])

    return sig, codegen


@numba.njit(nogil=True, cache=True)
def _await_change(word, seen, polls):
    """Poll word[0] (atomically) until it differs from `seen`, yielding the core between
    polls, at most `polls` times; returns whether it changed."""
    for _ in range(polls):
        if fetch_add(word, 0, 0) != seen:
            return True
        _sched_yield()
    return fetch_add(word, 0, 0) != seen


# How long a thread polls before it sleeps: a helper, for its next job after each one (its
# bell), and the caller, for the done word of a helper's last task. A sleeping thread's
# wake-up costs ~15-35 us here (the kernel's, then the GIL's), as much as a small product
# (measured on 2 cores, quiet, helper polling / sleeping: Linear 128x784 -> 256 281-289 /
# 301-305 us, 64 x (64x32 @ 32x64) 111 / 117-120 us). Each poll yields the core
# (sched_yield), so a poller never holds up a runnable thread that shares its core. 0 (never
# poll) where sched_yield is missing.
POLL_US = 200 if sys.platform.startswith(("linux", "darwin")) else 0
_polls: list = []  # polls per POLL_US, measured once per process


def polls() -> int:
    if not _polls:
        n = 0
        if POLL_US:
            word = np.zeros(1, np.int64)
            _await_change(word, 0, 10)  # compile (or load from the cache)
            t0 = time.perf_counter()
            _await_change(word, 0, 1000)
            n = max(1, int(POLL_US * 1e-6 * 1000 / max(time.perf_counter() - t0, 1e-6)))
        _polls.append(n)
    return _polls[0]


class _Helper:
    """One helper thread and its job queue. `put` also rings its bell (bumps a counter),
    which the thread polls for a while after each job before it blocks on the queue."""

    def __init__(self) -> None:
        self.queue = queue.SimpleQueue()
        self.bell = np.zeros(1, np.int64)
        threading.Thread(target=self._serve, daemon=True, name="numbagrad-task").start()

    def put(self, job: tuple) -> None:
        self.queue.put(job)
        self.bell[0] += 1  # after the put: a helper that hears the bell finds the job

    def _next(self) -> tuple:
        seen = self.bell[0]
        try:
            return self.queue.get_nowait()
        except queue.Empty:
            pass
        if POLL_US and _await_change(self.bell, seen, polls()):
            try:
                return self.queue.get_nowait()
            except queue.Empty:
                pass
        return self.queue.get()

    def _serve(self) -> None:
        while True:
            fn, args, done, errors, word = self._next()
            if word[0]:
                # done already (the caller took every task while this thread was away):
                # skip it without a call, which would cost two GIL hand-overs, so a backlog
                # of such jobs drains at once instead of one per launch of the caller's
                fn = args = done = errors = word = None
                continue
            try:
                last = fn(*args)
            except BaseException as e:  # noqa: BLE001 - re-raised by the caller
                errors.append(e)
                last = True
            # drop the job's arrays before waking the caller, not when the next job
            # arrives: held here they would be freed late, by this thread, and the next
            # op's output would come from fresh pages (98 page faults per 4 MB output)
            fn = args = errors = None
            if last:
                done.set()
            done = None


class _Pool:
    """Helper threads (started on first use, again in a forked child, which has none)."""

    def __init__(self) -> None:
        self.pid = None
        self.workers: list = []
        self.lock = threading.Lock()

    def helpers(self, want: int) -> list:
        if self.pid != os.getpid():
            with self.lock:
                if self.pid != os.getpid():
                    self.workers = []
                    self.pid = os.getpid()
        if len(self.workers) < want:
            with self.lock:
                while len(self.workers) < want:
                    try:
                        self.workers.append(_Helper())
                    except RuntimeError:  # "can't start new thread": fewer helpers
                        break
        return self.workers[:want]


_pool = _Pool()


def threads() -> int:
    """How many threads a task-parallel kernel uses: numba's count (which
    autograd.set_num_threads sets; every usable core by default), at most the cores."""
    return max(1, min(numba.get_num_threads(), cpu_count()))


def run(kernel, dtype, args: tuple, nthreads: int) -> None:
    """kernel (a `lazy_njit` task loop, serial compilation) on args, on the caller and on
    nthreads - 1 helper threads at once; returns when every task is done. The kernel's
    shape check runs once, here, before any thread starts. A helper's error is re-raised
    (an error inside a task cannot leave the caller waiting: the helper wakes it)."""
    if kernel.check is not None and not kernel.check(*args):
        raise check_failed(kernel.pyfunc, args)
    fn = kernel.get(dtype)
    if kernel.check is not None:
        fn = fn.__wrapped__  # the dispatcher, without the check run above
    helpers = _pool.helpers(nthreads - 1) if nthreads > 1 else []
    if not helpers:
        fn(*args)
        return
    done = threading.Event()
    errors: list = []
    # the done word: the counter's last element, set by the task that finishes last
    word = [x for x in args if isinstance(x, np.ndarray) and x.dtype == np.int64][-1][-1:]
    for h in helpers:
        h.put((fn, args, done, errors, word))
    # if the caller did not finish the last task, a helper holds it: it sets the done word
    # when it finishes it, and `done` once back in Python (or failing)
    if not fn(*args) and not (POLL_US and _await_change(word, 0, polls())):
        done.wait()
    if errors:
        raise errors[0]


def new_counter(phases: int = 1) -> np.ndarray:
    """A task loop's counters: next task and tasks done, per phase, then the done word (set
    by `finish` when the last phase's last task is done). `run` finds it as the last int64
    array among the kernel's arguments."""
    return np.zeros(2 * phases + 1, np.int64)
