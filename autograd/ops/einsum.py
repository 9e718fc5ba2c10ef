"""autograd.einsum, meshgrid and cartesian_prod (functions of several tensors).

einsum's gradient for an operand is another einsum: of the output gradient with the other
operands, to that operand's subscripts (broadcast along subscripts only it has), so it
differentiates again.
"""
from __future__ import annotations

import string

import numpy as np

from .. import dtypes
from ..function import Function
from ..wrap import to_tensor
from .registry import function
from .shape import Cat

_SPARE = string.ascii_uppercase + string.ascii_lowercase


def _parse(equation: str, shapes: list) -> tuple:
    """'ij,jk->ik' (or implicit output, or '...') -> ([in subscripts], out subscripts) with
    every '...' spelled as letters the equation does not use."""
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise RuntimeError(f"einsum: the equation {equation!r} names {len(ins)} operands but "
                           f"{len(shapes)} were given")
    free = [c for c in _SPARE if c not in eq]
    n_ell = max([len(s) - len(i.replace("...", "")) for i, s in zip(ins, shapes)
                 if "..." in i] or [0])
    ell = "".join(free[:n_ell])
    spelled = []
    for subs, shape in zip(ins, shapes):
        if "..." in subs:
            k = len(shape) - len(subs.replace("...", ""))
            subs = subs.replace("...", ell[n_ell - k:] if k else "")
        if not subs.isalpha() and subs:
            raise RuntimeError(f"einsum: invalid subscripts {subs!r} in {equation!r}")
        if len(subs) != len(shape):
            raise RuntimeError(f"einsum: operand subscripts {subs!r} do not match its shape "
                               f"{tuple(shape)} in {equation!r}")
        spelled.append(subs)
    if arrow:
        out = out.replace("...", ell)
    else:  # implicit: the letters seen once, sorted, after the ellipsis dims
        seen = "".join(spelled)
        out = ell + "".join(sorted(c for c in set(seen) if seen.count(c) == 1 and c not in ell))
    return spelled, out


class Einsum(Function):
    save_inputs = True

    def forward(self, *arrays, ins, out):
        self.ins, self.out = ins, out
        self.shapes = [a.shape for a in arrays]
        try:
            res = np.einsum(",".join(ins) + "->" + out, *arrays)
            return res if hasattr(res, "shape") and not isinstance(res, np.generic) \
                else np.asarray(res)  # numpy's scalars as 0-d arrays; a cuda array as is
        except ValueError as e:
            raise RuntimeError(f"einsum: {','.join(ins)}->{out} with shapes "
                               f"{[tuple(s) for s in self.shapes]}: {e}") from None

    def backward(self, g):
        inputs = self.inputs
        grads = []
        for k, (subs, nxt) in enumerate(zip(self.ins, self.next)):
            if nxt is None:
                grads.append(None)
                continue
            if len(set(subs)) != len(subs):
                raise RuntimeError(f"einsum: the gradient of an operand with a repeated "
                                   f"subscript ({subs!r}, a diagonal) is not implemented")
            others = [i for i in range(len(inputs)) if i != k]
            present = set(self.out).union(*[self.ins[i] for i in others])
            reduced = "".join(c for c in subs if c in present)
            gk = Einsum.apply(g, *[inputs[i] for i in others],
                              ins=[self.out] + [self.ins[i] for i in others], out=reduced)
            if reduced != subs:  # letters only this operand has: broadcast along them
                gk = gk.reshape(*[gk.shape[reduced.index(c)] if c in reduced else 1
                                  for c in subs]).expand(*self.shapes[k])
            grads.append(gk)
        return tuple(grads)


def _tensors(op: str, tensors) -> list:
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    return [to_tensor(t) for t in tensors]


@function("einsum")
def einsum(equation: str, *operands):
    """Sums of products over the subscripts of `equation` ("ij,jk->ik", implicit output,
    "..."); differentiable in every operand (except one indexed with a repeated letter)."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the first argument must be the equation, got "
                        f"{type(equation).__name__}")
    tensors = _tensors("einsum", operands)
    if not tensors:
        raise RuntimeError("einsum: must provide at least one operand")
    dtype = dtypes.result_type(*[t.data for t in tensors])
    tensors = [t.astype(dtype) for t in tensors]
    ins, out = _parse(equation, [t.shape for t in tensors])
    return Einsum.apply(*tensors, ins=ins, out=out)


@function("meshgrid")
def meshgrid(*tensors, indexing: str = "ij"):
    """Coordinate grids from 1-D tensors: the i-th output varies along dim i ("ij") or, with
    indexing="xy", the first two dims are swapped (numpy's default)."""
    ts = _tensors("meshgrid", tensors)
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for t in ts:
        if t.ndim > 1:
            raise RuntimeError(f"meshgrid: expects 0-D or 1-D tensors, got shape "
                               f"{tuple(t.shape)}")
    ts = [t.reshape(-1) for t in ts]
    sizes = [t.shape[0] for t in ts]
    order = list(range(len(ts)))
    if indexing == "xy" and len(ts) >= 2:
        order[0], order[1] = 1, 0
    shape = [sizes[i] for i in order]
    out = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[order.index(i)] = sizes[i]
        out.append(t.reshape(*view).expand(*shape))
    return tuple(out)


@function("cartesian_prod")
def cartesian_prod(*tensors):
    """All combinations of the elements of 1-D tensors, one per row ((n1 * n2 * ..., k));
    a single tensor comes back as it is."""
    ts = _tensors("cartesian_prod", tensors)
    for t in ts:
        if t.ndim != 1:
            raise RuntimeError(f"cartesian_prod: expects 1-D tensors, got shape "
                               f"{tuple(t.shape)}")
    if len(ts) == 1:
        return ts[0]
    columns = [g.reshape(-1).unsqueeze(1) for g in meshgrid(*ts, indexing="ij")]
    dtype = dtypes.result_type(*[c.data for c in columns])  # as autograd.stack promotes
    return Cat.apply(*[c.astype(dtype) for c in columns], dim=1)
