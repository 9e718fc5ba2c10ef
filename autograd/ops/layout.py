"""Layout ops: flip, roll, repeat, repeat_interleave, tile, tril / triu, diag, diagonal,
unflatten, unfold, narrow, contiguous, view_as / reshape_as / expand_as, movedim, swapaxes,
t, unbind, outer.

Most are compositions of reshape, expand, permute and indexing (so their gradients and
higher derivatives follow); flip, roll, tril / triu and diagonal are Functions whose backward
is the same kind of op.
"""
from __future__ import annotations

import operator

import numpy as np

from ..function import Function
from ..wrap import wrap
from .reduce import normalize_dims
from .registry import method


def _ints(op: str, values) -> tuple:
    if len(values) == 1 and isinstance(values[0], (tuple, list)):
        values = values[0]
    try:
        return tuple(operator.index(v) for v in values)
    except TypeError:
        raise TypeError(f"{op}: expected integers, got {values!r}") from None


def _axes(op: str, t, dims) -> tuple:
    """dims (int or sequence) -> axes in order (not sorted), each checked."""
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    n = max(t.ndim, 1)
    out = []
    for d in dims:
        if not -n <= d < n:
            raise IndexError(f"{op}: dimension out of range (expected to be in range of "
                             f"[{-n}, {n - 1}], but got {d})")
        out.append(int(d) % n)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dims {dims} has a repeated dim")
    return tuple(out)


class Flip(Function):
    def forward(self, x, axes):
        self.axes = axes
        return np.flip(x, axes).copy() if x.ndim else x.copy()

    def backward(self, g):
        return Flip.apply(g, axes=self.axes)


@method("flip")
def flip(self, *dims):
    """Reverse the order of elements along dims (a copy)."""
    return Flip.apply(self, axes=_axes("flip", self, _ints("flip", dims)))


class Roll(Function):
    def forward(self, x, shifts, axes):
        self.shifts, self.axes = shifts, axes
        return np.roll(x, shifts, axes)

    def backward(self, g):
        return Roll.apply(g, shifts=tuple(-s for s in self.shifts), axes=self.axes)


@method("roll")
def roll(self, shifts, dims=None):
    """Shift elements along dims cyclically (without dims: over the flattened tensor)."""
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: without dims give one shift, got {shifts}")
        return Roll.apply(self.reshape(-1), shifts=shifts, axes=(0,)).reshape(self.shape)
    axes = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(axes) != len(shifts):
        raise RuntimeError(f"roll: shifts {shifts} and dims {axes} must have one length")
    axes = tuple(normalize_dims("roll", d, self.ndim)[0] for d in axes)
    return Roll.apply(self, shifts=tuple(int(s) for s in shifts), axes=axes)


@method("repeat", function=False)
def repeat(self, *sizes):
    """Tile self: dim i repeated sizes[i] times (len(sizes) >= ndim; extra leading dims)."""
    sizes = _ints("repeat", sizes)
    if len(sizes) < self.ndim:
        raise RuntimeError(f"repeat: number of repeat dims ({len(sizes)}) can not be smaller "
                           f"than the number of dims of the tensor of shape "
                           f"{tuple(self.shape)}")
    if any(r < 0 for r in sizes):
        raise RuntimeError(f"repeat: sizes must be non-negative, got {sizes}")
    shape = (1,) * (len(sizes) - self.ndim) + tuple(self.shape)
    split = self.reshape(*[v for n in shape for v in (1, n)])
    wide = split.expand(*[v for r, n in zip(sizes, shape) for v in (r, n)])
    return wide.reshape(*[r * n for r, n in zip(sizes, shape)])


@method("tile")
def tile(self, *dims):
    """repeat, with fewer sizes than dims allowed (leading 1s are added)."""
    dims = _ints("tile", dims)
    return repeat(self, *((1,) * (self.ndim - len(dims)) + dims))


