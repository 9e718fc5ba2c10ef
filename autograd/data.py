"""Datasets, mini-batch loading, random splits and k-fold cross-validation.

The names and semantics follow ``torch.utils.data``: a `Dataset` maps an index
to a sample (an `IterableDataset` is a stream), a `DataLoader` turns a dataset
into an iterable of batches (reshuffled every epoch, reproducible with a seed,
optionally loaded by worker processes: `data_workers`), the samplers of
`sampler` choose the order, `default_collate` merges samples into a batch,
`random_split`, `Subset` and `ConcatDataset` carve datasets up and join them.
`kfold` yields index arrays for N-fold cross-validation.

Batches are built without a per-sample Python loop whenever the dataset can
fetch many indices at once (`TensorDataset`, and a `Subset` of one): the
loader then indexes the underlying arrays with the whole batch index array,
which costs microseconds per batch.
"""

from __future__ import annotations

import bisect
import collections.abc
import copy
import itertools
import math
import numbers
import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from . import dtypes
from .data_workers import MultiProcessIter, get_worker_info, mp_context
from .random import generator as _global_generator
from .sampler import (
    BatchSampler,
    DistributedSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
    numpy_rng,
)
from .tensor import Tensor

__all__ = [
    "BatchSampler",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "kfold",
    "random_split",
]


def _is_int(value: Any) -> bool:
    """True for Python and numpy integers, not for bools."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _make_rng(seed: int | None) -> np.random.Generator:
    """A generator of its own, seeded with `seed`; when seed is None, seeded by one draw from
    the global generator (`autograd.manual_seed`), as PyTorch draws a fresh seed from its
    default generator: seeded scripts then shuffle and split alike on every run."""
    if seed is None:
        seed = int(_global_generator().integers(2**63))
    elif not _is_int(seed) or seed < 0:
        raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
    return np.random.default_rng(int(seed))


# --------------------------------------------------------------------------- collate

_STRING_OR_OBJECT = re.compile(r"[SaUO]")
_COLLATE_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                  "or lists; found {}")


def _rebuild(template: Any, items: list) -> Any:
    """A container like `template` holding `items`: a copy of a mutable sequence, the same
    type for other sequences where it can be built from a list, else a list (PyTorch's)."""
    try:
        if isinstance(template, collections.abc.MutableSequence):
            clone = copy.copy(template)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(template)(items)
    except TypeError:
        return list(items)


def _rebuild_mapping(template: Mapping, items: dict) -> Any:
    try:
        if isinstance(template, collections.abc.MutableMapping):
            clone = copy.copy(template)
            clone.update(items)
            return clone
        return type(template)(items)
    except TypeError:
        return items


def default_collate(samples: Sequence[Any]) -> Any:
    """Merge a list of samples into one batch, position by position (PyTorch's rules).

    Tensors and numpy arrays are stacked along a new first dimension, numpy scalars and
    Python numbers become a 1-d Tensor (floats as float64, ints as int64, bools as bool,
    as PyTorch's ``default_collate``), strings and bytes stay a list. Dicts are collated
    per key, namedtuples per field (keeping their type), other sequences per position:
    a tuple sample gives a *list* of batches, as in PyTorch, and samples of different
    lengths raise RuntimeError. The result never requires grad.
    """
    first = samples[0]
    if isinstance(first, (Tensor, np.ndarray)):
        if isinstance(first, np.ndarray) and _STRING_OR_OBJECT.search(first.dtype.str):
            raise TypeError(_COLLATE_ERROR.format(first.dtype))
        arrays = [s.data if isinstance(s, Tensor) else np.asarray(s) for s in samples]
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise RuntimeError(
                f"cannot collate samples of different shapes {sorted(shapes)} into one batch"
            )
        return Tensor(np.stack(arrays))
    if isinstance(first, (str, bytes)):
        return samples  # as given: a list, or a tuple for a tuple sample's column
    if isinstance(first, (np.bool_, np.number)):
        return Tensor(np.array(samples))
    if isinstance(first, bool):
        return Tensor(np.array(samples, dtype=np.bool_))
    if isinstance(first, numbers.Integral):
        if all(isinstance(s, numbers.Integral) for s in samples):
            return Tensor(np.array(samples, dtype=np.int64))
        return Tensor(np.array(samples, dtype=dtypes.get_default_dtype()))
    if isinstance(first, numbers.Real):
        return Tensor(np.array(samples, dtype=np.float64))
    if isinstance(first, Mapping):
        return _rebuild_mapping(first, {key: default_collate([s[key] for s in samples])
                                        for key in first})
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # a namedtuple
        return type(first)(*(default_collate(c) for c in zip(*samples, strict=True)))
    if isinstance(first, Sequence):
        if any(len(s) != len(first) for s in samples):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(column) for column in zip(*samples, strict=True)]
        return columns if isinstance(first, tuple) else _rebuild(first, columns)
    raise TypeError(_COLLATE_ERROR.format(type(first)))


