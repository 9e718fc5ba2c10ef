"""DistributedSampler in one process, with explicit rank= (PyTorch's semantics)."""
import numpy as np
import pytest

from autograd.data import DataLoader, DistributedSampler, TensorDataset


def shards(n, replicas, **kw):
    return [list(DistributedSampler(range(n), num_replicas=replicas, rank=r, **kw))
            for r in range(replicas)]


@pytest.mark.parametrize("n,replicas", [(12, 3), (10, 4), (7, 2), (3, 5)])
def test_shards_cover_the_data_and_are_disjoint_up_to_padding(n, replicas):
    parts = shards(n, replicas, seed=3)
    per_rank = -(-n // replicas)                   # ceil: padding repeats indices
    assert all(len(p) == per_rank for p in parts)
    everything = [i for p in parts for i in p]
    assert sorted(set(everything)) == list(range(n))
    assert len(everything) - len(set(everything)) == per_rank * replicas - n
    if n % replicas == 0:
        assert len(set(everything)) == len(everything)   # exactly disjoint


def test_padding_repeats_the_start_of_the_permutation_like_pytorch():
    # unshuffled, 10 samples on 4 ranks: [0..9, 0, 1] dealt out round-robin
    assert shards(10, 4, shuffle=False) == [[0, 4, 8], [1, 5, 9], [2, 6, 0], [3, 7, 1]]
    # 3 samples on 8 ranks: the order is repeated more than once
    assert [s[0] for s in shards(3, 8, shuffle=False)] == [0, 1, 2, 0, 1, 2, 0, 1]


def test_drop_last_drops_the_tail_and_keeps_shards_disjoint():
    parts = shards(10, 4, shuffle=False, drop_last=True)
    assert parts == [[0, 4], [1, 5], [2, 6], [3, 7]]
    parts = shards(11, 3, seed=1, drop_last=True)
    flat = [i for p in parts for i in p]
    assert len(flat) == 9 == len(set(flat))
    assert len(DistributedSampler(range(11), 3, 0, drop_last=True)) == 3


def test_epochs_reshuffle_identically_on_every_rank():
    samplers = [DistributedSampler(range(20), num_replicas=2, rank=r, seed=5) for r in (0, 1)]
    orders = []
    for epoch in range(3):
        for s in samplers:
            s.set_epoch(epoch)
        a, b = (list(s) for s in samplers)
        assert sorted(a + b) == list(range(20))    # a partition in every epoch
        orders.append(a + b)
        assert list(samplers[0]) == a               # same epoch, same order
    assert orders[0] != orders[1] != orders[2]
    # the same seed + epoch gives the same shards in a fresh sampler (another process)
    fresh = DistributedSampler(range(20), num_replicas=2, rank=1, seed=5)
    fresh.set_epoch(2)
    assert list(fresh) == orders[2][10:]
    other = DistributedSampler(range(20), num_replicas=2, rank=0, seed=6)
    assert list(other) != orders[0][:10]


def test_dataloader_with_sampler_batches_the_rank_shard():
    x = np.arange(10, dtype=np.float64)[:, None]
    sampler = DistributedSampler(TensorDataset(x), num_replicas=2, rank=1, shuffle=False)
    loader = DataLoader(TensorDataset(x), batch_size=2, sampler=sampler)
    assert len(loader) == 3
    assert [b[0].data.ravel().tolist() for b in loader] == [[1, 3], [5, 7], [9]]
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(TensorDataset(x), shuffle=True, sampler=sampler)


def test_argument_errors():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas must be a positive int"):
        DistributedSampler(range(4), num_replicas=0, rank=0)
