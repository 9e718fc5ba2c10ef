"""A fixed-size scratch array on the stack, for register-blocked micro-kernels.

Numba's `np.zeros` is a heap allocation LLVM cannot remove, so an accumulator tile built
with it lives in memory and every FMA pays a load and a store. An `alloca` of a constant size,
fully indexed by unrolled loops with constant bounds, is promoted by LLVM to registers.
"""
from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def stack_buffer(typingctx, count_ty, dtype_ty):
    """Pointer to `count` uninitialised elements of `dtype` on the caller's stack (count is
    a compile-time constant)."""
    if not isinstance(count_ty, types.IntegerLiteral):
        return None
    count = count_ty.literal_value
    dtype = dtype_ty.dtype if isinstance(dtype_ty, types.DType) else dtype_ty.instance_type
    sig = types.CPointer(dtype)(count_ty, dtype_ty)

    def codegen(context, builder, signature, args):
        ty = context.get_data_type(dtype)
        return cgutils.alloca_once(builder, ty, size=count)

    return sig, codegen
