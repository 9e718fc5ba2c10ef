"""Collectives on 2+ ranks (run by test_launch.py under mpiexec): expected values in place."""
import numpy as np
import pytest

import autograd
from autograd import distributed as dist


def rank_and_size():
    return dist.get_rank(), dist.get_world_size()


def test_rank_and_size():
    r, n = rank_and_size()
    assert n >= 2 and 0 <= r < n and dist.is_initialized()
    everyone = [autograd.from_numpy(np.zeros(1)) for _ in range(n)]
    dist.all_gather(everyone, autograd.tensor(np.array([float(r)])))
    assert [float(t.data[0]) for t in everyone] == [float(i) for i in range(n)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_all_reduce_ops_in_place(dtype):
    r, n = rank_and_size()
    base = np.array([[1.0, -2.0, 3.5], [0.25, 4.0, -1.0]], dtype=dtype)
    values = {i: base * (i + 1) + i for i in range(n)}  # what rank i contributes
    expected = {
        dist.ReduceOp.SUM: sum(values.values()),
        dist.ReduceOp.AVG: sum(values.values()) / n,
        dist.ReduceOp.MAX: np.max(np.stack(list(values.values())), axis=0),
        dist.ReduceOp.MIN: np.min(np.stack(list(values.values())), axis=0),
    }
    for op, want in expected.items():
        t = autograd.from_numpy(values[r].copy())
        array = t.data
        version = t._version[0]
        assert dist.all_reduce(t, op) is None
        assert t.data is array                 # the tensor's own array, written in place
        assert t._version[0] == version + 1    # counted as an in-place write
        np.testing.assert_allclose(t.data, want.astype(dtype), rtol=1e-6 if dtype == np.float32
                                   else 1e-15, err_msg=str(op))


def test_all_reduce_default_is_sum_and_int_tensors():
    r, n = rank_and_size()
    t = autograd.tensor(np.array([r + 1, 10 * (r + 1)], dtype=np.int64))
    dist.all_reduce(t)
    tot = n * (n + 1) // 2
    np.testing.assert_array_equal(t.data, [tot, 10 * tot])
    with pytest.raises(TypeError, match="AVG needs a floating point tensor"):
        dist.all_reduce(t, dist.ReduceOp.AVG)
    with pytest.raises(TypeError, match="op must be a ReduceOp"):
        dist.all_reduce(t, "sum")


def test_all_reduce_non_contiguous_tensor_is_written_back():
    r, n = rank_and_size()
    full = np.arange(12, dtype=np.float64).reshape(3, 4) * (r + 1)
    t = autograd.from_numpy(full.T)            # a transposed view: not C-contiguous
    dist.all_reduce(t, dist.ReduceOp.SUM)
    tot = n * (n + 1) // 2
    np.testing.assert_array_equal(full, np.arange(12.0).reshape(3, 4) * tot)


def test_async_all_reduce_returns_a_work_handle():
    r, n = rank_and_size()
    t = autograd.from_numpy(np.full(1000, float(r)))
    work = dist.all_reduce(t, dist.ReduceOp.AVG, async_op=True)
    assert work.wait() is True and work.is_completed()
    np.testing.assert_allclose(t.data, np.full(1000, (n - 1) / 2))


def test_broadcast_from_each_source():
    r, n = rank_and_size()
    for src in range(n):
        t = autograd.from_numpy(np.array([r, r * 2.0, -r]))
        dist.broadcast(t, src)
        np.testing.assert_array_equal(t.data, [src, src * 2.0, -src])
    t = autograd.from_numpy(np.full(2, 7.0) if r == 1 else np.zeros(2))
    work = dist.broadcast(t, 1, async_op=True)
    assert work.wait() is True
    np.testing.assert_array_equal(t.data, [7.0, 7.0])


def test_broadcast_bad_src_raises_on_every_rank():
    _, n = rank_and_size()
    for bad in (n, -1, 1.0):
        with pytest.raises(ValueError, match=f"src={bad!r} is not a rank"):
            dist.broadcast(autograd.zeros(2), bad)


def test_all_gather_fills_the_list_in_rank_order():
    r, n = rank_and_size()
    out = [autograd.zeros(2, 3) for _ in range(n)]
    dist.all_gather(out, autograd.full((2, 3), float(r) + 0.5))
    for i, t in enumerate(out):
        np.testing.assert_array_equal(t.data, np.full((2, 3), i + 0.5))


def test_all_gather_errors():
    _, n = rank_and_size()
    with pytest.raises(ValueError, match=f"list of world_size={n} tensors, got {n + 1}"):
        dist.all_gather([autograd.zeros(2) for _ in range(n + 1)], autograd.zeros(2))
    with pytest.raises(ValueError, match=r"tensor_list\[0\] has shape \(3,\)"):
        dist.all_gather([autograd.zeros(3) for _ in range(n)], autograd.zeros(2))


def test_barrier_and_double_init():
    dist.barrier()
    with pytest.raises(RuntimeError, match="twice"):
        dist.init_process_group("mpi")
