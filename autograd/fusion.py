"""Fusion: runs of elementwise kernel calls in a recording become one generated kernel.

A run is a sequence of consecutive `KernelUnit`s of elementwise kernels writing outputs of
one shape and float dtype, whose operands are each a whole array of that shape, a single
value, or a row repeated over the leading dims (a bias). The run becomes a `FusedUnit`: one
pass over the data computing every step in registers and writing only the values that
something after the run reads (a later unit, a returned tensor); the others are never
stored. The generated kernel (autograd/kernels/jit/fused.py) calls the same scalar
functions as the unfused kernels. Under the numpy backend nothing is fused.
"""
from __future__ import annotations

import numpy as np

from .kernels import policy
from .recording import CallUnit, KernelUnit, arrays_of, root

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class FusedUnit:
    """A run of elementwise kernels as one generated numba kernel."""

    __slots__ = ("args", "inputs", "kernel", "ops", "outputs", "source")
    kind = "fused"
    out = None  # its outputs are `outputs`

    def __init__(self, kernel, inputs: list, outputs: list, ops: list, source: str) -> None:
        self.kernel, self.inputs, self.outputs, self.ops = kernel, inputs, outputs, ops
        self.source = source
        self.args = [a.reshape(-1) for a in inputs + outputs]  # views: the buffers persist

    @property
    def name(self) -> str:
        return f"fused({', '.join(self.ops)})"

    def run(self) -> None:
        self.kernel(*self.args)

    def reads(self) -> list:
        return list(self.inputs)


def _step(unit, ops: dict):
    """(op, operand arrays, alpha) of a fusable kernel unit, else None."""
    if type(unit) is not KernelUnit or not unit.into or unit.kwargs:
        return None
    out, name, args = unit.out, unit.spec.name, unit.args
    if out.dtype not in _FLOATS or not out.flags.c_contiguous or out.size == 0:
        return None
    alpha = 0
    if name == "act_backward":
        if len(args) != 3 or not isinstance(args[2], str):
            return None
        name, args = f"act_backward:{args[2]}", args[:2]
    elif name == "leaky_relu":
        if len(args) != 2 or not isinstance(args[1], (int, float)):
            return None
        args, alpha = args[:1], float(args[1])
    if name not in ops or ops[name][0] != len(args):
        return None
    for a in args:
        if not isinstance(a, np.ndarray) or a.dtype != out.dtype:
            return None
    return name, args, alpha


def _kind(a: np.ndarray, out: np.ndarray):
    """How a run reads operand `a` for outputs shaped like `out`: "scalar", "full",
    ("row", length) or None (a broadcast the generated loop does not do)."""
    if a.size == 1:
        return "scalar"
    if not a.flags.c_contiguous:
        return None
    if a.shape == out.shape:
        return "full"
    shape = a.shape
    while shape and shape[0] == 1:
        shape = shape[1:]
    if len(shape) <= out.ndim and out.shape[out.ndim - len(shape):] == shape:
        return ("row", a.size)
    return None


def _last_readers(units: list, result_arrays: list) -> dict:
    """id of each array's root -> index of the last unit that reads it (len(units) for the
    arrays a call returns)."""
    last: dict = {}
    for i, unit in enumerate(units):
        reads = unit.reads()
        if type(unit) is CallUnit:
            reads += [t.data for _, _, t in unit.kept if t is not None]
        for a in reads:
            last[id(root(a))] = i
    for a in result_arrays:
        last[id(root(a))] = len(units)
    return last


def fuse(units: list, recorder, result_spec) -> list:
    """The units with each fusable run of two or more replaced by a FusedUnit."""
    if policy.get_backend() != "numba" or len(units) < 2:
        return list(units)
    from .kernels.jit import fused
    last = _last_readers(units, result_arrays(result_spec))
    steps = [_step(u, fused.OPS) for u in units]
    out, i = [], 0
    while i < len(units):
        j = _run_end(units, steps, i)
        if j - i >= 2:
            out.extend(_fused(units[i:j], steps[i:j], last, j - 1, fused))
        else:
            out.extend(units[i:max(j, i + 1)])
        i = max(j, i + 1)
    return out


