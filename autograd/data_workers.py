"""Worker processes behind ``DataLoader(num_workers > 0)`` (torch.utils.data's design).

The main process draws the epoch's index batches and hands them out round-robin, each
tagged with its position, to `num_workers` processes (fork where the platform has it,
else spawn), keeping ``prefetch_factor`` tasks per worker in flight. Each worker fetches
and collates its batches and sends them back as pickled numpy arrays (`Tensor`s are
unwrapped to their arrays and wrapped again in the main process); the main process
yields them by position, so the order is the one ``num_workers=0`` gives.

An exception in a worker comes back as an `ExceptionWrapper` and is raised again in the
main process with the worker's id and its original traceback. `timeout` bounds the wait
for each batch (RuntimeError), a worker that dies is reported by pid, and the workers are
stopped (asked, then terminated) when the epoch ends, when the iterator is dropped (a
``break``), on any error and on KeyboardInterrupt (workers ignore SIGINT and leave the
clean-up to the main process). A worker whose parent has gone exits by itself.
"""
from __future__ import annotations

import contextlib
import copy
import itertools
import multiprocessing
import os
import pickle
import queue
import random
import signal
import sys
import time
import traceback
from typing import Any

import numpy as np

from .tensor import Tensor

__all__ = ["ExceptionWrapper", "WorkerInfo", "get_worker_info"]

_POLL_S = 0.5  # how often a waiting process checks that its peers are alive
_JOIN_S = 2.0  # how long a worker may take to finish its current batch at shutdown

_worker_info: WorkerInfo | None = None


class WorkerInfo:
    """What `get_worker_info()` returns inside a worker: `id` (0 .. num_workers - 1),
    `num_workers`, `seed` (this worker's seed for this loader) and `dataset` (the worker's
    own copy of the dataset). Read-only, as PyTorch's."""

    __initialized = False

    def __init__(self, **kwargs: Any) -> None:
        for key, value in kwargs.items():
            setattr(self, key, value)
        self.__keys = tuple(kwargs)
        self.__initialized = True

    def __setattr__(self, key: str, value: Any) -> None:
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")
        super().__setattr__(key, value)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__keys)
        return f"{type(self).__name__}({fields})"


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker process, its `WorkerInfo`; in the main process, None.

    An `IterableDataset` uses it in `__iter__` to give each worker its own share of the
    stream (otherwise every worker yields the whole stream); `worker_init_fn` can use it to
    configure the worker's copy of the dataset."""
    return _worker_info


class _KeyErrorMessage(str):
    """A KeyError shows the repr of its argument; this keeps the traceback readable."""

    def __repr__(self) -> str:
        return self


class ExceptionWrapper:
    """An exception raised in a worker, carried to the main process with its traceback."""

    def __init__(self, where: str) -> None:
        exc_type, exc, tb = sys.exc_info()
        self.exc_type = exc_type
        self.exc_name = exc_type.__qualname__
        self.message = (f"Caught {self.exc_name} {where}.\nOriginal "
                        + "".join(traceback.format_exception(exc_type, exc, tb)))

    def reraise(self) -> None:
        """Raise the worker's exception type with the worker's message and traceback text
        (RuntimeError where that type cannot be built from one string)."""
        message = self.message
        if self.exc_type is KeyError:
            message = _KeyErrorMessage(message)
        try:
            exception = self.exc_type(message)
        except Exception:  # noqa: BLE001 - a type whose constructor wants more
            exception = None
        if exception is None:
            raise RuntimeError(self.message) from None
        raise exception


class _IterationEnd:
    """A worker's answer once its IterableDataset iterator is exhausted."""

    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id


class _Array:
    """A Tensor in transit: its array and requires_grad flag."""

    __slots__ = ("array", "requires_grad")

    def __init__(self, array: np.ndarray, requires_grad: bool) -> None:
        self.array, self.requires_grad = array, requires_grad


