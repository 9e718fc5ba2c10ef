"""Parallel kernels without a parallel region: a persistent pool of helper threads that run
a nogil numba task loop alongside the caller, each claiming the next task from an atomic
counter.

Why not `prange` (numba's threading layers), measured on 2 cores (`python -m bench --only
gemm`, and an empty `prange` region): numba's `workqueue` layer costs 45-345 us per launch;
OpenMP with passive threads (OMP_WAIT_POLICY=PASSIVE, GOMP_SPINCOUNT=0) 45 us; OpenMP with
spinning threads 1.5 us, but then a region whose second thread lost its core to another
process waits for it at the closing barrier: 64 small products took 32 ms instead of 0.2 ms
while a child process spun on one core. Both layers split the iterations statically.

Here the caller and the helpers hand jobs over in native code, never through the GIL. A
helper thread sits in a nogil numba loop (`_serve`) polling its mailbox, a row of int64s,
yielding its core between polls, for ~200 us after each job (the next launch of a training
step usually comes sooner; a sleeping thread's wake-up costs 15-35 us here), then sleeps on
a semaphore until a caller wakes it. A launch (`_launch`, nogil, one compiled copy per
kernel) puts the kernel's arguments on its own stack, offers (a trampoline's address, their
address) in each free mailbox, runs the task loop itself, then withdraws each offer no
helper took and waits for each helper that took one; a helper calls the kernel through the
trampoline, a numba cfunc that reads the arguments back. Nothing returns while a helper may
still read the arguments, which keeps their address valid. The split is dynamic: the caller
claims tasks itself, so a helper that is not scheduled in time claims nothing, and the
caller waits only for a helper that took the job (its tasks are claimed and not finished):
polling, then sleeping 50 us at a time so that the helper can move to its core.

Why not Python threads that call the kernel (this pool's first form): a helper needed the
GIL to pick a job up and again to return from it, and whenever the caller held the GIL at
that moment the helper slept on it and paid a wake-up (measured, 64 x (64x32 @ 32x64) float32
on 2 cores: the helper started ~17 us after the caller; 2 products took 23 us against 7 us
serial, 16 took 48 us against 46, 64 took 108-118 us against 181; now 7, 28 and 99 us; an
empty launch 6.5 -> 3 us). Under load (another process on a core) a launch costs the caller
little over a serial run, never a scheduler slice per launch, as a static split does.

A task loop is a `lazy_njit(..., nogil=True)` function (one explicit signature, compiled
serial) that takes a counter array `ctr` (`new_counter`: next task and tasks done per
phase; the last int64 array among its arguments), claims tasks with `claim(ctr)`, counts
each finished one with `finish(ctr, ntasks)` and returns True when the task it finished
was the last one (and when there are no tasks at all). It allocates what it needs before
its first claim. A task that raises on a helper (numba reports it there as unraisable)
fails the launch, and `run` raises the error by running the kernel again on the caller.

Claims by home block (`new_block_counter`, `home_block`, `claim_in`): the tasks are cut into
one contiguous block per thread, and each thread claims from the block of the core it runs on
first, then from the others. Launches over the same arrays then split them the same way
between the cores, so an elementwise op reads back, from its own core's caches, the part of
an output it wrote in the op before. Measured, `a * b + c` on 1e6 float32 through the pool
on 2 cores, both forms interleaved in one process: usually equal (home / shared counter
0.95-1.03), but for seconds at a time the shared counter's form ran at 2x (375-602 us
against 205-234 us by home block: 4 comparisons of 12 in one run). A thread whose core is
unknown (`current_cpu` -1: not Linux) starts at block 0.
"""
from __future__ import annotations

import hashlib
import os
import sys
import threading
import time

import numba
import numpy as np
from numba import cfunc, types
from numba.extending import register_jitable

from . import _native
from ._common import check_failed, specialised
from ._native import (
    args_at,
    call_address,
    compare_swap,
    current_cpu,
    fetch_add,
    sched_yield,
    stack_address,
    swap,
    usleep,
)
from .helper_thread import cpu_count


@register_jitable(inline="always")
def claim(ctr, phase=0):
    """The next task's index in `phase` (>= the task count once none is left)."""
    return fetch_add(ctr, 2 * phase, 1)


@register_jitable(inline="always")
def finish(ctr, ntasks, phase=0):
    """Count one finished task of `phase`; True if it was the last of ntasks."""
    return fetch_add(ctr, 2 * phase + 1, 1) == ntasks - 1


@register_jitable(inline="always")
def finished(ctr, phase=0):
    """How many tasks of `phase` are finished (an atomic read)."""
    return fetch_add(ctr, 2 * phase + 1, 0)


@register_jitable(inline="always")
def home_block(blocks):
    """The block this thread claims from first: its core's number modulo `blocks` (0 where
    the core is unknown)."""
    cpu = current_cpu()
    return cpu % blocks if cpu >= 0 else 0


