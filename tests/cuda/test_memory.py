"""The caching allocator's bookkeeping (autograd/kernels/cuda/memory.py), without a GPU:
numba's own allocation underneath is replaced by a counter of fake device blocks. On a GPU,
the device test groups (sim_*.py, run there without the simulator) use it for every array."""
from __future__ import annotations

import gc
import importlib.util

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("numba_cuda") is None,
                                reason="numba-cuda is not installed (pip install numbagrad[cuda])")


@pytest.fixture
def manager(monkeypatch):
    from numba.cuda.cudadrv import driver

    from autograd.kernels.cuda import memory
    made = []

    class Block:
        def __init__(self, size):
            self.device_pointer = driver.binding.CUdeviceptr(0x10000 * (len(made) + 1))
            self.size = size

    def fake_memalloc(self, size):
        if made and made[-1] == "oom":
            made.pop()
            raise driver.CudaAPIError(driver.binding.CUresult.CUDA_ERROR_OUT_OF_MEMORY, "oom")
        made.append(Block(size))
        return made[-1]

    monkeypatch.setattr(driver.NumbaCUDAMemoryManager, "memalloc", fake_memalloc)

    class Deallocations:
        cleared = 0

        def clear(self):
            self.cleared += 1

    m = memory.CachingMemoryManager(context=None)
    m.free_blocks, m.cached_bytes = {}, 0  # what initialize() sets, without a device
    m.deallocations = Deallocations()
    m.made = made
    return m


def test_block_sizes_round_up_to_512_bytes_then_to_a_sixteenth_of_a_power_of_two() -> None:
    from autograd.kernels.cuda.memory import rounded
    assert [rounded(n) for n in (0, 1, 512, 513, 1 << 20)] == [512, 512, 512, 1024, 1 << 20]
    assert rounded((1 << 20) + 1) == (1 << 20) + (1 << 16)
    assert rounded(3_000_000) == 3_014_656  # 2^21 + 14 * 2^16: within 1/16 above the request
    for n in (1, 4097, 10**6, 3 * 10**7 + 3):
        assert n <= rounded(n) <= n * 17 // 16 + 512


def test_a_dead_array_s_block_serves_the_next_request_of_its_size(manager) -> None:
    a = manager.memalloc(1000)
    assert len(manager.made) == 1 and a.size == 1000
    pointer = int(a.device_pointer)
    del a
    gc.collect()
    b = manager.memalloc(900)  # rounds to the same 1024-byte block
    assert len(manager.made) == 1 and int(b.device_pointer) == pointer
    c = manager.memalloc(1000)  # b still lives: a new block
    assert len(manager.made) == 2 and int(c.device_pointer) != pointer
    d = manager.memalloc(5000)
    assert len(manager.made) == 3 and manager.cached_bytes == 1024 * 2 + 5120
    del b, c, d


def test_out_of_memory_releases_the_cache_and_tries_once_more(manager) -> None:
    a = manager.memalloc(2048)
    del a
    gc.collect()
    assert manager.free_blocks[2048]
    manager.made.append("oom")  # the next real allocation fails once
    b = manager.memalloc(4096)
    assert manager.free_blocks[2048] == [] and manager.deallocations.cleared == 1
    assert b.size == 4096 and manager.cached_bytes == 4096
    manager.made.append("oom")
    manager.made.append("oom")
    with pytest.raises(Exception, match="oom|OUT_OF_MEMORY"):
        manager.memalloc(8192)


def test_empty_cache_without_cuda_arrays_is_a_no_op() -> None:
    import autograd
    autograd.cuda.empty_cache()


def test_a_buffer_describes_its_block_and_returns_it_when_it_dies(manager) -> None:
    import numpy as np
    buf = manager.allocate(4000, 1000, np.dtype(np.float32))
    assert (buf.shape, buf.strides, buf.size, buf.ndim) == ((1000,), (4,), 1000, 1)
    assert buf.gpu_data is buf and buf.device_pointer == int(manager.made[0].device_pointer)
    cai = buf.__cuda_array_interface__
    assert cai["shape"] == (1000,) and cai["typestr"] == "<f4"
    assert cai["data"] == (buf.device_pointer, False)
    del buf
    assert manager.free_blocks[4096] == [manager.made[0]]
    again = manager.allocate(4096, 512, np.dtype(np.float64))
    assert len(manager.made) == 1 and again.device_pointer == int(manager.made[0].device_pointer)


def test_a_buffer_slices_through_numba_s_array_over_its_memory(manager, monkeypatch) -> None:
    """dev[start:] (the matmul's batch chunks) is numba's view of the same memory: measured
    on the H200, where a Buffer was not subscriptable before."""
    import numpy as np

    from autograd.kernels.cuda import memory
    buf = manager.allocate(400, 100, np.dtype(np.float32))
    monkeypatch.setattr(memory.Buffer, "as_numba", lambda self: np.arange(self.size))
    np.testing.assert_array_equal(buf[98:], [98, 99])


def test_initialize_again_keeps_the_cache(manager, monkeypatch) -> None:
    """numba calls initialize() whenever it activates the context (prepare_for_use): on the
    H200 an MLP step allocated 17 new blocks a step until a second call stopped dropping the
    cache."""
    from numba.cuda.cudadrv import driver
    monkeypatch.setattr(driver.NumbaCUDAMemoryManager, "initialize", lambda self: None)
    a = manager.memalloc(1000)
    del a
    gc.collect()
    cached = manager.free_blocks
    manager.initialize()
    assert manager.free_blocks is cached and len(cached[1024]) == 1
    b = manager.memalloc(1000)
    assert len(manager.made) == 1
    del b
