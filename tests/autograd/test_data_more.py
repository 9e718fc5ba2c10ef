"""autograd.data beyond the basics: default_collate / default_convert on nested samples,
ConcatDataset, IterableDataset, DataLoader's argument checks, and worker processes
(ordering, seeding, get_worker_info, errors, timeout, clean shutdown). Expected values and
messages were recorded from PyTorch 2.13. Everything that starts processes runs in a
subprocess with a timeout, so a hang fails the test instead of stalling the suite."""
import ast
import collections
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import autograd
from autograd.data import (
    ConcatDataset,
    DataLoader,
    IterableDataset,
    TensorDataset,
    default_collate,
    default_convert,
    get_worker_info,
    random_split,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def backend():
    """Data loading runs no kernels: one pass is enough (overrides the both-backends fixture)."""
    return "numpy"


# --------------------------------------------------------------------------- collate

Point = collections.namedtuple("Point", "a b")


def test_collate_tuple_samples_give_a_list_of_batches_as_pytorch():
    batch = default_collate([(1, 2.0, "a"), (3, 4.0, "b")])
    assert isinstance(batch, list) and len(batch) == 3
    assert batch[0].dtype == np.int64 and batch[0].data.tolist() == [1, 3]
    assert batch[1].dtype == np.float64 and batch[1].data.tolist() == [2.0, 4.0]
    assert batch[2] == ("a", "b")


def test_collate_nested_dicts_lists_tuples_and_arrays():
    samples = [{"x": [1, 2], "y": (np.float32(1.5), np.arange(2))},
               {"x": [3, 4], "y": (np.float32(2.5), np.arange(2) + 2)}]
    batch = default_collate(samples)
    assert set(batch) == {"x", "y"}
    assert [t.data.tolist() for t in batch["x"]] == [[1, 3], [2, 4]]
    scalars, arrays = batch["y"]
    assert scalars.dtype == np.float32 and scalars.data.tolist() == [1.5, 2.5]
    assert arrays.dtype == np.int64 and arrays.data.tolist() == [[0, 1], [2, 3]]


def test_collate_keeps_namedtuples_and_ordered_dicts():
    batch = default_collate([Point(1, np.zeros(2)), Point(2, np.ones(2))])
    assert isinstance(batch, Point)
    assert batch.a.data.tolist() == [1, 2] and batch.b.data.tolist() == [[0, 0], [1, 1]]
    ordered = default_collate([collections.OrderedDict(b=1, a=2)] * 2)
    assert isinstance(ordered, collections.OrderedDict) and list(ordered) == ["b", "a"]


def test_collate_number_dtypes_follow_pytorch():
    assert default_collate([True, False]).dtype == np.bool_
    assert default_collate([np.int32(3), np.int32(4)]).dtype == np.int32
    mixed = default_collate([1, 2.5])  # torch.tensor([1, 2.5]): the default float dtype
    assert mixed.dtype == autograd.get_default_dtype() and mixed.data.tolist() == [1.0, 2.5]
    tensors = default_collate([autograd.tensor([1.0, 2.0], requires_grad=True)] * 3)
    assert tensors.shape == (3, 2) and not tensors.requires_grad


@pytest.mark.parametrize("samples, error, message", [
    ([[1, 2], [3]], RuntimeError, "each element in list of batch should be of equal size"),
    ([None, None], TypeError, ("default_collate: batch must contain tensors, numpy arrays, "
                              "numbers, dicts or lists; found <class 'NoneType'>")),
    ([np.array(["a"]), np.array(["b"])], TypeError, "found <U1"),
    ([np.zeros(2), np.zeros(3)], RuntimeError, "different shapes"),
])
def test_collate_rejects_what_pytorch_rejects(samples, error, message):
    with pytest.raises(error, match=message):
        default_collate(samples)


def test_default_convert_and_batch_size_none():
    converted = default_convert((np.arange(2), 3, {"k": np.float32(1.5)}, "s"))
    assert isinstance(converted, list)  # a tuple becomes a list, as in PyTorch
    assert isinstance(converted[0], autograd.Tensor) and converted[0].data.tolist() == [0, 1]
    assert converted[1] == 3 and converted[3] == "s"
    assert converted[2]["k"].dtype == np.float32
    assert list(DataLoader([[1, 2], [3, 4]], batch_size=None)) == [[1, 2], [3, 4]]
    (only,) = list(DataLoader([np.arange(2)], batch_size=None))
    assert isinstance(only, autograd.Tensor) and only.data.tolist() == [0, 1]


def test_custom_collate_fn_gets_the_list_of_samples():
    def collate(samples):
        return sum(samples)

    ds = TensorDataset(np.arange(6))
    loader = DataLoader(list(range(6)), batch_size=4, collate_fn=collate)
    assert list(loader) == [6, 9]
    pairs = list(DataLoader(ds, batch_size=3, collate_fn=lambda s: [int(x.data) for (x,) in s]))
    assert pairs == [[0, 1, 2], [3, 4, 5]]


def test_random_split_takes_a_generator_as_pytorch():
    ds = TensorDataset(np.arange(20))

    def split(generator):
        return [s.indices.tolist() for s in random_split(ds, [15, 5], generator)]

    a = split(autograd.Generator().manual_seed(42))
    assert a == split(autograd.Generator().manual_seed(42)) != split(autograd.Generator())
    assert sorted(a[0] + a[1]) == list(range(20)) and [len(p) for p in a] == [15, 5]
    with pytest.raises(ValueError, match="not both"):
        random_split(ds, [15, 5], generator=autograd.Generator(), seed=1)


# --------------------------------------------------------------------------- ConcatDataset


def test_concat_dataset_indexes_across_its_parts():
    ds = ConcatDataset([range(3), range(10, 12)])
    assert len(ds) == 5 and ds.cumulative_sizes == [3, 5]
    assert [ds[i] for i in range(5)] == [0, 1, 2, 10, 11]
    assert ds[-1] == 11 and ds[-5] == 0
    with pytest.raises(ValueError, match="absolute value of index should not exceed"):
        ds[-6]
    with pytest.raises(IndexError, match="index 5 is out of range"):
        ds[5]


def test_concat_dataset_in_a_loader_and_by_addition():
    a = TensorDataset(np.arange(4, dtype=np.float32), np.arange(4) * 10)
    b = TensorDataset(np.arange(100, 103, dtype=np.float32), np.arange(3) * -1)
    ds = a + b
    assert isinstance(ds, ConcatDataset) and len(ds) == 7
    batches = list(DataLoader(ds, batch_size=3))
    assert [x.data.tolist() for x, _ in batches] == [[0, 1, 2], [3, 100, 101], [102]]
    assert [y.data.tolist() for _, y in batches] == [[0, 10, 20], [30, 0, -1], [-2]]
    assert all(x.dtype == np.float32 and y.dtype == np.int64 for x, y in batches)


def test_concat_dataset_rejects_empty_and_iterable_parts():
    with pytest.raises(ValueError, match="datasets should not be an empty iterable"):
        ConcatDataset([])
    with pytest.raises(TypeError, match="ConcatDataset does not support IterableDataset"):
        ConcatDataset([range(2), Stream(3)])


# --------------------------------------------------------------------------- IterableDataset


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


def test_iterable_dataset_batches_in_stream_order():
    assert [b.data.tolist() for b in DataLoader(Stream(7), batch_size=3)] == \
        [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.data.tolist() for b in DataLoader(Stream(7), batch_size=3, drop_last=True)] == \
        [[0, 1, 2], [3, 4, 5]]
    assert list(DataLoader(Stream(3), batch_size=None)) == [0, 1, 2]
    assert get_worker_info() is None


def test_iterable_dataset_len_and_argument_checks():
    with pytest.raises(TypeError, match="has no len"):
        len(DataLoader(Stream(3)))
    with pytest.raises(ValueError, match="expected unspecified shuffle option, but got "
                                         "shuffle=True"):
        DataLoader(Stream(3), shuffle=True)
    with pytest.raises(ValueError, match="expected unspecified sampler option"):
        DataLoader(Stream(3), sampler=[0, 1])
    with pytest.raises(ValueError, match="expected unspecified batch_sampler option"):
        DataLoader(Stream(3), batch_sampler=[[0]])
    with pytest.raises(NotImplementedError):
        iter(IterableDataset())


# --------------------------------------------------------------------------- argument checks


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 2, "batch_sampler": [[0]]},
     ("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
     "drop_last")),
    ({"drop_last": True, "batch_sampler": [[0]]}, "batch_sampler option is mutually exclusive"),
    ({"shuffle": True, "sampler": [0]}, "sampler option is mutually exclusive with shuffle"),
    ({"batch_size": None, "drop_last": True},
     "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"),
    ({"num_workers": -1}, ("num_workers option should be non-negative; use num_workers=0 to "
                          "disable multiprocessing.")),
    ({"timeout": -1}, "timeout option should be non-negative"),
    ({"timeout": 5}, "timeout option needs num_workers > 0"),
    ({"prefetch_factor": 2}, (r"prefetch_factor option could only be specified in "
                             r"multiprocessing.let num_workers > 0")),
    ({"num_workers": 1, "prefetch_factor": -1}, "prefetch_factor option should be non-negative"),
    ({"persistent_workers": True}, "persistent_workers option needs num_workers > 0"),
    ({"multiprocessing_context": "fork"}, ("multiprocessing_context can only be used with "
                                          "multi-process loading")),
    ({"seed": 1, "generator": np.random.default_rng(0)}, "pass seed or generator, not both"),
    ({"batch_size": 0}, "batch_size should be a positive integer value, but got batch_size=0"),
])
def test_loader_argument_checks_follow_pytorch(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DataLoader(TensorDataset(np.zeros(4)), **kwargs)


def test_loader_accepts_the_full_signature():
    ds = TensorDataset(np.arange(6, dtype=np.float32))
    loader = DataLoader(ds, 2, False, None, None, 0, None, True, True, 0, None, None, None,
                        False, None)
    assert loader.pin_memory and loader.drop_last and len(loader) == 3
    assert [b.data.tolist() for (b,) in loader] == [[0, 1], [2, 3], [4, 5]]


def test_loader_generator_makes_the_shuffle_reproducible():
    ds = TensorDataset(np.arange(12))

    def orders(generator):
        loader = DataLoader(ds, batch_size=12, shuffle=True, generator=generator)
        return [next(iter(loader))[0].data.tolist() for _ in range(2)]

    a, b = orders(autograd.Generator().manual_seed(4)), orders(autograd.Generator().manual_seed(4))
    assert a == b and a[0] != a[1] and sorted(a[0]) == list(range(12))
    assert orders(autograd.Generator().manual_seed(5)) != a
    assert orders(np.random.default_rng(4)) == orders(np.random.default_rng(4))
    generator = autograd.Generator().manual_seed(4)
    autograd.manual_seed(0)
    before = autograd.rand(3).data.tolist()
    autograd.manual_seed(0)
    orders(generator)  # draws from the generator, leaves the global one alone
    assert autograd.rand(3).data.tolist() == before
    with pytest.raises(TypeError, match="generator must be an autograd.Generator"):
        DataLoader(ds, shuffle=True, generator=7)


# --------------------------------------------------------------------------- workers

_PRELUDE = '''
import os, sys, time, json
import numpy as np
import autograd
from autograd.data import *

def children():
    """This process's child processes, zombies included (/proc), as (pid, state)."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == me:
                found.append((int(entry), fields[0]))
    return found

def values(loader):
    return [[np.asarray(getattr(t, "data", t)).tolist() for t in (b if isinstance(b, list) else [b])]
            for b in loader]
'''


def run_script(body: str, timeout: float = 60) -> object:
    """Run `body` (after the prelude) in a fresh interpreter; return the literal it prints
    last. A hang fails the test through the timeout."""
    code = _PRELUDE + textwrap.dedent(body)
    env = dict(os.environ, PYTHONPATH=ROOT, OPENBLAS_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return ast.literal_eval(done.stdout.strip().splitlines()[-1])


needs_proc = pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc (Linux)")


@needs_proc
def test_workers_yield_the_batches_of_zero_workers_in_the_same_order():
    result = run_script('''
        x = np.arange(23, dtype=np.float32)
        ds = TensorDataset(x, np.arange(23) * 10)
        class Items(Dataset):  # the per-item path: __getitem__ + default_collate
            def __len__(self): return 11
            def __getitem__(self, i): return {"i": i, "sq": np.array([i * i], np.float32)}
        out = {}
        for nw in (0, 1, 2, 3):
            runs = []
            loader = DataLoader(ds, batch_size=4, shuffle=True, seed=3, num_workers=nw)
            runs += [values(loader), values(loader)]  # two epochs: two orders
            runs.append(values(DataLoader(ds, batch_size=5, drop_last=True, num_workers=nw)))
            runs.append([[b["i"].data.tolist(), b["sq"].data.tolist()]
                         for b in DataLoader(Items(), batch_size=3, num_workers=nw)])
            runs.append(values(DataLoader(Items(), batch_size=None, num_workers=nw,
                                          collate_fn=lambda s: s["i"])))
            autograd.manual_seed(9)  # unseeded shuffles follow manual_seed, workers or not
            loader = DataLoader(ds, batch_size=6, shuffle=True, num_workers=nw)
            runs += [values(loader), values(loader)]
            out[nw] = runs
        print(repr((out, children())))
    ''')
    out, kids = result
    assert kids == []
    reference = out[0]
    first, second = reference[0], reference[1]
    assert sorted(v for b in first for v in b[0]) == list(range(23)) and first != second
    assert [len(b[0]) for b in first] == [4, 4, 4, 4, 4, 3]
    assert reference[2] == [[[0, 1, 2, 3, 4], [0, 10, 20, 30, 40]],
                            [[5, 6, 7, 8, 9], [50, 60, 70, 80, 90]],
                            [[10, 11, 12, 13, 14], [100, 110, 120, 130, 140]],
                            [[15, 16, 17, 18, 19], [150, 160, 170, 180, 190]]]
    assert reference[3][0] == [[0, 1, 2], [[0.0], [1.0], [4.0]]]
    assert reference[4] == [[i] for i in range(11)]
    assert reference[5] != reference[6]
    for nw in (1, 2, 3):
        assert out[nw] == reference, f"num_workers={nw} changed the batches"


@needs_proc
def test_worker_init_fn_get_worker_info_and_reproducible_worker_seeds():
    result = run_script('''
        import random
        class Probe(Dataset):
            def __len__(self): return 8
            def __getitem__(self, i):
                info = get_worker_info()
                return [i, info.id, info.num_workers, info.seed, os.getpid(),
                        int(np.random.randint(1 << 30)), random.random(),
                        float(autograd.rand(1).data[0]), info.dataset.tag]
        def init(worker_id):
            info = get_worker_info()
            assert info.id == worker_id
            info.dataset.tag = 100 + worker_id   # the worker's own copy of the dataset

        def run(seed):
            ds = Probe(); ds.tag = -1
            loader = DataLoader(ds, batch_size=2, num_workers=2, worker_init_fn=init,
                                seed=seed, collate_fn=lambda s: s)
            return [row for batch in loader for row in batch], ds.tag
        a, tag = run(7)
        b, _ = run(7)
        c, _ = run(8)
        print(repr((a, b, c, tag, get_worker_info() is None, children())))
    ''')
    a, b, c, tag, main_has_no_info, kids = result
    assert main_has_no_info and kids == [] and tag == -1
    assert [row[0] for row in a] == list(range(8))
    # batches go round-robin: batch k (items 2k, 2k+1) to worker k % 2
    assert [row[1] for row in a] == [0, 0, 1, 1, 0, 0, 1, 1]
    assert {row[2] for row in a} == {2}
    seeds = {row[1]: row[3] for row in a}
    assert seeds[1] == seeds[0] + 1  # worker i gets base_seed + i
    assert len({row[4] for row in a}) == 2 and os.getpid() not in {row[4] for row in a}
    assert [row[8] for row in a] == [100 + row[1] for row in a]
    strip = [[row[i] for i in (0, 1, 3, 5, 6, 7)] for row in a]
    assert strip == [[row[i] for i in (0, 1, 3, 5, 6, 7)] for row in b]  # same seed: same draws
    assert [row[3] for row in c] != [row[3] for row in a]
    assert [row[5] for row in c] != [row[5] for row in a]


@needs_proc
def test_iterable_dataset_workers_duplicate_unless_sharded():
    result = run_script('''
        class Stream(IterableDataset):
            def __init__(self, shard): self.shard = shard
            def __iter__(self):
                info = get_worker_info()
                r = range(10)
                if self.shard and info is not None:
                    r = r[info.id::info.num_workers]
                return iter(r)
        print(repr((
            values(DataLoader(Stream(True), batch_size=2, num_workers=2)),
            values(DataLoader(Stream(True), batch_size=3, num_workers=3, drop_last=True)),
            values(DataLoader(Stream(False), batch_size=4, num_workers=2)),
            children())))
    ''')
    sharded, dropped, duplicated, kids = result
    assert kids == []
    assert sharded == [[[0, 2]], [[1, 3]], [[4, 6]], [[5, 7]], [[8]], [[9]]]  # PyTorch's
    assert dropped == [[[0, 3, 6]], [[1, 4, 7]], [[2, 5, 8]]]
    flat = sorted(v for b in duplicated for v in b[0])
    assert flat == sorted(list(range(10)) * 2)  # every worker yields the whole stream


@needs_proc
def test_persistent_workers_keep_their_processes_and_survive_a_break():
    result = run_script('''
        class Pids(Dataset):
            def __len__(self): return 12
            def __getitem__(self, i): return [i, os.getpid()]
        def epochs(persistent):
            loader = DataLoader(Pids(), batch_size=3, shuffle=True, seed=1, num_workers=2,
                                persistent_workers=persistent)
            out = []
            for epoch in range(3):
                if epoch == 1:  # break off an epoch: its prefetched batches must not leak
                    for k, _ in enumerate(loader):
                        if k == 1:
                            break
                out.append([b[0].data.tolist() for b in loader])
                out.append(sorted({int(p) for b in loader for p in b[1].data}))
            kids = len(children())
            del loader
            return out, kids
        plain = DataLoader(Pids(), batch_size=3, shuffle=True, seed=1)
        reference = []
        for epoch in range(3):
            if epoch == 1:
                next(iter(plain))
            reference.append([b[0].data.tolist() for b in plain])
            next(iter(plain))
        print(repr((epochs(True), epochs(False), reference, children())))
    ''')
    (persistent, kids_alive), (fresh, kids_after_plain), reference, kids = result
    assert kids == [] and kids_alive == 2 and kids_after_plain == 0
    orders, pids = persistent[0::2], persistent[1::2]
    assert len({tuple(p) for p in pids}) == 1 and len(pids[0]) == 2  # the same two workers
    assert len({tuple(p) for p in fresh[1::2]}) == 3  # new workers every epoch otherwise
    assert orders == reference and fresh[0::2] == reference


@needs_proc
def test_breaking_out_of_the_loop_stops_every_worker():
    result = run_script('''
        import multiprocessing as mp
        class Slow(Dataset):
            def __len__(self): return 100
            def __getitem__(self, i):
                time.sleep(0.01)
                return np.float32(i)
        loader = DataLoader(Slow(), batch_size=2, num_workers=3, prefetch_factor=4)
        during = None
        for k, batch in enumerate(loader):
            during = len(children())
            if k == 1:
                break
        after = children()
        print(repr((during, after, len(mp.active_children()), batch.data.tolist())))
    ''', timeout=30)
    during, after, active, last = result
    assert during == 3 and after == [] and active == 0
    assert last == [2.0, 3.0]


@needs_proc
def test_an_error_in_a_worker_is_raised_in_the_main_process_with_its_traceback():
    result = run_script('''
        class Bad(Dataset):
            def __len__(self): return 10
            def __getitem__(self, i):
                if i == 5:
                    raise ValueError(f"sample {i} is corrupt")
                return np.float32(i)
        seen = []
        try:
            for batch in DataLoader(Bad(), batch_size=2, num_workers=2):
                seen.append(batch.data.tolist())
        except ValueError as error:
            message = str(error)
        class NeedsTwo(Exception):
            def __init__(self, a, b): super().__init__(a, b)
        class Odd(Dataset):
            def __len__(self): return 4
            def __getitem__(self, i): raise NeedsTwo(1, 2)
        try:
            list(DataLoader(Odd(), num_workers=1))
        except RuntimeError as error:
            odd = str(error)
        def bad_init(worker_id):
            raise KeyError("no config")
        try:
            list(DataLoader(TensorDataset(np.zeros(4)), num_workers=1, worker_init_fn=bad_init))
        except KeyError as error:
            init = "" + str(error)  # a plain str (repr of the message would be raw)
        print(repr((seen, message, odd, init, children())))
    ''')
    seen, message, odd, init, kids = result
    assert kids == []
    assert seen == [[0.0, 1.0], [2.0, 3.0]]  # the batches before the bad one came through
    assert "Caught ValueError in DataLoader worker process 0." in message
    assert "Original Traceback (most recent call last):" in message
    assert "in __getitem__" in message and "ValueError: sample 5 is corrupt" in message
    assert "Caught NeedsTwo in DataLoader worker process 0." in odd
    assert "Caught KeyError in DataLoader worker process 0." in init and "bad_init" in init
    assert "\n" in init  # shown as text, not as a repr with \\n


@needs_proc
def test_timeout_and_a_dead_worker_raise_instead_of_hanging():
    result = run_script('''
        class Hangs(Dataset):
            def __len__(self): return 8
            def __getitem__(self, i):
                if i >= 4:
                    time.sleep(120)
                return np.float32(i)
        seen, start = [], time.monotonic()
        try:
            for batch in DataLoader(Hangs(), batch_size=2, num_workers=2, timeout=0.5):
                seen.append(batch.data.tolist())
        except RuntimeError as error:
            timed_out = str(error)
        took = time.monotonic() - start
        kids_after_timeout = children()
        class Dies(Dataset):
            def __len__(self): return 6
            def __getitem__(self, i):
                if i == 3:
                    os._exit(3)
                return np.float32(i)
        try:
            list(DataLoader(Dies(), batch_size=1, num_workers=2))
        except RuntimeError as error:
            died = str(error)
        print(repr((seen, timed_out, took, kids_after_timeout, died, children())))
    ''', timeout=60)
    seen, timed_out, took, kids_after_timeout, died, kids = result
    assert seen == [[0.0, 1.0], [2.0, 3.0]]
    assert timed_out == "DataLoader timed out after 0.5 seconds"
    assert took < 10 and kids_after_timeout == [] and kids == []
    assert "DataLoader worker (pid(s)" in died and "exited unexpectedly" in died
    assert "exit code(s) 3" in died


@needs_proc
def test_keyboard_interrupt_while_waiting_stops_the_workers():
    result = run_script('''
        import signal, threading
        class Slow(Dataset):
            def __len__(self): return 50
            def __getitem__(self, i):
                time.sleep(0.2)
                return np.float32(i)
        # Ctrl-C raises KeyboardInterrupt even where this process was started with SIGINT
        # ignored (a shell's background job is), which Python then leaves ignored
        signal.signal(signal.SIGINT, signal.default_int_handler)
        threading.Timer(0.6, os.kill, (os.getpid(), signal.SIGINT)).start()
        got, interrupted = 0, False
        try:
            for batch in DataLoader(Slow(), batch_size=1, num_workers=2):
                got += 1
        except KeyboardInterrupt:
            interrupted = True
        print(repr((interrupted, got < 50, children())))
    ''', timeout=30)
    assert result == (True, True, [])


def test_spawn_workers_give_the_same_batches():
    result = run_script('''
        ds = TensorDataset(np.arange(10, dtype=np.float32))
        a = values(DataLoader(ds, batch_size=3, shuffle=True, seed=2, num_workers=2,
                              multiprocessing_context="spawn"))
        b = values(DataLoader(ds, batch_size=3, shuffle=True, seed=2))
        print(repr((a == b, a)))
    ''', timeout=120)
    same, batches = result
    assert same and sorted(v for b in batches for v in b[0]) == list(range(10))


@needs_proc
def test_workers_run_numba_kernels_after_the_main_process_used_its_thread_pool():
    """numba's OpenMP pool cannot run in a forked child (it kills the child with SIGTERM):
    workers run the kernels' serial compilations instead, so a dataset may use autograd
    ops even after the main process ran parallel kernels."""
    result = run_script('''
        autograd.set_backend("numba")
        from numba.np.ufunc import parallel
        from autograd.kernels import policy
        x = autograd.randn(1024, 1024)
        with policy.override(parallel_above=-1):  # parallel kernels: the thread pool starts
            float((x * 2).relu().sum().data)
        class Ops(Dataset):
            def __len__(self): return 4
            def __getitem__(self, i):
                z = autograd.ones(1024, 1024) * float(i)
                return (z * 2).relu().sum().data
        batches = values(DataLoader(Ops(), batch_size=2, num_workers=2))
        print(repr((bool(parallel._is_initialized), batches, children())))
    ''')
    pool_started, batches, kids = result
    assert pool_started and kids == []
    assert batches == [[[0.0, 2.0 * 1024 * 1024]], [[4.0 * 1024 * 1024, 6.0 * 1024 * 1024]]]
