"""Indexing on cuda arrays, with PyTorch's rule: ``x[idx]`` (a strided gather), ``x[idx] = v``
and the scatter-add of its backward (``np.add.at``), and the strided copies of the layout
ops (transpose / permute / swapaxes / moveaxis / flip).

A cuda array is always C-contiguous, so it has no views: ``x[idx]`` is a copy, even where
PyTorch returns a view (``x[0]``, ``x[:, 1:3]``); writing into that copy does not reach x.
Write through the indexed assignment instead (``t[0:2] = v``, ``t[mask] = v``,
``t.index_put_``), which runs here in place on x's buffer.

How: the basic part of an index (ints, slices with steps, None, Ellipsis) becomes the
geometry of a view of x, its element offset, shape and strides (numpy computes it on an
array of no memory, so its errors and rules are numpy's); the index arrays (integer, or
boolean masks: their nonzero positions) then become one flat array of element offsets into
that view. One kernel with a thread per output element turns the element's position into
its source offset: at most `MAX_DIMS` dims (after merging the dims that are contiguous in
both), one of them the index arrays' broadcast shape read through the offsets. An index
array is checked on the host before any launch: a cuda index is copied to the host once for
that check (the one transfer, and only for data-dependent indices); an index outside its dim
raises IndexError naming the shapes, so no thread ever reads or writes outside the buffer.
"""
from __future__ import annotations

import math

import numpy as np
from numba import cuda
from numpy.lib.stride_tricks import as_strided

from .array import CudaArray, mixed_devices
from .runtime import empty, launch_1d, to_device

MAX_DIMS = 8
_PAD = (1,) * MAX_DIMS
_NOWHERE = np.zeros(1, np.uint8)  # the buffer of no memory the view geometry is computed on


# ---- kernels ---------------------------------------------------------------------------------

@cuda.jit(device=True)
def _offset(i, base, dims, strides, nd, lin, bpos, mul, wrap):
    """The source offset of output element i: its position in dims (C order) through
    strides, the dim bpos through the index offsets lin (negative ones wrapped by `wrap`)."""
    off = base
    r = i
    for k in range(nd - 1, -1, -1):
        d = dims[k]
        c = r % d
        r //= d
        if k == bpos:
            v = lin[c]
            if v < 0:
                v += wrap
            off += v * mul
        else:
            off += c * strides[k]
    return off


# dims and strides travel as scalars (the direct launcher of launcher.py packs scalars and
# arrays) and become tuples in the kernel
@cuda.jit(cache=True)
def _gather(x, out, n, base, d0, d1, d2, d3, d4, d5, d6, d7,
            s0, s1, s2, s3, s4, s5, s6, s7, nd, lin, bpos, mul, wrap):
    dims = (d0, d1, d2, d3, d4, d5, d6, d7)
    strides = (s0, s1, s2, s3, s4, s5, s6, s7)
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        out[i] = x[_offset(i, base, dims, strides, nd, lin, bpos, mul, wrap)]
        i += step


@cuda.jit(cache=True)
def _scatter(dst, vals, n, scalar, base, d0, d1, d2, d3, d4, d5, d6, d7,
             s0, s1, s2, s3, s4, s5, s6, s7, nd, lin, bpos, mul, wrap):
    dims = (d0, d1, d2, d3, d4, d5, d6, d7)
    strides = (s0, s1, s2, s3, s4, s5, s6, s7)
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        dst[_offset(i, base, dims, strides, nd, lin, bpos, mul, wrap)] = vals[0 if scalar else i]
        i += step


@cuda.jit(cache=True)
def _scatter_add(dst, vals, n, scalar, base, d0, d1, d2, d3, d4, d5, d6, d7,
                 s0, s1, s2, s3, s4, s5, s6, s7, nd, lin, bpos, mul, wrap):
    dims = (d0, d1, d2, d3, d4, d5, d6, d7)
    strides = (s0, s1, s2, s3, s4, s5, s6, s7)
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        cuda.atomic.add(dst, _offset(i, base, dims, strides, nd, lin, bpos, mul, wrap),
                        vals[0 if scalar else i])
        i += step


# ---- the index: basic part, index arrays -----------------------------------------------------

def _is_array(i) -> bool:
    return isinstance(i, (np.ndarray, CudaArray)) and not _is_int(i)


def _is_int(i) -> bool:
    if isinstance(i, (bool, np.bool_)):
        return False
    if isinstance(i, (int, np.integer)):
        return True
    return isinstance(i, (np.ndarray, CudaArray)) and i.ndim == 0 and i.dtype.kind in "iu"


