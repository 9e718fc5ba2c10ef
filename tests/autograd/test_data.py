"""Tests for autograd.data: datasets, DataLoader, random_split, kfold."""

import itertools
import time

import numpy as np
import pytest

import autograd
from autograd.data import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    kfold,
    random_split,
)


def epoch_order(loader):
    """The first-tensor values of one epoch, concatenated (dataset built from arange)."""
    return np.concatenate([batch[0].data for batch in loader])


def arange_dataset(n, dtype=np.float32):
    return TensorDataset(np.arange(n, dtype=dtype), np.arange(n, dtype=np.int64) * 10)


# --------------------------------------------------------------------------- DataLoader


@pytest.mark.parametrize(
    "n, batch_size, drop_last, sizes",
    [
        (10, 3, False, [3, 3, 3, 1]),
        (10, 3, True, [3, 3, 3]),
        (9, 3, False, [3, 3, 3]),
        (9, 3, True, [3, 3, 3]),
        (2, 5, False, [2]),
        (2, 5, True, []),
        (0, 4, False, []),
        (7, 1, False, [1] * 7),
    ],
)
def test_batch_count_and_sizes(n, batch_size, drop_last, sizes):
    loader = DataLoader(arange_dataset(n), batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == len(sizes)
    assert [len(x) for x, _ in loader] == sizes


def test_unshuffled_batches_are_in_order_with_exact_values():
    loader = DataLoader(arange_dataset(10), batch_size=4)
    batches = list(loader)
    assert isinstance(batches[0], list) and len(batches[0]) == 2  # as PyTorch's collate
    np.testing.assert_array_equal(batches[0][0].data, [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(batches[0][1].data, [0, 10, 20, 30])
    np.testing.assert_array_equal(batches[2][0].data, [8.0, 9.0])
    np.testing.assert_array_equal(batches[2][1].data, [80, 90])


def test_shuffle_visits_every_item_exactly_once_and_keeps_pairs():
    loader = DataLoader(arange_dataset(23), batch_size=5, shuffle=True, seed=0)
    for _ in range(3):
        xs, ys = zip(*loader, strict=True)
        x, y = np.concatenate([b.data for b in xs]), np.concatenate([b.data for b in ys])
        np.testing.assert_array_equal(np.sort(x), np.arange(23))
        np.testing.assert_array_equal(y, x.astype(np.int64) * 10)  # rows stay paired


def test_drop_last_with_shuffle_drops_only_the_remainder():
    loader = DataLoader(arange_dataset(10), batch_size=3, shuffle=True, drop_last=True, seed=1)
    order = epoch_order(loader)
    assert len(order) == 9 and len(set(order.tolist())) == 9


def test_shuffle_gives_a_new_order_every_epoch():
    loader = DataLoader(arange_dataset(50), batch_size=8, shuffle=True, seed=3)
    orders = [epoch_order(loader) for _ in range(4)]
    for i in range(4):
        for j in range(i + 1, 4):
            assert not np.array_equal(orders[i], orders[j])
    assert not np.array_equal(orders[0], np.arange(50))


def test_same_seed_gives_the_same_sequence_of_orders():
    a = DataLoader(arange_dataset(30), batch_size=4, shuffle=True, seed=42)
    b = DataLoader(arange_dataset(30), batch_size=4, shuffle=True, seed=42)
    c = DataLoader(arange_dataset(30), batch_size=4, shuffle=True, seed=43)
    orders_a = [epoch_order(a) for _ in range(3)]
    orders_b = [epoch_order(b) for _ in range(3)]
    orders_c = [epoch_order(c) for _ in range(3)]
    for oa, ob, oc in zip(orders_a, orders_b, orders_c, strict=True):
        np.testing.assert_array_equal(oa, ob)
        assert not np.array_equal(oa, oc)


def test_unseeded_loaders_differ():
    a = DataLoader(arange_dataset(40), shuffle=True)
    b = DataLoader(arange_dataset(40), shuffle=True)
    assert not np.array_equal(epoch_order(a), epoch_order(b))


def test_each_iter_call_draws_its_order_immediately():
    loader = DataLoader(arange_dataset(20), batch_size=20, shuffle=True, seed=5)
    first, second = iter(loader), iter(loader)  # two epochs started before either runs
    twin = DataLoader(arange_dataset(20), batch_size=20, shuffle=True, seed=5)
    expected = [epoch_order(twin), epoch_order(twin)]
    np.testing.assert_array_equal(next(second)[0].data, expected[1])
    np.testing.assert_array_equal(next(first)[0].data, expected[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.bool_])
def test_batches_keep_the_dataset_dtype_and_do_not_require_grad(dtype):
    x = np.arange(12).reshape(6, 2).astype(dtype)
    loader = DataLoader(TensorDataset(x), batch_size=4, shuffle=True, seed=0)
    for (batch,) in loader:
        assert isinstance(batch, autograd.Tensor)
        assert batch.dtype == np.dtype(dtype)
        assert not batch.requires_grad
        assert batch.shape[1:] == (2,)


def test_batches_from_a_tensor_that_requires_grad_do_not_require_grad():
    w = autograd.Tensor(np.ones((4, 3), dtype=np.float64), requires_grad=True)
    (batch,) = next(iter(DataLoader(TensorDataset(w), batch_size=2)))
    assert not batch.requires_grad
    assert batch.dtype == np.float64
    np.testing.assert_array_equal(batch.data, np.ones((2, 3)))


def test_batch_is_a_copy_not_a_view_of_the_dataset():
    x = np.zeros((4, 2), dtype=np.float32)
    (batch,) = next(iter(DataLoader(TensorDataset(x), batch_size=2)))
    batch.data[...] = 7.0
    np.testing.assert_array_equal(x, np.zeros((4, 2)))


def test_tensor_dataset_fast_path_does_not_index_item_by_item(monkeypatch):
    def no_per_item(self, index):
        raise AssertionError("per-item __getitem__ used")

    ds = arange_dataset(10)
    monkeypatch.setattr(TensorDataset, "__getitem__", no_per_item)
    assert len(list(DataLoader(ds, batch_size=3, shuffle=True, seed=0))) == 4
    train, _ = random_split(ds, [7, 3], seed=0)
    xs = np.concatenate([x.data for x, _ in DataLoader(train, batch_size=2)])
    np.testing.assert_array_equal(xs, train.indices.astype(np.float32))


def test_batching_digits_sized_data_costs_microseconds():
    rng = np.random.default_rng(0)
    x = rng.random((1797, 64)).astype(np.float32)
    y = rng.integers(0, 10, 1797)
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, seed=0)
    list(loader)  # warm up
    start = time.perf_counter()
    batches = sum(1 for _ in range(5) for _ in loader)
    per_batch = (time.perf_counter() - start) / batches
    assert batches == 5 * 57
    assert per_batch < 500e-6, f"{per_batch * 1e6:.0f} us per batch"


# --------------------------------------------------------------------------- datasets


def test_tensor_dataset_item_and_len():
    x = autograd.Tensor(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=np.float32))
    y = np.array([0, 1, 2])
    ds = TensorDataset(x, y)
    assert len(ds) == 3
    xi, yi = ds[1]
    np.testing.assert_array_equal(xi.data, [3.0, 4.0])
    assert xi.dtype == np.float32
    assert yi.data.shape == () and yi.data.dtype == y.dtype and int(yi.data) == 1
    assert isinstance(ds.tensors[1], autograd.Tensor)


def test_tensor_dataset_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match=r"\[3, 4\]"):
        TensorDataset(np.zeros(3), np.zeros((4, 2)))
    with pytest.raises(ValueError):
        TensorDataset()
    with pytest.raises(ValueError):
        TensorDataset(np.array(1.0))


