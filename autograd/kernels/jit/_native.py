"""Low-level pieces of the task pool (`tasks.py`), as numba intrinsics: atomics on int64
arrays, the two libc calls a waiting thread makes, and how a thread hands its kernel's
arguments to another without Python (a tuple on its stack, read back by address, and a
call through a function pointer).

Nothing here checks anything: `tasks.py` keeps every address it publishes alive until the
thread that reads it is done (see its protocol).
"""
from __future__ import annotations

import sys

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _item_pointer(context, builder, aty, arr, idx, idxty):
    ary = context.make_array(aty)(context, builder, arr)
    i = context.cast(builder, idx, idxty, types.intp)
    return cgutils.get_item_pointer(context, builder, aty, ary, [i])


def _int64_array(ty) -> bool:
    return isinstance(ty, types.Array) and ty.dtype == types.int64 and ty.ndim == 1


def _atomic_rmw(op: str, doc: str):
    """An intrinsic f(arr, idx, val): atomically apply `op` ("add", "xchg") with val to
    arr[idx] (an int64 array); returns the value before."""
    @intrinsic
    def rmw(typingctx, arr_ty, idx_ty, val_ty):
        if not _int64_array(arr_ty):
            return None
        sig = types.int64(arr_ty, idx_ty, val_ty)

        def codegen(context, builder, signature, args):
            ptr = _item_pointer(context, builder, arr_ty, args[0], args[1], idx_ty)
            val = context.cast(builder, args[2], val_ty, types.int64)
            return builder.atomic_rmw(op, ptr, val, "seq_cst")

        return sig, codegen

    rmw.__doc__ = doc
    return rmw


fetch_add = _atomic_rmw("add", "Atomically add val to arr[idx] (an int64 array); returns the "
                               "value before (val 0: an atomic read).")
swap = _atomic_rmw("xchg", "Atomically store val in arr[idx] (an int64 array); returns the "
                           "value before.")


@intrinsic
def compare_swap(typingctx, arr_ty, idx_ty, old_ty, new_ty):
    """Atomically: if arr[idx] == old, store new and return True; else return False."""
    if not _int64_array(arr_ty):
        return None
    sig = types.boolean(arr_ty, idx_ty, old_ty, new_ty)

    def codegen(context, builder, signature, args):
        ptr = _item_pointer(context, builder, arr_ty, args[0], args[1], idx_ty)
        old = context.cast(builder, args[2], old_ty, types.int64)
        new = context.cast(builder, args[3], new_ty, types.int64)
        res = builder.cmpxchg(ptr, old, new, "seq_cst", "seq_cst")
        return builder.extract_value(res, 1)

    return sig, codegen


def _libc(name: str, ret: ir.Type, params: list):
    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(ret, params)
        fn = cgutils.get_or_insert_function(builder.module, fnty, name)
        return builder.call(fn, list(args))
    return codegen


@intrinsic
def sched_yield(typingctx):
    """libc's sched_yield(): let another runnable thread have this core, if one waits."""
    return types.int32(), _libc("sched_yield", ir.IntType(32), [])


@intrinsic
def usleep(typingctx, us_ty):
    """libc's usleep(us): sleep, leaving the core idle (for a thread that waits long)."""
    if not isinstance(us_ty, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        us = context.cast(builder, args[0], us_ty, types.uint32)
        return _libc("usleep", ir.IntType(32), [ir.IntType(32)])(context, builder, None, [us])

    return types.int32(us_ty), codegen


@intrinsic
def stack_address(typingctx, tup_ty):
    """The address of a copy of `tup` on the calling function's stack (valid until that
    function returns; the arrays in it are borrowed, not counted)."""
    if not isinstance(tup_ty, types.BaseTuple):
        return None
    sig = types.int64(tup_ty)

    def codegen(context, builder, signature, args):
        slot = cgutils.alloca_once(builder, context.get_value_type(tup_ty))
        builder.store(args[0], slot)
        return builder.ptrtoint(slot, ir.IntType(64))

    return sig, codegen


def _arg_tuple(disp_ty):
    """The argument tuple type of a dispatcher compiled for one explicit signature."""
    if not isinstance(disp_ty, types.Dispatcher):
        return None
    sigs = disp_ty.dispatcher.signatures
    return types.Tuple(sigs[0]) if len(sigs) == 1 else None


@intrinsic
def args_at(typingctx, addr_ty, disp_ty):
    """The argument tuple of `disp` (one explicit signature) that `stack_address` put at
    addr; its arrays are counted once more here, as a new reference."""
    tup = _arg_tuple(disp_ty)
    if tup is None or not isinstance(addr_ty, types.Integer):
        return None
    sig = tup(addr_ty, disp_ty)

    def codegen(context, builder, signature, args):
        ptr = builder.inttoptr(args[0], context.get_value_type(tup).as_pointer())
        val = builder.load(ptr)
        context.nrt.incref(builder, tup, val)
        return val

    return sig, codegen


@intrinsic
def call_address(typingctx, fn_ty, arg_ty):
    """Call the C function `int64 fn(int64)` at address fn with arg (a numba cfunc)."""
    if not (isinstance(fn_ty, types.Integer) and isinstance(arg_ty, types.Integer)):
        return None
    sig = types.int64(fn_ty, arg_ty)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        fnty = ir.FunctionType(i64, [i64])
        fn = builder.inttoptr(args[0], fnty.as_pointer())
        return builder.call(fn, [context.cast(builder, args[1], arg_ty, types.int64)])

    return sig, codegen


if sys.platform.startswith("linux"):
    @intrinsic
    def current_cpu(typingctx):
        """glibc's sched_getcpu(): the core this thread runs on now (-1 if unknown)."""
        return types.int32(), _libc("sched_getcpu", ir.IntType(32), [])
else:
    @intrinsic
    def current_cpu(typingctx):
        """The core this thread runs on: unknown here (-1; glibc's sched_getcpu on Linux)."""
        return types.int32(), lambda context, builder, signature, args: ir.Constant(
            ir.IntType(32), -1)
