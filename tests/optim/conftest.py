"""Shared fixtures for the optimiser tests: the backend switch and a two-parameter problem.

The problem is f(x, W) = ½‖Wx − y‖² + ¼Σx⁴ in float64, with gradients written out by hand
(∇x = Wᵀr + x³, ∇W = r xᵀ with r = Wx − y), so that the expected trajectories in the tests
depend on nothing but numpy and the published update rules.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import autograd


class TwoParamProblem:
    x0 = np.array([0.5, -1.0, 2.0])
    W0 = np.array([[0.3, -0.2, 0.1], [0.4, 0.5, -0.6]])
    y = np.array([1.0, -1.0])

    def initial(self) -> list[np.ndarray]:
        return [self.x0.copy(), self.W0.copy()]

    def grad(self, params: list[np.ndarray]) -> list[np.ndarray]:
        x, W = params
        r = W @ x - self.y
        return [W.T @ r + x ** 3, np.outer(r, x)]

    def run(self, make_optimizer: Callable, steps: int = 3) -> list[list[np.ndarray]]:
        """Optimise with our optimiser (gradients set by hand); the params after each step."""
        params = [autograd.tensor(a, requires_grad=True) for a in self.initial()]
        opt = make_optimizer(params)
        trajectory = []
        for _ in range(steps):
            for p, g in zip(params, self.grad([p.data for p in params])):
                p.grad = autograd.tensor(g)
            opt.step()
            trajectory.append([p.data.copy() for p in params])
        return trajectory

    def reference(self, update: Callable, steps: int = 3) -> list[list[np.ndarray]]:
        """The same with `update(theta, g, state, t) -> new theta`, applied to each
        parameter with its own `state` dict (t counts from 1)."""
        params = self.initial()
        states: list[dict] = [{} for _ in params]
        trajectory = []
        for t in range(1, steps + 1):
            grads = self.grad(params)
            params = [update(p, g, s, t) for p, g, s in zip(params, grads, states)]
            trajectory.append([p.copy() for p in params])
        return trajectory


@pytest.fixture
def problem() -> TwoParamProblem:
    return TwoParamProblem()


def assert_trajectories_equal(actual, expected, rtol=1e-12, atol=1e-15) -> None:
    assert len(actual) == len(expected)
    for step, (got, want) in enumerate(zip(actual, expected), start=1):
        for i, (a, b) in enumerate(zip(got, want)):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol,
                                       err_msg=f"step {step}, parameter {i}")


@pytest.fixture
def assert_same_trajectory():
    return assert_trajectories_equal
