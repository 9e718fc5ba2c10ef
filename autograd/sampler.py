"""Samplers: the order in which a DataLoader visits a map-style dataset (torch.utils.data's).

`SequentialSampler`, `RandomSampler`, `SubsetRandomSampler`, `WeightedRandomSampler` and
`DistributedSampler` yield dataset indices; `BatchSampler` groups another sampler's indices
into lists of `batch_size`. Every sampler draws its whole epoch's order when `iter()` is
called (one numpy call, not one per index), from its `generator` when given, else from the
global generator behind `autograd.manual_seed`, so seeded scripts see the same order.

DistributedSampler: every rank draws the same permutation (seeded with ``seed + epoch``),
pads it by repeating its first indices until its length divides evenly (or drops the tail
with drop_last), and takes every num_replicas-th index starting at its rank: the shards are
disjoint apart from the padding, cover the data set, and change every epoch once
`set_epoch` is called.
"""
from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any

import numpy as np

from .random import generator as _numpy_generator

__all__ = ["BatchSampler", "DistributedSampler", "RandomSampler", "Sampler",
           "SequentialSampler", "SubsetRandomSampler", "WeightedRandomSampler"]


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def numpy_rng(generator: Any) -> np.random.Generator | None:
    """The numpy Generator behind `generator`: None stays None, an `autograd.Generator`
    hands over the numpy generator it draws from (so drawing here advances it, as drawing
    from a torch.Generator does), a numpy Generator is used as is."""
    return None if generator is None else _numpy_generator(generator)


def _epoch_rng(generator: Any) -> np.random.Generator:
    """`generator`'s numpy generator, or (without one) a fresh generator seeded by one draw
    from the global generator, as PyTorch's RandomSampler draws a seed from its default one."""
    rng = numpy_rng(generator)
    return rng if rng is not None else np.random.default_rng(int(_numpy_generator().integers(2**63)))


