"""Learning-rate schedules: PyTorch's schedulers, with the same value at every step.

A scheduler rewrites ``group["lr"]`` of its optimiser's parameter groups each time `step()` is
called (once per epoch, after ``optimizer.step()``). Building one records each group's starting
lr as ``group["initial_lr"]`` (kept as `base_lrs`) and performs the initial step, which sets
the lr for epoch 0. As in PyTorch, most schedules are computed recursively from the current lr
(so that they compose when chained); their closed forms, used when SequentialLR switches to a
scheduler, are written beside them.
"""
from __future__ import annotations

from .schedules import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)
from .schedules_chained import ChainedScheduler
from .schedules_cyclic import CosineAnnealingWarmRestarts, OneCycleLR
from .schedules_factor import ConstantLR, MultiplicativeLR, PolynomialLR

__all__ = ["ChainedScheduler", "ConstantLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
           "ExponentialLR", "LRScheduler", "LambdaLR", "LinearLR", "MultiStepLR",
           "MultiplicativeLR", "OneCycleLR", "PolynomialLR", "ReduceLROnPlateau",
           "SequentialLR", "StepLR"]
