"""ToDevice: a copy between the CPU and the CUDA device, differentiable (the gradient goes
back to the source's device), as PyTorch's `Tensor.to(device)`."""
from __future__ import annotations

import numpy as np

from ..function import Function
from ..kernels.cuda.array import CudaArray, from_host


class ToDevice(Function):
    """x copied to `device` ("cpu" or "cuda"); backward copies the gradient back."""

    def forward(self, x, device: str):
        self.source = "cpu" if isinstance(x, np.ndarray) else "cuda"
        if device == self.source:
            return x.copy()
        return from_host(x) if device == "cuda" else x.get()

    def backward(self, g):
        return ToDevice.apply(g, device=self.source)


def on_cuda(a) -> bool:
    """Whether the array `a` lives on the CUDA device."""
    return type(a) is CudaArray
