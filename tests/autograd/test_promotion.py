"""Type promotion as PyTorch's (torch.result_type), with PyTorch 2.13's results as literals.

Three groups take part, in priority order: tensors with dims, 0-d tensors, Python scalars. A
lower group only counts when it is of a higher category (bool < int < float), so a Python
scalar never upcasts a tensor of its own kind, and an integer tensor with a Python float
gives the default float dtype (float32), never numpy's float64.
"""
import numpy as np
import pytest

import autograd
from autograd import gradcheck

T = autograd.tensor
I64, I32, U8, I8 = (lambda v: T(v), lambda v: T(v, dtype=np.int32),
                    lambda v: T(v, dtype=np.uint8), lambda v: T(v, dtype=np.int8))
F32, F64 = (lambda v: T(v, dtype=np.float32), lambda v: T(v, dtype=np.float64))
B = lambda v: T(np.array(v, dtype=bool))

# (expression, dtype, values) -- each verified against torch 2.13.0
CASES = [
    ("int tensor + float", lambda: I64([1, 2]) + 1.5, np.float32, [2.5, 3.5]),
    ("int32 * float", lambda: I32([1, 2]) * 2.5, np.float32, [2.5, 5.0]),
    ("int / int tensor", lambda: I64([1, 2]) / I64([2, 4]), np.float32, [0.5, 0.5]),
    ("int / int", lambda: I64([1, 2]) / 2, np.float32, [0.5, 1.0]),
    ("uint8 / int", lambda: U8([0, 200]) / 2, np.float32, [0.0, 100.0]),
    ("bool / bool", lambda: B([True, False]) / B([True, True]), np.float32, [1.0, 0.0]),
    ("2 / int tensor", lambda: 2 / I64([1, 4]), np.float32, [2.0, 0.5]),
    ("int ** 0.5", lambda: I64([1, 2]) ** 0.5, np.float32, [1.0, 1.4142135381698608]),
    ("int32 ** 0.5", lambda: I32([1, 2]) ** 0.5, np.float32, [1.0, 1.4142135381698608]),
    ("int ** 2", lambda: I64([1, 2]) ** 2, np.int64, [1, 4]),
    ("uint8 ** 2 wraps", lambda: U8([0, 200]) ** 2, np.uint8, [0, 64]),
    ("2 ** int", lambda: 2 ** I64([1, 2]), np.int64, [2, 4]),
    ("2.5 ** int", lambda: 2.5 ** I64([1, 2]), np.float32, [2.5, 6.25]),
    ("maximum(int, 0-d 1.2)", lambda: autograd.maximum(I64([1, 2]), T(1.2)), np.float32,
     [1.2000000476837158, 2.0]),
    ("maximum(int, 1.2)", lambda: autograd.maximum(I64([1, 2]), 1.2), np.float32,
     [1.2000000476837158, 2.0]),
    ("minimum(uint8, int8)", lambda: autograd.minimum(U8([0, 200]), I8([100, -100])),
     np.int16, [0, -100]),
    ("uint8 - 1", lambda: U8([0]) - 1, np.uint8, [255]),
    ("1 - uint8", lambda: 1 - U8([0]), np.uint8, [1]),
    ("uint8 + 300", lambda: U8([0]) + 300, np.uint8, [44]),
    ("uint8 + -1", lambda: U8([0]) + (-1), np.uint8, [255]),
    ("uint8 + 2**40", lambda: U8([0]) + 2 ** 40, np.uint8, [0]),
    ("int8 * 2", lambda: I8([100]) * 2, np.int8, [-56]),
    ("int8 * 1000", lambda: I8([100]) * 1000, np.int8, [-96]),
    ("int8 - int8 wraps", lambda: I8([100, -100]) - I8([100, 100]), np.int8, [0, 56]),
    ("int32 + 1", lambda: I32([1, 2]) + 1, np.int32, [2, 3]),
    ("int32 + True", lambda: I32([1, 2]) + True, np.int32, [2, 3]),
    ("bool + 1", lambda: B([True, False]) + 1, np.int64, [2, 1]),
    ("bool + True", lambda: B([True, False]) + True, np.bool_, [True, True]),
    ("bool * 1.5", lambda: B([True, False]) * 1.5, np.float32, [1.5, 0.0]),
    ("float32 + 1.5", lambda: F32([1, 2]) + 1.5, np.float32, [2.5, 3.5]),
    ("float32 + True", lambda: F32([1, 2]) + True, np.float32, [2.0, 3.0]),
    ("float16 + 1e5", lambda: T([1.0, 2.0], dtype=np.float16) + 1e5, np.float16,
     [np.inf, np.inf]),
    ("uint8 + int8", lambda: U8([0, 200]) + I8([100, -100]), np.int16, [100, 100]),
    ("int32 + float32", lambda: I32([1, 2]) + F32([1, 2]), np.float32, [2.0, 4.0]),
    ("int64 + float32", lambda: I64([1, 2]) + F32([1, 2]), np.float32, [2.0, 4.0]),
    ("int64 + float16", lambda: I64([1, 2]) + T([1.0, 2.0], dtype=np.float16), np.float16,
     [2.0, 4.0]),
    ("float32 + float64", lambda: F32([1, 2]) + F64([1, 2]), np.float64, [2.0, 4.0]),
    ("0-d float64 + float32", lambda: F64(1.0) + F32([1, 2]), np.float32, [2.0, 3.0]),
    ("float32 + 0-d float64", lambda: F32([1, 2]) + F64(1.0), np.float32, [2.0, 3.0]),
    ("0-d int64 + uint8", lambda: I64(1) + U8([0, 200]), np.uint8, [1, 201]),
    ("0-d float64 + int32", lambda: F64(1.0) + I32([1, 2]), np.float64, [2.0, 3.0]),
    ("0-d float32 + int32", lambda: F32(1.0) + I32([1, 2]), np.float32, [2.0, 3.0]),
    ("0-d float64 + 0-d float32", lambda: F64(1.0) + F32(1.0), np.float64, 2.0),
    ("0-d int8 + 0-d uint8", lambda: I8(1) + U8(1), np.int16, 2),
    ("0-d uint8 + 1.5", lambda: U8(1) + 1.5, np.float32, 2.5),
    ("0-d bool + 1", lambda: B(True) + 1, np.int64, 2),
    ("0-d float64 + 1.5", lambda: F64(1.0) + 1.5, np.float64, 2.5),
    ("int + np.float64", lambda: I64([1, 2]) + np.float64(1.5), np.float32, [2.5, 3.5]),
    ("int32 + np.int64", lambda: I32([1, 2]) + np.int64(1), np.int32, [2, 3]),
    ("uint8 + np.int64(-1)", lambda: U8([0]) + np.int64(-1), np.uint8, [255]),
    ("float32 + np.float64", lambda: F32([1, 2]) + np.float64(1.5), np.float32, [2.5, 3.5]),
    ("uint8 > -1", lambda: U8([0]) > -1, np.bool_, [False]),
    ("uint8 < 300", lambda: U8([0]) < 300, np.bool_, [True]),
    ("int == 1.5", lambda: I64([1]) == 1.5, np.bool_, [False]),
    ("where(int, 1.2)", lambda: autograd.where(B([True, False]), I64([1, 2]), 1.2), np.float32,
     [1.0, 1.2000000476837158]),
    ("where(1, 1.2)", lambda: autograd.where(B([True, False]), 1, 1.2), np.float32,
     [1.0, 1.2000000476837158]),
    ("where(int32, int64)", lambda: autograd.where(B([True, False]), I32([1, 2]), I64([1, 2])),
     np.int64, [1, 2]),
    ("where(uint8, -1)", lambda: autograd.where(B([True, False]), U8([0, 1]), -1), np.uint8,
     [0, 255]),
    ("cat(int32, float32)", lambda: autograd.cat([I32([1, 2]), F32([1, 2])]), np.float32,
     [1.0, 2.0, 1.0, 2.0]),
    ("cat(uint8, int8)", lambda: autograd.cat([U8([0, 200]), I8([100, -100])]), np.int16,
     [0, 200, 100, -100]),
    ("stack(int32, float64)", lambda: autograd.stack([I32([1, 2]), F64([1, 2])]), np.float64,
     [[1.0, 2.0], [1.0, 2.0]]),
]