@register_jitable(inline="always")
def claim_in(ctr, block, ntasks):
    """The next task of `block` (of ctr.shape[0] - 1 contiguous blocks of ntasks tasks), or
    -1 once none is left there; count it finished with `finish_block`."""
    blocks = ctr.shape[0] - 1
    t = block * ntasks // blocks + fetch_add(ctr, 1 + block, 1)
    return t if t < (block + 1) * ntasks // blocks else -1


@register_jitable(inline="always")
def finish_block(ctr, ntasks):
    """Count one finished task of a block counter; True if it was the last of ntasks."""
    return fetch_add(ctr, 0, 1) == ntasks - 1


# The pool needs libc's sched_yield and usleep; elsewhere (Windows) its kernels run serial.
NATIVE = sys.platform.startswith(("linux", "darwin"))
# How long a helper polls for its next job after each one, and the caller for a helper's
# last task, before sleeping. A sleeping thread's wake-up costs ~15-35 us here (as much as a
# small product); each poll yields the core (sched_yield), so a poller never holds up a
# runnable thread that shares its core.
POLL_US = 200
_polls: list = []  # polls per POLL_US, measured once per process

# A helper's mailbox (`box`, int64[4]): the state of its job, the job's trampoline address,
# the address of the job's arguments, and 1 while the helper is serving (polling or running
# a job), 0 once it has stopped polling (it sleeps, or is on its way to: `_Helper.rouse`).
# The job's states:
FREE, FILLING, OFFERED, TAKEN, DONE, FAILED = range(6)


@numba.njit(nogil=True, cache=True)
def _serve(box, polls):
    """A helper's loop, without the GIL: take the job offered in `box` (OFFERED -> TAKEN),
    run it through its trampoline, report DONE or FAILED; return once `polls` polls in a
    row found no job (and, after saying so in box[3], still none)."""
    swap(box, 3, 1)
    idle = 0
    while True:
        if fetch_add(box, 0, 0) == OFFERED and compare_swap(box, 0, OFFERED, TAKEN):
            ok = call_address(box[1], box[2])
            swap(box, 0, DONE if ok else FAILED)
            idle = 0
        elif idle < polls:
            idle += 1
            sched_yield()
        else:
            swap(box, 3, 0)  # from here on a caller wakes this thread before offering
            if fetch_add(box, 0, 0) != OFFERED:  # (an offer made just before is taken)
                return
            swap(box, 3, 1)


def polls() -> int:
    if not _polls:
        box = np.zeros(4, np.int64)
        _serve(box, 10)  # compile (or load from the cache)
        t0 = time.perf_counter()
        _serve(box, 1000)
        _polls.append(max(1, int(POLL_US * 1e-6 * 1000 / max(time.perf_counter() - t0, 1e-6))))
    return _polls[0]


def _trampoline(addr):
    """A helper's call of KERNEL on the arguments its caller put at addr: 1, or 0 if KERNEL
    raised (a cfunc cannot raise: numba prints the error as unraisable)."""
    KERNEL(*args_at(addr, KERNEL))  # noqa: F821 - a global of each specialised copy
    return 1


def _launch(boxes, tramp, args, polls):
    """The caller's side, without the GIL: offer KERNEL(*args) to each helper's box (args on
    this frame's stack), run it here too, then withdraw each offer no helper took, and wait
    for each helper that took one (its tasks are claimed). Returns 0, or 1 if a helper's
    call failed, 2 if this thread's did. Nothing returns while a helper may still read
    args: that is what keeps its address valid."""
    addr = stack_address(args)
    n = boxes.shape[0]
    mine = np.zeros(n, np.bool_)
    for i in range(n):
        if compare_swap(boxes[i], 0, FREE, FILLING):  # else another caller's: skip it
            boxes[i, 1] = tramp
            boxes[i, 2] = addr
            swap(boxes[i], 0, OFFERED)
            mine[i] = True
    status = 0
    try:
        KERNEL(*args)  # noqa: F821 - a global of each specialised copy
    except Exception:  # noqa: BLE001 - reported by the return value, raised by `run`
        status = 2
    for i in range(n):
        if mine[i] and not compare_swap(boxes[i], 0, OFFERED, FREE):
            spins = 0
            state = fetch_add(boxes[i], 0, 0)
            while state == TAKEN:
                if spins < polls:
                    spins += 1
                    sched_yield()
                else:  # a helper without a core: leave this one idle so it can move here
                    usleep(50)
                state = fetch_add(boxes[i], 0, 0)
            if state == FAILED and status == 0:
                status = 1
            swap(boxes[i], 0, FREE)
    return status


_launchers: dict = {}


def _stamp(module: str, *files: str) -> str:
    """A digest of a kernel's module name and of source files: the compiled launch code of
    a kernel holds the kernel, this module's protocol and _native's intrinsics, so its cache
    name changes when any of those files does (numba keys a cached function on its own file
    only)."""
    h = hashlib.sha1(module.encode())
    for f in files:
        try:
            with open(f, "rb") as fh:
                h.update(fh.read())
        except OSError:  # source not on disk ("<string>"): its name is the key
            h.update(f.encode())
    return h.hexdigest()[:10]


