"""The command line: demo (train, checkpoint, resume) and gradcheck (safe expressions)."""
import numpy as np
import pytest

import autograd
from autograd.cli import main

pytest.importorskip("sklearn", reason="the demo's data comes with scikit-learn (test extra)")


def _demo(tmp_path, name, *extra):
    out = tmp_path / name
    code = main(["demo", "--limit", "256", "--batch-size", "32", "--no-progress",
                 "--out", str(out), *extra])
    assert code == 0
    return out


def test_demo_one_epoch_prints_accuracy_and_writes_loadable_checkpoint(tmp_path, capsys):
    out = _demo(tmp_path, "one.ckpt", "--epochs", "1")
    printed = capsys.readouterr().out
    accuracy = float(printed.split("test accuracy: ")[1].split("%")[0])
    assert 15.0 < accuracy <= 100.0  # one epoch on 256 digits beats chance (10%)
    state = autograd.load(out)
    assert state["epoch"] == 1 and state["model_kind"] == "cnn"
    assert "0.weight" in state["model"] and "1.running_var" in state["model"]
    assert state["optimizer"]["state"]


def test_resume_continues_exactly_where_training_stopped(tmp_path):
    full = autograd.load(_demo(tmp_path, "full.ckpt", "--epochs", "3"))
    part = _demo(tmp_path, "part.ckpt", "--epochs", "3", "--stop-after", "2")
    assert autograd.load(part)["epoch"] == 2
    resumed = autograd.load(_demo(tmp_path, "resumed.ckpt", "--epochs", "3",
                                  "--resume", str(part)))
    assert resumed["epoch"] == 3
    for key, value in full["model"].items():
        np.testing.assert_array_equal(resumed["model"][key].data, value.data, err_msg=key)


def test_resume_with_more_epochs_restarts_the_schedule(tmp_path, capsys):
    done = _demo(tmp_path, "done.ckpt", "--epochs", "1")
    more = autograd.load(_demo(tmp_path, "more.ckpt", "--epochs", "2", "--resume", str(done)))
    assert more["epoch"] == 2 and more["restart_steps"] == 8  # 256 / 32 batches left


def test_gradcheck_command_passes_on_correct_expression(capsys):
    assert main(["gradcheck", "(x @ w).tanh().sum()", "--shape", "x=3,4",
                 "--shape", "w=4,2"]) == 0
    printed = capsys.readouterr().out
    assert "max abs err" in printed and printed.strip().endswith("passed")


@pytest.mark.parametrize("expression,message", [
    ("(x +", "syntax error"),
    ("y.sum()", "unknown name 'y'"),
    ("__import__('os')", "unknown name '__import__'"),
    ("x.sum().__class__.__base__", "'__base__' is not part of the tensor API"),
    ("x.__class__", "'__class__' is not part of the tensor API"),
    ("x.data", "'data' is not part of the tensor API"),
    ("[c for c in x]", "ListComp is not allowed"),
    ("(lambda: x)()", "Lambda is not allowed"),
    ("x.sum() + 'a'", "not a number"),
])
def test_gradcheck_command_rejects_bad_expressions(expression, message, capsys):
    assert main(["gradcheck", expression, "--shape", "x=2,3"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_gradcheck_command_reports_a_failing_gradient(capsys):
    # sin(1e8 x): finite differences with eps = 1e-6 step 100 radians, so they disagree
    assert main(["gradcheck", "(x * 1e8).sin().sum()", "--shape", "x=3"]) == 1
    assert capsys.readouterr().out.strip().endswith("FAILED")


def test_gradcheck_command_reports_an_expression_that_fails_to_evaluate(capsys):
    assert main(["gradcheck", "x @ w", "--shape", "x=2,3", "--shape", "w=4,2"]) == 2
    assert "not aligned" in capsys.readouterr().err