def pack(obj: Any) -> Any:
    """`obj` with every Tensor (in lists, tuples, namedtuples, dicts) replaced by its array."""
    if isinstance(obj, Tensor):
        return _Array(obj.data, bool(obj.requires_grad))
    if isinstance(obj, tuple):
        items = [pack(o) for o in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else type(obj)(items)
    if isinstance(obj, list):
        clone = copy.copy(obj)
        clone[:] = [pack(o) for o in obj]
        return clone
    if isinstance(obj, dict):
        clone = copy.copy(obj)
        clone.update({k: pack(v) for k, v in obj.items()})
        return clone
    return obj


def unpack(obj: Any) -> Any:
    """The inverse of `pack`: arrays in transit become Tensors again."""
    if isinstance(obj, _Array):
        return Tensor.wrap(obj.array, requires_grad=obj.requires_grad)
    if isinstance(obj, tuple):
        items = [unpack(o) for o in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else type(obj)(items)
    if isinstance(obj, list):
        clone = copy.copy(obj)
        clone[:] = [unpack(o) for o in obj]
        return clone
    if isinstance(obj, dict):
        clone = copy.copy(obj)
        clone.update({k: unpack(v) for k, v in obj.items()})
        return clone
    return obj


def _seed_worker(seed: int) -> None:
    """Seed Python's, numpy's global and autograd's generators for one worker."""
    from . import random as autograd_random
    random.seed(seed)
    np.random.seed(seed % 2**32)
    autograd_random.manual_seed(seed)


def worker_loop(fetcher_factory: Any, index_queue: Any, result_queue: Any, done_event: Any,
                base_seed: int, init_fn: Any, worker_id: int, num_workers: int,
                dataset: Any, parent_pid: int) -> None:
    """The body of one worker process: answer (epoch, position, indices) tasks with
    (epoch, position, batch) results until told to stop (None) or orphaned."""
    global _worker_info
    with contextlib.suppress(ValueError, OSError):  # the main process handles Ctrl-C
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    seed = base_seed + worker_id
    _seed_worker(seed)
    _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
    where = f"in DataLoader worker process {worker_id}"
    # single-threaded kernels in workers (PyTorch's workers run one intra-op thread too):
    # numba's serial compilations, as its OpenMP pool cannot run in a forked child
    from .kernels import policy
    with policy.override(parallel_above=policy.NEVER, threaded_ufunc_above=policy.NEVER):
        init_error = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
        except Exception:  # noqa: BLE001 - reported to the main process
            init_error = ExceptionWrapper(where)
        _serve(fetcher_factory, index_queue, result_queue, done_event, init_error, where,
               worker_id, parent_pid)
    result_queue.cancel_join_thread()  # leave without waiting for the main process to read


def _serve(fetcher_factory: Any, index_queue: Any, result_queue: Any, done_event: Any,
           init_error: ExceptionWrapper | None, where: str, worker_id: int,
           parent_pid: int) -> None:
    """Answer tasks until told to stop (None) or orphaned."""
    fetcher, epoch, ended = None, None, False
    while True:
        try:
            task = index_queue.get(timeout=_POLL_S)
        except queue.Empty:
            if os.getppid() != parent_pid:  # the main process is gone
                break
            continue
        if task is None or done_event.is_set():
            break
        task_epoch, position, index = task
        if task_epoch != epoch:  # a new epoch: a fresh iterator over an IterableDataset
            epoch, ended, fetcher = task_epoch, False, None
        if init_error is not None:
            data, init_error = init_error, None
        elif ended:
            data = _IterationEnd(worker_id)
        else:
            try:
                if fetcher is None:
                    fetcher = fetcher_factory()
                data = fetcher(index)
            except StopIteration:
                data, ended = _IterationEnd(worker_id), True
            except Exception:  # noqa: BLE001 - reported to the main process
                data = ExceptionWrapper(where)
        try:
            payload = pickle.dumps((task_epoch, position, pack(data)), pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - an unpicklable batch or exception type
            if not isinstance(data, ExceptionWrapper):
                data = ExceptionWrapper(where)
            data.exc_type = RuntimeError  # the message keeps the original type's name
            payload = pickle.dumps((task_epoch, position, data))
        result_queue.put(payload)


def mp_context(context: Any) -> Any:
    """The multiprocessing context: the given one (a name or a context), else fork where the
    platform has it, else spawn."""
    if context is None:
        methods = multiprocessing.get_all_start_methods()
        return multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    if isinstance(context, str):
        return multiprocessing.get_context(context)
    return context


class MultiProcessIter:
    """One epoch (or, with persistent workers, every epoch) of a DataLoader with workers."""

    def __init__(self, loader: Any, index_batches: Any, base_seed: int) -> None:
        ctx = mp_context(loader.multiprocessing_context)
        self._num_workers = loader.num_workers
        self._timeout = float(loader.timeout)
        self._persistent = loader.persistent_workers
        self._iterable = loader._iterable
        self._max_tasks = max(1, loader.prefetch_factor) * self._num_workers
        self._result_queue = ctx.Queue()
        self._done_event = ctx.Event()
        self._index_queues, self._workers = [], []
        self._closed = False
        self._epoch = -1
        try:
            for worker_id in range(self._num_workers):
                index_queue = ctx.Queue()
                index_queue.cancel_join_thread()
                worker = ctx.Process(
                    target=worker_loop, daemon=True,
                    args=(loader._fetcher_factory(), index_queue, self._result_queue,
                          self._done_event, base_seed, loader.worker_init_fn, worker_id,
                          self._num_workers, loader.dataset, os.getpid()))
                worker.start()
                self._index_queues.append(index_queue)
                self._workers.append(worker)
        except BaseException:
            self.shutdown()
            raise
        self.reset(index_batches, batch_size=loader.batch_size)

    def reset(self, index_batches: Any, batch_size: int | None = None) -> None:
        """Start an epoch over `index_batches` (the same workers, with persistent_workers)."""
        self._epoch += 1
        self._index_iter = index_batches
        self._batch_size = batch_size if batch_size is not None else getattr(
            self, "_batch_size", None)
        self._tasks: dict[int, tuple] = {}
        self._sent = self._received = self._outstanding = 0
        self._active = [True] * self._num_workers
        self._cycle = itertools.cycle(range(self._num_workers))
        for _ in range(self._max_tasks):
            self._put_task()

    def _put_task(self) -> None:
        if self._outstanding >= self._max_tasks:
            return
        if self._iterable:
            index = self._batch_size
        else:
            try:
                index = next(self._index_iter)
            except StopIteration:
                return
        for _ in range(self._num_workers):
            worker_id = next(self._cycle)
            if self._active[worker_id]:
                break
        else:
            return
        self._index_queues[worker_id].put((self._epoch, self._sent, index))
        self._tasks[self._sent] = (worker_id,)
        self._outstanding += 1
        self._sent += 1

    def __iter__(self) -> MultiProcessIter:
        return self

    def __next__(self) -> Any:
        try:
            return self._next()
        except StopIteration:
            if not self._persistent:
                self.shutdown()
            raise
        except BaseException:  # a worker's error, a timeout, Ctrl-C: stop quickly
            self.shutdown(grace=0.2)
            raise

    def _next(self) -> Any:
        if self._closed:
            raise StopIteration
        while True:
            while self._received < self._sent:  # skip tasks of exhausted iterable workers
                task = self._tasks[self._received]
                if len(task) == 2 or self._active[task[0]]:
                    break
                del self._tasks[self._received]
                self._received += 1
            else:
                raise StopIteration
            task = self._tasks[self._received]
            if len(task) == 2:
                del self._tasks[self._received]
                self._received += 1
                return self._deliver(task[1])
            position, data = self._get()
            if isinstance(data, _IterationEnd):  # its tasks are skipped above
                self._active[data.worker_id] = False
                self._put_task()
                continue
            if position != self._received:  # early: keep it until its turn
                self._tasks[position] += (data,)
                continue
            del self._tasks[position]
            self._received += 1
            return self._deliver(data)

    def _deliver(self, data: Any) -> Any:
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        self._put_task()
        return unpack(data)

    def _get(self) -> tuple[int, Any]:
        """The next result of this epoch, waiting at most `timeout` seconds (0: for ever)."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = _POLL_S if deadline is None else min(_POLL_S, deadline - time.monotonic())
            try:
                payload = self._result_queue.get(timeout=max(wait, 0.0))
            except queue.Empty:
                dead = [w for w in self._workers if not w.is_alive()]
                if dead:
                    pids = ", ".join(str(w.pid) for w in dead)
                    codes = ", ".join(str(w.exitcode) for w in dead)
                    raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly "
                                       f"(exit code(s) {codes})") from None
                if deadline is not None and time.monotonic() >= deadline:
                    raise RuntimeError(
                        f"DataLoader timed out after {self._timeout:g} seconds") from None
                continue
            epoch, position, data = pickle.loads(payload)
            if epoch != self._epoch:  # left over from an epoch that was broken off
                continue
            self._outstanding -= 1
            return position, data

    def shutdown(self, grace: float = _JOIN_S) -> None:
        """Stop the workers: ask each to finish, wait up to `grace` seconds, terminate the
        rest, reap them all (no zombies) and close the queues. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            self._done_event.set()
        for index_queue in self._index_queues:
            with contextlib.suppress(Exception):
                index_queue.put(None)
        deadline = time.monotonic() + grace
        for worker in self._workers:
            worker.join(timeout=max(0.0, deadline - time.monotonic()))
        for worker in self._workers:
            if worker.is_alive():
                worker.terminate()
                worker.join(timeout=_JOIN_S)
            if worker.is_alive():
                worker.kill()
                worker.join()
        for q in [*self._index_queues, self._result_queue]:
            with contextlib.suppress(Exception):
                q.cancel_join_thread()
                q.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.shutdown()
