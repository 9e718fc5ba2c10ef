"""The demo's checkpoint: what `numbagrad demo` writes, and the checks `--resume` makes.

A checkpoint is untrusted input: every field is checked for presence, type and range, and
the model, optimiser and scheduler states against freshly built ones, before any of it is
used. A failed check raises `CheckpointError` with one line naming the file and the field.
"""
from __future__ import annotations

import math
import numbers
import os
from typing import Any

import numpy as np

import autograd

MAX_EPOCHS = 10_000
MAX_BATCH_SIZE = 1_000_000
MAX_SEED = 2 ** 32 - 1
MAX_COUNT = 10 ** 9  # any integer in a scheduler or optimiser state
KINDS = ("cnn", "mlp")


class CheckpointError(ValueError):
    """The --resume file is missing, unreadable, not a demo checkpoint, or inconsistent."""


def save(path: str, model, optimizer, scheduler, settings: dict) -> None:
    """Everything --resume needs, written atomically (autograd.save) after every epoch."""
    autograd.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                   "scheduler": scheduler.state_dict(), **settings}, path)


def read(path: str) -> dict:
    """Load `path` and check the demo's fields; return the checkpoint."""
    if not os.path.exists(path):
        raise CheckpointError(f"--resume {path}: no such file")
    if not os.path.isfile(path):
        raise CheckpointError(f"--resume {path}: not a regular file")
    try:
        state = autograd.load(path)
    except (OSError, ValueError, MemoryError) as e:
        raise CheckpointError(f"--resume {path}: not a readable numbagrad checkpoint "
                              f"({type(e).__name__}: {e})") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"--resume {path}: holds a {type(state).__name__}, not a "
                              f"checkpoint written by numbagrad demo")
    for key in ("model", "optimizer", "scheduler"):
        _field(state, key, path)
        if not isinstance(state[key], dict):
            raise CheckpointError(f"--resume {path}: {key!r} is a "
                                  f"{type(state[key]).__name__}, not a state dict")
    kind = _field(state, "model_kind", path)
    if kind not in KINDS:
        raise CheckpointError(f"--resume {path}: model_kind {str(kind)[:40]!r} is not one of "
                              f"{KINDS}")
    planned = _integer(state, "epochs_planned", 1, MAX_EPOCHS, path)
    _integer(state, "epoch", 0, planned, path)
    _integer(state, "restart_steps", 0, MAX_COUNT, path)
    _integer(state, "batch_size", 1, MAX_BATCH_SIZE, path)
    _integer(state, "seed", 0, MAX_SEED, path)
    # written since the checks were added; older checkpoints lack them
    if state.get("limit") is not None:
        _integer(state, "limit", 1, MAX_COUNT, path)
    if "steps_per_epoch" in state:
        _integer(state, "steps_per_epoch", 1, MAX_COUNT, path)
    if "lr" in state:
        lr = state["lr"]
        if not (isinstance(lr, numbers.Real) and not isinstance(lr, bool)
                and math.isfinite(lr) and lr > 0):
            raise CheckpointError(f"--resume {path}: lr {str(lr)[:40]} is not a positive "
                                  f"finite number")
        state["lr"] = float(lr)
    return state


def _field(state: dict, key: str, path: str) -> Any:
    if key not in state:
        raise CheckpointError(f"--resume {path}: the checkpoint lacks {key!r}; was it written "
                              f"by numbagrad demo?")
    return state[key]


def _integer(state: dict, key: str, lo: int, hi: int, path: str) -> int:
    value = _field(state, key, path)
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)):
        raise CheckpointError(f"--resume {path}: {key} is a {type(value).__name__}, not an "
                              f"integer")
    if not lo <= value <= hi:
        raise CheckpointError(f"--resume {path}: {key} = {_short(value)} is out of range "
                              f"[{lo:,}, {hi:,}]")
    state[key] = int(value)
    return int(value)


def _short(value: int) -> str:
    return f"{value:,}" if abs(value) < 10 ** 30 else f"an integer of {len(str(value))} digits"


def check_like(value: Any, template: Any, where: str, exact: tuple[str, ...] = ()) -> None:
    """`value` has the structure of `template`: the same dict keys, list lengths and kinds
    of leaves (bool, integer, float, string, None); numbers finite, integers at most
    MAX_COUNT in magnitude. Keys named in `exact` must equal the template's value (the plan
    of a schedule, the parameters of a group): a difference means the checkpoint belongs to
    another run."""
    if isinstance(template, dict):
        if not isinstance(value, dict):
            raise CheckpointError(f"{where} is a {type(value).__name__}, expected a dict")
        if set(value) != set(template):
            missing, extra = set(template) - set(value), set(value) - set(template)
            raise CheckpointError(f"{where} does not match this model: "
                                  + (f"missing {sorted(map(str, missing))[:5]} " if missing
                                     else "")
                                  + (f"unexpected {sorted(map(str, extra))[:5]}" if extra
                                     else ""))
        for key, sub in template.items():
            if key in exact and value[key] != sub:
                raise CheckpointError(f"{where}[{key!r}] = {str(value[key])[:60]} differs "
                                      f"from this run's {str(sub)[:60]} (different --epochs, "
                                      f"--batch-size or --limit?)")
            check_like(value[key], sub, f"{where}[{key!r}]", exact)
        return
    if isinstance(template, (list, tuple)):
        if not isinstance(value, (list, tuple)) or len(value) != len(template):
            raise CheckpointError(f"{where} should be a list of {len(template)} items")
        for i, (v, t) in enumerate(zip(value, template)):
            check_like(v, t, f"{where}[{i}]", exact)
        return
    if isinstance(template, bool) or template is None or isinstance(template, str):
        if type(value) is not type(template):
            raise CheckpointError(f"{where} is a {type(value).__name__}, expected "
                                  f"{type(template).__name__}")
        return
    if isinstance(template, numbers.Number):
        if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
            raise CheckpointError(f"{where} is a {type(value).__name__}, expected a number")
        if isinstance(template, numbers.Integral) and not isinstance(value, numbers.Integral):
            raise CheckpointError(f"{where} is a {type(value).__name__}, expected an integer")
        if not math.isfinite(value) or abs(value) > MAX_COUNT:
            raise CheckpointError(f"{where} = {_short(value) if isinstance(value, int) else value}"
                                  f" is out of range")


def check_model_state(state: dict, model, where: str) -> None:
    """Same parameter and buffer names, shapes and dtypes as `model`; finite floats."""
    template = model.state_dict()
    check_like(dict.fromkeys(state), dict.fromkeys(template), where)
    for name, want in template.items():
        got = state[name]
        if not isinstance(got, (autograd.Tensor, np.ndarray)):
            raise CheckpointError(f"{where}[{name!r}] is a {type(got).__name__}, not a tensor")
        data = got.data if isinstance(got, autograd.Tensor) else got
        want_data = want.data if isinstance(want, autograd.Tensor) else np.asarray(want)
        if data.shape != want_data.shape or data.dtype != want_data.dtype:
            raise CheckpointError(f"{where}[{name!r}] has shape {data.shape} {data.dtype}, "
                                  f"this model needs {want_data.shape} {want_data.dtype}")
        if np.issubdtype(data.dtype, np.floating) and not np.all(np.isfinite(data)):
            raise CheckpointError(f"{where}[{name!r}] holds NaN or infinite values")