class PairDataset(Dataset):
    """Items are (features array, int label, float weight)."""

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return np.full(3, i, dtype=np.float32), i % 2, i / 2


def test_generic_dataset_items_are_collated_per_position():
    loader = DataLoader(PairDataset(), batch_size=2)
    assert len(loader) == 3
    features, labels, weights = next(iter(loader))
    np.testing.assert_array_equal(features.data, [[0, 0, 0], [1, 1, 1]])
    assert features.dtype == np.float32
    np.testing.assert_array_equal(labels.data, [0, 1])
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(weights.data, [0.0, 0.5])
    assert weights.dtype == np.float64  # as PyTorch's default_collate
    last = list(loader)[-1]
    assert last[0].shape == (1, 3)


def test_plain_numbers_and_tensor_items_collate_to_tensors():
    numbers = list(DataLoader([1.5, 2.5, 3.5], batch_size=2))
    np.testing.assert_array_equal(numbers[0].data, [1.5, 2.5])
    np.testing.assert_array_equal(numbers[1].data, [3.5])
    items = [autograd.Tensor(np.full((2,), k, dtype=np.float64), requires_grad=True)
             for k in range(3)]
    (stacked,) = list(DataLoader(items, batch_size=3))
    assert stacked.shape == (3, 2) and stacked.dtype == np.float64
    assert not stacked.requires_grad
    np.testing.assert_array_equal(stacked.data[:, 0], [0, 1, 2])


