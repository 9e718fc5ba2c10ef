"""Hypothesis strategies and data builders for the property-based gradient tests.

Data is drawn as (shape, seed) and filled from numpy's generator: hypothesis still shrinks
the shape and the seed, and a failing example prints both, which is all a reproducer needs.
Values are kept inside each op's smooth domain and away from its kinks (see `away`).
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

seeds = st.integers(0, 2**16)


def shapes(min_dims=0, max_dims=3, min_side=0, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcast_pair(min_dims=0, max_dims=3, min_side=0, max_side=4):
    """Two shapes that broadcast together (size-1 and, with min_side=0, empty dims)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=min_dims,
                                             max_dims=max_dims, min_side=min_side,
                                             max_side=max_side).map(lambda s: s.input_shapes)


def uniform(seed, shape, lo=-2.0, hi=2.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(lo, hi, size=shape)


def away(x: np.ndarray, kinks=(0.0,), delta=0.05) -> np.ndarray:
    """x with every value closer than delta to a kink pushed out to kink +- delta (the
    finite differences of gradcheck, eps = 1e-6, then never straddle the kink)."""
    x = np.array(x, dtype=np.float64, copy=True)
    for k in kinks:
        near = np.abs(x - k) < delta
        x[near] = np.where(x[near] >= k, k + delta, k - delta)
    return x


def distinct(seed, shape, scale=0.2) -> np.ndarray:
    """Values with pairwise gaps of at least 0.4 * scale: no ties for max / min / sort."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    perm = rng.permutation(n) - n / 2
    return ((perm + rng.uniform(-0.3, 0.3, n)) * scale).reshape(shape)


def separated_pair(seed, shape_a, shape_b):
    """a, b whose broadcast values differ by at least 0.2 everywhere (no ties in
    maximum / minimum), either one the larger at random."""
    rng = np.random.default_rng(seed)
    full = np.broadcast_shapes(shape_a, shape_b)
    # a in [k + .1, k + .4], b in [j + .6, j + .9] with integer k, j: |a - b| >= .2
    a = rng.integers(-2, 2, shape_a) + rng.uniform(0.1, 0.4, shape_a)
    b = rng.integers(-2, 2, shape_b) + rng.uniform(0.6, 0.9, shape_b)
    assert full == np.broadcast_shapes(a.shape, b.shape)
    return a, b


@st.composite
def dims_for(draw, ndim: int, allow_none=True, allow_tuple=True):
    """A `dim` argument for a reduction over a tensor of `ndim` dims (negatives included)."""
    options = []
    if allow_none:
        options.append(st.none())
    if ndim:
        options.append(st.integers(-ndim, ndim - 1))
        if allow_tuple:
            options.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim,
                                    unique=True).map(tuple))
    if not options:
        return None
    return draw(st.one_of(*options))


def reduced_count(shape, dim) -> int:
    """How many elements each reduction group holds."""
    if dim is None:
        return int(np.prod(shape))
    dims = (dim,) if isinstance(dim, int) else dim
    return int(np.prod([shape[d] for d in dims])) if shape else 1


def output_count(shape, dim) -> int:
    """How many reduction groups (output elements) there are."""
    if dim is None or not shape:
        return 1
    dims = {d % len(shape) for d in ((dim,) if isinstance(dim, int) else dim)}
    return int(np.prod([n for i, n in enumerate(shape) if i not in dims]))


@st.composite
def basic_index(draw, shape):
    """An index of ints, slices (any step, negative too), None and Ellipsis for `shape`."""
    items = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "full", "none"] if n else
                                    ["slice", "full", "none"]))
        if kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            step = draw(st.sampled_from([1, 2, -1, -2, 3]))
            start = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
            stop = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
            items.append(slice(start, stop, step))
        elif kind == "full":
            items.append(slice(None))
        else:
            items.append(None)
            items.append(slice(None))
    if items and draw(st.booleans()):
        # replace a leading run by an Ellipsis
        cut = draw(st.integers(0, len(items)))
        items = [Ellipsis] + items[cut:] if cut else items
    return tuple(items)