def default_convert(data: Any) -> Any:
    """What `DataLoader(batch_size=None)` does to each sample (PyTorch's ``default_convert``):
    numpy arrays and numpy scalars become Tensors, inside dicts and sequences too (a tuple
    becomes a list); everything else is returned unchanged."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if _STRING_OR_OBJECT.search(data.dtype.str) else Tensor(data)
    if isinstance(data, (np.bool_, np.number)):
        return Tensor(np.asarray(data))
    if isinstance(data, Mapping):
        return _rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild(data, [default_convert(d) for d in data])
    return data


# --------------------------------------------------------------------------- datasets


class Dataset:
    """Base class: a sized collection of samples, indexed 0 .. len - 1.

    Subclasses implement `__getitem__` and `__len__`. They may also override
    `get_batch(indices)` to fetch a whole batch at once (see `TensorDataset`).
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def get_batch(self, indices: np.ndarray) -> Any:
        """The collated batch of the samples at `indices` (one at a time by default)."""
        return default_collate([self[int(i)] for i in indices])

    def __add__(self, other: Any) -> ConcatDataset:
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are the i-th rows of some tensors sharing their first dimension.

    ``TensorDataset(x, y)[i] == (x[i], y[i])``. Accepts Tensors or numpy
    arrays; `get_batch` indexes every array with the whole index array at once.
    """

    def __init__(self, *tensors: Tensor | np.ndarray) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        arrays = tuple(t.data if isinstance(t, Tensor) else np.asarray(t) for t in tensors)
        if any(a.ndim == 0 for a in arrays):
            raise ValueError("TensorDataset cannot hold a 0-d tensor (it has no first dimension)")
        lengths = [len(a) for a in arrays]
        if len(set(lengths)) > 1:
            raise ValueError(
                f"all tensors must have the same first dimension, got lengths {lengths}"
            )
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(a)
                             for t, a in zip(tensors, arrays, strict=True))

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        # np.asarray keeps the dtype where a 1-d array would hand back a numpy scalar
        return tuple(Tensor(np.asarray(t.data[index])) for t in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors[0].data)

    def get_batch(self, indices: np.ndarray) -> list[Tensor]:
        """One fancy-indexing copy per tensor (``.data``, so no grad): no per-sample loop.
        A list, as PyTorch's `default_collate` makes of tuple samples."""
        return [Tensor.wrap(t.data[indices]) for t in self.tensors]


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray) -> None:
        index_array = np.asarray(indices)
        if index_array.size == 0:
            index_array = index_array.astype(np.int64)
        if index_array.ndim != 1 or not np.issubdtype(index_array.dtype, np.integer):
            raise ValueError(
                f"Subset indices must be a 1-d sequence of ints, got dtype {index_array.dtype} "
                f"and shape {index_array.shape}"
            )
        n = len(dataset)
        if index_array.size and (index_array.min() < 0 or index_array.max() >= n):
            raise ValueError(f"Subset indices must lie in [0, {n}) for a dataset of length {n}")
        self.dataset = dataset
        self.indices = index_array.astype(np.int64, copy=False)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def __len__(self) -> int:
        return len(self.indices)

    def get_batch(self, indices: np.ndarray) -> Any:
        inner = self.indices[indices]
        if hasattr(self.dataset, "get_batch"):
            return self.dataset.get_batch(inner)
        return default_collate([self.dataset[int(i)] for i in inner])