def _launcher(fn):
    """(launch, trampoline address, trampoline) for the compiled task loop fn (a numba
    dispatcher with one explicit signature), compiled on first use."""
    got = _launchers.get(fn)
    if got is None:
        sig = fn.signatures[0]
        py = fn.py_func
        dtypes = "_".join(str(t.dtype) for t in sig if isinstance(t, types.Array))
        stamp = _stamp(py.__module__, __file__, _native.__file__, py.__code__.co_filename)
        tag = f"{py.__name__}_{dtypes}_{stamp}"
        names = {"KERNEL": fn}
        tramp = cfunc(types.int64(types.int64), nogil=True, cache=True)(
            specialised(_trampoline, tag, names))
        launch = numba.njit(types.int64(types.Array(types.int64, 2, "C"), types.int64,
                                        types.Tuple(sig), types.int64),
                            nogil=True, cache=True)(specialised(_launch, tag, names))
        got = _launchers[fn] = (launch, tramp.address, tramp)
    return got


class _Helper:
    """One helper thread serving its mailbox (a row of the pool's `boxes`): it polls for a
    job for ~POLL_US after each one, then sleeps until a caller wakes it."""

    def __init__(self, box: np.ndarray) -> None:
        self.box = box
        self.wake = threading.Semaphore(0)
        self.roused = False
        threading.Thread(target=self._serve, daemon=True, name="numbagrad-task").start()

    def _serve(self) -> None:
        n = polls()
        while True:
            _serve(self.box, n)
            self.wake.acquire()
            self.roused = False

    def rouse(self) -> None:
        """Wake the thread unless it is serving (polling): called before each offer. The
        thread says in box[3] that it stopped polling before its last look for an offer, so
        an offer is either seen by it or made after this call saw 0 and woke it (at worst a
        spare wake-up: one more round of polling)."""
        if self.box[3] == 0 and not self.roused:
            self.roused = True
            self.wake.release()


class _Pool:
    """Helper threads and their mailboxes (started on first use, again in a forked child,
    which has none)."""

    def __init__(self) -> None:
        self.pid = None
        self.workers: list = []
        self.boxes = np.zeros((0, 4), np.int64)
        self.lock = threading.Lock()

    def helpers(self, want: int) -> list:
        if self.pid != os.getpid() or len(self.workers) < want:
            with self.lock:
                if self.pid != os.getpid():
                    self.workers = []
                    self.boxes = np.zeros((max(1, cpu_count() - 1), 4), np.int64)
                    self.pid = os.getpid()
                while len(self.workers) < min(want, len(self.boxes)):
                    try:
                        self.workers.append(_Helper(self.boxes[len(self.workers)]))
                    except RuntimeError:  # "can't start new thread": fewer helpers
                        break
        return self.workers[:want]


_pool = _Pool()


def threads() -> int:
    """How many threads a task-parallel kernel uses: numba's count (which
    autograd.set_num_threads sets; every usable core by default), at most the cores; 1
    where the pool cannot run (see NATIVE)."""
    if not NATIVE:
        return 1
    return max(1, min(numba.get_num_threads(), cpu_count()))


def run(kernel, dtype, args: tuple, nthreads: int) -> None:
    """kernel (a `lazy_njit` task loop, serial compilation) on args, on the caller and on
    nthreads - 1 helper threads at once; returns when every task is done. The kernel's
    shape check runs once, here, before any thread starts. An error in a task is raised
    here: the kernel runs again on this thread alone, to raise it with its message."""
    if kernel.check is not None and not kernel.check(*args):
        raise check_failed(kernel.pyfunc, args)
    fn = kernel.get(dtype)
    if kernel.check is not None:
        fn = fn.__wrapped__  # the dispatcher, without the check run above
    helpers = _pool.helpers(nthreads - 1) if nthreads > 1 and NATIVE else []
    if not helpers:
        fn(*args)
        return
    launch, tramp, _ = _launcher(fn)  # first: compiling it can take longer than a poll
    for h in helpers:
        h.rouse()
    status = launch(_pool.boxes[:len(helpers)], tramp, args, polls())
    if status:
        where = "a helper thread" if status == 1 else "the calling thread"
        ctr = [x for x in args if isinstance(x, np.ndarray) and x.dtype == np.int64][-1]
        ctr[:] = 0
        fn(*args)  # raises the task's error, here
        raise RuntimeError(f"{kernel.pyfunc.__name__}: a task failed on {where} "
                           f"(it did not fail again when rerun on this thread)")


def new_block_counter(blocks: int) -> np.ndarray:
    """A task loop's counters for claims by home block: tasks finished, then the next task of
    each of `blocks` blocks (`claim_in`)."""
    return np.zeros(1 + blocks, np.int64)


def new_counter(phases: int = 1) -> np.ndarray:
    """A task loop's counters: next task and tasks done, per phase (the last int64 array
    among the kernel's arguments: `run` resets it to rerun a failed kernel)."""
    return np.zeros(2 * phases, np.int64)
