"""autograd.compile: record a step once, replay it as a flat list of kernel calls.

    step = autograd.compile(train_step)     # train_step(x, y): forward, backward, opt.step()
    for x, y in loader:
        loss = step(x, y)                   # first call records, later calls replay

The first call with a new signature (the tensors' shapes and dtypes, the other arguments,
grad mode) runs the function eagerly under a `Recorder` (autograd/recording.py), then fuses
runs of elementwise kernels into generated numba kernels (autograd/fusion.py). A later call
with the same signature checks the recording's guards (the modules' `training` flags, the
leaves' arrays, parameters' and buffers' identity), copies the new inputs into the
recording's input buffers and calls its units: no Tensor, Function or graph is built.
Results come back as new tensors holding copies (detached: a replay keeps no graph).

What a replay does again: every op and kernel, and the calls numbagrad marks replayable
(optimiser `step`/`zero_grad`, schedulers' `step`, `.grad` accumulation, dropout masks,
BatchNorm statistics, in-place tensor ops). What it does not: the function's other Python
code (prints, counters, appends), which runs once, while recording.
"""
from __future__ import annotations

import functools
import threading
from collections.abc import Callable

import numpy as np

from . import fusion, slots, trace
from .grad_mode import _state as _grad_mode
from .recording import ForwardUnit, KernelUnit, Recorder, RecordingError
from .wrap import is_tensor, wrap

__all__ = ["Compiled", "Recording", "RecordingError", "compile"]

_MAX_RECORDINGS = 8  # per signature and per compiled function; the oldest goes first


class Recording:
    """One recorded step: its units, input buffers, output structure and guards."""

    def __init__(self, recorder: Recorder, inputs: list, result_spec) -> None:
        self.inputs = inputs                  # our arrays the caller's inputs are copied into
        self.result_spec = result_spec        # the returned structure, arrays as buffers
        self.units = fusion.fuse(recorder.units, recorder, result_spec)
        self.runs = [u.run for u in self.units]
        self.leaves = list(recorder.leaves.values())
        self.fresh = recorder.fresh
        self.modules = [(m, m.training) for m in recorder.modules.values()]
        self.replays = 0
        # where the caller's inputs can be handed to the units, and where a new array for
        # each returned one (see autograd/slots.py); None: copy instead
        index = slots.Index(self.units)
        self.input_slots = [index.slots(buf, writable=False) for buf in inputs]
        made = {id(a) for u in self.units for a in fusion.outputs_of(u)}
        ours = {id(a) for a in inputs}
        self.output_slots = {}
        returned = fusion.result_arrays(result_spec)
        for a in returned:
            if id(a) in made and id(a) not in ours and a.base is None:
                found = index.slots(a, writable=True)
                if found is not None:
                    self.output_slots[id(a)] = found
        # an op's or kernel's new result handed to its readers instead of copied in
        skip = ours | {id(a) for a in returned}
        for unit in self.units:
            if (type(unit) in (ForwardUnit, KernelUnit) and not getattr(unit, "into", False)
                    and isinstance(unit.out, np.ndarray) and id(unit.out) not in skip):
                unit.rebind = index.slots(unit.out, writable=True)
            if type(unit) is ForwardUnit:
                for key, a in unit.attrs.items():
                    if isinstance(a, np.ndarray) and id(a) not in skip and a is not unit.out:
                        where = index.slots(a, writable=True)
                        if where is not None:
                            unit.attr_rebind[key] = where

    def holds(self) -> bool:
        """Whether the guards hold: modules in the same mode, leaves on the same arrays."""
        for m, training in self.modules:
            if m.training is not training:
                return False
        for t, data in self.leaves:
            if t.data is not data:
                return False
        return True

    def replay(self, tensors: list):
        for buf, t, where in zip(self.inputs, tensors, self.input_slots):
            new = t.data
            if where is not None and new.flags.c_contiguous and new.flags.aligned:
                where.bind(new)
            else:
                if where is not None:
                    where.bind(buf)
                np.copyto(buf, new)
        fresh = {}
        for key, where in self.output_slots.items():
            fresh[key] = new = np.empty_like(where.array)
            where.bind(new)
        for t in self.fresh:
            t.grad = None
        for run in self.runs:
            run()
        self.replays += 1
        return _rebuild(self.result_spec, fresh)


