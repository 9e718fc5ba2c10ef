"""numba-cuda plumbing for the cuda kernels: launch configuration, the launch counter,
allocation, copies between host and device, casts and fills.

Launch shapes are the one thing that differs between a GPU and numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``, which runs every thread of a block as a Python thread): the
simulator gets small blocks, few of them (the kernels loop over their elements with a grid
stride, so any grid computes the same result) and a small matmul tile. The kernels
themselves are the same code.
"""
from __future__ import annotations

import math

import numpy as np
from numba import config, cuda

from . import launcher
from .array import CudaArray

SIMULATOR = bool(config.ENABLE_CUDASIM)
THREADS = 16 if SIMULATOR else 256     # threads per block of the 1-D kernels
MAX_BLOCKS = 2 if SIMULATOR else 4096  # the kernels loop with a grid stride beyond this
TILE = 4 if SIMULATOR else 16          # the matmul's shared-memory tile (TILE x TILE threads)

_launches = [0]
_prepared: dict = {}  # (kernel, argument kinds) -> a direct launcher, or None (numba's path)

_manager = [None]  # the memory manager of the one context this backend uses


def _simulator_shared_arrays_locked() -> None:
    """numba-cuda's simulator (0.30) gives a block's threads one shared array per source
    line, made by the first thread that asks; two threads asking at once can each make
    their own (a check-then-set with no lock), and the block then computes garbage. It
    happened in CI under load (a matmul tile). The same lookup, under a lock."""
    import sys
    import threading
    import traceback

    from numba.cuda.simulator import kernelapi

    original = kernelapi.FakeCUDAShared.array
    lock = threading.Lock()

    def array(self, shape, dtype, alignment=None):
        if shape == 0 or alignment is not None:  # dynamic shared memory: no per-line lookup
            return original(self, shape, dtype, alignment)
        if isinstance(dtype, kernelapi.types.Type):
            dtype = kernelapi.numpy_support.as_dtype(dtype)
        caller = traceback.extract_stack(sys._getframe(1), limit=1)[0][0:2]
        with lock:
            found = self._allocations.get(caller)
            if found is None:
                found = self._allocations[caller] = np.empty(shape, dtype)
        return found
    kernelapi.FakeCUDAShared.array = array


if SIMULATOR:
    _simulator_shared_arrays_locked()

if not SIMULATOR:
    from numba.cuda.cudadrv.devicearray import DeviceNDArray

    from . import memory
    memory.install()


def launch_count() -> int:
    """Kernels launched on the device since the process started (the bench reports it)."""
    return _launches[0]


def launch(kernel, blocks, threads, *args) -> None:
    """Launch `kernel` on a grid of `blocks` of `threads`, counted.

    The first launch of each kernel and argument kinds goes through numba (which compiles
    it); later ones go straight to the driver with the arguments packed as numba packs
    them (launcher.py), which skips numba's per-launch typing and argument conversion."""
    _launches[0] += 1
    if SIMULATOR:
        kernel[blocks, threads](*args)
        return
    key = (kernel, *map(launcher.kind, args))
    direct = _prepared.get(key, False)
    if direct:
        direct(blocks, threads, args)
        return
    args = [a.as_numba() if type(a) is memory.Buffer else a for a in args]
    kernel[blocks, threads](*args)
    if direct is False:
        _prepared[key] = launcher.prepare(kernel, args)


def launch_1d(kernel, n: int, *args) -> None:
    """Launch a grid-stride kernel over n elements (nothing for n == 0)."""
    if n:
        launch(kernel, min((n + THREADS - 1) // THREADS, MAX_BLOCKS), THREADS, *args)


def around(shape: tuple, axis: int) -> tuple:
    """(elements before `axis`, its length, elements after it): a C-contiguous array as
    (outer, n, inner) blocks along one axis."""
    return math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1:])


def empty(shape: tuple, dtype) -> CudaArray:
    """An uninitialised device array (its memory from the context's memory manager directly:
    numba's ``device_array`` checks the context on every call)."""
    shape = tuple(int(n) for n in shape)
    size = 1
    for n in shape:
        size *= n
    dtype = np.dtype(dtype)
    if SIMULATOR or not size:
        return CudaArray(cuda.device_array(size, dtype=dtype), shape)
    manager = _manager[0]
    if manager is None:
        manager = _manager[0] = cuda.current_context().memory_manager
    if isinstance(manager, memory.CachingMemoryManager):
        return CudaArray(manager.allocate(size * dtype.itemsize, size, dtype), shape)
    return CudaArray(DeviceNDArray((size,), (dtype.itemsize,), dtype,
                                   gpu_data=manager.memalloc(size * dtype.itemsize)), shape)


def to_device(a) -> CudaArray:
    a = np.asarray(a)
    flat = np.ascontiguousarray(a).reshape(-1)
    return CudaArray(cuda.to_device(flat), a.shape)


def to_host(x: CudaArray) -> np.ndarray:
    if x.size == 0:
        return np.empty(x.shape, x.dtype)
    return x.dev.copy_to_host().reshape(x.shape)


def copy(x: CudaArray) -> CudaArray:
    out = empty(x.shape, x.dtype)
    launch_1d(_copy, x.size, x.dev, out.dev, x.size)
    return out


def assign(dst: CudaArray, src: CudaArray) -> None:
    """dst[...] = src for arrays of the same shape (a cast if the dtypes differ)."""
    if src.shape != dst.shape:
        raise RuntimeError(f"in-place: a value of shape {src.shape} cannot be written into a "
                           f"tensor of shape {dst.shape}")
    launch_1d(_copy, dst.size, src.dev, dst.dev, dst.size)


def cast(x: CudaArray, dtype: np.dtype) -> CudaArray:
    out = empty(x.shape, dtype)
    kernel = _to_bool if dtype == np.bool_ else _copy
    launch_1d(kernel, x.size, x.dev, out.dev, x.size)
    return out


def fill(x: CudaArray, value) -> None:
    launch_1d(_fill, x.size, x.dev, x.dtype.type(value), x.size)


def full(shape: tuple, value, dtype) -> CudaArray:
    out = empty(shape, dtype)
    fill(out, value)
    return out


def allocate_like(x: CudaArray, name: str, args: tuple, kwargs: dict) -> CudaArray:
    """np.zeros_like / ones_like / empty_like / full_like(x, ...) on the device."""
    args = list(args)
    value = args.pop(0) if name == "full_like" else kwargs.pop("fill_value", None)
    dtype = args.pop(0) if args else kwargs.pop("dtype", None)
    dtype = x.dtype if dtype is None else np.dtype(dtype)
    shape = kwargs.pop("shape", None) or x.shape
    if name == "empty_like":
        return empty(shape, dtype)
    value = {"zeros_like": 0, "ones_like": 1}.get(name, value)
    return full(shape, value, dtype)


@cuda.jit(cache=True)
def _copy(src, dst, n):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        dst[i] = src[i]
        i += step


COPY = _copy  # dst[:n] = src[:n] with a cast: also the rounding ops' kernel for integers


@cuda.jit(cache=True)
def _to_bool(src, dst, n):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        dst[i] = src[i] != 0
        i += step


@cuda.jit(cache=True)
def _fill(dst, value, n):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        dst[i] = value
        i += step