@method("repeat_interleave")
def repeat_interleave(self, repeats=None, dim=None, *, output_size=None):
    """Repeat each element (each slice along dim) repeats times (an int, or a tensor of one
    count per element); without dim over the flattened tensor. With only a tensor of counts,
    `repeat_interleave(counts)` gives each index counts[i] times."""
    if repeats is None:  # torch.repeat_interleave(counts)
        counts = self.data
        return wrap(np.repeat(np.arange(len(counts)), counts).astype(np.int64))
    x = self.reshape(-1) if dim is None else self
    axis = 0 if dim is None else normalize_dims("repeat_interleave", dim, x.ndim)[0]
    n = x.shape[axis] if x.ndim else 1
    counts = repeats.data if hasattr(repeats, "data") else np.asarray(repeats)
    if counts.dtype.kind not in "iu":
        raise RuntimeError(f"repeat_interleave: repeats must be integers, got {counts.dtype}")
    if (counts < 0).any():
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    if counts.ndim and counts.size != 1 and counts.size != n:
        raise RuntimeError(f"repeat_interleave: repeats must have the same size as input "
                           f"along dim ({counts.size} vs {n})")
    idx = np.repeat(np.arange(n), counts.reshape(-1) if counts.ndim else int(counts))
    if x.ndim == 0:
        x = x.reshape(1)
    return x[(slice(None),) * axis + (idx,)]


class _Triangle(Function):
    def forward(self, x, diagonal, upper):
        if x.ndim < 2:
            name = "triu" if upper else "tril"
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions, got "
                               f"shape {x.shape}")
        self.diagonal, self.upper = diagonal, upper
        return (np.triu if upper else np.tril)(x, diagonal)

    def backward(self, g):
        return _Triangle.apply(g, diagonal=self.diagonal, upper=self.upper)


@method("tril")
def tril(self, diagonal: int = 0):
    """The lower triangle of the last two dims (above `diagonal` set to 0)."""
    return _Triangle.apply(self, diagonal=operator.index(diagonal), upper=False)


@method("triu")
def triu(self, diagonal: int = 0):
    """The upper triangle of the last two dims (below `diagonal` set to 0)."""
    return _Triangle.apply(self, diagonal=operator.index(diagonal), upper=True)


def _diag_positions(shape: tuple, offset: int) -> tuple:
    k = max(0, min(shape[0] + min(offset, 0), shape[1] - max(offset, 0)))
    rows = np.arange(k) + max(-offset, 0)
    return rows, rows + offset


class Diagonal(Function):
    """The diagonal of dims (dim1, dim2), appended as the last dim."""

    def forward(self, x, offset, dim1, dim2):
        self.args, self.in_shape = (offset, dim1, dim2), x.shape
        moved = np.moveaxis(x, (dim1, dim2), (-2, -1))
        rows, cols = _diag_positions(moved.shape[-2:], offset)
        return moved[..., rows, cols]

    def backward(self, g):
        return DiagonalScatter.apply(g, args=self.args, shape=self.in_shape)


class DiagonalScatter(Function):
    """zeros(shape) with g written on the diagonal (Diagonal's adjoint)."""

    def forward(self, g, args, shape):
        self.args = args
        offset, dim1, dim2 = args
        out = np.zeros_like(g, shape=shape)  # on g's device
        moved = np.moveaxis(out, (dim1, dim2), (-2, -1))  # a view: writes reach out
        rows, cols = _diag_positions(moved.shape[-2:], offset)
        moved[..., rows, cols] = g
        if not isinstance(out, np.ndarray):  # a cuda moveaxis is a copy: move it back
            out = np.moveaxis(moved, (-2, -1), (dim1, dim2))
        return out

    def backward(self, gg):
        offset, dim1, dim2 = self.args
        return Diagonal.apply(gg, offset=offset, dim1=dim1, dim2=dim2)


@method("diagonal")
def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1):
    """The diagonal (offset above the main one if > 0) of dims dim1 and dim2, as the last
    dim of the result."""
    if self.ndim < 2:
        raise RuntimeError(f"diagonal: expected a tensor with at least 2 dims, got shape "
                           f"{tuple(self.shape)}")
    d1, d2 = _axes("diagonal", self, (dim1, dim2))
    return Diagonal.apply(self, offset=operator.index(offset), dim1=d1, dim2=d2)


_diagonal = diagonal


@method("diag")
def diag(self, diagonal: int = 0):
    """A 1-D tensor -> the square matrix with it on the `diagonal`-th diagonal; a 2-D tensor
    -> its `diagonal`-th diagonal."""
    if self.ndim == 1:
        n = self.shape[0] + abs(diagonal)
        return DiagonalScatter.apply(self, args=(diagonal, 0, 1), shape=(n, n))
    if self.ndim == 2:
        return _diagonal(self, diagonal)
    raise RuntimeError(f"diag: expected a 1-D or 2-D tensor, got shape {tuple(self.shape)}")


