"""nn's one door into autograd: layers name themselves in errors in one place
(Module.__call__), ShapeError lives in autograd.errors, and nn imports no op class."""
import ast
from pathlib import Path

import numpy as np
import pytest

import autograd
import nn
import nn.functional as F
from autograd import nn_ops
from autograd.errors import ShapeError

NN_DIR = Path(nn.__file__).parent


def test_shape_error_lives_in_autograd_errors_and_is_value_and_runtime_error():
    assert F.ShapeError is ShapeError  # still importable where users found it
    assert issubclass(ShapeError, ValueError) and issubclass(ShapeError, RuntimeError)
    assert ShapeError.__module__ == "autograd.errors"


def test_functional_errors_name_the_function_and_layers_add_their_repr_once():
    x = autograd.zeros(2, 4, 8, 8)
    with pytest.raises(ShapeError) as e:
        F.conv2d(x, autograd.zeros(8, 3, 3, 3))
    assert str(e.value) == "conv2d: expected input with 3 channels, got shape (2, 4, 8, 8)"
    conv = nn.Conv2d(3, 8, 3)
    with pytest.raises(ShapeError) as e:
        nn.Sequential(nn.Identity(), nn.Sequential(conv))(x)
    # the innermost layer, once; the containers around it add nothing
    assert str(e.value) == ("Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1)): conv2d: expected "
                            "input with 3 channels, got shape (2, 4, 8, 8)")
    with pytest.raises(IndexError) as e:  # the class is kept for every error kind
        nn.NLLLoss()(autograd.zeros(2, 3), autograd.tensor([0, 3]))
    assert str(e.value).startswith("NLLLoss(): nll_loss: target 3 is out of bounds")


def test_layer_naming_leaves_other_errors_alone():
    class Lookup(nn.Module):
        def forward(self, key):
            return {"a": 1}[key]

    class Coded(nn.Module):
        def forward(self, x):
            raise ValueError("code", 7)  # not one message: untouched

    with pytest.raises(KeyError) as e:
        Lookup()("b")
    assert e.value.args == ("b",)
    with pytest.raises(ValueError) as e:
        Coded()(1)
    assert e.value.args == ("code", 7)


def test_no_public_private_twins_in_nn_functional():
    public = {n for n in dir(F) if not n.startswith("_")}
    twins = sorted(n for n in dir(F) if n.startswith("_") and n[1:] in public)
    assert twins == []
    for name in ("_bce_with_logits",):  # the one twin not named after its public function
        assert not hasattr(F, name)


def _imports(path: Path) -> set:
    """Every module named by an import statement in a file (relative imports skipped)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_nn_enters_autograd_through_one_door():
    for path in NN_DIR.rglob("*.py"):
        deep = sorted(n for n in _imports(path)
                      if n.startswith(("autograd.ops", "autograd.kernels", "autograd.function",
                                       "autograd.engine", "autograd.tensor")))
        assert deep == [], f"{path.relative_to(NN_DIR)} imports {deep}"
    from_autograd = {n for n in _imports(NN_DIR / "functional.py") if n.startswith("autograd")}
    assert {n.split(".")[1] for n in from_autograd if n.count(".") >= 1} <= {
        "Tensor", "from_numpy", "nn_ops", "errors"}


def test_batch_norm_op_returns_batch_statistics_and_touches_no_running_state():
    rng = np.random.default_rng(0)
    x = autograd.tensor(rng.standard_normal((4, 3, 5)))
    out, mean, var = nn_ops.batch_norm(x, eps=1e-5)
    np.testing.assert_allclose(mean.data, x.data.mean(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(var.data, x.data.var(axis=(0, 2)), rtol=1e-12)  # biased
    np.testing.assert_allclose(
        out.data, (x.data - mean.data[:, None]) / np.sqrt(var.data[:, None] + 1e-5), rtol=1e-10)
    assert not mean.requires_grad and not var.requires_grad


def test_batch_norm_running_statistics_update_is_seen_by_saved_graphs():
    """nn updates the running statistics after the op and bumps their versions through
    Tensor.mark_modified, so a graph that saved them refuses to backward."""
    bn = nn.BatchNorm1d(2).double()
    w = autograd.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    saved = (bn.running_mean * w).sum()  # saves running_mean for the gradient of w
    version = bn.running_mean._version[0]
    x = autograd.tensor([[1.0, 2.0], [3.0, 6.0]], dtype=np.float64)
    bn(x)
    np.testing.assert_allclose(bn.running_mean.data, [0.2, 0.4])  # 0.9 * 0 + 0.1 * mean
    np.testing.assert_allclose(bn.running_var.data, [1.1, 1.7])  # 0.9 * 1 + 0.1 * unbiased
    assert bn.running_mean._version[0] == version + 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        saved.backward()


def test_mark_modified_moves_the_version_counter():
    t = autograd.tensor([1.0, 2.0])
    w = autograd.tensor([3.0, 4.0], requires_grad=True)
    y = (t * w).sum()
    t.data[0] = 10.0
    assert t.mark_modified() is t
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
