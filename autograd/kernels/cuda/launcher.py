"""Direct kernel launches: numba-cuda's launch path without its per-launch overhead.

Launching a compiled kernel through numba (``kernel[grid, block](*args)``) types every
argument, finds the overload and converts each device array through a memory view: about
40 microseconds per launch on the H200 machine this backend is timed on, more than most of
a training step's kernels run. `prepare` does that work once per kernel and argument kinds,
after numba's own first launch has compiled it, and returns a launcher that packs the
arguments exactly as numba's ``_Kernel.launch`` does (an array: meminfo, parent, size,
itemsize, data pointer, shape, strides in bytes; a scalar: its ctypes value) and calls
cuda.core's ``launch`` on the default stream. Anything it does not know (another argument
type, another numba-cuda layout) makes `prepare` return None, and numba's path is used.
"""
from __future__ import annotations

import ctypes

from numba.cuda import types

_SCALARS = {types.float64: ctypes.c_double, types.float32: ctypes.c_float}
for _bits in (8, 16, 32, 64):
    _SCALARS[getattr(types, f"int{_bits}")] = getattr(ctypes, f"c_int{_bits}")
    _SCALARS[getattr(types, f"uint{_bits}")] = getattr(ctypes, f"c_uint{_bits}")


def kind(arg):
    """What selects a kernel's compiled overload for this argument: an array's dtype and
    number of dims, a scalar's Python type."""
    shape = getattr(arg, "shape", None)
    return (arg.dtype, len(shape)) if shape else type(arg)


def _pack_array(ndim: int):
    def pack(a, out: list) -> None:
        out += (0, 0, a.size, a.dtype.itemsize,
                int(a.gpu_data.device_pointer) if a.size else 0, *a.shape, *a.strides)
    return pack if ndim else None


def _packer(ty):
    if isinstance(ty, types.Array):
        return _pack_array(ty.ndim)
    if ty == types.boolean:
        return lambda v, out: out.append(v)
    convert = _SCALARS.get(ty)
    return None if convert is None else (lambda v, out: out.append(convert(v)))


def prepare(kernel, args: tuple):
    """A launcher ``(blocks, threads, args)`` for `kernel` with arguments of these kinds,
    or None where only numba's path will do."""
    try:
        from cuda.core import LaunchConfig, launch
        from numba.cuda.cudadrv.driver import _to_core_stream
        compiled = kernel.overloads[tuple(kernel.typeof_pyval(a) for a in args)]
        if compiled.debug or compiled.cooperative or compiled.extensions:
            return None
        function = compiled._codelibrary.get_cufunc().kernel
        packers = [_packer(ty) for ty in compiled.argument_types]
        stream = _to_core_stream(0)
    except Exception:  # noqa: BLE001 - another numba-cuda: its own launch path still works
        return None
    if None in packers:
        return None
    configs: dict = {}

    def direct(blocks, threads, args: tuple) -> None:
        config = configs.get((blocks, threads))
        if config is None:
            config = configs[(blocks, threads)] = LaunchConfig(grid=blocks, block=threads)
        values: list = []
        for pack, value in zip(packers, args):
            pack(value, values)
        launch(stream, config, function, *values)
    return direct