class Compiled:
    """What `compile(fn)` returns: call it as `fn`; `explain()` describes its recordings."""

    def __init__(self, fn: Callable) -> None:
        if not callable(fn):
            raise TypeError(f"compile: expected a callable, got {type(fn).__name__}")
        self.fn = fn
        self.recordings: dict = {}
        self.eager_reason: str | None = None
        self._lock = threading.Lock()  # a replay reuses its buffers: one call at a time
        functools.update_wrapper(self, fn)

    def __call__(self, *args, **kwargs):
        if trace.ACTIVE[0] is not None:
            raise RuntimeError(f"compile: {_name(self.fn)} was called inside another compiled "
                               f"function while it records; compiled functions do not nest "
                               f"(compile the outer one only)")
        if self.eager_reason is not None:
            return self.fn(*args, **kwargs)
        with self._lock:
            return self._call(args, kwargs)

    def _call(self, args: tuple, kwargs: dict):
        tensors: list = []
        key = (_signature(args, tensors), _signature(kwargs, tensors), _grad_mode.enabled)
        for t in tensors:
            if t.requires_grad:
                raise RuntimeError(
                    f"compile: an input tensor of shape {tuple(t.shape)} requires grad; a "
                    f"compiled step takes data (inputs, targets) and differentiates with respect "
                    f"to the parameters it uses. Pass x.detach(), or call the function eagerly")
        for recording in self.recordings.get(key, ()):
            if recording.holds():
                return recording.replay(tensors)
        return self._record(key, args, kwargs, tensors)

    def _record(self, key, args, kwargs, tensors: list):
        own = {id(t): wrap(t.data.copy()) for t in tensors}  # the caller's arrays stay theirs
        args, kwargs = _substitute(args, own), _substitute(kwargs, own)
        recorder = Recorder()
        for t in own.values():
            recorder.constant(t.data)
        with recorder:
            result = self.fn(*args, **kwargs)
        spec = _result_spec(result)
        if spec is None:
            self.eager_reason = ("it returns a tensor that requires grad (a replay keeps no "
                                 "graph): call backward() inside the compiled function")
            return result
        recording = Recording(recorder, [own[id(t)].data for t in tensors], spec)
        kept = self.recordings.setdefault(key, [])
        kept.append(recording)
        if len(kept) > _MAX_RECORDINGS:
            kept.pop(0)
        return _rebuild(spec)

    def explain(self) -> str:
        """The recordings as text: each unit on a line, each fused kernel's generated source."""
        if self.eager_reason is not None:
            return f"{_name(self.fn)} runs eagerly: {self.eager_reason}"
        if not self.recordings:
            return f"{_name(self.fn)}: nothing recorded yet (call it once)"
        parts = []
        for key, recordings in self.recordings.items():
            for recording in recordings:
                parts.append(fusion.explain(recording.units, _describe_key(key),
                                            recording.replays))
        return "\n\n".join(parts)


def compile(fn: Callable | None = None, **options) -> Compiled | Callable:
    """Record `fn` once per signature and replay it as kernels (see the module docstring).

    Usable as ``compile(fn)`` or as a decorator ``@compile`` / ``@compile()``."""
    if options:
        raise TypeError(f"compile: unexpected options {sorted(options)}")
    if fn is None:
        return Compiled
    return Compiled(fn)


def _name(fn) -> str:
    return getattr(fn, "__qualname__", type(fn).__name__)


def _signature(x, tensors: list, depth: int = 0):
    """A hashable key of an argument (tensors by shape and dtype, collected in `tensors`)."""
    if is_tensor(x):
        tensors.append(x)
        return ("T", x.data.shape, x.data.dtype.str)
    if isinstance(x, np.ndarray):
        raise TypeError("compile: pass arrays as tensors (autograd.tensor(a)), not numpy arrays")
    if depth < 4 and isinstance(x, (tuple, list)):
        return (type(x).__name__, tuple(_signature(v, tensors, depth + 1) for v in x))
    if depth < 4 and isinstance(x, dict):
        return ("dict", tuple((k, _signature(v, tensors, depth + 1)) for k, v in x.items()))
    if isinstance(x, (bool, int, float, str, bytes, type(None))):
        return (type(x).__name__, x)
    return ("id", id(x))


def _substitute(x, own: dict, depth: int = 0):
    if is_tensor(x):
        return own[id(x)]
    if depth < 4 and isinstance(x, (tuple, list)):
        return type(x)(_substitute(v, own, depth + 1) for v in x)
    if depth < 4 and isinstance(x, dict):
        return {k: _substitute(v, own, depth + 1) for k, v in x.items()}
    return x


def _result_spec(result, depth: int = 0):
    """The returned structure with each tensor's array (a recorded buffer), or None when a
    tensor in it requires grad."""
    if is_tensor(result):
        if result.requires_grad:
            return None
        return ("T", result.data)
    if depth < 4 and isinstance(result, (tuple, list)):
        items = [_result_spec(v, depth + 1) for v in result]
        if any(i is None for i in items):
            return None
        return (type(result), items)
    if depth < 4 and isinstance(result, dict):
        items = {k: _result_spec(v, depth + 1) for k, v in result.items()}
        if any(i is None for i in items.values()):
            return None
        return (dict, items)
    return ("V", result)


def _rebuild(spec, fresh: dict | None = None):
    """The result of a call: new tensors holding copies of the buffers (or the new arrays
    `fresh` maps them to: id(buffer) -> array the replay wrote)."""
    kind, value = spec
    if kind == "T":
        made = fresh.get(id(value)) if fresh else None
        return wrap(value.copy() if made is None else made)
    if kind == "V":
        return value
    if kind is dict:
        return {k: _rebuild(v, fresh) for k, v in value.items()}
    items = [_rebuild(v, fresh) for v in value]
    return kind(*items) if hasattr(kind, "_fields") else kind(items)


def _describe_key(key) -> str:
    args, kwargs, grad = key

    def show(sig) -> str:
        kind = sig[0]
        if kind == "T":
            return f"tensor{list(sig[1])} {np.dtype(sig[2])}"
        if kind in ("tuple", "list"):
            return "(" + ", ".join(show(s) for s in sig[1]) + ")"
        if kind == "dict":
            return "{" + ", ".join(f"{k}: {show(s)}" for k, s in sig[1]) + "}"
        if kind == "id":
            return "<object>"
        return repr(sig[1])
    shown = ", ".join(show(s) for s in args[1])
    if kwargs[1]:
        shown += ", " + ", ".join(f"{k}={show(s)}" for k, s in kwargs[1])
    return f"({shown}) grad={'on' if grad else 'off'}"

