"""Errors on cuda: mixing devices, .numpy() of a cuda tensor, ops without a cuda kernel.

Run on numba's CUDA simulator by test_simulator.py. Every message names the op (or the
kernel) and the devices, and none is a numba traceback.
"""
from __future__ import annotations

import numpy as np
import pytest

import autograd
import nn


def cuda_tensor(*shape, requires_grad=False):
    data = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    return autograd.tensor(data, device="cuda", requires_grad=requires_grad)


MIXED = {
    "add": lambda c, g: c + g, "add_reversed": lambda c, g: g + c, "mul": lambda c, g: c * g,
    "sub_no_grad": lambda c, g: c.detach() - g.detach(), "matmul": lambda c, g: c @ g.T,
    "matmul_reversed": lambda c, g: g @ c.T, "maximum": autograd.maximum,
}


@pytest.mark.parametrize("name", sorted(MIXED))
def test_mixing_devices_raises_naming_both(name: str) -> None:
    c = autograd.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    g = cuda_tensor(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="same device") as info:
        MIXED[name](c, g)
    message = str(info.value)
    assert "cuda:0" in message and "cpu" in message
    assert "numba" not in message.lower() and "Traceback" not in message


def test_layer_on_the_cpu_with_a_cuda_input() -> None:
    layer = nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match="cuda:0.*cpu|cpu.*cuda:0"):
        layer(cuda_tensor(4, 3))


def test_cpu_scalar_tensor_mixes_with_cuda_as_in_pytorch() -> None:
    out = cuda_tensor(2, 2) * autograd.tensor(np.float32(3))
    np.testing.assert_array_equal(out.cpu().numpy(), np.arange(4).reshape(2, 2) * 3)


def test_numpy_of_a_cuda_tensor_says_call_cpu() -> None:
    t = cuda_tensor(2)
    with pytest.raises(TypeError, match=r"cuda:0.*Tensor\.cpu\(\)"):
        t.numpy()
    with pytest.raises(TypeError, match=r"Tensor\.cpu\(\)"):
        np.asarray(t)
    np.testing.assert_array_equal(t.cpu().numpy(), [0, 1])


UNSUPPORTED = {
    "unique_dim": (lambda t: t.unique(dim=0), "unique"),
}


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_op_without_a_cuda_kernel_raises_naming_op_and_device(name: str) -> None:
    fn, op = UNSUPPORTED[name]
    with pytest.raises(NotImplementedError) as info:
        fn(cuda_tensor(2, 3, requires_grad=True))
    message = str(info.value)
    assert op in message and "cuda:0" in message and ".cpu()" in message
    assert "numba" not in message.split(";")[0].lower()


def test_cuda_device_index_other_than_zero() -> None:
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        autograd.zeros(2, device="cuda:1")
    assert autograd.cuda.device_count() == 1 and autograd.cuda.current_device() == 0
    autograd.cuda.synchronize()
    assert autograd.device(0) == autograd.device("cuda:0")


def test_cross_entropy_target_out_of_range_on_cuda() -> None:
    x = cuda_tensor(2, 3)
    with pytest.raises(IndexError, match="target 5 is out of bounds for 3 classes"):
        nn.functional.cross_entropy(x, autograd.tensor([0, 5], device="cuda"))


def test_gradient_of_another_device_is_refused() -> None:
    p = cuda_tensor(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="different from the tensor's device cuda:0"):
        p.grad = autograd.zeros(2)
