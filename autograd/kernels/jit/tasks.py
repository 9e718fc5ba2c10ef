"""Parallel kernels without a parallel region: a persistent pool of Python threads that run
a nogil numba task loop alongside the caller, each claiming the next task from an atomic
counter.

Why not `prange` (numba's threading layers), measured on 2 cores (`python -m bench --only
gemm`, and an empty `prange` region): numba's `workqueue` layer costs 45-345 us per launch;
OpenMP with passive threads (OMP_WAIT_POLICY=PASSIVE, GOMP_SPINCOUNT=0) 45 us; OpenMP with
spinning threads 1.5 us, but then a region whose second thread lost its core to another
process waits for it at the closing barrier: 64 small products took 32 ms instead of 0.2 ms
while a child process spun on one core. Both layers split the iterations statically.

Here a launch costs one queue put and one Event (8-18 us with nothing to do, no thread
spins): the helpers sleep on their queues. The split is dynamic: the caller runs the same
loop and claims tasks itself, so a helper that has not been scheduled yet simply claims
nothing (it wakes later, finds the counter exhausted and returns), and the caller waits only
for tasks a helper has actually claimed and not finished. What it still costs: a helper
needs the GIL to pick up a job and to return from it, so it starts ~35 us after the caller,
and under load that handover can delay the caller (Linear 128x784 -> 256 with a process
spinning on a core: 645 us parallel, 545 serial; measured in `policy.GEMM`'s comment), but
never by a scheduler slice per launch, as a static split does.

A task loop is an `njit(nogil=True)` function (compiled serial, through `lazy_njit`) that
takes a counter array `ctr` (int64 zeros, one per call: next task, tasks done, and more
pairs for more phases), claims tasks with `claim(ctr)`, counts each finished one with
`finish(ctr, ntasks)` and returns True when the task it finished was the last one (and
when there are no tasks at all). It allocates what it needs before its first claim.
"""
from __future__ import annotations

import os
import queue
import sys
import threading
import time

import numba
import numpy as np
from numba import types
from llvmlite import ir
from numba.core import cgutils
from numba.extending import intrinsic, register_jitable

from ._common import check_failed
from .helper_thread import cpu_count


@intrinsic
def _fetch_add(typingctx, arr_ty, idx_ty, val_ty):
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
    return _fetch_add(ctr, 2 * phase, 1)


@register_jitable(inline="always")
def finish(ctr, ntasks, phase=0):
    """Count one finished task of `phase`; True if it was the last of ntasks (then, in the
    last phase, also set the done word that the caller polls)."""
    last = _fetch_add(ctr, 2 * phase + 1, 1) == ntasks - 1
    if last and 2 * phase + 3 == ctr.shape[0]:
        _fetch_add(ctr, ctr.shape[0] - 1, 1)
    return last


@register_jitable(inline="always")
def finished(ctr, phase=0):
    """How many tasks of `phase` are finished (an atomic read)."""
    return _fetch_add(ctr, 2 * phase + 1, 0)


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
def _await_done(word, polls):
    """Poll word[0] (atomically) until it is set, yielding the core between polls, at most
    `polls` times; returns whether it was set."""
    for _ in range(polls):
        if _fetch_add(word, 0, 0):
            return True
        _sched_yield()
    return _fetch_add(word, 0, 0) != 0


# How many times the caller polls the done word before it sleeps on the job's Event: about
# 200 us of polls (each yields the core, so the helper it waits for is never held up on a
# shared core). A helper returning to Python needs the GIL before it can set the Event, and
# a sleeping caller's wake-up costs ~15 us more here, both as much as a small product; the
# done word is set inside the task loop, without the GIL. 0 (no polling) where
# sched_yield is missing.
POLL_US = 200 if sys.platform.startswith(("linux", "darwin")) else 0
_polls: list = []  # the poll count, measured once per process


def done_polls() -> int:
    if not _polls:
        n = 0
        if POLL_US:
            word = np.zeros(1, np.int64)
            _await_done(word, 10)  # compile (or load from the cache)
            t0 = time.perf_counter()
            _await_done(word, 1000)
            n = max(1, int(POLL_US * 1e-6 * 1000 / max(time.perf_counter() - t0, 1e-6)))
        _polls.append(n)
    return _polls[0]


class _Pool:
    """Helper threads, each blocked on its own queue between jobs (started on first use,
    again in a forked child, which has none)."""

    def __init__(self) -> None:
        self.pid = None
        self.queues: list = []
        self.lock = threading.Lock()

    def helpers(self, want: int) -> list:
        if self.pid != os.getpid():
            with self.lock:
                if self.pid != os.getpid():
                    self.queues = []
                    self.pid = os.getpid()
        if len(self.queues) < want:
            with self.lock:
                while len(self.queues) < want:
                    q = queue.SimpleQueue()
                    try:
                        threading.Thread(target=_serve, args=(q,), daemon=True,
                                         name="numbagrad-task").start()
                    except RuntimeError:  # "can't start new thread": fewer helpers
                        break
                    self.queues.append(q)
        return self.queues[:want]


def _serve(q) -> None:
    while True:
        fn, args, done, errors = q.get()
        try:
            last = fn(*args)
        except BaseException as e:  # noqa: BLE001 - re-raised by the caller
            errors.append(e)
            last = True
        # drop the job's arrays before waking the caller, not when the next job arrives:
        # held here they would be freed late, by this thread, and the next op's output
        # would come from fresh pages (98 page faults per 4 MB output, measured)
        fn = args = errors = None
        if last:
            done.set()
        done = None


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
    for q in helpers:
        q.put((fn, args, done, errors))
    if not fn(*args):
        # a helper holds the last unfinished task: it sets the done word (the counter's
        # last element) when it finishes it, and `done` once back in Python (or failing)
        word = [x for x in args if isinstance(x, np.ndarray) and x.dtype == np.int64][-1]
        if not _await_done(word[-1:], done_polls()):
            done.wait()
    if errors:
        raise errors[0]


def new_counter(phases: int = 1) -> np.ndarray:
    """A task loop's counters: next task and tasks done, per phase, then the done word (set
    by `finish` when the last phase's last task is done). `run` finds it as the last int64
    array among the kernel's arguments."""
    return np.zeros(2 * phases + 1, np.int64)
