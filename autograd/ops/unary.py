"""Elementwise unary ops. Each backward is written in Tensor ops, so it differentiates again.
`@elementwise(name)` declares the Tensor method and `autograd.NAME` function (ops/registry.py)."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from .. import kernels as K
from ..function import Function
from ..grad_mode import _state as _grad_mode
from ..wrap import wrap
from .registry import elementwise


class Neg(Function):
    def forward(self, x):
        return K.neg(x)

    def backward(self, g):
        return -g


@elementwise("exp")
class Exp(Function):
    """d/dx e^x = e^x (the saved output)."""
    save_output = True

    def forward(self, x):
        return K.exp(x)

    def backward(self, g):
        return g * self.output()


@elementwise("log")
class Log(Function):
    """d/dx log x = 1/x."""
    save_inputs = True

    def forward(self, x):
        return K.log(x)

    def backward(self, g):
        (x,) = self.inputs
        return g / x


@elementwise("sqrt")
class Sqrt(Function):
    """d/dx sqrt x = 1 / (2 sqrt x)."""
    save_output = True

    def forward(self, x):
        return K.sqrt(x)

    def backward(self, g):
        return g / (2 * self.output())


@elementwise("sin")
class Sin(Function):
    """d/dx sin x = cos x."""
    save_inputs = True

    def forward(self, x):
        return K.sin(x)

    def backward(self, g):
        (x,) = self.inputs
        return g * x.cos()


@elementwise("cos")
class Cos(Function):
    """d/dx cos x = -sin x."""
    save_inputs = True

    def forward(self, x):
        return K.cos(x)

    def backward(self, g):
        (x,) = self.inputs
        return -g * x.sin()


@elementwise("tanh")
class Tanh(Function):
    """d/dx tanh x = 1 - tanh^2 x, from the saved output (one fused pass)."""
    save_output = True

    def forward(self, x):
        return K.tanh(x)

    def backward(self, g):
        return act_grad(g, self, "tanh")


@elementwise("sigmoid")
class Sigmoid(Function):
    """d/dx s(x) = s(x) (1 - s(x)), from the saved output (one fused pass)."""
    save_output = True

    def forward(self, x):
        return K.sigmoid(x)

    def backward(self, g):
        return act_grad(g, self, "sigmoid")


@elementwise("relu", floating=False)
class Relu(Function):
    """d/dx relu x = 1 where the output is positive (the mask is made in backward)."""
    save_output = True

    def forward(self, x):
        return K.relu(x)

    def backward(self, g):
        return act_grad(g, self, "relu")



@elementwise("softsign")
class Softsign(Function):
    """softsign x = x / (1 + |x|) (PyTorch's F.softsign); d/dx = 1 / (1 + |x|)^2."""
    save_inputs = True

    def forward(self, x):
        return K.softsign(x)

    def backward(self, g):
        (x,) = self.inputs
        d = 1 + x.abs()
        return g / (d * d)


class Gelu(Function):
    """GELU's exact form x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)) in one kernel each way (the
    composition ran five elementwise passes forward and more backward: issue 15's tiny
    GPT). d/dx = Phi(x) + x phi(x). A plain backward runs the fused kernel; with a graph
    (create_graph) the derivative is written in Tensor ops, so it differentiates again."""
    save_inputs = True

    def forward(self, x):
        return K.gelu(x)

    def backward(self, g):
        x = self.saved_input(0)
        if not _grad_mode.enabled:
            return wrap(K.gelu_backward(g.data, x.data))
        cdf = 0.5 * (1 + (x * _SQRT_HALF).erf())
        return g * (cdf + x * ((x * x * -0.5).exp() * _INV_SQRT_2PI))


_SQRT_HALF = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327


def act_grad(g, node: Function, act: str):
    """`ActBackward.apply(g, y, act=act)` with y the saved output of `node` (the activation),
    straight to the kernel on y's array when no graph is recorded (a plain backward, grad
    mode off): on small arrays the op's bookkeeping cost more than the kernel (issue 15's
    per-op overhead). Same kernel, same values."""
    if not _grad_mode.enabled:
        return wrap(K.act_backward(g.data, node.output_array(), act))
    return ActBackward.apply(g, node.output(), act=act)


class ActBackward(Function):
    """g * f'(x) for an activation f, written with its output y = f(x) in one kernel pass:
    tanh: g (1 - y^2);  sigmoid: g y (1 - y);  relu: g [y > 0].

    Differentiable itself (in g and y), so activations have higher derivatives."""
    save_inputs = True

    def forward(self, g, y, act):
        self.act = act
        return K.act_backward(g, y, act)

    def backward(self, gg):
        ng, ny = self.next
        y = self.saved_input(1)
        d_g = ActBackward.apply(gg, y, act=self.act) if ng is not None else None
        if ny is None or self.act == "relu":
            return d_g, None
        g = self.saved_input(0)
        slope = -2 * y if self.act == "tanh" else 1 - 2 * y  # d f'(x) / dy
        return d_g, gg * g * slope


class PowScalar(Function):
    """d/dx x^p = p x^(p-1) for a constant exponent p."""
    save_inputs = True

    def forward(self, x, p):
        self.p = p
        dtype = dtypes.result_type(x, p)  # PyTorch's promotion: int ** 0.5 is float32
        if dtype != x.dtype:
            x = x.astype(dtype)
        return K.power(x, x.dtype.type(p)) if np.issubdtype(x.dtype, np.floating) else K.power(x, p)

    def backward(self, g):
        (x,) = self.inputs
        if self.p == 0:  # PyTorch: zeros (not g * 0, which is NaN where g is inf)
            return wrap(np.zeros(x.shape, dtype=g.dtype))
        if self.p == 1:
            return g
        if self.p == 2:
            return g * (x * 2)
        return g * (self.p * x ** (self.p - 1))


class _Masked(Function):
    """Ops that are piecewise linear: the gradient is g times a constant mask (slope)."""

    def backward(self, g):
        return g * self.slope


class LeakyRelu(_Masked):
    def forward(self, x, negative_slope=0.01):
        self.slope = np.where(x > 0, 1, negative_slope).astype(x.dtype)
        return K.leaky_relu(x, negative_slope)


class Abs(_Masked):
    def forward(self, x):
        self.slope = np.sign(x).astype(x.dtype)
        return K.absolute(x)


class Clamp(_Masked):
    """Gradient 1 inside [min, max] (bounds included, as PyTorch), 0 outside."""

    def forward(self, x, min=None, max=None):
        inside = np.ones_like(x, dtype=bool)  # on x's device
        if min is not None:
            inside &= x >= min
        if max is not None:
            inside &= x <= max
        self.slope = inside.astype(x.dtype)
        return K.clip(x, min, max)
