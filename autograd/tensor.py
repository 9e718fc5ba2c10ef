"""Tensor: a numpy array, its gradient, and its link into the graph.

Every arithmetic operator and method here turns into a Function from `autograd.ops`, which
computes the forward on arrays and records how to go backward.
"""
from __future__ import annotations

import weakref
from collections import namedtuple

import numpy as np

from . import dtypes, engine, function
from . import kernels as K
from .engine import run_backward
from .grad_mode import _state as _grad_mode
from .grad_mode import is_grad_enabled
from .ops import binary, index, linalg, reduce, shape, softmax, unary
from .ops.cast import Cast, Clone

MaxResult = namedtuple("MaxResult", ["values", "indices"])

_SCALARS = (bool, int, float, np.generic)


class Tensor:
    __slots__ = (
        "__weakref__",
        "_base",
        "_base_version",
        "_hooks",
        "_version",
        "data",
        "grad",
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
        self.grad = None
        self.grad_fn = None
        self._version = [0]
        self._hooks = self._base = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data, requires_grad=False, grad_fn=None, version=None) -> Tensor:
        """Wrap an array without copying or checking (the ops' fast path)."""
        t = object.__new__(Tensor)
        t.data = data if isinstance(data, np.ndarray) else np.asarray(data)
        t.grad, t.requires_grad, t.grad_fn, t._hooks, t._base = None, requires_grad, grad_fn, \
            None, None
        t._version = [0] if version is None else version
        return t

    # ---- attributes -------------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    is_leaf = property(lambda self: self.grad_fn is None)
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
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self.dtype not in (dtypes.get_default_dtype(), np.int64, np.bool_):
            extra += f", dtype={self.dtype}"
        if self.grad_fn is not None:
            extra += f", grad_fn=<{self.grad_fn.name}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ---- conversion -------------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item: only one element tensors can be converted to Python "
                             f"scalars (this one has shape {self.shape})")
        return self.data.reshape(()).item()

    def tolist(self):
        return self.data.tolist()

    def numpy(self) -> np.ndarray:
        """The underlying array (a copy if this tensor requires grad)."""
        return self.data.copy() if self.requires_grad else self.data

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"bool: the truth value of a tensor with {self.data.size} "
                               f"elements is ambiguous")
        return bool(self.data.reshape(()))

    def detach(self) -> Tensor:
        """The same data (shared, same version counter), cut off from the graph."""
        return Tensor._make(self.data, False, None, self._version)

    def clone(self) -> Tensor:
        return Clone.apply(self)

    def astype(self, dtype) -> Tensor:
        dtype = np.dtype(dtype)
        return self if dtype == self.dtype else Cast.apply(self, dtype=dtype)

    def to(self, dtype=None, *args, **kwargs) -> Tensor:
        """Cast to a dtype; device names ("cpu") are accepted and ignored."""
        if dtype is None or isinstance(dtype, str) and dtype in ("cpu", "cpu:0"):
            return self
        return self.astype(dtype)

    def float(self):
        return self.astype(np.float32)

    def double(self):
        return self.astype(np.float64)

    def long(self):
        return self.astype(np.int64)

    # ---- autograd -----------------------------------------------------------------------
    def requires_grad_(self, flag: bool = True) -> Tensor:
        if flag and not dtypes.is_float(self.dtype):
            raise TypeError(f"requires_grad: only tensors of floating point dtype can require "
                            f"gradients, got {self.dtype}")
        if not flag and self.grad_fn is not None:
            raise RuntimeError("requires_grad_: you can only change requires_grad flags of leaf "
                               "variables; use detach() for a non-leaf")
        self.requires_grad = bool(flag)
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
        if not _grad_mode.enabled and type(other) is Tensor:
            return _no_graph(K.add, "add", self, other)
        return binary.Add.apply(*as_tensor_pair(self, other))

    def __radd__(self, other):
        return binary.Add.apply(*as_tensor_pair(other, self))

    def __sub__(self, other):
        if not _grad_mode.enabled and type(other) is Tensor:
            return _no_graph(K.sub, "sub", self, other)
        return binary.Sub.apply(*as_tensor_pair(self, other))

    def __rsub__(self, other):
        return binary.Sub.apply(*as_tensor_pair(other, self))

    def __mul__(self, other):
        if not _grad_mode.enabled and type(other) is Tensor:
            return _no_graph(K.mul, "mul", self, other)
        return binary.Mul.apply(*as_tensor_pair(self, other))

    def __rmul__(self, other):
        return binary.Mul.apply(*as_tensor_pair(other, self))

    def __truediv__(self, other):
        if not _grad_mode.enabled and type(other) is Tensor:
            return _no_graph(K.div, "div", self, other)
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

    add = __add__
    sub = __sub__
    mul = __mul__
    div = __truediv__
    matmul = __matmul__
    neg = __neg__

    def pow(self, p):
        return self ** p

    def square(self):
        return self * self

    # comparisons: bool tensors, no grad
    def _compare(self, other, ufunc):
        a, b = as_tensor_pair(self, other)
        return Tensor._make(ufunc(a.data, b.data))

    __eq__ = lambda self, o: self._compare(o, np.equal)
    __ne__ = lambda self, o: self._compare(o, np.not_equal)
    __lt__ = lambda self, o: self._compare(o, np.less)
    __le__ = lambda self, o: self._compare(o, np.less_equal)
    __gt__ = lambda self, o: self._compare(o, np.greater)
    __ge__ = lambda self, o: self._compare(o, np.greater_equal)
    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def all(self) -> Tensor:
        return Tensor._make(np.all(self.data))

    def any(self) -> Tensor:
        return Tensor._make(np.any(self.data))

    # ---- elementwise --------------------------------------------------------------------
    def exp(self):
        return unary.Exp.apply(_floating(self))

    def log(self):
        return unary.Log.apply(_floating(self))

    def sqrt(self):
        return unary.Sqrt.apply(_floating(self))

    def abs(self):
        return unary.Abs.apply(self)

    def sin(self):
        return unary.Sin.apply(_floating(self))

    def cos(self):
        return unary.Cos.apply(_floating(self))

    def tanh(self):
        return unary.Tanh.apply(_floating(self))

    def sigmoid(self):
        return unary.Sigmoid.apply(_floating(self))

    def relu(self):
        return unary.Relu.apply(self)

    def leaky_relu(self, negative_slope: float = 0.01):
        return unary.LeakyRelu.apply(_floating(self), negative_slope=negative_slope)

    def clamp(self, min=None, max=None):
        return unary.Clamp.apply(self, min=min, max=max)

    clip = clamp

    # ---- reductions ---------------------------------------------------------------------
    def sum(self, dim=None, keepdim: bool = False, *, axis=None):
        return reduce.Sum.apply(self, dim=_dim(dim, axis), keepdim=keepdim)

    def mean(self, dim=None, keepdim: bool = False, *, axis=None):
        dim = _dim(dim, axis)
        x = _floating(self)
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
        return self.var(dim, unbiased, keepdim, axis=axis, correction=correction).sqrt()

    def logsumexp(self, dim=None, keepdim: bool = False, *, axis=None):
        return reduce.LogSumExp.apply(_floating(self), dim=_dim(dim, axis), keepdim=keepdim)

    def prod(self, dim=None, keepdim: bool = False, *, axis=None):
        return reduce.Prod.apply(self, dim=_dim(dim, axis), keepdim=keepdim)

    def amax(self, dim=None, keepdim: bool = False, *, axis=None):
        return reduce.AMax.apply(self, dim=_dim(dim, axis), keepdim=keepdim)

    def amin(self, dim=None, keepdim: bool = False, *, axis=None):
        return reduce.AMin.apply(self, dim=_dim(dim, axis), keepdim=keepdim)

    def max(self, dim=None, keepdim: bool = False, *, axis=None):
        """Whole-tensor max, or (values, indices) along an int dim, as PyTorch."""
        return self._extreme(_dim(dim, axis), keepdim, reduce.AMax, np.argmax)

    def min(self, dim=None, keepdim: bool = False, *, axis=None):
        return self._extreme(_dim(dim, axis), keepdim, reduce.AMin, np.argmin)

    def _extreme(self, dim, keepdim, whole, arg):
        if not isinstance(dim, (int, np.integer)) or self.ndim == 0:
            return whole.apply(self, dim=dim, keepdim=keepdim)
        (axis,) = reduce.normalize_dims(whole.__name__.lower(), dim, self.ndim)
        if self.shape[axis] == 0:
            raise ValueError(f"max/min: cannot reduce dim {dim} of size 0 (shape {self.shape})")
        idx = arg(self.data, axis=axis)
        values = reduce.SelectAlong.apply(self, index=idx, dim=axis, keepdim=keepdim)
        return MaxResult(values, Tensor._make(np.expand_dims(idx, axis) if keepdim else idx))

    def argmax(self, dim=None, keepdim: bool = False, *, axis=None):
        return self._arg(np.argmax, _dim(dim, axis), keepdim)

    def argmin(self, dim=None, keepdim: bool = False, *, axis=None):
        return self._arg(np.argmin, _dim(dim, axis), keepdim)

    def _arg(self, fn, dim, keepdim):
        if self.data.size == 0:
            raise ValueError(f"argmax/argmin: cannot reduce an empty tensor of shape {self.shape}")
        if dim is None:
            out = np.asarray(fn(self.data))
            return Tensor._make(out.reshape((1,) * self.ndim) if keepdim else out)
        (axis,) = reduce.normalize_dims("argmax", dim, self.ndim)
        return Tensor._make(fn(self.data, axis=axis, keepdims=keepdim))

    def softmax(self, dim: int = -1):
        return softmax.Softmax.apply(_floating(self), dim=dim)

    def log_softmax(self, dim: int = -1):
        return softmax.LogSoftmax.apply(_floating(self), dim=dim)

    def norm(self, p=2, dim=None, keepdim: bool = False):
        """The p-norm (p=2 by default) over dim."""
        if p == 2:
            return (self * self).sum(dim, keepdim).sqrt()
        return (self.abs() ** p).sum(dim, keepdim) ** (1.0 / p)

    # ---- shape ------------------------------------------------------------------------
    def reshape(self, *shape):
        shape = _shape_args(shape)
        if shape == self.shape:
            return self
        return shape_op(_Reshape, self, shape)

    view = reshape

    def permute(self, *dims):
        dims = tuple(_shape_args(dims))
        if sorted(d % max(self.ndim, 1) for d in dims) != list(range(self.ndim)):
            raise ValueError(f"permute: dims {dims} are not a permutation of the "
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
        shape = tuple(n if n != -1 else self.shape[i - len(shape) + self.ndim]
                      for i, n in enumerate(_shape_args(shape)))
        return self.broadcast_to(shape)

    def broadcast_to(self, shape):
        shape = tuple(shape)
        return self if shape == self.shape else shape_op(_BroadcastTo, self, shape)

    def sum_to(self, shape):
        """Sum over broadcast dims so the result has `shape` (broadcasting's backward)."""
        shape = tuple(shape)
        return self if shape == self.shape else shape_op(_SumToShape, self, shape)

    def split(self, split_size_or_sections, dim: int = 0):
        n = self.shape[dim]
        if isinstance(split_size_or_sections, (int, np.integer)):
            if split_size_or_sections <= 0:
                raise ValueError(f"split: split_size must be positive, got "
                                 f"{split_size_or_sections}")
            sizes = [min(split_size_or_sections, n - s)
                     for s in range(0, n, split_size_or_sections)]
        else:
            sizes = list(split_size_or_sections)
            if sum(sizes) != n:
                raise ValueError(f"split: sections {sizes} do not sum to dim {dim}'s size {n}")
        out, start = [], 0
        for size in sizes:
            index = [slice(None)] * self.ndim
            index[dim] = slice(start, start + size)
            out.append(self[tuple(index)])
            start += size
        return tuple(out)

    def chunk(self, chunks: int, dim: int = 0):
        if chunks <= 0:
            raise ValueError(f"chunk: number of chunks must be positive, got {chunks}")
        n = self.shape[dim]
        return self.split(max(-(-n // chunks), 1), dim)

    # ---- indexing -----------------------------------------------------------------------
    def __getitem__(self, idx):
        idx = _index(idx)
        return shape_op(index.GetItem, self, idx, kw="idx", shares=index.is_basic(idx))

    def __setitem__(self, idx, value):
        idx = _index(idx)
        value = value if isinstance(value, Tensor) else Tensor._make(
            np.asarray(value, dtype=self.dtype))
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
            snapshot = Tensor._make(self.data.copy(), self.requires_grad, self.grad_fn)
            result = graph_fn(snapshot)
            if result.shape != self.shape:
                raise ValueError(f"{op}: result of shape {result.shape} does not fit the tensor "
                                 f"of shape {self.shape}")
            self.data[...] = result.data
            self.grad_fn, self.requires_grad = result.grad_fn, True
        else:
            array_fn(self.data)
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
        return self._inplace("fill_", lambda t: index.IndexPut.apply(
            t, Tensor._make(np.asarray(value, dtype=t.dtype)), idx=Ellipsis),
            lambda a: a.fill(value))

    def zero_(self):
        return self.fill_(0)

    def copy_(self, src):
        src = _operand(src, self)
        return self._inplace("copy_", lambda t: index.IndexPut.apply(
            t, src.astype(t.dtype), idx=Ellipsis), lambda a: _write(a, src.data), src)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_


function.Tensor = engine.Tensor = Tensor


class _HookHandle:
    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


# ---- helpers shared by the methods above ----------------------------------------------------
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
    straight to the kernel, skipping the op's bookkeeping."""
    try:
        return Tensor._make(kernel(a.data, b.data))
    except ValueError:
        binary.check_broadcast(name, a.data, b.data)
        raise


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
        raise ValueError(f"in-place: a value of shape {np.shape(value)} cannot be written "
                         f"into a tensor of shape {dst.shape}") from None


def _dim(dim, axis):
    return axis if dim is None else dim


def _count(shape, axes) -> int:
    return int(np.prod(shape if axes is None else [shape[a] for a in axes]))


def _shape_args(shape) -> tuple:
    """Accept f(2, 3), f((2, 3)) and f([2, 3])."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(int(n) for n in shape[0])
    return tuple(int(n) for n in shape)


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
            return Tensor._make(np.asarray(x, dtype=like.dtype))
        if isinstance(x, (float, np.floating)):
            return Tensor._make(np.asarray(x, dtype=dtypes.get_default_dtype()))
        return Tensor._make(np.asarray(x))
    if isinstance(x, np.ndarray):
        return Tensor._make(x)
    return Tensor(x)


def as_tensor_pair(a, b) -> tuple:
    """Both operands of a binary op as Tensors, following the dtype rules of `_operand`."""
    if isinstance(a, Tensor):
        return a, _operand(b, a)
    if isinstance(b, Tensor):
        return _operand(a, b), b
    a = Tensor(a)
    return a, _operand(b, a)


def implicit_grad(out: Tensor, gradient) -> Tensor:
    """The gradient that starts backward from `out`: ones for a scalar, else as given."""
    if gradient is None:
        if out.data.size != 1:
            raise RuntimeError(f"backward: grad can be implicitly created only for scalar "
                               f"outputs (this output has shape {out.shape})")
        return Tensor._make(np.ones(out.shape, dtype=out.dtype))
    g = gradient if isinstance(gradient, Tensor) else Tensor._make(
        np.asarray(gradient, dtype=out.dtype))
    if g.shape != out.shape:
        raise RuntimeError(f"backward: gradient of shape {g.shape} does not match the output "
                           f"of shape {out.shape}")
    return g


def matmul(a, b) -> Tensor:
    """a @ b with PyTorch's rules for 1-D operands (a vector is a row on the left, a column
    on the right, and the added dim is removed afterwards)."""
    a, b = as_tensor_pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both arguments need at least 1 dimension, got shapes "
                         f"{a.shape} and {b.shape}")
    if a.ndim == 1 and b.ndim == 1:
        if a.shape != b.shape:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned")
        return (a * b).sum()
    if a.ndim == 1:
        return matmul(a.unsqueeze(0), b).squeeze(-2)
    if b.ndim == 1:
        return matmul(a, b.unsqueeze(-1)).squeeze(-1)
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dims of shapes {a.shape} and {b.shape} cannot be "
                         f"broadcast together") from None
    return linalg.MatMul.apply(a, b)