class IterableDataset(Dataset):
    """Base class of a dataset that is a stream: subclasses implement `__iter__`.

    A DataLoader batches the stream in order (no sampler, no shuffle). With
    ``num_workers=N`` each worker iterates its own copy of the dataset, so a dataset that
    ignores `get_worker_info()` yields every sample N times; shard it in `__iter__`, e.g.
    ``info = get_worker_info(); it = itertools.islice(stream, info.id, None,
    info.num_workers)`` when `info` is not None. Workers take turns, one batch each, and a
    worker whose stream ends drops out (PyTorch's rule).
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __getitem__(self, index: int) -> Any:
        raise TypeError(f"{type(self).__name__} is an IterableDataset: it cannot be indexed")

    def __len__(self) -> int:
        raise TypeError(f"object of type {type(self).__name__!r} has no len()")

    def __add__(self, other: Any) -> Any:
        raise TypeError("ConcatDataset does not support IterableDataset")


class ConcatDataset(Dataset):
    """The samples of several map-style datasets, one after the other.

    ``cumulative_sizes[i]`` is the total length of the first i + 1 datasets; index k
    reaches the dataset where k falls; negative indices count from the end.
    """

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def _locate(self, index: int) -> tuple[int, int]:
        n = len(self)
        if not _is_int(index):
            raise TypeError(f"ConcatDataset indices must be ints, got {type(index).__name__}")
        if index < 0:
            if -index > n:
                raise ValueError("absolute value of index should not exceed dataset length")
            index += n
        if index >= n:
            raise IndexError(f"index {index} is out of range for a ConcatDataset of length {n}")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        return which, index - (self.cumulative_sizes[which - 1] if which else 0)

    def __getitem__(self, index: int) -> Any:
        which, inner = self._locate(int(index) if _is_int(index) else index)
        return self.datasets[which][inner]

    def get_batch(self, indices: np.ndarray) -> Any:
        """The inner dataset's fast path when the whole batch lies in one dataset."""
        indices = np.asarray(indices, dtype=np.int64)
        if indices.size and indices.min() >= 0 and indices.max() < len(self):
            which = np.searchsorted(self.cumulative_sizes, indices, side="right")
            if (which == which[0]).all() and hasattr(self.datasets[which[0]], "get_batch"):
                start = self.cumulative_sizes[which[0] - 1] if which[0] else 0
                return self.datasets[which[0]].get_batch(indices - start)
        return default_collate([self[int(i)] for i in indices])


# --------------------------------------------------------------------------- loader


class _Fetcher:
    """Turns one task (an index batch, or a batch size for a stream) into a batch; the
    same code runs in the main process and in worker processes (it is pickled for spawn).
    Calling it starts an epoch and returns that epoch's fetch function."""

    def __init__(self, dataset: Any, iterable: bool, auto_collation: bool, collate_fn: Any,
                 drop_last: bool) -> None:
        self.dataset, self.iterable, self.auto_collation = dataset, iterable, auto_collation
        self.collate_fn, self.drop_last = collate_fn, drop_last

    def __call__(self) -> Callable[[Any], Any]:
        if self.iterable:
            return self._stream(iter(self.dataset))
        return self._fetch

    def _fetch(self, index: Any) -> Any:
        dataset, collate_fn = self.dataset, self.collate_fn
        if not self.auto_collation:
            return collate_fn(dataset[int(index) if _is_int(index) else index])
        if collate_fn is default_collate and hasattr(dataset, "get_batch"):
            return dataset.get_batch(np.asarray(index, dtype=np.int64))
        if hasattr(dataset, "__getitems__"):
            return collate_fn(dataset.__getitems__(list(np.asarray(index).tolist())))
        return collate_fn([dataset[int(i)] for i in index])

    def _stream(self, it: Iterator[Any]) -> Callable[[Any], Any]:
        ended = [False]

        def fetch(batch_size: int | None) -> Any:
            if ended[0]:
                raise StopIteration
            if batch_size is None:
                return self.collate_fn(next(it))
            batch = list(itertools.islice(it, batch_size))
            if len(batch) < batch_size:
                ended[0] = True
            if not batch or (self.drop_last and len(batch) < batch_size):
                raise StopIteration
            return self.collate_fn(batch)

        return fetch


