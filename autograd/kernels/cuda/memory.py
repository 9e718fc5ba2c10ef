"""A caching allocator for cuda tensors: device memory is kept and reused, never freed per op.

numba-cuda allocates every device array with ``cuMemAlloc`` and frees it with ``cuMemFree``
(the free waits for the device), which costs tens of microseconds per array: a training
step allocates dozens of intermediates, so the allocator, not the kernels, set the pace. As
PyTorch's caching allocator does, `CachingMemoryManager` keeps each block when its array
dies and hands it to the next request of the same rounded size. numba's own External Memory
Management interface installs it (`install`, called when the cuda backend loads, before the
first context exists): every numba device array of the process goes through it.

Reuse is safe because every kernel and copy of the backend runs on the one default stream:
a block freed by the host is handed out again only to work queued after the work that used
it. When the device runs out of memory, the cached blocks are released and the allocation
is tried once more; `empty_cache` releases them on request (``autograd.cuda.empty_cache``).
"""
from __future__ import annotations

import functools
import weakref

import numpy as np
from numba import cuda
from numba.cuda.cudadrv import driver

_managers: weakref.WeakSet = weakref.WeakSet()  # one per context made since `install`
_SMALL = 1 << 20  # blocks up to 1 MiB are rounded to 512 bytes, larger ones to 1/16 of a power of 2


def rounded(size: int) -> int:
    """The block size that serves a request of `size` bytes."""
    if size <= _SMALL:
        return max(512, (size + 511) & ~511)
    step = 1 << (size.bit_length() - 5)
    return (size + step - 1) // step * step


class Buffer:
    """A flat device array straight from the cache: what a cuda array's ``dev`` holds on a
    GPU (runtime.empty). It has the attributes the direct launcher reads (launcher.py) and
    the CUDA Array Interface for numba; building numba's own DeviceNDArray and
    MemoryPointer for every intermediate cost more than launching the kernel that fills it.
    Its block goes back on the free list when it dies."""

    __slots__ = ("_block", "_free", "device_pointer", "dtype", "shape", "size", "strides")
    ndim = 1

    def __init__(self, block, free: list, size: int, dtype: np.dtype) -> None:
        self._block, self._free = block, free
        self.device_pointer = int(block.device_pointer)
        self.size, self.dtype = size, dtype
        self.shape, self.strides = (size,), (dtype.itemsize,)

    def __del__(self) -> None:
        self._free.append(self._block)

    @property
    def gpu_data(self) -> Buffer:
        return self

    @property
    def __cuda_array_interface__(self) -> dict:
        return {"shape": self.shape, "strides": None, "typestr": self.dtype.str,
                "data": (self.device_pointer, False), "version": 3}

    def as_numba(self):
        """numba's DeviceNDArray over the same memory (for numba's own launch and copies)."""
        return cuda.as_cuda_array(self)

    def copy_to_host(self) -> np.ndarray:
        return self.as_numba().copy_to_host()

    def __getitem__(self, key):
        """A view (``dev[start:]``: a batch chunk of the matmul), as numba's array."""
        return self.as_numba()[key]


class CachingMemoryManager(driver.NumbaCUDAMemoryManager):
    """numba's memory manager with a free list per block size (see the module docstring)."""

    def initialize(self) -> None:
        super().initialize()
        if hasattr(self, "free_blocks"):  # numba calls this on every context activation
            return
        self.free_blocks: dict = {}  # block size -> blocks (numba's owned pointers) not in use
        self.cached_bytes = 0
        _managers.add(self)

    def memalloc(self, size: int):
        bucket = rounded(size)
        free = self.free_blocks.setdefault(bucket, [])
        block = free.pop() if free else self._new_block(bucket)
        # The array sees a pointer of its own; when it dies, the block goes back on the list.
        return driver.MemoryPointer(self.context, block.device_pointer, size,
                                    finalizer=functools.partial(free.append, block))

    def allocate(self, nbytes: int, size: int, dtype: np.dtype) -> Buffer:
        """A `Buffer` of `size` elements of `dtype` (`nbytes` > 0 bytes) from the cache."""
        free = self.free_blocks.setdefault(rounded(nbytes), [])
        block = free.pop() if free else self._new_block(rounded(nbytes))
        return Buffer(block, free, size, dtype)

    def _new_block(self, bucket: int):
        try:
            block = super().memalloc(bucket)
        except driver.CudaAPIError as e:
            if e.code != driver.binding.CUresult.CUDA_ERROR_OUT_OF_MEMORY:
                raise
            self.empty_cache()
            block = super().memalloc(bucket)
        self.cached_bytes += bucket
        return block

    def empty_cache(self) -> None:
        """Free every cached block that no array uses (numba frees them on its next flush)."""
        for bucket, blocks in self.free_blocks.items():
            self.cached_bytes -= bucket * len(blocks)
            blocks.clear()
        self.deallocations.clear()


def install() -> bool:
    """Make `CachingMemoryManager` numba's memory manager unless the user chose one
    (``NUMBA_CUDA_MEMORY_MANAGER``). Contexts made before this call keep numba's own: the
    backend calls it on loading, before it touches the device. True when it was installed."""
    if driver.config.CUDA_MEMORY_MANAGER != "default":
        return False
    cuda.set_memory_manager(CachingMemoryManager)
    return True


def empty_cache() -> None:
    """Release the cached, unused device memory of every context."""
    for manager in list(_managers):
        manager.empty_cache()
