"""nn: modules, layers, losses and initialisers on top of autograd (PyTorch's torch.nn API)."""
from . import functional, init, parallel, utils
from .activation import (
                         HardSigmoid,
                         Hardsigmoid,
                         LeakyReLU,
                         LogSoftmax,
                         PReLU,
                         ReLU,
                         Sigmoid,
                         Softmax,
                         Softplus,
                         Tanh,
)
from .container import ModuleDict, ModuleList, Sequential
from .conv import Conv2d
from .dropout import Dropout
from .flatten import Flatten, Identity, Unflatten
from .linear import Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HingeLoss, L1Loss, MSELoss, NLLLoss
from .mlp import MLP
from .module import Module
from .norm import BatchNorm1d, BatchNorm2d, LayerNorm
from .parameter import Parameter
from .pool import AvgPool2d, MaxPool2d

__all__ = [
                         "MLP",
                         "AvgPool2d",
                         "BCELoss",
                         "BCEWithLogitsLoss",
                         "BatchNorm1d",
                         "BatchNorm2d",
                         "Conv2d",
                         "CrossEntropyLoss",
                         "Dropout",
                         "Flatten",
                         "HardSigmoid",
                         "Hardsigmoid",
                         "HingeLoss",
                         "Identity",
                         "L1Loss",
                         "LayerNorm",
                         "LeakyReLU",
                         "Linear",
                         "LogSoftmax",
                         "MSELoss",
                         "MaxPool2d",
                         "Module",
                         "ModuleDict",
                         "ModuleList",
                         "NLLLoss",
                         "PReLU",
                         "Parameter",
                         "ReLU",
                         "Sequential",
                         "Sigmoid",
                         "Softmax",
                         "Softplus",
                         "Tanh",
                         "Unflatten",
                         "functional",
                         "init",
                         "parallel",
                         "utils",
]
