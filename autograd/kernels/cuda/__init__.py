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
col2im), pool.py (max and average pooling), batchnorm.py, gather.py (argmax, take / put
along an axis, clip), ufuncs.py (numpy's ufuncs and functions on cuda arrays; the modules
below add theirs to it), transcendental.py (the rest of the elementwise math, isnan,
isclose, ...), scan.py (cumsum, cumprod, ufunc.accumulate), sort.py (argsort), take.py
(np.take along an axis, np.roll), pad.py (constant padding), einsum.py (np.einsum as
batched matmuls), index.py (indexing with PyTorch's rule, indexed assignment, the
scatter-add of its backward, the strided copies of transpose / swapaxes / moveaxis / flip),
blocks.py (concatenate, tril / triu), attention.py (attention's masked row softmax, softmax
along any axis), scatter.py (the ordered scatters of scatter / scatter_reduce), select.py
(nonzero and unique: a prefix sum, one count to the host, a compaction). Everything but
array.py imports numba-cuda and is loaded on the first cuda kernel call
(`registry.backend_module`), so ``import autograd`` never imports numba.
"""
# the kernel families the modules below register for, declared here: layout / targets for
# the device paths of ops; batchnorm, conv and pool, else loaded only by `import nn` (a cuda
# tensor used before that got a KeyError from `register`)
from .. import batchnorm, conv, layout, pool, targets  # noqa: F401
from ..registry import backend_module

MODULES = ("elementwise", "reduce", "linalg", "softmax_ce", "optim", "conv", "pool",
           "batchnorm", "gather", "transcendental", "index", "scan", "sort", "take", "pad",
           "einsum", "scatter", "select")

for _name in MODULES:
    backend_module("cuda", f"{__name__}.{_name}")