class DataLoader:
    """Iterate over `dataset` in batches of `batch_size` (``torch.utils.data.DataLoader``).

    The order comes from `sampler` (default: `RandomSampler` with ``shuffle=True``, else
    `SequentialSampler`), grouped by a `BatchSampler(sampler, batch_size, drop_last)`, or
    from a `batch_sampler` of your own; ``batch_size=None`` turns batching off (each
    sample goes through `collate_fn`, default `default_convert`). With ``shuffle=True``
    each ``iter()`` draws a fresh permutation: from the loader's own generator when `seed`
    is given (two loaders with the same seed see the same sequence of orders), from
    `generator` (an `autograd.Generator`) when given, else seeded by one draw from the
    global generator, so a script seeded with `autograd.manual_seed` sees the same
    batches on every run.

    With ``num_workers > 0`` worker processes load the batches ahead of the loop
    (`prefetch_factor` per worker, default 2) and the loop sees them in the order
    ``num_workers=0`` gives. Each ``iter()`` also draws a base seed (from the same
    source); worker i seeds Python's, numpy's and autograd's generators with
    ``base_seed + i`` before calling ``worker_init_fn(i)``; `get_worker_info()` describes
    the worker. `timeout` (seconds, 0 = none) bounds the wait for each batch; an error in
    a worker is raised again in the loop with its traceback; the workers stop when the
    epoch ends, the loop breaks or fails, or, with `persistent_workers`, when the loader
    goes. `pin_memory` is accepted and has no effect (CPU only). Batches are Tensors that
    do not require grad; a `TensorDataset` yields a list of Tensors per batch.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = False,
        sampler: Any = None,
        batch_sampler: Any = None,
        num_workers: int = 0,
        collate_fn: Callable[[Any], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        generator: Any = None,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        seed: int | None = None,
        *,
        multiprocessing_context: Any = None,
    ) -> None:
        if not _is_int(num_workers) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; "
                             "use num_workers=0 to disable multiprocessing.")
        if not isinstance(timeout, numbers.Real) or timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and (not _is_int(prefetch_factor)
                                              or prefetch_factor < 0):
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if timeout > 0 and num_workers == 0:  # PyTorch refuses it when iterating
            raise ValueError("timeout option needs num_workers > 0 (the wait it bounds is "
                             "for a worker's batch)")
        if multiprocessing_context is not None:
            if num_workers == 0:
                raise ValueError("multiprocessing_context can only be used with multi-process "
                                 f"loading (num_workers > 0), but got num_workers={num_workers}")
            mp_context(multiprocessing_context)  # a bad start method fails here
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise TypeError(f"worker_init_fn must be callable, got {worker_init_fn!r}")
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: pass seed or generator, not both")
        rng = _make_rng(seed) if seed is not None else None
        numpy_rng(generator)  # a bad generator fails here

        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (False, None):
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        elif not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise ValueError(
                f"dataset must support len() and indexing, got {type(dataset).__qualname__!r}"
            )
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None:
            if drop_last:
                raise ValueError("batch_size=None option disables auto-batching and is "
                                 "mutually exclusive with drop_last")
        elif not _is_int(batch_size) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if sampler is None and not self._iterable:
            if shuffle:
                sampler = RandomSampler(dataset, generator=generator if rng is None else rng)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, int(batch_size), bool(drop_last))

        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = shuffle
        self.drop_last = bool(drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = int(num_workers)
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if self.batch_size is not None or batch_sampler is not None
            else default_convert)
        self.pin_memory = bool(pin_memory)
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = bool(persistent_workers)
        self.multiprocessing_context = multiprocessing_context
        self.seed = seed
        # worker base seeds come from the seed's own stream, so they never shift the orders
        self._seed_rng = None if seed is None else np.random.default_rng([int(seed), 1])
        self._iterator: MultiProcessIter | None = None

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or (self._iterable and self.batch_size is not None)

    def _fetcher_factory(self) -> _Fetcher:
        return _Fetcher(self.dataset, self._iterable, self._auto_collation, self.collate_fn,
                        self.drop_last)

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    def _index_batches(self) -> Iterator[Any]:
        """This epoch's tasks, with the order drawn now (at ``iter()``, not lazily)."""
        if self._iterable:
            return itertools.repeat(self.batch_size)
        if self.batch_sampler is None:
            return iter(self.sampler)
        if isinstance(self.batch_sampler, BatchSampler):
            return self.batch_sampler.index_arrays()
        return iter(self.batch_sampler)

    def _base_seed(self) -> int:
        """One draw per epoch for the workers' seeds (drawn with or without workers, as
        PyTorch does, so the global generator moves alike whatever num_workers is)."""
        rng = numpy_rng(self.generator) or self._seed_rng or _global_generator()
        return int(rng.integers(2**62))

    def __iter__(self) -> Iterator[Any]:
        tasks = self._index_batches()
        base_seed = self._base_seed()
        if self.num_workers == 0:
            return self._single_process(tasks)
        if self.persistent_workers:
            if self._iterator is None or self._iterator._closed:
                self._iterator = MultiProcessIter(self, tasks, base_seed)
            else:
                self._iterator.reset(tasks)
            return self._iterator
        return MultiProcessIter(self, tasks, base_seed)

    def _single_process(self, tasks: Iterator[Any]) -> Iterator[Any]:
        fetch = self._fetcher_factory()()
        for task in tasks:
            try:
                batch = fetch(task)
            except StopIteration:
                if self._iterable:
                    return
                raise
            yield batch

    def __del__(self) -> None:
        iterator = getattr(self, "_iterator", None)
        if iterator is not None:
            iterator.shutdown()

    def __repr__(self) -> str:
        size = "a stream" if self._iterable else f"{len(self.dataset)}"
        return (f"DataLoader(dataset of {size}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, "
                f"num_workers={self.num_workers})")


