"""Smooth elementwise functions: trigonometric, hyperbolic, exponential, logarithmic, erf.

Each is declared once by `_smooth(name, kernel, derivative)`: `Tensor.<name>()` and
`autograd.<name>(t)` (ops/registry.py), integer and bool inputs computed in the default float
dtype (as PyTorch). The derivative is written in Tensor ops (of the saved input x and/or the
saved output y), so every one differentiates again.
"""
from __future__ import annotations

import math

from .. import kernels as K
from ..function import Function
from .registry import elementwise

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _smooth(name: str, kernel, derivative, doc: str, uses: str = "x") -> type:
    """Declare the op `name`: forward `kernel(x)`, backward `g * derivative(x, y)` where x is
    the input and y the output (`uses` says which are saved: "x", "y" or "xy")."""
    class Op(Function):
        save_inputs = "x" in uses
        save_output = "y" in uses

        def forward(self, x):
            return kernel(x)

        def backward(self, g):
            x = self.saved_input(0) if self.save_inputs else None
            y = self.output() if self.save_output else None
            return g * derivative(x, y)

    Op.__name__ = Op.__qualname__ = name.capitalize()
    Op.__doc__ = doc
    return elementwise(name)(Op)


Tan = _smooth("tan", K.tan, lambda x, y: 1 + y * y, "tangent; d/dx = 1 + tan^2 x", "y")
Asin = _smooth("asin", K.asin, lambda x, y: (1 - x * x).rsqrt(),
               "inverse sine; d/dx = 1 / sqrt(1 - x^2)")
Acos = _smooth("acos", K.acos, lambda x, y: -(1 - x * x).rsqrt(),
               "inverse cosine; d/dx = -1 / sqrt(1 - x^2)")
Atan = _smooth("atan", K.atan, lambda x, y: (1 + x * x).reciprocal(),
               "inverse tangent; d/dx = 1 / (1 + x^2)")
Sinh = _smooth("sinh", K.sinh, lambda x, y: x.cosh(), "hyperbolic sine; d/dx = cosh x")
Cosh = _smooth("cosh", K.cosh, lambda x, y: x.sinh(), "hyperbolic cosine; d/dx = sinh x")
Asinh = _smooth("asinh", K.asinh, lambda x, y: (x * x + 1).rsqrt(),
                "inverse hyperbolic sine; d/dx = 1 / sqrt(x^2 + 1)")
Acosh = _smooth("acosh", K.acosh, lambda x, y: ((x - 1) * (x + 1)).rsqrt(),
                "inverse hyperbolic cosine; d/dx = 1 / sqrt((x - 1)(x + 1))")
Atanh = _smooth("atanh", K.atanh, lambda x, y: (1 - x * x).reciprocal(),
                "inverse hyperbolic tangent; d/dx = 1 / (1 - x^2)")
Erf = _smooth("erf", K.erf, lambda x, y: _TWO_OVER_SQRT_PI * (-x * x).exp(),
              "the error function; d/dx = 2 / sqrt(pi) e^(-x^2)")
Erfc = _smooth("erfc", K.erfc, lambda x, y: -_TWO_OVER_SQRT_PI * (-x * x).exp(),
               "1 - erf x, accurate where erf x is near 1; d/dx = -2 / sqrt(pi) e^(-x^2)")
Exp2 = _smooth("exp2", K.exp2, lambda x, y: y * _LN2, "2^x; d/dx = 2^x ln 2", "y")
Expm1 = _smooth("expm1", K.expm1, lambda x, y: y + 1,
                "e^x - 1, accurate near 0; d/dx = e^x", "y")
Log2 = _smooth("log2", K.log2, lambda x, y: (x * _LN2).reciprocal(),
               "base-2 logarithm; d/dx = 1 / (x ln 2)")
Log10 = _smooth("log10", K.log10, lambda x, y: (x * _LN10).reciprocal(),
                "base-10 logarithm; d/dx = 1 / (x ln 10)")
Log1p = _smooth("log1p", K.log1p, lambda x, y: (x + 1).reciprocal(),
                "log(1 + x), accurate near 0; d/dx = 1 / (1 + x)")
Rsqrt = _smooth("rsqrt", K.rsqrt, lambda x, y: -0.5 * y * y * y,
                "1 / sqrt x; d/dx = -x^(-3/2) / 2", "y")
Reciprocal = _smooth("reciprocal", K.reciprocal, lambda x, y: -(y * y),
                     "1 / x; d/dx = -1 / x^2", "y")
