"""Parameter: a Tensor that a Module registers as learnable when assigned as an attribute."""
from __future__ import annotations

import numpy as np

from autograd import Tensor


class Parameter(Tensor):
    """A leaf Tensor with requires_grad=True (by default) that Modules collect.

    `Parameter(t)` copies t's data into a new leaf (like PyTorch's nn.Parameter, it never
    keeps t's graph); with no data it is an empty float tensor."""
    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.empty(0, dtype=np.float32)
        Tensor.__init__(self, data.detach() if isinstance(data, Tensor) else data,
                        requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (Parameter, (self.data, self.requires_grad))