def split(idx) -> tuple:
    """PyTorch's indexing as (basic, arrays): the ints, slices, None and ... applied first
    (a view), then the index arrays, each array's dims kept by the first step as full slices
    (arrays is None without index arrays); as autograd/ops/index.py's `torch_parts`, with
    cuda index arrays."""
    items = idx if isinstance(idx, tuple) else (idx,)
    items = tuple(np.asarray(i) if isinstance(i, list) else i for i in items)
    for i in items:
        if isinstance(i, (np.ndarray, CudaArray)) and i.dtype.kind not in "biu":
            raise IndexError(f"tensors used as indices must be long, int, byte or bool "
                             f"tensors, got dtype {i.dtype} (shape {i.shape})")
        if isinstance(i, (np.ndarray, CudaArray)) and i.ndim == 0 and i.dtype == np.bool_:
            raise NotImplementedError("indexing a cuda tensor with a 0-d boolean index has no "
                                      "cuda kernel yet")
        if not (i is None or i is Ellipsis or isinstance(i, slice) or _is_int(i)
                or _is_array(i)):
            raise IndexError(f"only integers, slices, None, ..., and integer or boolean "
                             f"arrays are valid indices, got {type(i).__name__}")
    basic, arrays = [], []
    for item in items:
        if _is_array(item):
            basic.extend([slice(None)] * (item.ndim if item.dtype == np.bool_ else 1))
            arrays.append(item)
        elif _is_int(item):
            basic.append(int(item.item() if isinstance(item, CudaArray) else item))
        elif item is Ellipsis:
            basic.append(item)
            arrays.append(item)
        else:
            basic.append(item)
            if item is not None:
                arrays.append(slice(None))
    has = any(_is_array(i) for i in arrays)
    return tuple(basic), (tuple(arrays) if has else None)


def view(shape: tuple, basic: tuple) -> tuple:
    """(offset, shape, strides) in elements of x[basic] for a C-contiguous x of `shape`."""
    strides, acc = [], 1
    for n in reversed(shape):
        strides.append(acc)
        acc *= n
    a = as_strided(_NOWHERE, shape=shape, strides=strides[::-1])
    if not any(i is Ellipsis for i in basic):
        basic = basic + (Ellipsis,)  # a 0-d view, never a numpy scalar, for all ints
    v = a[basic]
    off = v.__array_interface__["data"][0] - _NOWHERE.__array_interface__["data"][0]
    return off, v.shape, v.strides


def _host_index(a, n: int, dim: int, shape: tuple) -> np.ndarray:
    """Integer index array `a` on the host (copied once if on cuda), checked against n."""
    h = a.get() if isinstance(a, CudaArray) else np.asarray(a)
    if h.size and (h.min() < -n or h.max() >= n):
        bad = int(h[(h < -n) | (h >= n)].ravel()[0])
        raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {n} "
                         f"(indexing a cuda tensor of shape {shape})")
    return h


class _Plan:
    """Where each element of an indexed result lives in the source buffer."""

    __slots__ = ("base", "bpos", "dims", "lin", "mul", "nd", "shape", "strides", "wrap")


def plan(shape: tuple, idx) -> _Plan:
    """The geometry of x[idx] for a C-contiguous x of `shape` (PyTorch's rule)."""
    basic, arrays = split(idx)
    try:
        base, vshape, vstrides = view(tuple(shape), basic)
    except (IndexError, ValueError, TypeError) as e:
        raise IndexError(f"{e} (indexing a cuda tensor of shape {tuple(shape)} with "
                         f"{idx!r})") from None
    p = _Plan()
    p.base = base
    if arrays is None:
        return _finish(p, list(zip(vshape, vstrides, [False] * len(vshape))), vshape, None)
    # expand ... and the missing trailing dims into full slices
    used = sum(i.ndim if _is_array(i) and i.dtype == np.bool_ else
               (0 if i is Ellipsis else 1) for i in arrays)
    if used > len(vshape):
        raise IndexError(f"too many indices for a cuda tensor of shape {tuple(shape)}: "
                         f"{idx!r}")
    items = []
    for i in arrays:
        items.extend([slice(None)] * (len(vshape) - used) if i is Ellipsis else [i])
    if not any(i is Ellipsis for i in arrays):
        items.extend([slice(None)] * (len(vshape) - used))
    # one (size, stride) per dim of the view, the index arrays as (array, dims it indexes)
    dim, kept, found, where = 0, [], [], []
    for pos, i in enumerate(items):
        if isinstance(i, slice):
            kept.append((pos, vshape[dim], vstrides[dim]))
            dim += 1
            continue
        k = i.ndim if i.dtype == np.bool_ else 1
        found.append((i, dim, k))
        where.append(pos)
        dim += k
    lin, bshape, mul, wrap = _offsets(found, vshape, vstrides, tuple(shape))
    adjacent = where == list(range(where[0], where[0] + len(where)))
    before = [(n, s, False) for pos, n, s in kept if adjacent and pos < where[0]]
    after = [(n, s, False) for pos, n, s in kept if not adjacent or pos > where[-1]]
    nb = math.prod(bshape)
    dims = before + [(nb, 0, True)] + after
    out_shape = tuple(n for n, _, _ in before) + tuple(bshape) + tuple(n for n, _, _ in after)
    p.lin, p.mul, p.wrap = lin, mul, wrap
    return _finish(p, dims, out_shape, True)


