"""Datasets, mini-batch loading, random splits and k-fold cross-validation.

The names and semantics follow ``torch.utils.data``: a `Dataset` maps an index
to a sample, a `DataLoader` turns a dataset into an iterable of batches
(reshuffled every epoch, reproducible with a seed), `random_split` and
`Subset` carve a dataset up. `kfold` yields index arrays for N-fold
cross-validation.

Batches are built without a per-sample Python loop whenever the dataset can
fetch many indices at once (`TensorDataset`, and a `Subset` of one): the
loader then indexes the underlying arrays with the whole batch index array,
which costs microseconds per batch.
"""

from __future__ import annotations

import itertools
import math
import numbers
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .random import generator as _global_generator
from .sampler import DistributedSampler
from .tensor import Tensor

__all__ = [
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "Subset",
    "TensorDataset",
    "default_collate",
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


def default_collate(samples: Sequence[Any]) -> Any:
    """Merge a list of samples into one batch, position by position.

    Tensors and arrays are stacked along a new first dimension, numbers become
    a 1-d Tensor (Python floats as float64 and ints as int64, as PyTorch's
    ``default_collate``), strings stay a list, and tuples / lists / dicts are
    collated per position / key. The result never requires grad.
    """
    first = samples[0]
    if isinstance(first, (Tensor, np.ndarray, np.generic)):
        arrays = [s.data if isinstance(s, Tensor) else np.asarray(s) for s in samples]
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise RuntimeError(
                f"cannot collate samples of different shapes {sorted(shapes)} into one batch"
            )
        return Tensor(np.stack(arrays))
    if isinstance(first, bool):
        return Tensor(np.array(samples, dtype=np.bool_))
    if isinstance(first, numbers.Integral):
        return Tensor(np.array(samples, dtype=np.int64))
    if isinstance(first, numbers.Real):
        return Tensor(np.array(samples, dtype=np.float64))
    if isinstance(first, str):
        return list(samples)
    if isinstance(first, Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise RuntimeError("each sample in a batch must have the same number of fields")
        columns = [default_collate(list(column)) for column in zip(*samples, strict=True)]
        return tuple(columns) if isinstance(first, tuple) else columns
    raise TypeError(f"cannot collate samples of type {type(first).__qualname__!r}")


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

    def get_batch(self, indices: np.ndarray) -> tuple[Tensor, ...]:
        """One fancy-indexing copy per tensor (``.data``, so no grad): no per-sample loop."""
        return tuple(Tensor(t.data[indices]) for t in self.tensors)


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


# --------------------------------------------------------------------------- loader


class DataLoader:
    """Iterate over `dataset` in batches of `batch_size`.

    With ``shuffle=True`` each call to ``iter()`` draws a fresh permutation
    from the loader's own generator, so every epoch has a different order and
    two loaders built with the same `seed` produce the same sequence of
    orders. Without a `seed` each epoch's order is seeded by one draw from the
    global generator, as PyTorch's ``RandomSampler`` does, so a script seeded
    with `autograd.manual_seed` sees the same batches on every run.
    ``drop_last=True`` drops a final batch smaller than `batch_size`.
    Batches are Tensors that do not require grad and keep the dataset's
    dtype; a `TensorDataset` yields a tuple of Tensors per batch.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
        sampler: Any = None,
    ) -> None:
        if not _is_int(batch_size) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise ValueError(
                f"dataset must support len() and indexing, got {type(dataset).__qualname__!r}"
            )
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        # without a seed, each epoch's order is drawn from the global generator at iter() time
        # (as PyTorch's RandomSampler does), so it follows autograd.manual_seed
        self._rng = None if seed is None else _make_rng(seed)
        if sampler is not None and self.shuffle:  # the sampler decides the order, as in PyTorch
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        self.sampler = sampler

    def __len__(self) -> int:
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        # drawn here, not lazily in the generator, so each iter() is one epoch's order
        if self.shuffle:
            order = (self._rng if self._rng is not None else _make_rng(None)).permutation(n)
        else:
            order = np.arange(n)
        if self.sampler is not None:  # e.g. a DistributedSampler: this rank's indices
            order = np.fromiter(iter(self.sampler), dtype=np.int64)
        return self._batches(order)

    def _batches(self, order: np.ndarray) -> Iterator[Any]:
        fetch = getattr(self.dataset, "get_batch", None)
        stop = len(self) * self.batch_size if self.drop_last else len(order)
        for start in range(0, stop, self.batch_size):
            indices = order[start:start + self.batch_size]
            if fetch is not None:
                yield fetch(indices)
            else:  # any object with __getitem__ and __len__, e.g. a list of samples
                yield default_collate([self.dataset[int(i)] for i in indices])

    def __repr__(self) -> str:
        return (f"DataLoader(dataset of {len(self.dataset)}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last})")


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


def random_split(dataset: Any, lengths: Sequence[float], seed: int | None = None) -> list[Subset]:
    """Split `dataset` into disjoint random `Subset`s of the given lengths.

    `lengths` are ints summing to ``len(dataset)``, or fractions summing to 1
    (floors, with the remainder handed out one by one from the first split,
    as PyTorch does). The same `seed` gives the same split; without one the
    split follows the global generator (`autograd.manual_seed`), as PyTorch's
    does.
    """
    n = len(dataset)
    sizes = _split_lengths(n, lengths)
    order = _make_rng(seed).permutation(n)
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
