"""The CPU test suite's op tables, run on cuda: every entry of the parametrized op lists of
tests/autograd (unary, binary, reductions over every dims / keepdim, shape ops) and
tests/nn (the activations) gives on cuda the value and gradients it gives on the CPU
(float32, rtol 1e-4).

Run on numba's CUDA simulator by test_simulator.py. The tables are read from the CPU test
files themselves, so an op added to them is checked on cuda too.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from sim_common import check_op

TESTS = Path(__file__).resolve().parent.parent
RNG = np.random.default_rng(0)


def _load(relative: str):
    spec = importlib.util.spec_from_file_location(
        "cpu_" + relative.replace("/", "_").removesuffix(".py"), TESTS / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_more_shape = _load("autograd/test_ops_more_shape.py")
_shape = _load("autograd/test_ops_shape.py")
_reduce = _load("autograd/test_ops_reduce.py")
_unary = _load("autograd/test_ops_unary.py")
_binary = _load("autograd/test_ops_binary.py")
_activations = _load("nn/test_nn_activation_more.py")

CASES: dict = {}  # id -> (fn, input arrays)
for _name, _fn in _more_shape.SHAPE_OPS.items():
    CASES[f"shape-{_name}"] = (_fn, [RNG.standard_normal((3, 4)).astype(np.float32)])
for _name, _fn in _shape.SHAPE_OPS.items():
    CASES[f"shape3d-{_name}"] = (_fn, [RNG.standard_normal((2, 3, 4)).astype(np.float32)])
for _name, (_fn, _) in _reduce.SMOOTH.items():
    for _dims in _reduce.DIMS:
        for _keep in (False, True):
            CASES[f"reduce-{_name}-{_dims}-{_keep}"] = (
                lambda t, f=_fn, d=_dims, k=_keep: f(t, d, k),
                [RNG.uniform(0.5, 1.5, (2, 3, 4)).astype(np.float32)])
for _name, (_fn, _, _shift, *_) in _unary.UNARY.items():
    CASES[f"unary-{_name}"] = (
        _fn, [(RNG.standard_normal((3, 4)) * 0.5 + _shift).astype(np.float32)])
for _name, _entry in _binary.BINARY.items():
    CASES[f"binary-{_name}"] = (_entry[0] if isinstance(_entry, tuple) else _entry,
                                [RNG.uniform(0.5, 1.5, (3, 4)).astype(np.float32),
                                 RNG.uniform(0.5, 1.5, (4,)).astype(np.float32)])
for _name, (_fn, _module, *_) in _activations.CASES.items():
    _x = np.array(_activations.X, np.float32)
    CASES[f"activation-{_name}"] = (_fn, [_x])
    CASES[f"activation-module-{_name}"] = (lambda t, m=_module: m(t), [_x])


def test_the_tables_were_read() -> None:
    assert len(CASES) > 140
    assert {"shape-diagonal", "reduce-prod-None-False", "unary-exp",
            "activation-gelu"} <= set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_cpu_table_entry_on_cuda(name: str) -> None:
    fn, arrays = CASES[name]
    check_op(fn, *arrays)