def _offsets(found: list, vshape: tuple, vstrides: tuple, shape: tuple) -> tuple:
    """(offsets, broadcast shape, multiplier, wrap) of the index arrays: one integer cuda
    array indexing one dim is used as it is (after its check); anything else becomes the
    element offsets on the host, one upload."""
    if len(found) == 1 and isinstance(found[0][0], CudaArray) and found[0][0].dtype != np.bool_:
        a, d, _ = found[0]
        _host_index(a, vshape[d], d, shape)
        return a.reshape(a.size), a.shape, vstrides[d], vshape[d]
    per = []  # (integer host array, size, stride) per indexed dim
    for a, d, k in found:
        if a.dtype == np.bool_:
            h = a.get() if isinstance(a, CudaArray) else np.asarray(a)
            if h.shape != tuple(vshape[d:d + k]):
                raise IndexError(f"the shape of the mask {h.shape} does not match the shape "
                                 f"{tuple(vshape[d:d + k])} of the indexed dims (indexing a "
                                 f"cuda tensor of shape {shape})")
            per.extend((nz, vshape[d + j], vstrides[d + j]) for j, nz in enumerate(h.nonzero()))
        else:
            per.append((_host_index(a, vshape[d], d, shape), vshape[d], vstrides[d]))
    try:
        arrays = np.broadcast_arrays(*(h for h, _, _ in per))
    except ValueError:
        raise IndexError(f"shape mismatch: indexing arrays of shapes "
                         f"{[h.shape for h, _, _ in per]} could not be broadcast together "
                         f"(indexing a cuda tensor of shape {shape})") from None
    lin = np.zeros(arrays[0].shape, np.int64)
    for h, (_, n, s) in zip(arrays, per):
        h = h.astype(np.int64)
        lin += np.where(h < 0, h + n, h) * s
    return to_device(lin.reshape(-1)), lin.shape, 1, 0


_NO_INDEX: list = []


def _finish(p: _Plan, dims: list, out_shape: tuple, has_index) -> _Plan:
    """Merge the dims that are contiguous in the source (never the index dim) and drop the
    size-1 ones; at most MAX_DIMS remain."""
    merged: list = []
    for n, s, is_b in dims:
        if n == 1 and not is_b:
            continue
        if merged and not is_b and not merged[-1][2] and merged[-1][1] == s * n:
            merged[-1] = (merged[-1][0] * n, s, False)
            continue
        merged.append((n, s, is_b))
    if len(merged) > MAX_DIMS:
        raise NotImplementedError(f"cuda indexing: the result of shape {out_shape} needs "
                                  f"{len(merged)} strided dims; the cuda kernel takes at most "
                                  f"{MAX_DIMS}")
    p.shape = tuple(int(n) for n in out_shape)
    p.nd = len(merged)
    p.dims = tuple(int(n) for n, _, _ in merged) + _PAD[len(merged):]
    p.strides = tuple(int(s) for _, s, _ in merged) + (0,) * (MAX_DIMS - len(merged))
    p.bpos = next((k for k, m in enumerate(merged) if m[2]), -1)
    if has_index is None:
        if not _NO_INDEX:
            _NO_INDEX.append(to_device(np.zeros(1, np.int64)))
        p.lin, p.mul, p.wrap = _NO_INDEX[0], 0, 0
    p.base, p.mul, p.wrap = int(p.base), int(p.mul), int(p.wrap)
    return p


def _args(p: _Plan) -> tuple:
    return (p.base, *p.dims, *p.strides, p.nd, p.lin.dev, p.bpos, p.mul, p.wrap)


# ---- the ops ---------------------------------------------------------------------------------