# --------------------------------------------------------------------------- splits


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    """Resolve `lengths` (ints summing to n, or fractions summing to 1) to ints."""
    lengths = list(lengths)
    if not lengths:
        raise ValueError("lengths must not be empty")
    if math.isclose(sum(lengths), 1) and sum(lengths) <= n:  # fractions, as PyTorch decides
        if any(not 0 <= f <= 1 for f in lengths):
            raise ValueError(f"fractions must lie in [0, 1], got {lengths}")
        sizes = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(sizes)):  # hand out the remainder round-robin
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"length of split at index {i} is 0; this split will be empty",
                              stacklevel=3)
        return sizes
    if any(not _is_int(k) or k < 0 for k in lengths):
        raise ValueError(f"lengths must be non-negative ints or fractions summing to 1, "
                         f"got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"lengths {lengths} sum to {sum(lengths)}, but the dataset has {n} "
                         "samples")
    return [int(k) for k in lengths]


def random_split(dataset: Any, lengths: Sequence[float], generator: Any = None,
                 seed: int | None = None) -> list[Subset]:
    """Split `dataset` into disjoint random `Subset`s of the given lengths.

    `lengths` are ints summing to ``len(dataset)``, or fractions summing to 1
    (floors, with the remainder handed out one by one from the first split,
    as PyTorch does). The permutation is drawn from `generator` (an
    `autograd.Generator`, as PyTorch's ``generator=``) or from a generator seeded
    with `seed`; without either the split follows the global generator
    (`autograd.manual_seed`), as PyTorch's does.
    """
    n = len(dataset)
    sizes = _split_lengths(n, lengths)
    if generator is not None and seed is not None:
        raise ValueError("random_split: pass seed or generator, not both")
    rng = numpy_rng(generator) if generator is not None else _make_rng(seed)
    order = rng.permutation(n)
    bounds = np.cumsum([0, *sizes])
    return [Subset(dataset, order[start:stop]) for start, stop in itertools.pairwise(bounds)]


def kfold(
    n: int, k: int, shuffle: bool = True, seed: int | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(train_idx, val_idx)`` for each of `k` folds of N-fold cross-validation.

    Every index in ``range(n)`` is in exactly one validation fold; fold sizes
    differ by at most one (the first ``n % k`` folds get the extra index);
    ``train_idx`` is the complement of ``val_idx``. Both are sorted int64
    arrays. With `shuffle` the indices are permuted (reproducibly with
    `seed`, or else with `autograd.manual_seed`) before being cut into folds.
    """
    if not _is_int(n) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    if not _is_int(k) or k < 2 or k > n:
        raise ValueError(f"k must be an int with 2 <= k <= n = {n}, got {k!r}")
    order = _make_rng(seed).permutation(n) if shuffle else np.arange(n)
    return _folds(order, int(k))


def _folds(order: np.ndarray, k: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    n = len(order)
    size, extra = divmod(n, k)
    start = 0
    for fold in range(k):
        stop = start + size + (1 if fold < extra else 0)
        val = np.sort(order[start:stop]).astype(np.int64)
        train = np.sort(np.concatenate([order[:start], order[stop:]])).astype(np.int64)
        yield train, val
        start = stop