@method("unflatten")
def unflatten(self, dim: int, sizes):
    """Split dim into the dims `sizes` (one may be -1)."""
    (axis,) = normalize_dims("unflatten", dim, self.ndim)
    sizes = tuple(sizes)
    known = int(np.prod([s for s in sizes if s != -1]))
    n = self.shape[axis]
    if sizes.count(-1) > 1 or (-1 not in sizes and known != n) or (
            -1 in sizes and (known == 0 or n % known)):
        raise RuntimeError(f"unflatten: sizes {sizes} don't multiply up to the size of dim "
                           f"{dim} ({n}) of the tensor of shape {tuple(self.shape)}")
    return self.reshape(*self.shape[:axis], *sizes, *self.shape[axis + 1:])


@method("unfold", function=False)
def unfold(self, dimension: int, size: int, step: int):
    """All slices of length `size` along `dimension`, `step` apart: that dim becomes the
    number of slices and a last dim of length size is added (sliding windows)."""
    (axis,) = normalize_dims("unfold", dimension, self.ndim)
    n = self.shape[axis] if self.ndim else 1
    if size < 0 or size > n:
        raise RuntimeError(f"unfold: maximum size for the tensor at dimension {dimension} is "
                           f"{n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")
    x = self if self.ndim else self.reshape(1)
    windows = (n - size) // step + 1
    idx = np.arange(windows)[:, None] * step + np.arange(size)[None, :]
    out = x[(slice(None),) * axis + (idx,)]  # (..., windows, size, ...)
    return movedim(out, axis + 1, -1)


@method("narrow")
def narrow(self, dim: int, start: int, length: int):
    """The slice [start, start + length) of dim (start may be negative); a view."""
    (axis,) = normalize_dims("narrow", dim, self.ndim)
    n = self.shape[axis]
    if start < 0:
        start += n
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension "
                         f"size ({n}) of dim {dim}")
    return self[(slice(None),) * axis + (slice(start, start + length),)]


@method("contiguous", function=False)
def contiguous(self, memory_format=None):
    """self when its array is C-contiguous, else a contiguous (differentiable) copy."""
    return self if self.data.flags.c_contiguous else self.clone()


@method("view_as", function=False)
def view_as(self, other):
    """self reshaped to other's shape."""
    return self.reshape(*other.shape)


@method("reshape_as", function=False)
def reshape_as(self, other):
    """self reshaped to other's shape."""
    return self.reshape(*other.shape)


@method("expand_as", function=False)
def expand_as(self, other):
    """self broadcast to other's shape."""
    return self.expand(*other.shape)


@method("movedim")
def movedim(self, source, destination):
    """Move dims from source to destination positions (ints or sequences), the others
    keeping their order."""
    src = _axes("movedim", self, source)
    dst = _axes("movedim", self, destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: source {source} and destination {destination} must "
                           f"have one number of dims")
    if self.ndim == 0:
        return self
    order = [d for d in range(self.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return self.permute(*order)


@method("swapaxes")
def swapaxes(self, axis0: int, axis1: int):
    """transpose(axis0, axis1) (numpy's name)."""
    return self.transpose(axis0, axis1)


@method("t")
def t(self):
    """The transpose of a 2-D tensor (0-D and 1-D come back as they are)."""
    if self.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{self.ndim}D")
    return self.transpose(0, 1) if self.ndim == 2 else self


@method("unbind")
def unbind(self, dim: int = 0):
    """The slices along dim, as a tuple of tensors without that dim."""
    if self.ndim == 0:
        raise IndexError("unbind: dimension specified as 0 but tensor has no dimensions")
    (axis,) = normalize_dims("unbind", dim, self.ndim)
    return tuple(self[(slice(None),) * axis + (i,)] for i in range(self.shape[axis]))


@method("outer")
def outer(self, vec2):
    """The outer product of two 1-D tensors: out[i, j] = self[i] * vec2[j]."""
    if self.ndim != 1 or getattr(vec2, "ndim", None) != 1:
        raise RuntimeError(f"outer: expected 1-D tensors, got shapes {tuple(self.shape)} and "
                           f"{tuple(getattr(vec2, 'shape', ()))}")
    return self.unsqueeze(1) * vec2.unsqueeze(0)