@pytest.mark.parametrize("grad", [True, False], ids=["graph", "no_grad"])
@pytest.mark.parametrize("fn, dtype, values", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_result_dtype_and_values_match_pytorch(fn, dtype, values, grad):
    """The same with and without a graph (no_grad sends two tensors straight to the kernel)."""
    with autograd.enable_grad() if grad else autograd.no_grad():
        out = fn()
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.data, np.asarray(values, dtype=dtype))


def test_no_grad_mixed_tensor_ops_promote_like_pytorch():
    with autograd.no_grad():
        assert (I64([1, 2]) / I64([2, 4])).dtype == np.float32
        assert (I32([1, 2]) * F32([1, 2])).dtype == np.float32
        assert (U8([0]) - I8([1])).dtype == np.int16
        assert (F64(1.0) - F32([1, 2])).dtype == np.float32


def test_default_dtype_float64_is_used_for_python_floats():
    autograd.set_default_dtype(np.float64)
    try:
        assert (I64([1, 2]) + 1.5).dtype == np.float64
        assert (I64([1, 2]) / 2).dtype == np.float64
        assert (F32([1, 2]) + 1.5).dtype == np.float32
    finally:
        autograd.set_default_dtype(np.float32)


def test_python_int_beyond_int64_raises_overflow_error():
    with pytest.raises(OverflowError):
        I64([0]) + 2 ** 70


def test_mixed_float_dtypes_gradients_come_back_in_each_input_dtype():
    a = T(np.array([1.0, 2.0], np.float32), requires_grad=True)
    b = T(np.array([3.0, 4.0]), requires_grad=True)
    out = a * b
    assert out.dtype == np.float64
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad.data, [3.0, 4.0])
    np.testing.assert_array_equal(b.grad.data, [1.0, 2.0])
    # a 0-d float64 tensor does not upcast a float32 tensor; its gradient is float64
    s = T(np.float64(2.0), requires_grad=True)
    out = a * s
    assert out.dtype == np.float32
    out.sum().backward()
    assert s.grad.dtype == np.float64 and s.grad.item() == 3.0


def test_gradcheck_through_promoted_ops():
    x = T(np.array([0.3, -1.2, 2.5]), requires_grad=True)
    n = T([1, 2, 3])  # int64: promoted to float64 with x
    assert gradcheck(lambda t: t * n + n / (t * t + 1) - autograd.maximum(t, n), (x,))
    assert gradcheck(lambda t: autograd.where(t > 0, t * 2, 1) + autograd.cat([t, n])[:3],
                     (x,))


def test_scalar_writes_wrap_around_like_pytorch():
    # x = torch.zeros(3, dtype=torch.uint8); x[0] = -1; x.fill_(-1); x.add_(-1); x[1] = 2.7
    x = U8([0, 0, 0])
    x[0] = -1
    assert x.tolist() == [255, 0, 0]
    x.fill_(-1)
    assert x.tolist() == [255, 255, 255]
    x.add_(-1)
    assert x.tolist() == [254, 254, 254]
    x[1] = 2.7
    assert x.tolist() == [254, 2, 254] and x.dtype == np.uint8
