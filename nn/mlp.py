"""MLP: a stack of Linear layers with an activation (and optional batch norm and dropout)
between them."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise

from . import activation
from .container import Sequential
from .dropout import Dropout
from .flatten import Identity
from .linear import Linear
from .module import Module
from .norm import BatchNorm1d

_ACTIVATIONS = {
    "relu": activation.ReLU, "leaky_relu": activation.LeakyReLU, "leakyrelu": activation.LeakyReLU,
    "prelu": activation.PReLU, "sigmoid": activation.Sigmoid, "tanh": activation.Tanh,
    "hardsigmoid": activation.HardSigmoid, "hard_sigmoid": activation.HardSigmoid,
    "softplus": activation.Softplus, "identity": Identity, "linear": Identity,
}


def _activation_factory(activation_: str | type | Callable | None) -> Callable[[], Module]:
    if activation_ is None:
        return Identity
    if isinstance(activation_, str):
        key = activation_.lower()
        if key not in _ACTIVATIONS:
            raise ValueError(f"MLP: unknown activation {activation_!r}; choose one of "
                             f"{sorted(_ACTIVATIONS)} or pass a Module class")
        return _ACTIVATIONS[key]
    if isinstance(activation_, Module):
        raise TypeError("MLP: pass the activation's class (or a factory), not an instance, so "
                        "each layer gets its own")
    if callable(activation_):
        return activation_
    raise TypeError(f"MLP: activation must be a name or a Module class, got {activation_!r}")


class MLP(Sequential):
    """MLP([784, 256, 10]) = Linear(784, 256), ReLU, Linear(256, 10): a Linear between each
    pair of consecutive sizes, and between Linears [BatchNorm1d], activation, [Dropout]; no
    activation after the last layer. Children are numbered as in a Sequential."""

    def __init__(self, sizes: Sequence[int], activation: str | type | Callable = "relu",
                 batchnorm: bool = False, dropout: float = 0.0, bias: bool = True):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output size, got "
                             f"{sizes}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MLP: dropout must be in [0, 1), got {dropout}")
        make_activation = _activation_factory(activation)
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(pairwise(sizes)):
            layers.append(Linear(n_in, n_out, bias=bias))
            if i < len(sizes) - 2:
                if batchnorm:
                    layers.append(BatchNorm1d(n_out))
                layers.append(make_activation())
                if dropout > 0:
                    layers.append(Dropout(dropout))
        super().__init__(*layers)
        self.sizes = sizes

    def _get_name(self) -> str:
        return "MLP"
