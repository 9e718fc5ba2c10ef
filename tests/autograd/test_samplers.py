"""Samplers of autograd.data (torch.utils.data's semantics): order, len, distributions and
argument checks; expected lists and messages were recorded from PyTorch 2.13."""
import numpy as np
import pytest

import autograd
from autograd.data import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
)


@pytest.fixture
def backend():
    """Samplers run no kernels: one pass is enough (overrides the both-backends fixture)."""
    return "numpy"


def seeded(seed=0):
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------- sequential


def test_sequential_sampler_order_and_len():
    sampler = SequentialSampler(range(5))
    assert list(sampler) == [0, 1, 2, 3, 4] and len(sampler) == 5
    assert list(SequentialSampler([])) == [] and len(SequentialSampler([])) == 0
    assert isinstance(sampler, Sampler)


# --------------------------------------------------------------------------- random


def test_random_sampler_is_a_new_permutation_every_epoch():
    sampler = RandomSampler(range(20), generator=seeded())
    epochs = [list(sampler) for _ in range(3)]
    for order in epochs:
        assert sorted(order) == list(range(20))
    assert epochs[0] != epochs[1] != epochs[2] and epochs[0] != list(range(20))
    assert len(sampler) == 20


def test_random_sampler_more_samples_than_data_chains_permutations():
    """PyTorch: num_samples // n whole permutations, then the head of one more."""
    sampler = RandomSampler(range(5), num_samples=12, generator=seeded(3))
    order = list(sampler)
    assert len(order) == len(sampler) == 12
    assert sorted(order[:5]) == sorted(order[5:10]) == [0, 1, 2, 3, 4]
    assert len(set(order[10:])) == 2
    counts = np.bincount(order, minlength=5)
    assert sorted(counts.tolist()) == [2, 2, 2, 3, 3]


def test_random_sampler_fewer_samples_without_replacement_are_distinct():
    order = list(RandomSampler(range(10), num_samples=4, generator=seeded()))
    assert len(order) == 4 and len(set(order)) == 4 and all(0 <= i < 10 for i in order)


def test_random_sampler_with_replacement_draws_uniformly():
    sampler = RandomSampler(range(4), replacement=True, num_samples=4000, generator=seeded(1))
    order = np.array(list(sampler))
    assert len(sampler) == 4000 and order.shape == (4000,)
    counts = np.bincount(order, minlength=4)
    # binomial(4000, 1/4): sd = 27.4; 5 sd either side of 1000
    assert np.all(np.abs(counts - 1000) < 137), counts
    small = list(RandomSampler(range(3), replacement=True, num_samples=7, generator=seeded()))
    assert len(small) == 7 and set(small) <= {0, 1, 2}


def test_random_sampler_num_samples_follows_the_dataset():
    data = list(range(3))
    sampler = RandomSampler(data)
    data.append(3)  # PyTorch reads the length at each epoch
    assert len(sampler) == 4 and sorted(sampler) == [0, 1, 2, 3]


def test_random_sampler_seeded_generators_repeat_and_unseeded_follow_manual_seed():
    a = [list(RandomSampler(range(30), generator=g)) for g in (seeded(5), seeded(5))]
    assert a[0] == a[1]
    generator = autograd.Generator().manual_seed(5)
    sampler = RandomSampler(range(30), generator=generator)
    first = [list(sampler), list(sampler)]  # the generator advances: two epochs differ
    assert first[0] != first[1]
    generator.manual_seed(5)  # re-seeding it replays them
    assert [list(sampler), list(sampler)] == first
    weighted = WeightedRandomSampler([1.0, 1.0, 1.0], 20, generator=generator.manual_seed(1))
    subset = SubsetRandomSampler([4, 5, 6], generator=generator)
    draws = [list(weighted), list(subset)]
    generator.manual_seed(1)
    assert [list(weighted), list(subset)] == draws
    sampler = RandomSampler(range(30))
    autograd.manual_seed(11)
    first = [list(sampler), list(sampler)]
    autograd.manual_seed(11)
    assert [list(sampler), list(sampler)] == first
    assert first[0] != first[1]