def test_dict_items_collate_per_key():
    samples = [{"x": np.array([k, k], dtype=np.int32), "name": f"s{k}"} for k in range(3)]
    batch = next(iter(DataLoader(samples, batch_size=3)))
    np.testing.assert_array_equal(batch["x"].data, [[0, 0], [1, 1], [2, 2]])
    assert batch["x"].dtype == np.int32
    assert batch["name"] == ["s0", "s1", "s2"]


def test_base_dataset_requires_getitem():
    with pytest.raises(NotImplementedError):
        Dataset()[0]


@pytest.mark.parametrize("kwargs", [{"batch_size": 0}, {"batch_size": -2},
                                    {"batch_size": 2.5}, {"seed": -1}, {"seed": 1.5}])
def test_loader_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        DataLoader(arange_dataset(4), **kwargs)


# --------------------------------------------------------------------------- random_split


def split_indices(subsets):
    return [s.indices.tolist() for s in subsets]


def test_random_split_with_lengths_is_a_disjoint_cover():
    ds = arange_dataset(10)
    train, val = random_split(ds, [6, 4], seed=0)
    assert (len(train), len(val)) == (6, 4)
    a, b = split_indices([train, val])
    assert set(a).isdisjoint(b) and sorted(a + b) == list(range(10))
    x, y = train[2]  # a Subset item is the underlying item
    assert float(x.data) == a[2] and int(y.data) == 10 * a[2]


@pytest.mark.parametrize(
    "n, fractions, sizes",
    [(10, [0.8, 0.2], [8, 2]), (5, [0.5, 0.5], [3, 2]), (10, [1 / 3] * 3, [4, 3, 3]),
     (7, [0.1, 0.2, 0.7], [1, 2, 4])],
)
def test_random_split_with_fractions_follows_pytorch(n, fractions, sizes):
    subsets = random_split(arange_dataset(n), fractions, seed=1)
    assert [len(s) for s in subsets] == sizes
    flat = list(itertools.chain(*split_indices(subsets)))
    assert sorted(flat) == list(range(n))


def test_random_split_is_reproducible_with_a_seed():
    ds = arange_dataset(20)
    assert split_indices(random_split(ds, [15, 5], seed=9)) == \
        split_indices(random_split(ds, [15, 5], seed=9))
    assert split_indices(random_split(ds, [15, 5], seed=9)) != \
        split_indices(random_split(ds, [15, 5], seed=10))


@pytest.mark.parametrize("lengths", [[6, 5], [3, 3], [-1, 11], [0.7, 0.7], [], [2.5, 7.5]])
def test_random_split_rejects_bad_lengths(lengths):
    with pytest.raises(ValueError):
        random_split(arange_dataset(10), lengths)


def test_subset_validates_indices():
    ds = arange_dataset(4)
    assert len(Subset(ds, [])) == 0
    with pytest.raises(ValueError):
        Subset(ds, [0, 4])
    with pytest.raises(ValueError):
        Subset(ds, [0.5])


# --------------------------------------------------------------------------- kfold


@pytest.mark.parametrize("n, k, shuffle", [(10, 3, True), (10, 3, False), (7, 7, True),
                                           (12, 4, True), (5, 2, False)])
def test_kfold_partitions_every_index(n, k, shuffle):
    folds = list(kfold(n, k, shuffle=shuffle, seed=0))
    assert len(folds) == k
    seen = np.concatenate([val for _, val in folds])
    np.testing.assert_array_equal(np.sort(seen), np.arange(n))  # each index validates once
    sizes = [len(val) for _, val in folds]
    assert max(sizes) - min(sizes) <= 1 and sum(sizes) == n
    for train, val in folds:
        assert train.dtype == np.int64 and val.dtype == np.int64
        assert len(np.intersect1d(train, val)) == 0
        np.testing.assert_array_equal(np.union1d(train, val), np.arange(n))


