"""2-D convolution as im2col + matmul, and im2col / col2im as ops (each other's backward).

For one group, with cols = im2col(x) of shape (N, C*kh*kw, OH*OW) and the weight viewed as
a matrix Wm of shape (O, C*kh*kw):

    y[n] = Wm @ cols[n] + b                      (one matrix shared by every position)
    dWm  = sum_n g[n] @ cols[n]^T                (summed over all positions and samples)
    dx   = col2im(Wm^T @ g[n])                   (a transposed convolution)
    db   = sum over n, oh, ow of g

With `groups` G the channels split into G blocks and each block has its own matrix: the
weight becomes (G, O/G, C/G*kh*kw), cols (N, G, C/G*kh*kw, L), and a batched matmul does
all groups at once. The backward is written with Tensor ops over the Im2Col / Col2Im ops,
which are linear and each other's adjoint, so conv2d differentiates to any order.
"""
from __future__ import annotations

from typing import NamedTuple

from .. import kernels as K
from ..errors import ShapeError
from ..function import Function
from ..grad_mode import is_grad_enabled
from ..kernels.conv import col2im, conv_output_size, im2col


class Geometry(NamedTuple):
    """Kernel size, stride, padding and dilation of a 2-D window op, as flat ints."""
    kh: int
    kw: int
    sh: int = 1
    sw: int = 1
    ph: int = 0
    pw: int = 0
    dh: int = 1
    dw: int = 1

    def output_size(self, h: int, w: int) -> tuple:
        return (conv_output_size(h, self.kh, self.sh, self.ph, self.dh),
                conv_output_size(w, self.kw, self.sw, self.pw, self.dw))


class Im2Col(Function):
    """(N, C, H, W) -> (N, C*kh*kw, OH*OW) patches; backward: col2im."""

    def forward(self, x, geom: Geometry):
        self.geom, self.chw = geom, x.shape[1:]
        return im2col(x, *geom)

    def backward(self, g):
        return Col2Im.apply(g, chw=self.chw, geom=self.geom)


class Col2Im(Function):
    """(N, C*kh*kw, OH*OW) -> (N, C, H, W), overlaps summed; backward: im2col."""

    def forward(self, cols, chw: tuple, geom: Geometry):
        self.geom = geom
        return col2im(cols, *chw, *geom)

    def backward(self, g):
        return Im2Col.apply(g, geom=self.geom)


# Patch matrices up to this size are kept from forward for the weight gradient; larger ones
# are rebuilt from x in backward. cols is kh*kw times the input (9x for 3x3): a CNN step on
# 32 x 3 x 128 x 128 images kept 282 MB of them alive until backward (peak RSS 1.10 GB
# against PyTorch's 0.83 GB). Rebuilding costs one im2col per conv (numpy copies, a few
# percent of the conv's matmuls); small convolutions keep theirs.
KEEP_COLS_BYTES = 8 << 20


class Conv2d(Function):
    """y = conv2d(x, w) (+ b): inputs x (N, C, H, W), w (O, C/groups, kh, kw), optional b (O,).

    Expects shapes already checked (nn.functional.conv2d does it, with PyTorch's messages)."""
    save_inputs = True

    def forward(self, x, w, *bias, geom: Geometry, groups: int = 1):
        n, c, h, wd = x.shape
        o = w.shape[0]
        if c != w.shape[1] * groups or o % groups:
            raise ShapeError(f"conv2d: weight of shape {w.shape} with groups={groups} does not "
                             f"fit input of shape {x.shape}")
        oh, ow = geom.output_size(h, wd)
        if oh <= 0 or ow <= 0:
            raise ShapeError(f"conv2d: kernel {(geom.kh, geom.kw)} does not fit input of shape "
                             f"{x.shape} with padding {(geom.ph, geom.pw)}")
        self.geom, self.groups, self.x_shape = geom, groups, x.shape
        k = w.shape[1] * geom.kh * geom.kw
        cols = im2col(x, *geom)
        out = K.matmul(w.reshape(groups, o // groups, k),
                       cols.reshape(n, groups, k, oh * ow)).reshape(n, o, oh, ow)
        self.cols = cols if cols.nbytes <= KEEP_COLS_BYTES else None  # else rebuilt
        if bias:
            out += bias[0].reshape(o, 1, 1)
        return out

    def backward(self, g):
        x, w = self.inputs[:2]
        need_x, need_w = self.next[0] is not None, self.next[1] is not None
        need_b = len(self.next) > 2 and self.next[2] is not None
        n, c, h, wd = self.x_shape
        o, groups = w.shape[0], self.groups
        k = w.shape[1] * self.geom.kh * self.geom.kw
        length = g.shape[2] * g.shape[3]  # L = OH * OW (explicit: N may be 0)
        gm = g.reshape(n, groups, o // groups, length)  # (N, G, O/G, L)
        gx = gw = gb = None
        if need_x:
            gcols = w.reshape(groups, o // groups, k).mT @ gm  # (N, G, K, L)
            gx = Col2Im.apply(gcols.reshape(n, c * self.geom.kh * self.geom.kw, length),
                              chw=(c, h, wd), geom=self.geom)
            del gcols  # freed before the patches are rebuilt below: one cols-sized array at a time
        if need_w:
            # under create_graph the patches must depend on x differentiably; otherwise the
            # ones saved by forward are reused, or rebuilt when they were too large to keep
            if is_grad_enabled() and x.requires_grad:
                cols = Im2Col.apply(x, geom=self.geom)
            else:
                cols = type(x).wrap(self.cols if self.cols is not None
                                    else im2col(x.data, *self.geom))
            gw = (gm @ cols.reshape(n, groups, k, length).mT).sum(0).reshape(w.shape)
        if need_b:
            gb = g.sum((0, 2, 3))
        return (gx, gw, gb) if len(self.next) > 2 else (gx, gw)
