"""A recording: one eager run of a step, kept as a flat list of units to call again.

While a `Recorder` runs, three kinds of call become units, in the order they happen:
- `ForwardUnit`: a `Function.apply` (forward and backward alike: backward is made of ops).
  A replay calls the op's `forward` on the same arrays, with no Tensor or graph node; when
  that forward was one kernel call on its inputs, the unit calls the kernel itself, writing
  into the recorded output (`KernelUnit`), so elementwise runs can later be fused;
- `KernelUnit`: a kernel dispatcher called outside any op (a backward that calls one);
- `CallUnit`: a function marked `trace.replayable` (an optimiser step, `.grad`
  accumulation, a dropout mask, an in-place op, a running statistic): called again as is.
  Also a node's backward (a `trace.region`) whose ops read an array no unit made (numpy on
  `.data` inside the backward): the whole backward is called again instead of its ops.

Every array a unit makes is kept as a buffer: a replay writes each unit's result into the
array the recording made (`deliver`), so every later unit, view and saved tensor that
refers to it sees the new values (autograd/slots.py hands inputs and outputs over without
copies where it can). Calls inside a unit are not recorded (they run again as part of it);
calls from other threads pass through. `Recorder` also notes the leaves read (parameters,
buffers: their arrays must still be the same on replay), the modules called (their
`training` flags) and the leaves made inside the step (no `.grad` at a replay's start).
"""
from __future__ import annotations

import os
import threading
import traceback

import numpy as np

from . import trace
from .function import Function
from .grad_mode import _state as _grad_mode
from .kernels import policy, registry
from .wrap import is_tensor, wrap

TRACE = "trace"  # the wrapping kernel backend a recording runs under
_REAL = ["numba"]  # the backend it wraps


class RecordingError(RuntimeError):
    """A step that a recording cannot replay faithfully."""


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def _same_memory(a: np.ndarray, b: np.ndarray) -> bool:
    return a is b or (a.shape == b.shape and a.strides == b.strides
                      and _address(a) == _address(b))


def deliver(result, buf, what: str) -> None:
    """Write a replayed result into the recorded buffer(s) `buf`; nothing when it is the
    buffer itself or a view of exactly its memory."""
    if buf is None or result is None:
        return
    if type(buf) is tuple:
        for r, b in zip(result, buf):
            if b is not None:
                deliver(r, b, what)
        return
    if is_tensor(result):
        result = result.data
    if result is buf:
        return
    result = np.asarray(result)
    if result.shape != buf.shape:
        raise RecordingError(
            f"autograd.compile: {what} gave shape {result.shape} on replay where the recording "
            f"had {buf.shape}: the step's shapes depend on its data, so it cannot be replayed")
    if result.base is not None and _same_memory(result, buf):
        return
    np.copyto(buf, result, casting="unsafe")


def _hand_over(unit, result, inputs) -> bool:
    """Rebind every place holding `unit.out` to the new `result` (autograd/slots.py) instead
    of copying it in, when the unit has such slots and `result` is a fresh array of the same
    kind (not a view of an input); whether it did."""
    rebind = unit.rebind
    if (rebind is None or type(result) is not np.ndarray or not result.flags.c_contiguous
            or result.shape != unit.out.shape or result.dtype != unit.out.dtype):
        return False
    r = root(result)
    for a in inputs:
        if type(a) is np.ndarray and root(a) is r:
            return False
    rebind.bind(result)
    return True


def buffers(result):
    """The arrays a call returned (an array, a Tensor's, a tuple's with None where an item
    is none of these), or None."""
    if isinstance(result, np.ndarray):
        return result
    if is_tensor(result):
        return result.data
    if isinstance(result, (tuple, list)) and result:
        found = tuple(buffers(r) for r in result)
        return found if any(b is not None for b in found) else None
    return None


def arrays_of(buf) -> list:
    if buf is None:
        return []
    if type(buf) is tuple:
        return [a for b in buf for a in arrays_of(b)]
    return [buf]


def _array_attrs(fn: Function) -> dict:
    """The arrays (and tuples of arrays) a forward left on its Function: backward reads
    them, and later units were recorded with these very arrays."""
    return {k: v for k, v in fn.__dict__.items()
            if isinstance(v, np.ndarray)
            or (type(v) is tuple and v and all(isinstance(x, np.ndarray) for x in v))}


