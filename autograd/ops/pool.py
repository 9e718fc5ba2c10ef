"""2-D max and average pooling, and their backward scatters as ops (so they differentiate
again).

Max pool records, per output, the flat index of the input pixel it took (argmax). Its
backward scatters the output gradient to those pixels (MaxPool2dBackward); the backward of
that scatter is the matching gather gg[argmax], a plain Tensor index. Average pool is
linear: its backward is its adjoint (spread each gradient over the window, divided), and
the adjoint's backward is the pool again.
"""
from __future__ import annotations

import numpy as np

from ..function import Function
from ..kernels.pool import avg_pool2d, avg_pool2d_backward, lowest, max_pool2d, max_pool2d_backward
from .conv import Geometry

__all__ = ["MAX_POOL_DTYPES", "AvgPool2d", "AvgPool2dBackward", "MaxPool2d",
           "MaxPool2dBackward", "lowest"]

# the dtypes PyTorch's CPU max_pool2d accepts (2.13 refuses bool, uint16/32/64 and complex)
MAX_POOL_DTYPES = tuple(np.dtype(t) for t in (np.float16, np.float32, np.float64, np.int8,
                                               np.int16, np.int32, np.int64, np.uint8))


class MaxPool2d(Function):
    """y[n, c, oh, ow] = max over the window of x; dy/dx = 1 at the argmax, 0 elsewhere."""

    def forward(self, x, geom: Geometry, indices: list | None = None):
        if x.dtype not in MAX_POOL_DTYPES:
            raise TypeError(f"max_pool2d: input dtype {x.dtype} is not supported (as in PyTorch); "
                            f"supported: {', '.join(str(d) for d in MAX_POOL_DTYPES)}")
        out, self.argmax = max_pool2d(x, *geom)
        self.hw = x.shape[2:]
        if indices is not None:  # return_indices: hand the argmax out (a copy, no grad)
            indices.append(self.argmax.copy())
        return out

    def backward(self, g):
        return MaxPool2dBackward.apply(g, argmax=self.argmax, hw=self.hw)


class MaxPool2dBackward(Function):
    """Scatter-add g to the argmax pixels; its own backward gathers gg at those pixels."""

    def forward(self, g, argmax, hw):
        self.argmax = argmax
        return max_pool2d_backward(g, argmax, *hw)

    def backward(self, gg):
        n, c, oh, ow = self.argmax.shape
        flat = gg.reshape(n, c, gg.shape[2] * gg.shape[3])
        return flat[np.arange(n)[:, None, None], np.arange(c)[None, :, None],
                    self.argmax.reshape(n, c, oh * ow)].reshape(n, c, oh, ow)


class AvgPool2d(Function):
    """y = window mean of x (divided by kh*kw, or by the real pixels if not
    count_include_pad); backward: the adjoint AvgPool2dBackward."""

    def forward(self, x, geom: Geometry, count_include_pad: bool = True):
        self.geom, self.cip, self.hw = geom, count_include_pad, x.shape[2:]
        return avg_pool2d(x, geom.kh, geom.kw, geom.sh, geom.sw, geom.ph, geom.pw,
                          count_include_pad)

    def backward(self, g):
        return AvgPool2dBackward.apply(g, hw=self.hw, geom=self.geom, count_include_pad=self.cip)


class AvgPool2dBackward(Function):
    """The adjoint of AvgPool2d; its backward is AvgPool2d itself."""

    def forward(self, g, hw, geom: Geometry, count_include_pad: bool = True):
        self.geom, self.cip = geom, count_include_pad
        return avg_pool2d_backward(g, *hw, geom.kh, geom.kw, geom.sh, geom.sw, geom.ph, geom.pw,
                                   count_include_pad)

    def backward(self, gg):
        return AvgPool2d.apply(gg, geom=self.geom, count_include_pad=self.cip)
