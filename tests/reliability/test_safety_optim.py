"""Assigning ``.grad`` is checked as in PyTorch (issue 11, item 2).

`p.grad = t` used to accept any tensor; `step()` then read the gradient for the parameter's
size, past the end of a smaller one. PyTorch raises at the assignment: a RuntimeError naming
both sizes (or both dtypes), a TypeError for anything but a Tensor or None.
"""
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import autograd
import nn
import optim

ROOT = Path(__file__).parents[2]


def test_a_gradient_of_another_shape_is_refused():
    p = autograd.tensor(np.zeros(1_000_000, np.float32), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"attempting to assign a gradient of size '\[2\]' to "
                                           r"a tensor of size '\[1000000\]'"):
        p.grad = autograd.tensor(np.ones(2, np.float32))
    assert p.grad is None
    q = autograd.tensor(np.zeros((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"size '\[3, 2\]' to a tensor of size '\[2, 3\]'"):
        q.grad = autograd.tensor(np.zeros((3, 2)))
    with pytest.raises(RuntimeError, match=r"size '\[\]' to a tensor of size '\[2, 3\]'"):
        q.grad = autograd.tensor(np.float64(1.0))  # no broadcasting either


def test_a_gradient_of_another_dtype_is_refused():
    p = autograd.tensor(np.zeros(3, np.float32), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"gradient with dtype 'float64' to a tensor with "
                                           r"dtype 'float32'"):
        p.grad = autograd.tensor(np.zeros(3, np.float64))
    with pytest.raises(RuntimeError, match=r"dtype 'int64' to a tensor with dtype 'float32'"):
        p.grad = autograd.tensor(np.zeros(3, np.int64))
    assert p.grad is None


@pytest.mark.parametrize("value", [np.zeros(3, np.float32), [0.0, 0.0, 0.0], 1.0])
def test_anything_but_a_tensor_is_refused(value):
    p = autograd.tensor(np.zeros(3, np.float32), requires_grad=True)
    with pytest.raises(TypeError, match=r"assigned grad expected to be a Tensor or None but got "
                                        rf"grad of type {type(value).__name__}"):
        p.grad = value


def test_a_tensor_is_not_its_own_gradient():
    p = autograd.tensor(np.zeros(3, np.float32), requires_grad=True)
    with pytest.raises(RuntimeError, match="can't assign Variable as its own grad"):
        p.grad = p


def test_matching_gradients_and_none_are_accepted():
    p = nn.Parameter(autograd.tensor(np.zeros((2, 2), np.float64)))
    g = autograd.tensor(np.ones((2, 2)))
    p.grad = g
    assert p.grad is g
    p.grad = None
    assert p.grad is None


def test_internal_paths_that_set_grad_still_work():
    # backward (first store, then in-place accumulation), create_graph accumulation,
    # zero_grad both ways, Module.to(dtype) with gradients, clip_grad_norm_, an optimiser step
    lin = nn.Linear(3, 2)
    x = autograd.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    for _ in range(2):
        lin(x).sum().backward()
    np.testing.assert_allclose(lin.weight.grad.data, 2 * np.tile(x.data.sum(0), (2, 1)))
    np.testing.assert_allclose(lin.bias.grad.data, [4.0, 4.0])

    w = autograd.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward(create_graph=True)
    (w * w).sum().backward(create_graph=True)
    np.testing.assert_allclose(w.grad.data, [4.0, 8.0])
    assert w.grad.requires_grad

    opt = optim.SGD(lin.parameters(), lr=0.1)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(lin.weight.grad.data, 0)
    lin(x).sum().backward()
    lin.to(np.float64)
    assert lin.weight.grad.dtype == np.float64 and lin.weight.dtype == np.float64
    norm = nn.utils.clip_grad_norm_(lin.parameters(), 1.0)
    assert float(norm) > 1.0
    before = lin.weight.data.copy()
    opt.step()
    assert not np.array_equal(before, lin.weight.data)
    opt.zero_grad()
    assert lin.weight.grad is None and lin.bias.grad is None


def test_a_wrong_gradient_on_a_large_parameter_raises_at_the_assignment():
    # Before the fix the assignment went through and the fused step read 1e6 floats from a
    # 2-element gradient: garbage in the parameter, or a segfault. In a subprocess.
    code = textwrap.dedent("""
        import numpy as np, autograd, optim
        p = autograd.tensor(np.zeros(1_000_000, np.float32), requires_grad=True)
        opt = optim.Adam([p], lr=0.1)
        try:
            p.grad = autograd.tensor(np.ones(2, np.float32))
        except RuntimeError as e:
            print("REFUSED", "[2]" in str(e) and "[1000000]" in str(e))
        else:
            opt.step()
            print("STEPPED", float(np.abs(p.data).max()))
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, check=False,
                          text=True, timeout=300)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert proc.stdout.strip() == "REFUSED True"