@pytest.mark.parametrize("kwargs, error, message", [
    ({"replacement": 1}, TypeError, ("replacement should be a boolean value, but got "
                                    "replacement=1")),
    ({"num_samples": 0}, ValueError, ("num_samples should be a positive integer value, but "
                                     "got num_samples=0")),
    ({"num_samples": 2.5}, ValueError, "num_samples=2.5"),
    ({"generator": "seed"}, TypeError, "generator must be"),
])
def test_random_sampler_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        RandomSampler(range(3), **kwargs)


def test_random_sampler_of_an_empty_dataset_gives_empty_epochs():
    """PyTorch raises (num_samples=0); numbagrad's loaders always took empty datasets."""
    assert list(RandomSampler([])) == [] and len(RandomSampler([])) == 0
    assert list(DataLoader(TensorDataset(np.zeros(0)), batch_size=2, shuffle=True)) == []
    with pytest.raises(ValueError, match="cannot draw 3 samples from an empty data_source"):
        list(RandomSampler([], num_samples=3))


# --------------------------------------------------------------------------- subset random


def test_subset_random_sampler_permutes_the_given_indices():
    indices = [7, 3, 11, 5]
    sampler = SubsetRandomSampler(indices, generator=seeded())
    epochs = [list(sampler) for _ in range(4)]
    assert all(sorted(e) == [3, 5, 7, 11] for e in epochs)
    assert len({tuple(e) for e in epochs}) > 1 and len(sampler) == 4
    assert list(SubsetRandomSampler([])) == []


def test_subset_random_sampler_in_a_loader_reads_only_its_indices():
    x = np.arange(20, dtype=np.float32)
    loader = DataLoader(TensorDataset(x), batch_size=3,
                        sampler=SubsetRandomSampler(np.arange(10, 20), generator=seeded()))
    seen = np.concatenate([b.data for (b,) in loader])
    assert sorted(seen.tolist()) == list(range(10, 20)) and len(loader) == 4


# --------------------------------------------------------------------------- weighted


def test_weighted_sampler_frequencies_match_the_weights():
    weights = [1.0, 2.0, 3.0, 4.0, 0.0]
    n = 20000
    sampler = WeightedRandomSampler(weights, n, generator=seeded(0))
    counts = np.bincount(list(sampler), minlength=5)
    p = np.array(weights) / sum(weights)
    sd = np.sqrt(n * p * (1 - p))
    assert counts[4] == 0  # a zero weight is never drawn
    assert np.all(np.abs(counts - n * p) <= 5 * sd + 1e-9), counts
    assert len(sampler) == n


def test_weighted_sampler_without_replacement_draws_each_index_once():
    sampler = WeightedRandomSampler([0.9, 0.4, 0.05, 0.2, 0.3, 0.1], 5, replacement=False,
                                    generator=seeded(2))
    order = list(sampler)
    assert len(order) == 5 and len(set(order)) == 5 and set(order) <= set(range(6))
    # the heaviest index is almost always drawn first: over 300 epochs, 0 leads most often
    firsts = np.bincount([next(iter(sampler)) for _ in range(300)], minlength=6)
    assert firsts.argmax() == 0 and firsts[0] > 300 * 0.9 / 1.95 - 5 * np.sqrt(300 * 0.25)


def test_weighted_sampler_accepts_a_tensor_and_follows_manual_seed():
    w = autograd.tensor([0.0, 1.0, 1.0])
    sampler = WeightedRandomSampler(w, 50)
    autograd.manual_seed(3)
    a = list(sampler)
    autograd.manual_seed(3)
    assert list(sampler) == a and 0 not in a


