"""`numbagrad demo`: bad options and untrusted checkpoints give one line and exit 2; --resume
writes back to its file; settings a resumed run cannot change are refused."""
from __future__ import annotations

import os

import numpy as np
import pytest

import autograd
from autograd.cli import demo

from .helpers import ROOT, assert_usage_error, run_cli


@pytest.mark.parametrize("args,fragment", [
    (["--lr", "-1"], "argument --lr"),
    (["--lr", "inf"], "argument --lr"),
    (["--batch-size", "0"], "argument --batch-size"),
    (["--epochs", "0"], "argument --epochs"),
    (["--epochs", "99999999999999999999"], "argument --epochs"),
    (["--seed", "-1"], "argument --seed"),
    (["--resume", "/nonexistent/x.ckpt"], "no such file"),
    (["--resume", os.path.join(ROOT, "README.md")], "not a readable numbagrad checkpoint"),
    (["--resume", ROOT], "not a regular file"),
    (["--out", "/dev/null"], "not a regular file"),
    (["--out", ROOT], "is a directory"),
])
def test_bad_options_refused_in_one_line(args, fragment):
    assert_usage_error(run_cli("demo", "--no-progress", *args), "numbagrad demo: error:",
                       fragment)


def test_help_shows_every_default():
    import argparse

    parser = argparse.ArgumentParser()
    demo.add_arguments(parser)
    options = [a for a in parser._actions if a.option_strings != ["-h", "--help"]]
    assert len(options) >= 10
    for action in options:
        assert "default" in (action.help or ""), action.option_strings
    proc = run_cli("demo", "--help")
    assert proc.returncode == 0 and "default: 32" in proc.stdout


_FIELDS = {"epoch": 1, "epochs_planned": 2, "restart_steps": 0, "model_kind": "mlp",
           "batch_size": 32, "seed": 0, "model": {}, "optimizer": {}, "scheduler": {}}


@pytest.mark.parametrize("change,fragment", [
    ({"epoch": 10 ** 12}, "epoch = 1,000,000,000,000 is out of range"),  # used to hang
    ({"epoch": "3"}, "epoch is a str, not an integer"),
    ({"epoch": True}, "epoch is a bool"),
    ({"epoch": None}, "lacks 'epoch'"),
    ({"batch_size": 0}, "batch_size = 0 is out of range"),
    ({"model_kind": "rnn"}, "model_kind 'rnn'"),
    ({"model": [1, 2]}, "'model' is a list"),
    ({"lr": float("nan")}, "lr nan is not a positive finite number"),
])
def test_malformed_checkpoints_refused_in_one_line(tmp_path, change, fragment):
    state = {**_FIELDS, **change}
    state = {k: v for k, v in state.items() if v is not None}
    path = tmp_path / "forged.ckpt"
    autograd.save(state, path)
    assert_usage_error(run_cli("demo", "--resume", str(path), "--no-progress"), fragment)


@pytest.fixture(scope="module")
def stopped(tmp_path_factory):
    """A real mlp checkpoint stopped after epoch 1 of 2 (64 images, 2 steps per epoch)."""
    pytest.importorskip("sklearn", reason="the demo's data comes with scikit-learn")
    path = tmp_path_factory.mktemp("demo") / "stopped.ckpt"
    proc = run_cli("demo", "--model", "mlp", "--epochs", "2", "--stop-after", "1", "--limit",
                   "64", "--batch-size", "32", "--no-progress", "--out", str(path), timeout=300)
    assert proc.returncode == 0, proc.stderr
    return path


def _forge(stopped, tmp_path, edit) -> str:
    state = autograd.load(stopped)
    edit(state)
    path = tmp_path / "forged.ckpt"
    autograd.save(state, path)
    return str(path)


def _shrink_adam_buffer(state):
    state["optimizer"]["state"][0]["exp_avg"] = np.zeros(16, np.float32)


def _break_weight(state):
    state["model"]["1.0.weight"] = autograd.tensor(np.zeros(3, np.float32))


def _nan_weight(state):
    state["model"]["1.0.weight"].data[0, 0] = np.nan


def _huge_scheduler_step(state):
    state["scheduler"]["last_epoch"] = 10 ** 15


@pytest.mark.parametrize("edit,fragment", [
    (_shrink_adam_buffer, "state[0]['exp_avg'] is (16,) float32, parameter 0 is (128, 64)"),
    (_break_weight, "model['1.0.weight'] has shape (3,)"),
    (_nan_weight, "holds NaN or infinite values"),
    (_huge_scheduler_step, "scheduler['last_epoch']"),
])
def test_checkpoint_inconsistent_with_the_model_refused(stopped, tmp_path, edit, fragment):
    assert_usage_error(run_cli("demo", "--resume", _forge(stopped, tmp_path, edit),
                               "--no-progress", timeout=120), fragment)


def test_resume_refuses_another_batch_size_and_writes_back(stopped, tmp_path):
    assert_usage_error(run_cli("demo", "--resume", str(stopped), "--batch-size", "16"),
                       "--batch-size 16 does not match the checkpoint's batch size 32")
    copy = tmp_path / "copy.ckpt"
    copy.write_bytes(stopped.read_bytes())
    proc = run_cli("demo", "--resume", str(copy), "--no-progress", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "batch size 32" in proc.stdout  # the adopted settings are said
    assert autograd.load(copy)["epoch"] == 2  # written back to the --resume file
    assert_usage_error(run_cli("demo", "--resume", str(copy), "--no-progress"),
                       "has finished 2 of 2 epochs")


def test_compile_notice_follows_the_numba_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert demo._numba_cache_is_cold() is True
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "kernel.f-1.py311.nbi").write_bytes(b"")
    assert demo._numba_cache_is_cold() is False


def test_mlp_with_a_last_batch_of_one_trains_and_batch_size_one_is_refused():
    pytest.importorskip("sklearn", reason="the demo's data comes with scikit-learn")
    # 33 images in batches of 32: BatchNorm1d used to raise on the last batch of one
    proc = run_cli("demo", "--model", "mlp", "--epochs", "1", "--limit", "33", "--out", "",
                   "--no-progress", timeout=300)
    assert proc.returncode == 0 and "test accuracy" in proc.stdout, proc.stderr[-2000:]
    assert_usage_error(run_cli("demo", "--model", "mlp", "--batch-size", "1", "--out", ""),
                       "at least 2 images per batch")


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_compiled_demo_trains_to_the_eager_weights(tmp_path, model):
    """`demo --compile` replays the recorded step (scheduler and BatchNorm included): the
    checkpoint's weights equal the eager run's (float tolerance)."""
    pytest.importorskip("sklearn", reason="the demo's data comes with scikit-learn")
    runs = {}
    for flag in ("", "--compile"):
        out = tmp_path / f"{model}{flag}.ckpt"
        proc = run_cli("demo", "--model", model, "--epochs", "2", "--limit", "200", "--out",
                       str(out), "--no-progress", *([flag] if flag else []), timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        runs[flag] = autograd.load(out)["model"]
    assert runs[""].keys() == runs["--compile"].keys()
    for name, value in runs[""].items():
        np.testing.assert_allclose(runs["--compile"][name].data, value.data, rtol=1e-3,
                                   atol=1e-5, err_msg=name)
    assert_usage_error(run_cli("demo", "--compile", "--distributed", "--out", ""),
                       "--compile and --distributed cannot be combined")