def test_kfold_fold_sizes_and_unshuffled_folds():
    folds = list(kfold(10, 3, shuffle=False))
    assert [v.tolist() for _, v in folds] == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert folds[1][0].tolist() == [0, 1, 2, 3, 7, 8, 9]


def test_kfold_shuffle_is_reproducible():
    a = [v.tolist() for _, v in kfold(20, 4, seed=3)]
    b = [v.tolist() for _, v in kfold(20, 4, seed=3)]
    c = [v.tolist() for _, v in kfold(20, 4, seed=4)]
    assert a == b and a != c
    assert a != [v.tolist() for _, v in kfold(20, 4, shuffle=False)]


@pytest.mark.parametrize("n, k", [(10, 1), (10, 0), (10, 11), (3, -1), (-1, 2), (10, 2.0)])
def test_kfold_rejects_bad_k_at_call_time(n, k):
    with pytest.raises(ValueError):
        kfold(n, k)  # raised eagerly, before iteration


# --------------------------------------------------------------------------- global seed


def loader_split_and_fold_orders(n=40):
    """One unseeded shuffled epoch, random_split and kfold: what manual_seed must fix."""
    loader = DataLoader(arange_dataset(n), batch_size=7, shuffle=True)
    return (epoch_order(loader).tolist(), epoch_order(loader).tolist(),
            split_indices(random_split(arange_dataset(n), [30, 10])),
            [v.tolist() for _, v in kfold(n, 4)])


def test_unseeded_shuffle_split_and_kfold_follow_manual_seed():
    autograd.manual_seed(123)
    first = loader_split_and_fold_orders()
    autograd.manual_seed(123)
    assert loader_split_and_fold_orders() == first
    autograd.manual_seed(124)
    other = loader_split_and_fold_orders()
    assert all(a != b for a, b in zip(first, other))  # every part depends on the seed
    assert first[0] != first[1]  # still a new order every epoch
    assert sorted(first[0]) == list(range(40))


def test_unseeded_loader_draws_its_order_at_iter_time():
    """Like PyTorch's RandomSampler: the order comes from the global generator when iter() is
    called, so re-seeding between building the loader and iterating it is what counts."""
    loader = DataLoader(arange_dataset(30), batch_size=30, shuffle=True)
    autograd.manual_seed(7)
    a = epoch_order(loader)
    autograd.manual_seed(7)
    np.testing.assert_array_equal(epoch_order(loader), a)


def test_explicit_seed_ignores_the_global_generator():
    autograd.manual_seed(1)
    a = epoch_order(DataLoader(arange_dataset(30), shuffle=True, seed=5))
    s = split_indices(random_split(arange_dataset(30), [20, 10], seed=5))
    autograd.manual_seed(2)
    np.testing.assert_array_equal(epoch_order(DataLoader(arange_dataset(30), shuffle=True,
                                                         seed=5)), a)
    assert split_indices(random_split(arange_dataset(30), [20, 10], seed=5)) == s


_SEEDED_SCRIPT = r"""
import sys
import numpy as np
import autograd
from autograd.data import DataLoader, TensorDataset, kfold, random_split
autograd.manual_seed(int(sys.argv[1]))
ds = TensorDataset(np.arange(50))
loader = DataLoader(ds, batch_size=50, shuffle=True)
epochs = [next(iter(loader))[0].data.tolist() for _ in range(3)]
split = [s.indices.tolist() for s in random_split(ds, [0.8, 0.2])]
folds = [v.tolist() for _, v in kfold(50, 5)]
print(repr((epochs, split, folds)))
"""


def test_seeded_scripts_shuffle_alike_across_processes():
    """Three runs of one seeded script (fresh processes: fresh OS entropy) see the same
    epochs, split and folds; another seed sees different ones."""
    import ast
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    def run(seed):
        proc = subprocess.run([sys.executable, "-c", _SEEDED_SCRIPT, str(seed)], cwd=root,
                              capture_output=True, text=True, timeout=120, check=True)
        return proc.stdout.strip()

    runs = [run(0) for _ in range(3)]
    assert runs[0] == runs[1] == runs[2]
    epochs, split, folds = ast.literal_eval(runs[0])
    assert sorted(epochs[0]) == list(range(50)) and epochs[0] != epochs[1]
    assert sorted(split[0] + split[1]) == list(range(50))
    other = run(1)
    assert other != runs[0]
    other_epochs, other_split, other_folds = ast.literal_eval(other)
    assert other_epochs[0] != epochs[0] and other_split != split and other_folds != folds