@pytest.mark.parametrize("args, kwargs, message", [
    (([1.0, 2.0], 0), {}, ("num_samples should be a positive integer value, but got "
                          "num_samples=0")),
    (([1.0, 2.0], True), {}, "num_samples=True"),
    (([1.0, 2.0], 2), {"replacement": 1}, "replacement should be a boolean value"),
    (([[1.0]], 2), {}, r"weights should be a 1d sequence but given weights have shape \(1, 1\)"),
])
def test_weighted_sampler_rejects_bad_arguments(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        WeightedRandomSampler(*args, **kwargs)


@pytest.mark.parametrize("weights, n, replacement, message", [
    ([1.0, -1.0], 2, True, "finite and >= 0"),
    ([0.0, 0.0], 1, True, "sum of probabilities <= 0"),
    ([1.0, float("nan")], 1, True, "finite"),
    ([1.0, 0.0, 2.0], 3, False, "cannot draw 3 samples without replacement from 2"),
])
def test_weighted_sampler_bad_distributions_raise_when_drawn(weights, n, replacement, message):
    sampler = WeightedRandomSampler(weights, n, replacement=replacement)  # as PyTorch: no error
    with pytest.raises(RuntimeError, match=message):
        list(sampler)


# --------------------------------------------------------------------------- batch sampler


def test_batch_sampler_groups_as_pytorch():
    assert list(BatchSampler(SequentialSampler(range(10)), 3, False)) == \
        [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert list(BatchSampler(SequentialSampler(range(10)), 3, True)) == \
        [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert len(BatchSampler(range(10), 3, True)) == 3
    assert len(BatchSampler(range(10), 3, False)) == 4
    assert len(BatchSampler(range(9), 3, True)) == len(BatchSampler(range(9), 3, False)) == 3


def test_batch_sampler_over_a_plain_iterable_and_a_generator():
    assert list(BatchSampler([5, 1, 4, 2, 3], 2, False)) == [[5, 1], [4, 2], [3]]
    assert list(BatchSampler(iter([5, 1, 4, 2, 3]), 2, True)) == [[5, 1], [4, 2]]
    batches = list(BatchSampler(RandomSampler(range(7), generator=seeded()), 3, True))
    assert [len(b) for b in batches] == [3, 3]
    assert all(isinstance(i, int) for b in batches for i in b)
    assert len({i for b in batches for i in b}) == 6


@pytest.mark.parametrize("batch_size, drop_last, message", [
    (0, False, "batch_size should be a positive integer value, but got batch_size=0"),
    (2.0, False, "batch_size=2.0"),
    (True, False, "batch_size=True"),
    (2, 1, "drop_last should be a boolean value, but got drop_last=1"),
])
def test_batch_sampler_rejects_bad_arguments(batch_size, drop_last, message):
    with pytest.raises(ValueError, match=message):
        BatchSampler(range(4), batch_size, drop_last)


def test_loader_with_a_batch_sampler_yields_those_batches():
    x = np.arange(10, dtype=np.float32)
    loader = DataLoader(TensorDataset(x), batch_sampler=[[3, 1], [0, 9, 8], [2]])
    assert [b.data.tolist() for (b,) in loader] == [[3.0, 1.0], [0.0, 9.0, 8.0], [2.0]]
    assert len(loader) == 3 and loader.batch_size is None
    loader = DataLoader(TensorDataset(x), batch_sampler=BatchSampler(range(10), 4, True))
    assert [b.data.tolist() for (b,) in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(loader) == 2


def test_loader_with_a_weighted_sampler_and_replacement_random_sampler():
    x = np.arange(3, dtype=np.float32)
    loader = DataLoader(TensorDataset(x), batch_size=8,
                        sampler=WeightedRandomSampler([0.0, 0.0, 1.0], 20, generator=seeded()))
    batches = [b.data for (b,) in loader]
    assert [len(b) for b in batches] == [8, 8, 4] and len(loader) == 3
    assert all((b == 2.0).all() for b in batches)
    loader = DataLoader(TensorDataset(x), batch_size=4, drop_last=True,
                        sampler=RandomSampler(x, replacement=True, num_samples=10,
                                              generator=seeded()))
    assert len(loader) == 2 and [len(b) for (b,) in loader] == [4, 4]


def test_loader_default_samplers_are_exposed_as_in_pytorch():
    ds = TensorDataset(np.zeros(5))
    loader = DataLoader(ds, batch_size=2)
    assert isinstance(loader.sampler, SequentialSampler)
    assert isinstance(loader.batch_sampler, BatchSampler)
    assert loader.batch_sampler.batch_size == 2 and not loader.batch_sampler.drop_last
    assert isinstance(DataLoader(ds, shuffle=True).sampler, RandomSampler)
