"""Slots: the places where a recording's units hold one array, so a replay can hand them
another one instead of copying into it.

A replay copies the caller's inputs into the recording's input buffers and copies each
returned array out of its buffer. On large elementwise steps these copies cost as much as the
work (`a*b + c` on 1e6 floats: three 4 MB copies in, one out). When every unit that refers to
an input buffer holds it directly (an argument of a kernel or an op's forward, an input of
a fused kernel, an array a forward saved), the replay rebinds those places to the caller's
array; when every unit that refers to a returned array does so directly, the replay
rebinds them to a new array and returns it; and an op whose result only units read hands
its new result (and its new saved arrays) to them instead of copying into the recorded one.
Anything else that refers to the buffer (a view of it, a replayed Python call that may write
into it, the saved state of a backward replayed whole) keeps the copy.
"""
from __future__ import annotations

import numpy as np

from .fusion import FusedUnit
from .recording import CallUnit, ForwardUnit, KernelUnit, arrays_of, root
from .wrap import is_tensor


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


class Index:
    """Where each array is held in a recording's units, built in one pass: the places a
    replay can rebind, how many references there are in all, which arrays are seen through a
    view and which a unit writes."""

    def __init__(self, units: list) -> None:
        self.places: dict = {}  # id(array) -> [(kind, holder, key)]
        self.direct: dict = {}  # id(array) -> references at those places
        self.refs: dict = {}    # id(array) -> references of any kind
        self.viewed: set = set()   # id(root) of arrays some unit reads through a view
        self.written: set = set()  # ids of arrays a unit writes
        self.by_root: dict = {}    # id(root) -> ids of the arrays referenced on that memory
        for unit in units:
            self._add(unit)

    def _place(self, array, count: int, *places) -> None:
        i = id(array)
        self.places.setdefault(i, []).extend(places)
        self.direct[i] = self.direct.get(i, 0) + count

    def _add(self, unit) -> None:
        kind = type(unit)
        if kind is KernelUnit or kind is ForwardUnit:
            seq = unit.args if kind is KernelUnit else unit.arrays
            for k, a in enumerate(seq):
                if isinstance(a, np.ndarray):
                    self._place(a, 1, ("item", seq, k))
            if kind is ForwardUnit:
                for key, a in unit.attrs.items():
                    if isinstance(a, np.ndarray):
                        self._place(a, 1, ("item", unit.attrs, key))
            if isinstance(unit.out, np.ndarray):
                self._place(unit.out, 1, ("attr", unit, "out"))
                self.written.add(id(unit.out))
        elif kind is FusedUnit:
            n = len(unit.inputs)
            for k, a in enumerate(unit.inputs):
                self._place(a, 1, ("item", unit.inputs, k), ("flat", unit.args, k))
            for k, a in enumerate(unit.outputs):
                self._place(a, 1, ("item", unit.outputs, k), ("flat", unit.args, n + k))
                self.written.add(id(a))
        for a in _references(unit):
            i = id(a)
            self.refs[i] = self.refs.get(i, 0) + 1
            r = root(a)
            if r is not a:
                self.viewed.add(id(r))
            self.by_root.setdefault(id(r), set()).add(i)

    def slots(self, array: np.ndarray, writable: bool) -> Slots | None:
        """The slots of `array`, or None when something refers to it otherwise (a view, a
        nested argument, a replayed Python call, the saved state of a backward replayed
        whole; with `writable` False also a unit that writes into it, since the caller's
        array must not be written)."""
        i = id(array)
        if i in self.viewed or self.refs.get(i, 0) != self.direct.get(i, 0):
            return None
        if self.by_root.get(id(root(array)), {i}) != {i}:  # its memory is seen another way too
            return None
        if not writable and i in self.written:
            return None
        return Slots(array, self.places.get(i, []))


def _references(unit) -> list:
    refs = unit.reads() + arrays_of(unit.out)
    if type(unit) is ForwardUnit:
        refs += [a for v in unit.attrs.values()
                 for a in (v if type(v) is tuple else (v,))]
    elif type(unit) is FusedUnit:
        refs += list(unit.outputs)
    elif type(unit) is CallUnit:
        refs += [t.data for _, _, t in unit.kept if t is not None]
        if unit.prepare is not None:  # a backward replayed whole reads its node's state
            refs += _state_arrays(unit.args[0])
    return refs


def _state_arrays(node) -> list:
    """The arrays a node's backward can read: its attributes, saved tensors, saved output."""
    found = []
    for value in vars(node).values():
        items = value if isinstance(value, (tuple, list)) else (value,)
        for v in items:
            if isinstance(v, np.ndarray):
                found.append(v)
            elif is_tensor(v):
                found.append(v.data)
    return found
