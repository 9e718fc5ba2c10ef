"""glibc's malloc settings for large arrays, applied once at `import autograd`.

Every op returns a fresh numpy array. glibc serves a large request (above its mmap threshold,
128 KiB at start) with its own mmap and unmaps it on free, so the next op's output is fresh
memory again and every page of it faults in (a 4 MB float32 output: ~1,000 minor faults,
measured as `a * b + c` on 1e6 floats running 20x slower than numpy in one allocator state).
glibc's dynamic threshold only sometimes escapes this (it depends on the order of past frees,
and trimming of the heap top undoes it). What a caching allocator achieves, two settings do:

- M_MMAP_THRESHOLD = 32 MiB (glibc's largest): requests up to 32 MiB come from the heap,
  whose pages stay mapped and are reused by the next request of that size;
- M_TRIM_THRESHOLD = 256 MiB: free memory at the top of the heap is returned to the system
  only beyond 256 MiB, so a training step's intermediates are not unmapped and faulted back.

The cost: the process may keep up to 256 MiB of freed heap mapped, and arrays up to 32 MiB
come from the heap (fragmentation is possible, as with any allocator). Process-wide (it
affects every malloc of the process, as PyTorch's allocator choice does), on glibc only
(elsewhere nothing is done). Opt out with NUMBAGRAD_MALLOC=default in the environment
before `import autograd`; `python -m bench --only eager` counts page faults per op.
"""
from __future__ import annotations

import ctypes
import os

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 256 << 20
ENV = "NUMBAGRAD_MALLOC"

_applied: dict = {}


def _glibc():
    """The C library when it is glibc (has gnu_get_libc_version and mallopt), else None."""
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    if not (hasattr(libc, "gnu_get_libc_version") and hasattr(libc, "mallopt")):
        return None
    return libc


def apply_default() -> dict:
    """Set glibc's mmap and trim thresholds (once per process) unless NUMBAGRAD_MALLOC says
    "default"; returns what was set ({} when nothing was: opted out, or not glibc)."""
    if "done" in _applied:
        return _applied["done"]
    choice = os.environ.get(ENV, "").strip().lower()
    if choice not in ("", "numbagrad", "default"):
        raise ValueError(f"{ENV}={choice!r}: expected 'default' (glibc's own settings) or "
                         f"'numbagrad'")
    done: dict = {}
    libc = None if choice == "default" else _glibc()
    if libc is not None:
        libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        libc.mallopt.restype = ctypes.c_int
        for name, param, value in (("mmap_threshold", M_MMAP_THRESHOLD, MMAP_THRESHOLD),
                                   ("trim_threshold", M_TRIM_THRESHOLD, TRIM_THRESHOLD)):
            if libc.mallopt(param, value) == 1:  # mallopt returns 1 on success
                done[name] = value
    _applied["done"] = done
    return done


def settings() -> dict:
    """What `apply_default` set in this process ({} if nothing)."""
    return dict(_applied.get("done", {}))
