"""The CUDA backend: kernels for tensors on ``device="cuda"``, written with numba-cuda.

A cuda tensor's ``.data`` is a `CudaArray` (array.py): a C-contiguous numba device array
with the few numpy attributes the ops read (shape, dtype, ndim, size, reshape). The kernel
dispatchers of `autograd.kernels` send a call whose first argument is a `CudaArray` to the
implementation registered with ``register("cuda", name)`` in the modules below, whatever the
CPU backend (`set_backend`) is; a kernel with no cuda implementation raises
NotImplementedError naming the kernel and the device, and a `CudaArray` refuses every
implicit conversion to a numpy array, so nothing is ever copied to the CPU behind the
user's back.

Modules: array.py (the array type, no numba import), runtime.py (numba-cuda, launch
configuration and the launch counter), elementwise.py, reduce.py, linalg.py (tiled,
shared-memory matmul), softmax_ce.py, optim.py (fused optimiser updates), conv.py (im2col,
col2im), pool.py (max pooling), batchnorm.py, gather.py (argmax, take / put along an axis,
clip), ufuncs.py (numpy's ufuncs and functions on cuda arrays). Everything but
array.py imports numba-cuda and is loaded on the first cuda kernel call
(`registry.backend_module`), so ``import autograd`` never imports numba.
"""
from .. import layout, targets  # noqa: F401 - kernels declared for the device paths of ops
from ..registry import backend_module

MODULES = ("elementwise", "reduce", "linalg", "softmax_ce", "optim", "conv", "pool",
           "batchnorm", "gather")

for _name in MODULES:
    backend_module("cuda", f"{__name__}.{_name}")