def take(x: CudaArray, idx) -> CudaArray:
    """x[idx] with PyTorch's rule, as a new array (one launch)."""
    p = plan(x.shape, idx)
    out = empty(p.shape, x.dtype)
    launch_1d(_gather, out.size, x.dev, out.dev, out.size, *_args(p))
    return out


def put(x: CudaArray, idx, value, accumulate: bool = False) -> None:
    """x[idx] = value in place (``accumulate``: x[idx] += value, repeated indices adding up,
    with atomics), value broadcast to the indexed shape; PyTorch's rule."""
    p = plan(x.shape, idx)
    n = math.prod(p.shape)
    if isinstance(value, CudaArray):
        if value.dtype != x.dtype:
            value = value.astype(x.dtype)
        if value.size == 1:
            scalar = True
        elif value.shape != p.shape:
            try:
                target = np.broadcast_shapes(value.shape, p.shape)
            except ValueError:
                target = None
            if target != p.shape:
                raise RuntimeError(f"setitem: shape mismatch: value of shape {value.shape} "
                                   f"cannot be broadcast to indexing result of shape "
                                   f"{p.shape} (cuda tensor of shape {x.shape})")
            from ... import kernels
            value, scalar = kernels.broadcast_to(value, p.shape), False
        else:
            scalar = False
    elif np.ndim(value) == 0:
        value, scalar = to_device(np.asarray([value], dtype=x.dtype)), True
    else:
        raise mixed_devices("setitem", "cuda:0", "cpu")
    kernel = _scatter_add if accumulate else _scatter
    launch_1d(kernel, n, x.dev, value.dev, n, scalar, *_args(p))


def strided(x: CudaArray, shape: tuple, strides: tuple, base: int = 0) -> CudaArray:
    """A C-contiguous copy of the view of x with that shape and element strides."""
    p = _Plan()
    p.base = base
    p = _finish(p, list(zip(shape, strides, [False] * len(shape))), tuple(shape), None)
    out = empty(p.shape, x.dtype)
    launch_1d(_gather, out.size, x.dev, out.dev, out.size, *_args(p))
    return out


def _own_strides(shape: tuple) -> list:
    strides, acc = [], 1
    for n in reversed(shape):
        strides.append(acc)
        acc *= n
    return strides[::-1]


def transpose(x: CudaArray, axes=None) -> CudaArray:
    """np.transpose(x, axes), materialised (one launch)."""
    nd = x.ndim
    axes = tuple(reversed(range(nd))) if axes is None else tuple(int(a) for a in axes)
    if len(axes) != nd or sorted(a % max(nd, 1) for a in axes) != list(range(nd)) \
            or any(not -nd <= a < nd for a in axes):
        raise ValueError(f"transpose: axes {axes} are not a permutation of the {nd} dims of "
                         f"shape {x.shape}")
    axes = tuple(a % nd for a in axes)
    own = _own_strides(x.shape)
    if axes == tuple(range(nd)):
        return x.copy()
    return strided(x, tuple(x.shape[a] for a in axes), tuple(own[a] for a in axes))


def swapaxes(x: CudaArray, a: int, b: int) -> CudaArray:
    axes = list(range(x.ndim))
    a, b = _axis(a, x.ndim, "swapaxes"), _axis(b, x.ndim, "swapaxes")
    axes[a], axes[b] = axes[b], axes[a]
    return transpose(x, axes)


def moveaxis(x: CudaArray, source, destination) -> CudaArray:
    src = [source] if isinstance(source, (int, np.integer)) else list(source)
    dst = [destination] if isinstance(destination, (int, np.integer)) else list(destination)
    src = [_axis(a, x.ndim, "moveaxis") for a in src]
    dst = [_axis(a, x.ndim, "moveaxis") for a in dst]
    order = [n for n in range(x.ndim) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, order)


def flip(x: CudaArray, axis=None) -> CudaArray:
    """np.flip(x, axis), materialised (one launch): negative strides."""
    axes = range(x.ndim) if axis is None else (
        [axis] if isinstance(axis, (int, np.integer)) else axis)
    axes = {_axis(a, x.ndim, "flip") for a in axes}
    own = _own_strides(x.shape)
    base = sum((x.shape[a] - 1) * own[a] for a in axes if x.shape[a])
    return strided(x, x.shape, tuple(-s if a in axes else s for a, s in enumerate(own)), base)


def _axis(a, nd: int, op: str) -> int:
    a = int(a)
    if not -nd <= a < max(nd, 1):
        raise ValueError(f"{op}: axis {a} is out of bounds for an array of dimension {nd}")
    return a % max(nd, 1)