class ForwardUnit:
    """An op's forward, called again on the recorded arrays (no Tensor, no graph)."""

    __slots__ = ("arrays", "attr_rebind", "attrs", "fn", "kwargs", "out", "rebind", "view")
    kind = "op"

    def __init__(self, fn, arrays, kwargs, out, attrs, view=False):
        self.fn, self.arrays, self.kwargs, self.out = fn, list(arrays), kwargs, out
        self.attrs = attrs
        self.view = view  # the recorded output is a view of an input: it must stay one
        self.rebind = None  # slots.Slots of `out`: hand the new result over instead of a copy
        self.attr_rebind: dict = {}  # the same for saved arrays, by attribute

    @property
    def name(self) -> str:
        return type(self.fn).__name__

    def run(self) -> None:
        fn = self.fn
        result = fn.forward(*self.arrays, **self.kwargs)
        if self.view and not _same_memory(np.asarray(result), self.out):
            raise RecordingError(
                f"autograd.compile: {self.name} chose another part of its input on replay "
                f"(a view picked by the data, such as x[i] with a tensor i), so the step "
                f"cannot be replayed; run it eagerly")
        if not _hand_over(self, result, self.arrays):
            deliver(result, self.out, self.name)
        state = fn.__dict__
        for k, old in self.attrs.items():  # keep the arrays later units were recorded with
            new = state.get(k)
            if new is not old:
                where = self.attr_rebind.get(k)
                if (where is not None and type(new) is np.ndarray and new.shape == old.shape
                        and new.dtype == old.dtype and new.flags.c_contiguous):
                    where.bind(new)  # every unit that reads it now reads the new array
                else:
                    deliver(new, old, f"{self.name}.{k}")
                    state[k] = old

    def reads(self) -> list:
        return list(self.arrays) + _nested_arrays(self.kwargs)


class KernelUnit:
    """A kernel, called again with its recorded arguments, writing into its recorded output."""

    __slots__ = ("args", "impl", "into", "kwargs", "label", "out", "rebind", "spec")
    kind = "kernel"

    def __init__(self, spec, impl, args, kwargs, out, label=None):
        self.spec, self.impl, self.args, self.out = spec, impl, list(args), out
        self.kwargs = dict(kwargs)
        self.label = label or spec.name
        # write straight into the buffer when the kernel takes out= and was given none, and
        # the buffer is no input of its (a kernel may return an input as it is)
        self.into = (spec.out and isinstance(out, np.ndarray) and "out" not in self.kwargs
                     and id(root(out)) not in {id(root(a)) for a in _nested_arrays(args)})
        self.rebind = None  # as ForwardUnit's, when the kernel takes no out=

    @property
    def name(self) -> str:
        return self.label

    def run(self) -> None:
        if self.into:
            self.impl(*self.args, out=self.out, **self.kwargs)
            return
        result = self.impl(*self.args, **self.kwargs)
        if not _hand_over(self, result, self.args):
            deliver(result, self.out, self.label)

    def reads(self) -> list:
        return _nested_arrays(self.args) + _nested_arrays(self.kwargs)


class CallUnit:
    """A `trace.replayable` function (or a `trace.region` that read arrays the recording
    does not know), called again with its recorded arguments."""

    __slots__ = ("args", "fn", "kept", "kwargs", "out", "prepare")
    kind = "call"

    def __init__(self, fn, args, kwargs, out, kept, prepare=None):
        self.fn, self.args, self.kwargs, self.out, self.kept = fn, args, kwargs, out, kept
        self.prepare = prepare

    @property
    def name(self) -> str:
        if self.prepare is not None and self.args and isinstance(self.args[0], Function):
            return f"{self.fn.__qualname__}({self.args[0].name})"
        return self.fn.__qualname__

    def run(self) -> None:
        if self.prepare is not None:
            self.prepare(*self.args)
        previous = _grad_mode.enabled
        _grad_mode.enabled = False  # a replay builds no graph: in-place ops take their array path
        try:
            deliver(buffers(self.fn(*self.args, **self.kwargs)), self.out, self.name)
        finally:
            _grad_mode.enabled = previous
        for obj, attr, recorded in self.kept:  # e.g. .grad: the recorded tensor stays
            now = getattr(obj, attr)
            if now is not recorded and recorded is not None:
                if now is not None:
                    np.copyto(recorded.data, now.data)
                setattr(obj, attr, recorded)

    def reads(self) -> list:
        return _nested_arrays(self.args) + _nested_arrays(self.kwargs)


