"""np.einsum on cuda arrays (`ufuncs.FUNCTIONS`), composed from the backend's kernels: the
Einsum op calls it with an explicit equation ("ij,jk->ik", every "..." already spelled as
letters).

Operands are contracted pairwise, left to right, each pair as one batched matmul: the
letters of a pair are sorted into batch letters (in both, still needed), kept letters of
the left or right operand only, and contracted letters (in both, needed nowhere else);
each operand is transposed to (batch, kept, contracted) or (batch, contracted, kept),
reshaped to 3-D and multiplied by the tiled matmul kernel. A letter that only one operand
has and nothing later needs is summed out first; size-1 dims broadcast against the other
operand's (numpy's rule for ellipsis dims). A letter repeated within one operand (a
diagonal, "ii->i", "bii->bi") is first taken out as a strided copy (index.py): one dim per
letter, its stride the sum of the strides of the dims that letter names.
"""
from __future__ import annotations

import math

import numpy as np

from ... import kernels
from . import index, ufuncs
from .array import CudaArray


def _diagonal(x: CudaArray, subs: str) -> tuple:
    """x with each repeated letter of `subs` reduced to its diagonal: (array, letters)."""
    letters = "".join(dict.fromkeys(subs))
    if letters == subs:
        return x, subs
    own = [math.prod(x.shape[d + 1:]) for d in range(x.ndim)]
    shape, strides = [], []
    for c in letters:
        dims = [d for d, s in enumerate(subs) if s == c]
        sizes = {x.shape[d] for d in dims}
        if len(sizes) != 1:
            raise ValueError(f"einsum: subscript {c!r} is repeated for dims of sizes "
                             f"{sorted(sizes)} (operand of shape {x.shape})")
        shape.append(x.shape[dims[0]])
        strides.append(sum(own[d] for d in dims))
    return index.strided(x, tuple(shape), tuple(strides)), letters


def _sum_out(x: CudaArray, subs: str, keep: set) -> tuple:
    """x with the letters not in `keep` summed away: (array, its letters)."""
    axes = tuple(i for i, c in enumerate(subs) if c not in keep)
    if not axes:
        return x, subs
    return kernels.sum(x, axes), "".join(c for c in subs if c in keep)


def _arrange(x: CudaArray, subs: str, order: str, sizes: dict) -> CudaArray:
    """x transposed to the letters `order` and broadcast to their sizes."""
    if subs != order:
        x = np.transpose(x, [subs.index(c) for c in order])
    shape = tuple(sizes[c] for c in order)
    return x if x.shape == shape else kernels.broadcast_to(x, shape)


def _pair(a: CudaArray, sa: str, b: CudaArray, sb: str, needed: set) -> tuple:
    """The contraction of two operands, keeping the letters in `needed`: (array, letters)."""
    a, sa = _sum_out(a, sa, needed | set(sb))
    b, sb = _sum_out(b, sb, needed | set(sa))
    sizes: dict = {}
    for x, subs in ((a, sa), (b, sb)):
        for c, n in zip(subs, x.shape):
            if sizes.get(c, 1) != 1 and n not in (1, sizes[c]):
                raise ValueError(f"einsum: subscript {c!r} has sizes {sizes[c]} and {n}")
            sizes[c] = max(sizes.get(c, 1), n)
    batch = "".join(c for c in sa if c in sb and c in needed)
    contract = "".join(c for c in sa if c in sb and c not in needed)
    left = "".join(c for c in sa if c not in sb)
    right = "".join(c for c in sb if c not in sa)
    prod = lambda letters: math.prod([sizes[c] for c in letters])
    nb, nl, nc, nr = prod(batch), prod(left), prod(contract), prod(right)
    a3 = _arrange(a, sa, batch + left + contract, sizes).reshape(nb, nl, nc)
    b3 = _arrange(b, sb, batch + contract + right, sizes).reshape(nb, nc, nr)
    out = kernels.matmul(a3, b3)
    return out.reshape(tuple(sizes[c] for c in batch + left + right)), batch + left + right


def einsum(equation, *operands, out=None, optimize=False, **kwargs):
    """np.einsum(equation, *operands) for cuda operands of one float dtype."""
    if out is not None or kwargs or not isinstance(equation, str) or "->" not in equation \
            or "." in equation:
        return NotImplemented
    lhs, result = equation.replace(" ", "").split("->")
    subs = lhs.split(",")
    if len(subs) != len(operands) or not all(isinstance(x, CudaArray) for x in operands):
        return NotImplemented
    if len({x.dtype for x in operands}) != 1 or operands[0].dtype.kind != "f":
        raise TypeError(f"cuda einsum: operands of one float dtype, got "
                        f"{[str(x.dtype) for x in operands]}")
    for s, x in zip(subs, operands):
        if len(s) != x.ndim:
            raise ValueError(f"einsum: subscripts {s!r} for an operand of shape {x.shape}")
    operands, subs = zip(*(_diagonal(x, s) for x, s in zip(operands, subs)))
    acc, letters = operands[0], subs[0]
    for k in range(1, len(operands)):
        needed = set(result).union(*subs[k + 1:])
        acc, letters = _pair(acc, letters, operands[k], subs[k], needed)
    acc, letters = _sum_out(acc, letters, set(result))
    if letters != result:
        acc = np.transpose(acc, [letters.index(c) for c in result])
    return acc.copy() if acc is operands[0] else acc


ufuncs.FUNCTIONS.update({"einsum": einsum})
