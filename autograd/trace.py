"""The points where `autograd.compile` records a step, and nothing else.

A recording (autograd/recording.py) is a flat list of calls that can be made again over the
same buffers. It sees a step through three doors:
- `Function.apply` and the kernel dispatchers (installed by the recorder while it runs);
- functions marked `@replayable`: Python code that reads or writes state a replay must
  reproduce (an optimiser's step, a running statistic, a dropout mask drawn from the
  generator, an in-place tensor op, a gradient accumulated into ``.grad``). While a
  recording runs, a call to one is recorded as one unit and made again on every replay;
  otherwise the decorator costs one list lookup;
- `value_access`: turning a tensor into a Python value (`.item()`, `bool(t)`, `.tolist()`,
  `.numpy()`) inside a recorded step raises, since a replay cannot follow the data.

`ACTIVE[0]` is the running recorder or None. This module imports nothing of autograd, so
every layer may mark its functions.
"""
from __future__ import annotations

import functools
from collections.abc import Callable

ACTIVE: list = [None]  # the Recorder of the recording in progress, or None


def replayable(fn: Callable | None = None, *, keeps: Callable | None = None) -> Callable:
    """Mark `fn` as one unit of a recording: a recorded step calls it again on replay, with
    the same arguments (whose arrays then hold the new values). `keeps(*args, **kwargs)`
    names (object, attribute) pairs whose Tensor the call may replace (``leaf.grad``): after
    each replay they hold the recorded Tensor again, with the new values, so later units
    that read it see them."""
    if fn is None:
        return lambda f: replayable(f, keeps=keeps)
    fn.keeps = keeps

    @functools.wraps(fn)
    def call(*args, **kwargs):
        recorder = ACTIVE[0]
        if recorder is None:
            return fn(*args, **kwargs)
        return recorder.call(fn, args, kwargs)
    call.replayable = fn
    return call


def region(prepare: Callable | None = None) -> Callable:
    """Mark a function whose inner calls are recorded one by one when they only read arrays
    the recording knows (made by earlier units, inputs, parameters, constants); when one of
    them reads an array computed some other way (numpy on `.data`), the whole call becomes
    one unit instead, replayed by calling the function after `prepare(*args)`. The engine
    marks each node's backward so."""
    def deco(fn: Callable) -> Callable:
        fn.prepare = prepare

        @functools.wraps(fn)
        def call(*args):
            recorder = ACTIVE[0]
            if recorder is None:
                return fn(*args)
            return recorder.region(fn, args)
        return call
    return deco


def constant(array) -> None:
    """Tell a recording that `array` never changes (e.g. the ones backward starts from)."""
    recorder = ACTIVE[0]
    if recorder is not None:
        recorder.constant(array)


def new_leaf(tensor) -> None:
    """A tensor starts requiring grad: made inside a recorded step, it starts each replay
    with no `.grad`, as a fresh eager tensor would."""
    recorder = ACTIVE[0]
    if recorder is not None:
        recorder.fresh.append(tensor)


def module_called(module) -> None:
    """Called by nn's Module.__call__: a recording guards each module's `training` flag."""
    recorder = ACTIVE[0]
    if recorder is not None:
        recorder.module_called(module)


def value_access(what: str) -> None:
    """Called where a tensor becomes a Python value; raises inside a recording."""
    recorder = ACTIVE[0]
    if recorder is not None:
        recorder.value_access(what)
