"""Schedulers that scale the lr by a factor each epoch: ConstantLR, PolynomialLR and
MultiplicativeLR (PyTorch's, with the same value at every step).

Like the schedulers of `optim.lr_scheduler` they compute the next lr from the current one
(so that they compose when chained), and ConstantLR and PolynomialLR have closed forms, used
when `step(epoch)` or SequentialLR jumps to an epoch. Imported into `optim.lr_scheduler`,
their public path.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from .optimizer import Optimizer
from .schedules import LambdaLR, LRScheduler

__all__ = ["ConstantLR", "MultiplicativeLR", "PolynomialLR"]


class ConstantLR(LRScheduler):
    """lr = base_lr · factor for the first total_iters epochs, then base_lr."""

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._current_lrs()]
        if self.last_epoch != self.total_iters:
            return self._current_lrs()
        return [lr * (1.0 / self.factor) for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * (self.factor + (self.last_epoch >= self.total_iters)
                           * (1 - self.factor)) for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr = base_lr · (1 − min(epoch, total_iters) / total_iters)^power: a polynomial decay
    to 0 over total_iters epochs."""

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0,
                 last_epoch: int = -1) -> None:
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        decay_factor = ((1.0 - self.last_epoch / self.total_iters)
                        / (1.0 - (self.last_epoch - 1) / self.total_iters)) ** self.power
        return [lr * decay_factor for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters)
                ** self.power for base_lr in self.base_lrs]


class MultiplicativeLR(LRScheduler):
    """lr ← lr · lr_lambda(epoch) at each step (one function for all groups or one per
    group); the lr is left as it is when built.

    `state_dict` leaves the functions out as LambdaLR's does (keeping the attributes of
    callable objects that are not plain functions), so the same functions must be given on
    rebuilding.
    """

    def __init__(self, optimizer: Optimizer,
                 lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        n_groups = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n_groups:
                raise ValueError(f"Expected {n_groups} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n_groups
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [lr * lmbda(self.last_epoch)
                for lmbda, lr in zip(self.lr_lambdas, self._current_lrs(), strict=True)]

    state_dict = LambdaLR.state_dict
    load_state_dict = LambdaLR.load_state_dict
