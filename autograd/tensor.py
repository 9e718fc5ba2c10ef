"""Tensor: a numpy array, its gradient, and its link into the graph.

Every arithmetic operator and method here turns into a Function from `autograd.ops`, which
computes the forward on arrays and records how to go backward.
"""
from __future__ import annotations

import operator
import weakref
from collections import namedtuple

import numpy as np

from . import devices, dtypes, trace
from . import kernels as K
from .engine import implicit_grad, run_backward
from .grad_mode import _state as _grad_mode
from .grad_mode import is_grad_enabled
from .kernels.cuda.array import CudaArray
from .ops import (  # noqa: F401  (the modules that only declare ops are imported for that)
    binary,
    binary_math,
    einsum,
    gather,
    index,
    layout,
    linalg,
    logical,
    reduce,
    rounding,
    sampling,
    scan,
    shape,
    softmax,
    sort,
    statistics,
    transcendental,
    unary,
)
from .ops import registry as op_registry
from .ops.binary import as_tensor_pair
from .ops.cast import Cast, Clone
from .ops.device import ToDevice
from .wrap import register as register_tensor
from .wrap import wrap as _wrap_array

MaxResult = namedtuple("MaxResult", ["values", "indices"])

_SCALARS = (bool, int, float, np.generic)


class Tensor:
    __slots__ = (
        "__weakref__",
        "_base",
        "_base_version",
        "_grad",
        "_hooks",
        "_post_hooks",
        "_version",
        "data",
        "grad_fn",
        "requires_grad",
    )
    __array_ufunc__ = None  # make `ndarray + tensor` call Tensor.__radd__, not numpy
    __array_priority__ = 1000
    next = ()  # a leaf has no incoming edges in the graph walk

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        self.data = dtypes.to_array(data, dtype)
        self._grad = None
        self.grad_fn = None
        self._version = [0]
        self._hooks = self._base = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # a Tensor holding the array itself, without copying or checking (the ops' fast path,
    # written in autograd/wrap.py, which the layers below tensor.py call directly)
    wrap = staticmethod(_wrap_array)

    # ---- attributes -------------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    is_leaf = property(lambda self: self.grad_fn is None)

    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient (a Tensor of this tensor's shape and dtype), or None."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        # Checked as in PyTorch: the optimisers' fused kernels index the gradient by the
        # parameter's size, so a gradient of another shape or dtype must never get here.
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad "
                                f"of type {type(value).__name__}")
            if value is self:
                raise RuntimeError("can't assign Variable as its own grad")
            if type(value.data) is not type(self.data):
                raise RuntimeError(f"assigned grad has data located on {value.device}, which "
                                   f"is different from the tensor's device {self.device}")
            if value.data.dtype != self.data.dtype:
                raise RuntimeError(f"attempting to assign a gradient with dtype "
                                   f"'{value.data.dtype}' to a tensor with dtype "
                                   f"'{self.data.dtype}'. Please ensure that the gradient and "
                                   f"the tensor have the same dtype")
            if value.data.shape != self.data.shape:
                raise RuntimeError(f"attempting to assign a gradient of size "
                                   f"'{list(value.data.shape)}' to a tensor of size "
                                   f"'{list(self.data.shape)}'. Please ensure that the "
                                   f"gradient and the tensor are the same size")
        _set_grad(self, value)
    T = property(lambda self: self.permute(*reversed(range(self.ndim))))
    mT = property(lambda self: self.transpose(-2, -1))

    def size(self, dim: int | None = None):
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self) -> int:
        return self.data.size

    def dim(self) -> int:
        return self.data.ndim

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        data = self.data.get() if type(self.data) is CudaArray else self.data
        body = np.array2string(data, separator=", ", prefix="tensor(")
        extra = "" if data is self.data else f", device='{self.device}'"
        if self.dtype not in (dtypes.get_default_dtype(), np.int64, np.bool_):
            extra += f", dtype={self.dtype}"
        if self.grad_fn is not None:
            extra += f", grad_fn=<{self.grad_fn.name}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ---- conversion -------------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        if type(self.data) is CudaArray:
            raise TypeError(_NUMPY_OF_CUDA)
        return self.data if dtype is None else self.data.astype(dtype)

    def item(self):
        trace.value_access("Tensor.item()")
        if self.data.size != 1:
            raise ValueError(f"item: only one element tensors can be converted to Python "
                             f"scalars (this one has shape {self.shape})")
        if type(self.data) is CudaArray:  # a copy to the host (a sync), as PyTorch's
            return self.data.get().reshape(()).item()
        return self.data.reshape(()).item()

    def tolist(self):
        trace.value_access("Tensor.tolist()")
        return self.data.get().tolist() if type(self.data) is CudaArray else self.data.tolist()

    def numpy(self) -> np.ndarray:
        """The underlying array (a copy if this tensor requires grad); TypeError for a cuda
        tensor (call .cpu() first, as in PyTorch)."""
        trace.value_access("Tensor.numpy()")
        if type(self.data) is CudaArray:
            raise TypeError(_NUMPY_OF_CUDA)
        return self.data.copy() if self.requires_grad else self.data

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        """A 0-d integer (or bool) tensor as a Python int: slice bounds, range(), list
        indexing. Floats and tensors with dims raise TypeError (numpy then indexes with
        the tensor as an array, as before)."""
        if self.data.ndim or self.data.dtype.kind not in "biu":
            raise TypeError(f"only 0-d integer tensors can be converted to an index, got a "
                            f"tensor of shape {tuple(self.data.shape)} and dtype "
                            f"{self.data.dtype}")
        return operator.index(self.data.item())

    def __format__(self, spec: str) -> str:
        """f"{loss:.4f}": a 0-d tensor formats as its Python number; other tensors only
        with an empty spec (their str), as PyTorch."""
        if self.data.ndim == 0:
            trace.value_access("formatting a tensor")
            return format(self.data.item(), spec)
        if spec:
            raise TypeError(f"unsupported format string {spec!r} passed to Tensor.__format__ "
                            f"(only 0-d tensors take a format spec; this one has shape "
                            f"{tuple(self.data.shape)})")
        return str(self)

    def __bool__(self):
        trace.value_access("bool(tensor)")
        if self.data.size != 1:
            raise RuntimeError(f"bool: the truth value of a tensor with {self.data.size} "
                               f"elements is ambiguous")
        return bool(self.data.reshape(()))

    def detach(self) -> Tensor:
        """The same data (shared, same version counter), cut off from the graph."""
        return Tensor.wrap(self.data, False, None, self._version)

    def clone(self) -> Tensor:
        return Clone.apply(self)

    def astype(self, dtype) -> Tensor:
        dtype = np.dtype(dtype)
        return self if dtype == self.dtype else Cast.apply(self, dtype=dtype)

    # ---- devices and casts (PyTorch's forms) -----------------------------------------------
    device = property(lambda self: devices.CUDA if type(self.data) is CudaArray else devices.CPU,
                      doc="The device holding the data: cpu, or cuda:0 (numba-cuda).")
    is_cuda = property(lambda self: type(self.data) is CudaArray)

    def get_device(self) -> int:
        """The CUDA device index (0) of a cuda tensor, -1 for a CPU tensor (as PyTorch)."""
        return 0 if type(self.data) is CudaArray else -1

    def to(self, *args, **kwargs) -> Tensor:
        """to(dtype), to(device), to(device, dtype), to(tensor) (its dtype and device),
        with non_blocking= and copy= (positionally too), as PyTorch. Returns self when
        nothing changes and copy is False. A cast to a floating dtype is differentiable;
        to an integer or bool dtype the result is cut off from the graph, as in PyTorch.
        A CUDA device needs `autograd.cuda.is_available()` (RuntimeError otherwise); the
        copy between devices is differentiable."""
        dev, dtype, _, copy = devices.parse_to("Tensor.to", args, kwargs, Tensor)
        out = self if dev is None or dev == self.device else ToDevice.apply(self,
                                                                           device=dev.type)
        return out._cast(out.data.dtype if dtype is None else dtype, copy and out is self)

    def _cast(self, dtype: np.dtype, copy: bool = False) -> Tensor:
        if dtype == self.data.dtype:
            return Clone.apply(self) if copy else self
        source = self if dtype.kind in "fc" else self.detach()
        return Cast.apply(source, dtype=dtype)

    def cpu(self, memory_format=None) -> Tensor:
        """A copy on the CPU of a cuda tensor (differentiable); self for a CPU tensor."""
        return ToDevice.apply(self, device="cpu") if type(self.data) is CudaArray else self

    def cuda(self, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
        """A copy on the CUDA device (self if already there); RuntimeError when
        `autograd.cuda.is_available()` is False, as a CPU-only PyTorch build."""
        devices.resolve("cuda" if device is None else _cuda_device(device), "Tensor.cuda")
        return self if type(self.data) is CudaArray else ToDevice.apply(self, device="cuda")

    def float(self, memory_format=None):
        return self._cast(np.dtype(np.float32))

    def double(self, memory_format=None):
        return self._cast(np.dtype(np.float64))

    def half(self, memory_format=None):
        return self._cast(np.dtype(np.float16))

    def long(self, memory_format=None):
        return self._cast(np.dtype(np.int64))

    def int(self, memory_format=None):
        return self._cast(np.dtype(np.int32))

    def bool(self, memory_format=None):
        return self._cast(np.dtype(np.bool_))

    # ---- autograd -----------------------------------------------------------------------
    def requires_grad_(self, flag: bool = True) -> Tensor:
        if flag and not dtypes.is_float(self.dtype):
            raise TypeError(f"requires_grad: only tensors of floating point dtype can require "
                            f"gradients, got {self.dtype}")
        if not flag and self.grad_fn is not None:
            raise RuntimeError("requires_grad_: you can only change requires_grad flags of leaf "
                               "variables; use detach() for a non-leaf")
        self.requires_grad = bool(flag)
        if flag:
            trace.new_leaf(self)
        return self

    def retain_grad(self) -> None:
        """Keep .grad for this non-leaf tensor after backward (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: can't retain_grad on a tensor that has "
                               "requires_grad=False")
        if self.grad_fn is not None:
            self.grad_fn._retained = weakref.ref(self)

    def register_hook(self, hook):
        """Call hook(grad) when this tensor's gradient is computed; a returned Tensor
        replaces the gradient. Returns a handle whose remove() unregisters it."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't "
                               "require gradient")
        owner = self.grad_fn if self.grad_fn is not None else self
        if owner._hooks is None:
            owner._hooks = []
        owner._hooks.append(hook)
        return _HookHandle(owner._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call hook(self) on this leaf right after backward has accumulated into .grad (as
        PyTorch's): the hook sees the final .grad, e.g. to start all-reducing it while the
        rest of backward runs. Returns a handle whose remove() unregisters it."""
        if not self.requires_grad:
            raise RuntimeError("register_post_accumulate_grad_hook: cannot register a hook on "
                               "a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("register_post_accumulate_grad_hook: post accumulate grad hooks "
                               f"cannot be registered on non-leaf tensors (shape {self.shape})")
        hooks = getattr(self, "_post_hooks", None)
        if hooks is None:
            hooks = self._post_hooks = []
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def backward(self, gradient=None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's .grad."""
        if not self.requires_grad:
            raise RuntimeError("backward: element 0 of tensors does not require grad and does "
                               "not have a grad_fn")
        gradient = implicit_grad(self, gradient)
        run_backward([self], [gradient], create_graph if retain_graph is None else retain_graph,
                     create_graph)

    # ---- arithmetic ---------------------------------------------------------------------
    def __add__(self, other):
        if type(other) is Tensor:  # two tensors: no scalar to wrap, nothing to convert
            if not _grad_mode.enabled:
                return _no_graph(K.add, "add", self, other)
            return binary.Add.apply(self, other)
        return binary.Add.apply(*as_tensor_pair(self, other))

    def __radd__(self, other):
        return binary.Add.apply(*as_tensor_pair(other, self))

    def __sub__(self, other):
        if type(other) is Tensor:  # two tensors: no scalar to wrap, nothing to convert
            if not _grad_mode.enabled:
                return _no_graph(K.sub, "sub", self, other)
            return binary.Sub.apply(self, other)
        return binary.Sub.apply(*as_tensor_pair(self, other))

    def __rsub__(self, other):
        return binary.Sub.apply(*as_tensor_pair(other, self))

    def __mul__(self, other):
        if type(other) is Tensor:  # two tensors: no scalar to wrap, nothing to convert
            if not _grad_mode.enabled:
                return _no_graph(K.mul, "mul", self, other)
            return binary.Mul.apply(self, other)
        return binary.Mul.apply(*as_tensor_pair(self, other))

    def __rmul__(self, other):
        return binary.Mul.apply(*as_tensor_pair(other, self))

    def __truediv__(self, other):
        if type(other) is Tensor:  # two tensors: no scalar to wrap, nothing to convert
            if not _grad_mode.enabled:
                return _no_graph(K.div, "div", self, other)
            return binary.Div.apply(self, other)
        return binary.Div.apply(*as_tensor_pair(self, other))

    def __rtruediv__(self, other):
        return binary.Div.apply(*as_tensor_pair(other, self))

    def __pow__(self, p):
        if isinstance(p, _SCALARS):
            return unary.PowScalar.apply(self, p=p)
        return binary.Pow.apply(*as_tensor_pair(self, p))

    def __rpow__(self, base):
        return binary.Pow.apply(*as_tensor_pair(base, self))

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(as_tensor_pair(other, self)[0], self)

    def __neg__(self):
        return unary.Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return unary.Abs.apply(self)

    def add(self, other, *, alpha=1):
        """self + alpha * other, as torch.add."""
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other, *, alpha=1):
        """self - alpha * other, as torch.sub."""
        return self - (other if alpha == 1 else other * alpha)

    mul = __mul__
    matmul = __matmul__
    neg = __neg__

    def pow(self, p):
        return self ** p

    def square(self):
        return self * self

    # comparisons: bool tensors, no grad
    @trace.replayable
    def _compare(self, other, ufunc):
        a, b = as_tensor_pair(self, other)
        return Tensor.wrap(ufunc(*binary.promote(a.data, b.data)))

    __eq__ = lambda self, o: self._compare(o, np.equal)
    __ne__ = lambda self, o: self._compare(o, np.not_equal)
    __lt__ = lambda self, o: self._compare(o, np.less)
    __le__ = lambda self, o: self._compare(o, np.less_equal)
    __gt__ = lambda self, o: self._compare(o, np.greater)
    __ge__ = lambda self, o: self._compare(o, np.greater_equal)
    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def all(self, dim=None, keepdim: bool = False, *, axis=None) -> Tensor:
        """Whether every element (along dim: an int or a tuple) is non-zero; bool."""
        return self._truth(np.all, "all", _dim(dim, axis), keepdim)

    def any(self, dim=None, keepdim: bool = False, *, axis=None) -> Tensor:
        """Whether any element (along dim: an int or a tuple) is non-zero; bool."""
        return self._truth(np.any, "any", _dim(dim, axis), keepdim)

    @trace.replayable
    def _truth(self, fn, name: str, dim, keepdim: bool) -> Tensor:
        if dim is None and not keepdim:
            result = fn(self.data)
        else:
            axes = reduce.normalize_dims(name, dim, self.ndim)
            result = fn(self.data, axis=axes, keepdims=keepdim)
        # numpy's scalars wrapped; arrays (a cuda array included) as they are
        return Tensor.wrap(np.asarray(result) if isinstance(result, np.generic | bool)
                           else result)

    # ---- elementwise (exp, log, sqrt, sin, cos, tanh, sigmoid, relu, ... are declared with
    # their ops: `@elementwise` in ops/unary.py, installed below the class) ----------------
    def abs(self):
        return unary.Abs.apply(self)

    def leaky_relu(self, negative_slope: float = 0.01):
        return unary.LeakyRelu.apply(_floating(self), negative_slope=negative_slope)

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
        return unary.Clamp.apply(self, min=min, max=max)

    clip = clamp

    # ---- reductions ---------------------------------------------------------------------
    def sum(self, dim=None, keepdim: bool = False, *, dtype=None, axis=None):
        x = self if dtype is None else self.astype(dtype)
        return reduce.Sum.apply(x, dim=_dim(dim, axis), keepdim=keepdim)

    def mean(self, dim=None, keepdim: bool = False, *, dtype=None, axis=None):
        dim = _dim(dim, axis)
        x = _floating(self if dtype is None else self.astype(dtype))
        n = _count(x.shape, reduce.normalize_dims("mean", dim, x.ndim))
        return x.sum(dim, keepdim) / max(n, 1) if n else x.sum(dim, keepdim) * np.nan

    def var(self, dim=None, unbiased: bool = True, keepdim: bool = False, *, axis=None,
            correction: int | None = None):
        """Mean squared deviation (two-pass, so a large mean loses no precision);
        divides by n - 1 when unbiased (Bessel's correction)."""
        dim = _dim(dim, axis)
        x = _floating(self)
        axes = reduce.normalize_dims("var", dim, x.ndim)
        n = _count(x.shape, axes)
        ddof = (1 if unbiased else 0) if correction is None else correction
        centred = x - x.mean(dim, keepdim=True)
        return (centred * centred).sum(dim, keepdim) / max(n - ddof, 0)

    def std(self, dim=None, unbiased: bool = True, keepdim: bool = False, *, axis=None,
            correction: int | None = None):
        """sqrt(var); its gradient is 0 where std is 0 (constant input), as PyTorch's."""
        return reduce.Std.apply(self.var(dim, unbiased, keepdim, axis=axis,
                                         correction=correction))

    def logsumexp(self, dim=None, keepdim: bool = False, *, axis=None):
        return reduce.LogSumExp.apply(_floating(self), dim=_dim(dim, axis), keepdim=keepdim)

    def prod(self, dim=None, keepdim: bool = False, *, dtype=None, axis=None):
        x = self if dtype is None else self.astype(dtype)
        return reduce.Prod.apply(x, dim=_dim(dim, axis), keepdim=keepdim)

    def amax(self, dim=None, keepdim: bool = False, *, axis=None):
        return reduce.AMax.apply(self, dim=_dim(dim, axis), keepdim=keepdim)

    def amin(self, dim=None, keepdim: bool = False, *, axis=None):
        return reduce.AMin.apply(self, dim=_dim(dim, axis), keepdim=keepdim)

    def max(self, dim=None, keepdim: bool = False, *, axis=None):
        """Whole-tensor max, or (values, indices) along an int dim, as PyTorch."""
        return self._extreme(_dim(dim, axis), keepdim, reduce.AMax, np.argmax)

    def min(self, dim=None, keepdim: bool = False, *, axis=None):
        return self._extreme(_dim(dim, axis), keepdim, reduce.AMin, np.argmin)

    @trace.replayable
    def _extreme(self, dim, keepdim, whole, arg):
        if not isinstance(dim, (int, np.integer)):
            return whole.apply(self, dim=dim, keepdim=keepdim)
        name = whole.__name__.lower()[1:]  # AMax -> max
        if self.ndim == 0:  # dim 0 or -1 of a 0-d tensor: itself, at index 0 (as PyTorch)
            reduce.normalize_dims(name, dim, 0)
            return MaxResult(whole.apply(self, dim=dim, keepdim=keepdim),
                             Tensor.wrap(np.zeros((), dtype=np.int64)))
        (axis,) = reduce.normalize_dims(name, dim, self.ndim)
        if self.shape[axis] == 0:
            raise IndexError(f"{name}: cannot reduce dim {dim} of size 0 (shape {self.shape})")
        idx = arg(self.data, axis=axis)
        values = reduce.SelectAlong.apply(self, index=idx, dim=axis, keepdim=keepdim)
        return MaxResult(values, Tensor.wrap(np.expand_dims(idx, axis) if keepdim else idx))

    def argmax(self, dim=None, keepdim: bool = False, *, axis=None):
        return self._arg(np.argmax, _dim(dim, axis), keepdim)

    def argmin(self, dim=None, keepdim: bool = False, *, axis=None):
        return self._arg(np.argmin, _dim(dim, axis), keepdim)

    @trace.replayable
    def _arg(self, fn, dim, keepdim):
        if dim is None:
            if self.data.size == 0:
                raise IndexError(f"{fn.__name__}: cannot reduce an empty tensor of shape "
                                 f"{self.shape} without a dim")
            out = fn(self.data)
            out = np.asarray(out) if isinstance(out, np.generic) else out  # cuda stays there
            return Tensor.wrap(out.reshape((1,) * self.ndim) if keepdim else out)
        if self.ndim == 0:  # dim 0 or -1 of a 0-d tensor: index 0 (as PyTorch)
            reduce.normalize_dims(fn.__name__, dim, 0)
            return Tensor.wrap(np.zeros((), dtype=np.int64))
        (axis,) = reduce.normalize_dims(fn.__name__, dim, self.ndim)
        if self.shape[axis] == 0:
            raise IndexError(f"{fn.__name__}: cannot reduce dim {dim} of size 0 (shape "
                             f"{self.shape})")
        return Tensor.wrap(fn(self.data, axis=axis, keepdims=keepdim))

    def softmax(self, dim: int = -1):
        return softmax.Softmax.apply(_floating(self), dim=dim)

    def log_softmax(self, dim: int = -1):
        return softmax.LogSoftmax.apply(_floating(self), dim=dim)

    def norm(self, p=2, dim=None, keepdim: bool = False):
        """The vector p-norm over dim (all elements by default), as torch.norm: p = 2 (or
        "fro"), any real p, inf / -inf (max / min of |x|), 0 (the count of non-zeros)."""
        if p == "fro" or p is None:
            p = 2
        if isinstance(p, (str, bool)) or not isinstance(p, _SCALARS) or np.isnan(p):
            raise ValueError(f"norm: p must be a real number, inf, -inf or 'fro', got {p!r}")
        if self.dtype.kind != "f":
            raise RuntimeError(f"norm: expected a floating point tensor as input, got "
                               f"{self.dtype}")
        return reduce.Norm.apply(self, p=float(p), dim=dim, keepdim=keepdim)

    # ---- shape ------------------------------------------------------------------------
    def reshape(self, *shape):
        shape = _shape_args(shape, "reshape")
        if shape == self.shape:
            return self
        return shape_op(_Reshape, self, shape)

    view = reshape

    def permute(self, *dims):
        dims = _shape_args(dims, "permute")
        n = max(self.ndim, 1)
        if len(dims) != self.ndim:
            raise RuntimeError(f"permute: dims {dims} are not a permutation of the "
                               f"{self.ndim} dims of a tensor of shape {self.shape}")
        for d in dims:
            if not -n <= d < n:
                raise IndexError(f"permute: dimension out of range (expected to be in range "
                                 f"of [{-n}, {n - 1}], but got {d}) for dims {dims} of a "
                                 f"tensor of shape {self.shape}")
        if sorted(d % n for d in dims) != list(range(self.ndim)):
            raise RuntimeError(f"permute: dims {dims} are not a permutation of the "
                               f"{self.ndim} dims of a tensor of shape {self.shape}")
        dims = tuple(d % self.ndim for d in dims)
        return self if dims == tuple(range(self.ndim)) else shape_op(_Permute, self, dims)

    def transpose(self, dim0: int, dim1: int):
        n = max(self.ndim, 1)
        if not (-n <= dim0 < n and -n <= dim1 < n):
            raise IndexError(f"transpose: dims ({dim0}, {dim1}) out of range for a tensor of "
                             f"shape {self.shape}")
        dims = list(range(self.ndim))
        if self.ndim >= 2:
            dims[dim0 % n], dims[dim1 % n] = dims[dim1 % n], dims[dim0 % n]
        return self.permute(*dims)

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        if self.ndim == 0:
            return self.reshape(1)
        s, e = start_dim % self.ndim, end_dim % self.ndim
        if s > e:
            return self
        merged = int(np.prod(self.shape[s:e + 1]))  # explicit: -1 is ambiguous for 0 elements
        return self.reshape(*self.shape[:s], merged, *self.shape[e + 1:])

    def unsqueeze(self, dim: int):
        dim = dim if dim >= 0 else dim + self.ndim + 1
        if not 0 <= dim <= self.ndim:
            raise IndexError(f"unsqueeze: dim {dim} out of range for a tensor of shape "
                             f"{self.shape}")
        return self.reshape(*self.shape[:dim], 1, *self.shape[dim:])

    def squeeze(self, dim=None):
        axes = reduce.normalize_dims("squeeze", dim, self.ndim)
        keep = [n for i, n in enumerate(self.shape)
                if n != 1 or (axes is not None and i not in axes)]
        return self.reshape(*keep)

    def expand(self, *shape):
        shape = _shape_args(shape, "expand")
        lead = len(shape) - self.ndim
        if lead < 0:
            raise RuntimeError(f"expand: the number of sizes provided ({len(shape)}) must be "
                               f"greater or equal to the number of dimensions of the tensor "
                               f"of shape {self.shape}")
        if any(n == -1 for n in shape[:lead]):
            raise RuntimeError(f"expand: the expanded size -1 isn't allowed in a leading, "
                               f"non-existing dimension (sizes {shape}, tensor of shape "
                               f"{self.shape})")
        shape = tuple(self.shape[i - lead] if n == -1 and i >= lead else n
                      for i, n in enumerate(shape))
        return self.broadcast_to(shape)

    def broadcast_to(self, shape):
        shape = tuple(shape)
        return self if shape == self.shape else shape_op(_BroadcastTo, self, shape)

    def sum_to(self, shape):
        """Sum over broadcast dims so the result has `shape` (broadcasting's backward)."""
        if shape == self.data.shape:  # every op's backward asks: the common answer first
            return self
        shape = tuple(shape)
        return self if shape == self.shape else shape_op(_SumToShape, self, shape)

    def split(self, split_size_or_sections, dim: int = 0):
        if self.ndim == 0:
            raise RuntimeError("split: split expects at least a 1-dimensional tensor")
        (dim,) = reduce.normalize_dims("split", dim, self.ndim)
        n = self.shape[dim]
        if isinstance(split_size_or_sections, (int, np.integer)):
            step = int(split_size_or_sections)
            if step < 0 or (step == 0 and n):
                raise RuntimeError(f"split: split_size must be positive (0 only for a dim of "
                                   f"size 0), got {step} for dim {dim} of size {n}")
            sizes = [min(step, n - s) for s in range(0, n, step)] if n else [0]
        else:
            sizes = list(split_size_or_sections)
            if sum(sizes) != n or any(s < 0 for s in sizes):
                raise RuntimeError(f"split: sections {sizes} must be non-negative and sum "
                                   f"to dim {dim}'s size {n}")
        out, start = [], 0
        for size in sizes:
            index = [slice(None)] * self.ndim
            index[dim] = slice(start, start + size)
            out.append(self[tuple(index)])
            start += size
        return tuple(out)

    def chunk(self, chunks: int, dim: int = 0):
        if self.ndim == 0:
            raise RuntimeError("chunk: chunk expects at least a 1-dimensional tensor")
        if chunks <= 0:
            raise RuntimeError(f"chunk: number of chunks must be positive, got {chunks}")
        n = self.shape[dim]
        return self.split(max(-(-n // chunks), 1), dim)

    # ---- indexing -----------------------------------------------------------------------
    def __getitem__(self, idx):
        idx = _index(idx)
        return shape_op(index.GetItem, self, idx, kw="idx", shares=index.is_basic(idx))

    def __setitem__(self, idx, value):
        idx = _index(idx)
        value = value if isinstance(value, Tensor) else Tensor.wrap(
            dtypes.scalar_array(value, self.dtype) if isinstance(value, _WRAPPED)
            else np.asarray(value, dtype=self.dtype))  # a scalar wraps around: uint8 -1 is 255
        self._inplace("setitem", lambda t: index.IndexPut.apply(t, value.astype(t.dtype), idx=idx),
                      lambda a: index.put(a, idx, value.data), value)

    # ---- in-place -----------------------------------------------------------------------
    def _inplace(self, op: str, graph_fn, array_fn, other=None) -> Tensor:
        """Apply an in-place op: numpy in place when no graph is needed; otherwise compute
        the op out of place on a snapshot of self and make self its result (PyTorch's
        rebase). Either way the version counter moves, so backward can detect the change."""
        grad_on = is_grad_enabled()
        if grad_on and self.requires_grad and self.grad_fn is None:
            raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an "
                               f"in-place operation; wrap it in `with autograd.no_grad():`")
        base = self._base
        if grad_on and base is not None and (self.requires_grad or base.requires_grad):
            raise RuntimeError(f"{op}: in-place modification of a view (shape {self.shape}) of "
                               f"a tensor of shape {base.shape} that requires grad is not "
                               f"supported; modify the base tensor, or clone() the view")
        if not self.data.flags.writeable:
            raise RuntimeError(f"{op}: the tensor's data (shape {self.shape}) is a read-only "
                               f"view (e.g. from expand); clone() it first")
        other_grad = isinstance(other, Tensor) and other.requires_grad
        if grad_on and (self.requires_grad or other_grad):
            snapshot = Tensor.wrap(_copied(self.data), self.requires_grad, self.grad_fn)
            result = graph_fn(snapshot)
            if result.shape != self.shape:
                raise RuntimeError(f"{op}: result of shape {result.shape} does not fit the "
                                   f"tensor of shape {self.shape}")
            _in_place(_assign, self.data, result.data)
            self.grad_fn, self.requires_grad = result.grad_fn, True
        else:
            _in_place(array_fn, self.data)
        self._version[0] += 1
        return self

    def mark_modified(self) -> Tensor:
        """Record that `self.data` was written in place by code outside the Tensor methods
        (an optimiser's fused update, a layer's running statistics): moves the version
        counter, so a backward that saved this tensor raises instead of using stale values."""
        self._version[0] += 1
        return self

    def add_(self, other, alpha=1):
        o = _operand(other, self)
        return self._inplace("add_", lambda t: t + o * alpha if alpha != 1 else t + o,
                             lambda a: _write(a, a + (o.data * alpha if alpha != 1 else o.data)),
                             o)

    def sub_(self, other, alpha=1):
        return self.add_(-_operand(other, self) if alpha == 1 else _operand(other, self),
                         1 if alpha == 1 else -alpha)

    def mul_(self, other):
        o = _operand(other, self)
        return self._inplace("mul_", lambda t: t * o, lambda a: _write(a, a * o.data), o)

    def div_(self, other):
        o = _operand(other, self)
        return self._inplace("div_", lambda t: t / o, lambda a: _write(a, a / o.data), o)

    def fill_(self, value):
        value = value.item() if isinstance(value, Tensor) else value
        value = dtypes.scalar_array(value, self.dtype)  # wraps around as PyTorch: uint8 -1 is 255
        return self._inplace("fill_", lambda t: index.IndexPut.apply(
            t, Tensor.wrap(value), idx=Ellipsis), lambda a: a.fill(value))

    def zero_(self):
        return self.fill_(0)

    def copy_(self, src):
        src = _operand(src, self)
        if src.device != self.device:  # across devices, as PyTorch's copy_ (a cpu state_dict
            src = src.to(self.device)  # loaded into a cuda model, and back)
        return self._inplace("copy_", lambda t: index.IndexPut.apply(
            t, src.astype(t.dtype), idx=Ellipsis), lambda a: _write(a, src.data), src)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_


register_tensor(Tensor)  # the lower layers make Tensors through autograd.wrap


class _HookHandle:
    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _install_declared_methods() -> None:
    """The Tensor methods of the ops declared with `ops.registry.elementwise`."""
    for name, method in op_registry.METHODS.items():
        if name in Tensor.__dict__:
            raise RuntimeError(f"Tensor.{name} is both declared as an op and defined in Tensor")
        setattr(Tensor, name, method)


_install_declared_methods()


# ---- helpers shared by the methods above ----------------------------------------------------
# The array work of in-place ops, as units autograd.compile replays (trace.replayable).
@trace.replayable
def _set_grad(t: Tensor, value: Tensor | None) -> None:
    """t.grad = value (a compiled step replays `p.grad = None` written in the step)."""
    t._grad = value


@trace.replayable
def _copied(a: np.ndarray) -> np.ndarray:
    return a.copy()


@trace.replayable
def _in_place(fn, *arrays: np.ndarray) -> None:
    """fn(*arrays), which writes into arrays[0]."""
    fn(*arrays)


def _assign(dst: np.ndarray, src: np.ndarray) -> None:
    dst[...] = src


_Reshape, _Permute = shape.Reshape, shape.Permute
_BroadcastTo, _SumToShape = shape.BroadcastTo, shape.SumToShape


def shape_op(fn, t: Tensor, arg, kw: str | None = None, shares: bool = True) -> Tensor:
    """Apply a shape op; when its result is a numpy view of t, share t's version counter so
    an in-place write through either is seen by both (as PyTorch's views)."""
    out = fn.apply(t, **{kw or ("dims" if fn is _Permute else "shape"): arg})
    if shares and _owner(out.data) is _owner(t.data):
        out._version = t._version
        out._base = t if t._base is None else t._base
        out._base_version = t._version[0]
    return out


def _no_graph(kernel, name: str, a: Tensor, b: Tensor) -> Tensor:
    """A binary op on two tensors when no graph is recorded (all of backward, inference):
    straight to the kernel, skipping the op's bookkeeping. Mixed dtypes (and integer
    division) take the op's path, which applies PyTorch's promotion."""
    if a.data.dtype != b.data.dtype or (name == "div" and a.data.dtype.kind not in "fc"):
        return _NO_GRAPH_OPS[name].apply(a, b)
    try:
        return Tensor.wrap(kernel(a.data, b.data))
    except ValueError:
        binary.check_broadcast(name, a.data, b.data)
        raise


_NO_GRAPH_OPS = {"add": binary.Add, "sub": binary.Sub, "mul": binary.Mul, "div": binary.Div}
_NUMPY_OF_CUDA = ("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy "
                  "the tensor to host memory first.")


def _cuda_device(spec):
    """`Tensor.cuda(device)`'s argument: an int is a CUDA index; a device must be CUDA."""
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, (bool, np.bool_)):
        return devices.device("cuda", int(spec))
    dev = devices.device(spec)
    if dev.type != "cuda":
        raise RuntimeError(f"Tensor.cuda: invalid device {str(dev)!r}, must be a cuda device")
    return dev


def _floating(t: Tensor) -> Tensor:
    """Integer and bool inputs of float-valued ops become the default float dtype."""
    return t if t.data.dtype.kind == "f" else t.astype(dtypes.get_default_dtype())


def _owner(a: np.ndarray) -> np.ndarray:
    """The array that owns a's memory (numpy collapses view chains to the owner)."""
    return a if a.base is None else a.base


def _write(dst: np.ndarray, value) -> None:
    try:
        dst[...] = value
    except ValueError:
        raise RuntimeError(f"in-place: a value of shape {np.shape(value)} cannot be written "
                           f"into a tensor of shape {dst.shape}") from None


def _dim(dim, axis):
    return axis if dim is None else dim


def _count(shape, axes) -> int:
    return int(np.prod(shape if axes is None else [shape[a] for a in axes]))


def _shape_args(shape, op: str) -> tuple:
    """Accept f(2, 3), f((2, 3)) and f([2, 3]); a size or dim that is not an integer is a
    TypeError (as PyTorch), never silently truncated."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(_integer(n, op) for n in shape)


def _integer(n, op: str) -> int:
    try:
        return operator.index(n)
    except TypeError:
        if isinstance(n, Tensor) and n.ndim == 0 and n.dtype.kind in "iu":
            return int(n)
        raise TypeError(f"{op}: expected integer sizes or dims, got {type(n).__name__} "
                        f"{n!r}") from None


def _index(idx):
    """Tensors and lists inside an index -> numpy arrays (numpy does the rest)."""
    if isinstance(idx, tuple):
        return tuple(_index(i) for i in idx)
    if isinstance(idx, Tensor):
        return idx.data
    if isinstance(idx, list):
        return np.asarray([i.item() if isinstance(i, Tensor) else i for i in idx])
    return idx


def _operand(x, like: Tensor) -> Tensor:
    """Turn a Python scalar, list or numpy value into a Tensor next to `like`.

    Python and numpy scalars take like's dtype when like is floating (a scalar never
    upcasts); arrays keep their own dtype (so float32 with float64 gives float64)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, _SCALARS):
        if dtypes.is_float(like.dtype):
            return Tensor.wrap(np.asarray(x, dtype=like.dtype))
        if isinstance(x, (float, np.floating)):
            return Tensor.wrap(np.asarray(x, dtype=dtypes.get_default_dtype()))
        return Tensor.wrap(np.asarray(x))
    if isinstance(x, np.ndarray):
        return Tensor.wrap(x)
    return Tensor(x)


_WRAPPED = (*_SCALARS, complex)


def matmul(a, b) -> Tensor:
    """a @ b with PyTorch's rules for 1-D operands (a vector is a row on the left, a column
    on the right, and the added dim is removed afterwards)."""
    a, b = as_tensor_pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes "
                           f"{a.shape} and {b.shape}")
    if a.ndim == 1 and b.ndim == 1:
        if a.shape != b.shape:
            raise RuntimeError(f"matmul: shapes {a.shape} and {b.shape} are not aligned")
        return (a * b).sum()
    if a.ndim == 1:
        return matmul(a.unsqueeze(0), b).squeeze(-2)
    if b.ndim == 1:
        return matmul(a, b.unsqueeze(-1)).squeeze(-1)
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise RuntimeError(f"matmul: batch dims of shapes {a.shape} and {b.shape} cannot be "
                           f"broadcast together") from None
    return linalg.MatMul.apply(a, b)

