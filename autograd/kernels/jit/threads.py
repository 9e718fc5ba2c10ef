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


class _Helper:
    """One helper thread that runs a function while the caller runs it too; it blocks on a
    semaphore between calls (never spins), so it never fights the other pools."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ready = threading.Semaphore(0)
        self.done = threading.Semaphore(0)
        self.job = None
        self.error = None
        self.thread = None
        self.pid = None

    def _loop(self):
        while True:
            self.ready.acquire()
            try:
                self.job()
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller
                self.error = e
            self.done.release()

    def run(self, fn) -> None:
        """fn() on the helper thread and fn() here, concurrently; re-raises either's error."""
        if self.thread is None or self.pid != os.getpid():  # first use, or after a fork
            self.__init__()
            self.pid = os.getpid()
            self.thread = threading.Thread(target=self._loop, daemon=True,
                                           name="numbagrad-helper")
            self.thread.start()
        if not self.lock.acquire(blocking=False):  # re-entered from another thread: serial
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
            self.lock.release()


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
