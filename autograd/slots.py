"""Slots: the places where a recording's units hold one array, so a replay can hand them
another one instead of copying into it.

A replay copies the caller's inputs into the recording's input buffers and copies each
returned array out of its buffer. On large elementwise steps these copies cost as much as the
work (`a*b + c` on 1e6 floats: three 4 MB copies in, one out). When every unit that refers to
an input buffer holds it directly (an argument of a kernel or an op's forward, an input of
a fused kernel, an array a forward saved), the replay rebinds those places to the caller's
array; when every unit that refers to a returned array does so directly, the replay
rebinds them to a new array and returns it. Anything else that refers to the buffer (a view
of it, a replayed Python call that may write into it) keeps the copy.
"""
from __future__ import annotations

import numpy as np

from .fusion import FusedUnit
from .recording import CallUnit, ForwardUnit, KernelUnit, arrays_of, root


class Slots:
    """Every direct reference to one array in a recording's units (see the module doc)."""

    __slots__ = ("array", "places")

    def __init__(self, array: np.ndarray, places: list) -> None:
        self.array, self.places = array, places

    def bind(self, new: np.ndarray) -> None:
        for kind, holder, key in self.places:
            if kind == "item":
                holder[key] = new
            elif kind == "flat":
                holder[key] = new.reshape(-1)
            else:
                setattr(holder, key, new)


def find(units: list, array: np.ndarray, writable: bool) -> Slots | None:
    """The slots of `array` in `units`, or None when some unit refers to it otherwise (a view,
    a nested argument, a replayed Python call; with `writable` False also any unit that
    writes into it, since the caller's array must not be written)."""
    places: list = []
    target = id(array)
    for unit in units:
        kind = type(unit)
        read, written = [], []  # (container, key) pairs holding the array
        if kind is KernelUnit or kind is ForwardUnit:
            seq = unit.args if kind is KernelUnit else unit.arrays
            read = [(seq, k) for k, a in enumerate(seq) if a is array]
            if kind is ForwardUnit:
                read += [(unit.attrs, key) for key, a in unit.attrs.items() if a is array]
            places += [("item", holder, key) for holder, key in read]
            if unit.out is array:
                written = [(unit, "out")]
                places.append(("attr", unit, "out"))
        elif kind is FusedUnit:
            n = len(unit.inputs)
            read = [k for k, a in enumerate(unit.inputs) if a is array]
            written = [k for k, a in enumerate(unit.outputs) if a is array]
            places += [p for k in read for p in (("item", unit.inputs, k),
                                                 ("flat", unit.args, k))]
            places += [p for k in written for p in (("item", unit.outputs, k),
                                                    ("flat", unit.args, n + k))]
        if written and not writable:
            return None
        direct = len(read) + len(written)
        refs = _references(unit)
        if sum(1 for a in refs if a is array) != direct:
            return None  # held somewhere this module cannot rebind (a kwarg, a tuple)
        if any(a is not array and id(root(a)) == target for a in refs):
            return None  # a view of it
    return Slots(array, places)


def _references(unit) -> list:
    refs = unit.reads() + arrays_of(unit.out)
    if type(unit) is ForwardUnit:
        refs += [a for v in unit.attrs.values()
                 for a in (v if type(v) is tuple else (v,))]
    elif type(unit) is FusedUnit:
        refs += list(unit.outputs)
    elif type(unit) is CallUnit:
        refs += [t.data for _, _, t in unit.kept if t is not None]
    return refs