class Sampler:
    """Base class: an iterable of dataset indices (or of lists of them, for a batch sampler)
    with, usually, a `__len__`. Subclasses implement `__iter__`."""

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1, in order."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def _indices(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order of the indices of `data_source`.

    Without replacement: a fresh permutation each epoch (``num_samples`` larger than the
    dataset chains whole permutations, then a cut one). With ``replacement=True``:
    `num_samples` independent uniform draws. `num_samples` defaults to ``len(data_source)``.
    Without a `generator` each epoch is seeded by one draw from the global generator."""

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator: Any = None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={replacement}")
        # an empty data_source gives empty epochs (PyTorch raises: num_samples=0)
        if num_samples is not None and (not _is_int(num_samples) or num_samples <= 0):
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        numpy_rng(generator)  # a bad generator fails here, not in the first epoch

    @property
    def num_samples(self) -> int:
        """How many indices one epoch yields (the dataset's length unless given)."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _indices(self) -> np.ndarray:
        n, k = len(self.data_source), int(self.num_samples)
        if k == 0:
            return np.zeros(0, dtype=np.int64)
        if n == 0:
            raise ValueError(f"RandomSampler: cannot draw {k} samples from an empty "
                             "data_source")
        rng = _epoch_rng(self.generator)
        if self.replacement:
            return rng.integers(n, size=k, dtype=np.int64)
        whole, rest = divmod(k, n)
        parts = [rng.permutation(n) for _ in range(whole)]
        if rest:
            parts.append(rng.permutation(n)[:rest])
        return np.concatenate(parts).astype(np.int64, copy=False)

    def __iter__(self) -> Iterator[int]:
        return iter(self._indices().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given `indices` in a random order (a new permutation each epoch)."""

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        self.indices = indices
        self.generator = generator
        numpy_rng(generator)

    def _permutation(self) -> np.ndarray:
        rng = numpy_rng(self.generator)
        return (rng if rng is not None else _numpy_generator()).permutation(len(self.indices))

    def _indices(self) -> np.ndarray:
        return np.asarray(self.indices, dtype=np.int64)[self._permutation()]

    def __iter__(self) -> Iterator[int]:
        return iter([self.indices[i] for i in self._permutation().tolist()])

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """`num_samples` indices of ``range(len(weights))`` drawn with probabilities
    proportional to `weights` (``torch.multinomial``'s rules): with replacement by default,
    else each index at most once per epoch."""

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: Any = None) -> None:
        if not _is_int(num_samples) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):  # PyTorch raises ValueError here
            raise ValueError(f"replacement should be a boolean value, but got "  # noqa: TRY004
                             f"replacement={replacement}")
        weights = np.asarray(getattr(weights, "data", weights), dtype=np.float64)
        if weights.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights.shape)}")
        numpy_rng(generator)
        self.weights, self.num_samples = weights, int(num_samples)
        self.replacement, self.generator = replacement, generator

    def _indices(self) -> np.ndarray:
        w = self.weights
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise RuntimeError("WeightedRandomSampler: invalid multinomial distribution "
                               "(weights must be finite and >= 0)")
        total = w.sum()
        if total <= 0:
            raise RuntimeError("WeightedRandomSampler: invalid multinomial distribution "
                               "(sum of probabilities <= 0)")
        if not self.replacement and self.num_samples > np.count_nonzero(w):
            raise RuntimeError(f"WeightedRandomSampler: cannot draw {self.num_samples} samples "
                               f"without replacement from {np.count_nonzero(w)} non-zero "
                               "weights")
        rng = numpy_rng(self.generator)
        rng = rng if rng is not None else _numpy_generator()
        return rng.choice(len(w), size=self.num_samples, replace=self.replacement,
                          p=w / total).astype(np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self._indices().tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of `sampler` (any iterable) into lists of `batch_size`; with
    `drop_last` a final shorter list is dropped."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not _is_int(batch_size) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):  # PyTorch raises ValueError here
            raise ValueError(f"drop_last should be a boolean value, but got "  # noqa: TRY004
                             f"drop_last={drop_last}")
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), drop_last

    def index_arrays(self) -> Iterator[np.ndarray | list]:
        """The epoch's batches, drawn now: int64 array slices when the sampler can hand over
        its whole order at once (every sampler here), else lists (PyTorch's algorithm)."""
        order = getattr(self.sampler, "_indices", None)
        if order is None:
            return iter(self)
        order = order()
        size = self.batch_size
        stop = len(order) - len(order) % size if self.drop_last else len(order)
        return (order[i:i + size] for i in range(0, stop, size))

    def __iter__(self) -> Iterator[list]:
        order = getattr(self.sampler, "_indices", None)
        if order is not None:
            return (batch.tolist() for batch in self.index_arrays())
        return self._lists(iter(self.sampler))

    def _lists(self, it: Iterator[int]) -> Iterator[list]:
        if self.drop_last:
            yield from (list(batch) for batch in zip(*[it] * self.batch_size, strict=False))
            return
        batch = list(itertools.islice(it, self.batch_size))
        while batch:
            yield batch
            batch = list(itertools.islice(it, self.batch_size))

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return math.ceil(len(self.sampler) / self.batch_size)


class DistributedSampler(Sampler):
    """Yield the indices of `dataset` that rank `rank` of `num_replicas` trains on.

    `num_replicas` and `rank` default to the world size and rank of the initialised
    process group (autograd.distributed). Use it as ``DataLoader(ds, batch_size=B,
    sampler=sampler)`` and call ``sampler.set_epoch(epoch)`` before each epoch, or every
    epoch repeats the first one's order."""

    def __init__(self, dataset: Any, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from . import distributed
            if not distributed.is_initialized():
                raise RuntimeError("DistributedSampler: pass num_replicas and rank, or call "
                                   "autograd.distributed.init_process_group() first")
            num_replicas = distributed.get_world_size() if num_replicas is None else num_replicas
            rank = distributed.get_rank() if rank is None else rank
        if not _is_int(num_replicas) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive int, got "
                             f"{num_replicas!r}")
        if not _is_int(rank) or not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank!r}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        if not _is_int(seed):
            raise ValueError(f"DistributedSampler: seed must be an int, got {seed!r}")
        self.dataset = dataset
        self.num_replicas, self.rank = int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch's permutation (the same on every rank for the same epoch)."""
        if not _is_int(epoch):
            raise ValueError(f"DistributedSampler.set_epoch: epoch must be an int, got {epoch!r}")
        self.epoch = int(epoch)

    def indices(self) -> np.ndarray:
        """This rank's indices for the current epoch, as an int64 array."""
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            order = np.arange(n)
        if self.drop_last:
            order = order[:self.total_size]
        elif self.total_size > n:  # pad by repeating the order from its start
            order = np.resize(order, self.total_size) if n else order
        return order[self.rank:self.total_size:self.num_replicas].astype(np.int64)

    _indices = indices

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.num_samples

    def __repr__(self) -> str:
        return (f"DistributedSampler(rank {self.rank} of {self.num_replicas}, "
                f"{self.num_samples} samples, shuffle={self.shuffle}, seed={self.seed}, "
                f"epoch={self.epoch}, drop_last={self.drop_last})")
