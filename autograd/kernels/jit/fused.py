"""Fused elementwise kernels: a run of elementwise kernels compiled into one numba loop.

autograd.compile (autograd/fusion.py) hands over a `Program`: the run's steps in order, each
an elementwise kernel by name applied to earlier steps' values or to input arrays, and the
steps whose values are written out. `source(program)` writes it as Python source calling the
same scalar functions the unfused kernels use (`elementwise.SCALARS`), so fused and unfused
results agree; `compile_program(program)` writes that source to a file in the cache
directory (named by its hash: the same program is compiled once per machine, then loaded
from numba's disk cache) and returns the kernel, taking the inputs then the outputs, all
flat arrays. An input is read per element ("full"), as one value ("scalar"), or as a row
repeated over the leading dims ("row", e.g. a bias), which makes the loop two-level.
"""
from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import sys
import tempfile
from dataclasses import dataclass

from numba import njit

from ._common import _one_launch_at_a_time
from .elementwise import SCALARS

inline = njit(inline="always")


@inline
def _log(v, alpha):
    return math.log(v)


@inline
def _sin(v, alpha):
    return math.sin(v)


@inline
def _cos(v, alpha):
    return math.cos(v)


# every scalar function a fused kernel may call: name -> (arity, function)
OPS = {**SCALARS, "log": (1, _log), "sin": (1, _sin), "cos": (1, _cos)}


@dataclass(frozen=True)
class Program:
    """A fused run. `inputs`: ("full" | "scalar" | "row", ...) per input array; `steps`:
    (op, operands, alpha) with operands ("in", k) or ("step", k); `outputs`: the steps
    written out, in the order of the output arrays; `cols`: the row length (0: no rows);
    `dtype`: "float32" or "float64"."""
    inputs: tuple
    steps: tuple
    outputs: tuple
    cols: int
    dtype: str


def source(program: Program) -> str:
    """The kernel as Python source (two functions: serial and `prange` parallel)."""
    args = [f"a{k}" for k in range(len(program.inputs))]
    outs = [f"o{k}" for k in range(len(program.outputs))]
    lines = [f"# numbagrad fused elementwise kernel ({program.dtype})",
             "import numpy as np",
             "from numba import njit, prange",
             "from autograd.kernels.jit.fused import OPS",
             f"DT = np.{program.dtype}"]
    names = sorted({op for op, _, _ in program.steps})
    lines += [f"{_fn(op)} = OPS[{op!r}][1]" for op in names]
    body = _body(program)
    for suffix, parallel in (("serial", False), ("parallel", True)):
        decorator = (f"@njit(cache=True, parallel={parallel}, fastmath={{'contract'}}, "
                     f"error_model='numpy')")
        lines += ["", "", decorator, f"def fused_{suffix}({', '.join(args + outs)}):"]
        lines += ["    " + line for line in body]
    return "\n".join(lines) + "\n"


def _fn(op: str) -> str:
    return "f_" + op.replace(":", "_")


def _body(program: Program) -> list:
    lines = [f"s{k} = a{k}[0]" for k, kind in enumerate(program.inputs) if kind == "scalar"]
    if program.cols:
        lines += [f"cols = {program.cols}", "for r in prange(o0.size // cols):",
                  "    base = r * cols", "    for j in range(cols):", "        i = base + j"]
        indent = "        "
    else:
        lines += ["for i in prange(o0.size):"]
        indent = "    "
    for k, kind in enumerate(program.inputs):
        if kind == "full":
            lines.append(f"{indent}x{k} = a{k}[i]")
        elif kind == "row":
            lines.append(f"{indent}x{k} = a{k}[j]")
    for n, (op, operands, alpha) in enumerate(program.steps):
        values = [f"x{k}" if where == "in" and program.inputs[k] != "scalar"
                  else f"s{k}" if where == "in" else f"t{k}" for where, k in operands]
        if OPS[op][0] == 1:
            values.append(f"DT({alpha!r})")
        lines.append(f"{indent}t{n} = {_fn(op)}({', '.join(values)})")
    for k, step in enumerate(program.outputs):
        lines.append(f"{indent}o{k}[i] = t{step}")
    return lines


def cache_dir() -> str:
    """Where generated kernels are written: $NUMBAGRAD_CACHE_DIR, else
    ~/.cache/numbagrad/fused, else a temporary directory."""
    chosen = os.environ.get("NUMBAGRAD_CACHE_DIR")
    candidates = [chosen] if chosen else []
    candidates += [os.path.join(os.path.expanduser("~"), ".cache", "numbagrad", "fused"),
                   os.path.join(tempfile.gettempdir(), f"numbagrad-fused-{os.getuid()}")]
    for path in candidates:
        try:
            os.makedirs(path, mode=0o700, exist_ok=True)
            if os.access(path, os.W_OK):
                return path
        except OSError:
            continue
    raise OSError(f"autograd.compile: no writable directory for fused kernels (tried "
                  f"{', '.join(candidates)}); set NUMBAGRAD_CACHE_DIR")


_LOADED: dict = {}


def compile_program(program: Program, parallel: bool):
    """The compiled kernel of `program` (serial or parallel), and its source."""
    text = source(program)
    digest = hashlib.sha1(text.encode()).hexdigest()[:20]
    module = _LOADED.get(digest)
    if module is None:
        path = os.path.join(cache_dir(), f"fused_{digest}.py")
        if _read(path) != text:  # written once: numba's cache keys on the file's stamp
            partial = f"{path}.{os.getpid()}.tmp"
            with open(partial, "w") as f:
                f.write(text)
            os.replace(partial, path)
        name = f"numbagrad_fused_{digest}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        _LOADED[digest] = module
    if parallel:
        return _one_launch_at_a_time(module.fused_parallel), text
    return module.fused_serial, text


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return None