def _nested_arrays(x, depth: int = 0) -> list:
    """The arrays in x: arrays, Tensors' arrays, inside tuples, lists and dicts (2 levels)."""
    if isinstance(x, np.ndarray):
        return [x]
    if is_tensor(x):
        return [x.data]
    if depth < 2 and isinstance(x, (tuple, list)):
        return [a for v in x for a in _nested_arrays(v, depth + 1)]
    if depth < 2 and isinstance(x, dict):
        return [a for v in x.values() for a in _nested_arrays(v, depth + 1)]
    return []


_PACKAGE_DIRS = tuple(os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep + d
                      + os.sep for d in ("autograd", "nn", "optim"))


def user_line() -> str:
    """'file:line: code' of the innermost frame outside numbagrad (the caller's code)."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIRS):
            return f"{frame.filename}:{frame.lineno}: {(frame.line or '').strip()}"
    return "<unknown>"


class Recorder:
    """Records one eager run (a context manager): `units`, `leaves`, `modules`."""

    def __init__(self) -> None:
        self.units: list = []
        self.leaves: dict = {}   # id -> (tensor, its array): leaves and constants read
        self.modules: dict = {}  # id -> module called
        self.depth = 0           # > 0 inside a unit: its inner calls are part of it
        self.kids: list | None = None  # kernel calls of the forward being recorded
        self.known: set = set()  # ids of the root arrays units made or read as known
        self.regions = 0         # > 0 inside a `trace.region`
        self.fresh: list = []    # leaves made inside the step: no .grad at each replay's start
        self.thread = threading.get_ident()
        self._apply = None

    # ---- installing the doors ------------------------------------------------------------
    def __enter__(self):
        if trace.ACTIVE[0] is not None:
            raise RuntimeError("autograd.compile: a compiled function was called while another "
                               "one is recording (compiled functions do not nest)")
        registry.wrapping_backend(TRACE, _traced)
        _REAL[0] = policy.swap_backend(TRACE)
        self._apply = Function.__dict__["apply"]
        recorder = self

        def apply(cls, *inputs, **kwargs):
            return recorder.apply(cls, inputs, kwargs)
        Function.apply = classmethod(apply)
        trace.ACTIVE[0] = self
        return self

    def __exit__(self, *exc) -> None:
        trace.ACTIVE[0] = None
        Function.apply = self._apply
        policy.swap_backend(_REAL[0])

    def here(self) -> bool:
        """Whether a call made now is a unit: top level, on the recording thread."""
        return self.depth == 0 and threading.get_ident() == self.thread

    # ---- the doors ---------------------------------------------------------------------
    def apply(self, cls, inputs: tuple, kwargs: dict):
        if not self.here():
            return self._apply.__func__(cls, *inputs, **kwargs)
        for t in inputs:
            if t.grad_fn is None:
                self.leaves[id(t)] = (t, t.data)
                if not self.regions:  # parameters, buffers, constants made by the step
                    self.known.add(id(root(t.data)))
        fn = cls()
        arrays = tuple(t.data for t in inputs)
        self.depth, self.kids = 1, []
        try:
            data = fn.forward(*arrays, **kwargs)
        finally:
            kids, self.depth, self.kids = self.kids, 0, None
        if not isinstance(data, np.ndarray):
            if not isinstance(data, np.generic):
                raise RecordingError(f"autograd.compile: {cls.__name__}.forward returned "
                                     f"{type(data).__name__}, not an array")
            data = np.asarray(data)
        inputs_roots = {id(root(a)) for a in arrays}
        view = data.base is not None and id(root(data)) in inputs_roots
        if not (view and not _nested_arrays(kwargs)):  # a view fixed by shapes needs no unit
            self.add(_forward_unit(fn, arrays, kwargs, data, kids, view))
        if _grad_mode.enabled:
            for t in inputs:
                if t.requires_grad:
                    return fn._record(inputs, data)
        return wrap(data)

    def kernel(self, spec, impl, args: tuple, kwargs: dict):
        result = impl(*args, **kwargs)
        if self.depth == 0:
            self.add(KernelUnit(spec, impl, args, kwargs, buffers(result)))
        elif self.kids is not None:
            self.kids.append((spec, impl, args, kwargs, result))
        return result

    def call(self, fn, args: tuple, kwargs: dict):
        if not self.here():
            return fn(*args, **kwargs)
        self.depth += 1
        try:
            result = fn(*args, **kwargs)
        finally:
            self.depth -= 1
        keep = getattr(fn, "keeps", None)
        kept = [(obj, attr, getattr(obj, attr)) for obj, attr in keep(*args, **kwargs)] \
            if keep is not None else []
        self.add(CallUnit(fn, args, kwargs, buffers(result), kept))
        return result

    def add(self, unit) -> None:
        self.units.append(unit)
        self.known.update(_made(unit))

    def constant(self, array) -> None:
        self.known.add(id(root(array)))

    def region(self, fn, args: tuple):
        """Record fn(*args) unit by unit if every unit in it reads known arrays only, else
        as one CallUnit (see `trace.region`)."""
        if not self.here():
            return fn(*args)
        start = len(self.units)
        known = set(self.known)
        self.regions += 1
        try:
            result = fn(*args)
        finally:
            self.regions -= 1
        if not self._clean(self.units[start:], known, result):
            del self.units[start:]
            self.known = known
            self.add(CallUnit(fn, args, {}, buffers(result), [], fn.prepare))
        return result

    @staticmethod
    def _clean(units: list, known: set, result) -> bool:
        """Whether each unit reads only arrays known before it (made by an earlier unit,
        or 0-d constants), and the result is made of known arrays."""
        known = set(known)
        for unit in units:
            for a in unit.reads():
                if a.ndim and id(root(a)) not in known:
                    return False
            known.update(_made(unit))
        return all(a.ndim == 0 or id(root(a)) in known
                   for a in arrays_of(buffers(result)))

    def value_access(self, what: str) -> None:
        if self.here():
            raise RuntimeError(
                f"autograd.compile: {what} turns a tensor into a Python value inside a compiled "
                f"function, at {user_line()}; a replay runs no Python code of the function, so "
                f"it cannot follow a value read from the data. Return the tensor from the "
                f"function and read it outside")

    def module_called(self, module) -> None:
        self.modules[id(module)] = module


def _made(unit) -> list:
    """ids of the root arrays a unit makes: its output, an op's saved arrays, the .grad
    tensors a replayed call keeps."""
    made = arrays_of(unit.out)
    if type(unit) is ForwardUnit:
        made += _nested_arrays(tuple(unit.attrs.values()))
    elif type(unit) is CallUnit:
        made += [t.data for _, _, t in unit.kept if t is not None]
    return [id(root(a)) for a in made]


def root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _traced(spec):
    """The "trace" backend's implementation of a kernel: record, then run the real one."""
    def run(*args, **kwargs):
        impl = spec.dispatch.implementation(_REAL[0])
        recorder = trace.ACTIVE[0]
        if recorder is None or threading.get_ident() != recorder.thread:
            return impl(*args, **kwargs)
        return recorder.kernel(spec, impl, args, kwargs)
    run.__name__ = spec.name
    return run


def _forward_unit(fn, arrays: tuple, kwargs: dict, data: np.ndarray, kids: list, view: bool):
    """A KernelUnit when the forward was exactly one kernel on its own inputs that left no
    other array behind; else a ForwardUnit."""
    attrs = _array_attrs(fn)
    if len(kids) == 1:
        spec, impl, args, kernel_kwargs, result = kids[0]
        known = [id(a) for a in arrays] + [id(data)]
        if (result is data and "out" not in kernel_kwargs
                and all(id(a) in known or a.ndim == 0 for a in _nested_arrays(args))
                and not _nested_arrays(kernel_kwargs)
                and all(all(id(x) in known for x in (v if type(v) is tuple else (v,)))
                        for v in attrs.values())):
            return KernelUnit(spec, impl, args, kernel_kwargs, data, type(fn).__name__)
    return ForwardUnit(fn, arrays, kwargs, data, attrs, view)
