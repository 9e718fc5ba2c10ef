"""Threads outside numba's pool: the helper thread that runs half of a numpy ufunc.

numpy releases the GIL inside its ufunc loops, so a large `np.log(x)` split in two halves,
one on the calling thread and one on a helper thread, runs on both cores (measured: two
threads of np.exp on 4M floats, 1.4x faster on a machine where another process held part
of a core). The helper blocks on a semaphore between calls (never spins), so it never
fights numba's OpenMP threads (made passive in `jit/__init__.py`) or OpenBLAS's.
(OpenBLAS's own thread count is set in `autograd/threads.py`.)

Not done here, and why: splitting a matmul into chunks on two Python threads with
1-thread OpenBLAS gave no speed-up (this OpenBLAS build serialises concurrent calls), so
matmul keeps OpenBLAS's own threads.
"""
from __future__ import annotations

import itertools
import os
import threading

_state: dict = {}


def cpu_count() -> int:
    n = _state.get("cpus")
    if n is None:
        try:
            n = len(os.sched_getaffinity(0))
        except AttributeError:
            n = os.cpu_count() or 1
        _state["cpus"] = n
    return n


class _Worker:
    """One helper thread plus the lock and semaphores it shares with its callers. Never
    re-initialised: a caller keeps a reference to one `_Worker` for its whole call, so no other
    thread can swap the semaphores or clear the job under it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # held by the one caller that owns the helper thread
        self.ready = threading.Semaphore(0)
        self.done = threading.Semaphore(0)
        self.job = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._loop, daemon=True, name="numbagrad-helper")
        self.thread.start()

    def _loop(self) -> None:
        while True:
            self.ready.acquire()
            try:
                self.job()
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller
                self.error = e
            self.done.release()

    def run(self, fn) -> None:
        if not self.lock.acquire(blocking=False):  # busy with another caller: run serially
            fn()
            return
        try:
            self.error = None
            self.job = fn
            self.ready.release()
            try:
                fn()
            finally:
                self.done.acquire()
            if self.error is not None:
                raise self.error
        finally:
            self.job = None
            self.error = None
            self.lock.release()


_start_lock = threading.Lock()  # serialises creating a worker (replaced in a forked child)


def _after_fork_in_child() -> None:
    """The child of a fork has no helper thread, and a lock held by another parent thread at
    the fork would stay held forever: start over with a fresh lock."""
    global _start_lock
    _start_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class _Helper:
    """One helper thread that runs a function while the caller runs it too; it blocks on a
    semaphore between calls (never spins), so it never fights the other pools. The thread is
    started on first use (and again in a forked child), under a lock, so threads making their
    first call at the same moment share one worker."""

    def __init__(self) -> None:
        self._current: tuple[int, _Worker] | None = None  # (pid that owns it, worker)

    def _worker(self) -> _Worker | None:
        current = self._current  # one read: the pair is replaced whole, never mutated
        pid = os.getpid()
        if current is not None and current[0] == pid:
            return current[1]
        with _start_lock:
            current = self._current
            if current is None or current[0] != pid:  # first use, or after a fork
                try:
                    current = (pid, _Worker())
                except RuntimeError:  # "can't start new thread": run serially instead
                    return None
                self._current = current
            return current[1]

    def run(self, fn) -> None:
        """fn() on the helper thread and fn() here, concurrently; re-raises either's error.
        fn is a work-sharing loop (see `run_chunks`): where the helper is busy with another
        caller or cannot be started, fn() runs once, here, and does all the work."""
        worker = self._worker()
        if worker is None:
            fn()
            return
        worker.run(fn)


_helper = _Helper()


def run_chunks(fn, n: int) -> None:
    """fn(i) for i in range(n) on the caller and the helper thread, scheduled dynamically
    (each takes the next index when free). fn must release the GIL to gain anything."""
    if n <= 1:
        for i in range(n):
            fn(i)
        return
    counter = itertools.count()  # next() is atomic under the GIL

    def worker():
        while True:
            i = next(counter)
            if i >= n:
                return
            fn(i)
    _helper.run(worker)


def split_halves(fn, first: tuple, second: tuple) -> None:
    """fn(*first) and fn(*second) concurrently (a static 2-way split)."""
    run_chunks(lambda i: fn(*(first if i == 0 else second)), 2)