def _run_end(units: list, steps: list, i: int) -> int:
    """The end (exclusive) of the longest run starting at unit i (i itself if none)."""
    if steps[i] is None:
        return i
    first = units[i].out
    produced: dict = {}
    cols = 0
    j = i
    while j < len(units) and steps[j] is not None:
        out = units[j].out
        if out.shape != first.shape or out.dtype != first.dtype:
            break
        ok = True
        for a in steps[j][1]:
            if id(a) in produced:
                continue
            if id(root(a)) in produced:  # a view of a value computed in the run
                ok = False
                break
            kind = _kind(a, out)
            if kind is None or (type(kind) is tuple and cols not in (0, kind[1])):
                ok = False
                break
            if type(kind) is tuple:
                cols = kind[1]
        if not ok:
            break
        produced[id(out)] = j
        j += 1
    return j


def _fused(run: list, steps: list, last: dict, end: int, fused) -> list:
    """The FusedUnit for a run (nothing when none of its values is read afterwards)."""
    produced = {id(u.out): k for k, u in enumerate(run)}
    inputs, kinds, index, cols = [], [], {}, 0
    program_steps = []
    for op, args, alpha in steps:
        operands = []
        for a in args:
            if id(a) in produced:
                operands.append(("step", produced[id(a)]))
                continue
            if id(a) not in index:
                kind = _kind(a, run[0].out)
                if type(kind) is tuple:
                    kind, cols = "row", kind[1]
                index[id(a)] = len(inputs)
                inputs.append(a)
                kinds.append(kind)
            operands.append(("in", index[id(a)]))
        program_steps.append((op, tuple(operands), alpha))
    live = [k for k, u in enumerate(run) if last.get(id(root(u.out)), -1) > end]
    if not live:
        return []
    program = fused.Program(tuple(kinds), tuple(program_steps), tuple(live), cols,
                            run[0].out.dtype.name)
    parallel = policy.FUSED.parallel(run[0].out.size)
    kernel, text = fused.compile_program(program, parallel)
    return [FusedUnit(kernel, inputs, [run[k].out for k in live],
                      [op for op, _, _ in steps], text)]


def result_arrays(spec) -> list:
    """The arrays of a recorded call's returned structure (see compiled._result_spec)."""
    kind, value = spec
    if kind == "T":
        return [value]
    if kind == "V":
        return []
    items = value.values() if kind is dict else value
    return [a for item in items for a in result_arrays(item)]


def outputs_of(unit) -> list:
    """The arrays a unit writes."""
    if type(unit) is FusedUnit:
        return list(unit.outputs)
    return arrays_of(unit.out)


def explain(units: list, signature: str, replays: int) -> str:
    """A recording as text: one line per unit, then each fused kernel's source."""
    counts: dict = {}
    for u in units:
        counts[u.kind] = counts.get(u.kind, 0) + 1
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    lines = [f"recording for {signature}: {len(units)} units ({summary}); replayed {replays}x"]
    sources = []
    for n, u in enumerate(units):
        outs = getattr(u, "outputs", None) or ([u.out] if isinstance(getattr(u, "out", None),
                                                                    np.ndarray) else [])
        shapes = " ".join(f"{list(o.shape)}" for o in outs)
        line = f"  {n:4d}  {u.kind:<6} {u.name}"
        if shapes:
            line += f" -> {shapes}"
        if u.kind == "fused":
            line += f"  [kernel #{len(sources)}]"
            sources.append(u.source)
        lines.append(line)
    for k, text in enumerate(sources):
        lines.append(f"\n--- fused kernel #{k} ---\n{text}")
    return "\n".join(lines)
