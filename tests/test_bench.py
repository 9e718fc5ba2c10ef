"""python -m bench --plot: a quick real run writes valid PNG charts, every section has its chart,
and the ratio chart's numbers are time(ours) / time(reference); the training section times the
MLP, the CNN and the tiny GPT (whose workload is checked on its own); the distributed section (2 MPI
ranks against 2 threads) runs for real under mpiexec and is skipped, with one line, without MPI."""
from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from bench import plot

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple:
    """(width, height) from the IHDR chunk, after checking the PNG signature."""
    data = path.read_bytes()
    assert len(data) > 1000, f"{path} is {len(data)} bytes"
    assert data[:8] == PNG_MAGIC, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def fake_results(torch: bool = True) -> list:
    """One row per section, as the benchmarks record them (seconds, GFLOP/s, GB/s)."""
    t = {"torch": 2e-3} if torch else {}
    return [
        {"section": "matmul", "dtype": "float32", "n": 64, "peak": 200.0,
         "gflops": {"gemm": 20.0, "dispatched": 40.0, "numpy": 50.0,
                    **({"torch": 80.0} if torch else {})},
         "gflops_min": {"gemm": 18.0, "dispatched": 35.0, "numpy": 45.0, "torch": 70.0},
         "gflops_max": {"gemm": 21.0, "dispatched": 42.0, "numpy": 52.0, "torch": 90.0}},
        {"section": "matmul", "dtype": "float32", "n": 256, "peak": 200.0,
         "gflops": {"gemm": 60.0, "dispatched": 100.0, "numpy": 80.0,
                    **({"torch": 125.0} if torch else {})}},
        {"section": "memory", "gbps": 30.0, "copy": 20.0, "triad": 30.0},
        {"section": "elementwise", "dtype": "float32", "kernel": "add",
         "gbps": {"ours": 24.0, "numpy": 12.0}, "seconds": {"ours": 5e-4, "numpy": 1e-3, **t}},
        {"section": "elementwise", "dtype": "float32", "kernel": "exp",
         "gbps": {"ours": 4.0, "numpy": 8.0}, "seconds": {"ours": 2e-3, "numpy": 1e-3, **t}},
        {"section": "threshold", "n": 1024,
         "seconds": {"relu serial": 1e-6, "relu parallel": 5e-6, "relu numpy": 2e-6}},
        {"section": "threshold", "n": 1 << 20,
         "seconds": {"relu serial": 4e-4, "relu parallel": 2e-4, "relu numpy": 5e-4}},
        {"section": "conv2d", "seconds": {"ours (numba)": 3e-3, "ours (numpy backend)": 6e-3,
                                          **t}},
        {"section": "overhead", "us_per_op": {"ours fwd+bwd": 9.0, "ours fwd (no_grad)": 2.0,
                                              **({"torch fwd+bwd": 12.0} if torch else {})}},
        {"section": "training", "model": "mlp",
         "seconds": {"ours (numba)": 1e-3, "ours (numpy backend)": 4e-3, **t}},
        {"section": "training", "model": "cnn",
         "seconds": {"ours (numba)": 4e-3, "ours (numpy backend)": 8e-3, **t}},
        {"section": "training", "model": "tiny_gpt",
         "seconds": {"ours (numba)": 6e-3, "ours (numpy backend)": 3e-3, **t}},
        {"section": "startup", "case": "warm (full cache)", "import": 0.2, "first_step": 0.9,
         "second_step": 0.001},
        {"section": "distributed", "model": "demo cnn", "global_batch": 64, "ratio": 1.25,
         "samples_per_s": {"2 ranks x 1 thread": 15000.0, "1 process x 2 threads": 12000.0}},
    ]


def test_ratios_are_time_ours_over_reference():
    got = plot.ratios(fake_results())
    want = [("matmul f32 n=64", 50 / 40, 80 / 40), ("matmul f32 n=256", 0.8, 1.25),
            ("add f32", 0.5, 0.25), ("exp f32", 2.0, 1.0), ("conv2d fwd+bwd", 0.5, 1.5),
            ("per-op overhead", None, 0.75), ("training step mlp", 0.25, 0.5),
            ("training step cnn", 0.5, 2.0), ("training step tiny_gpt", 2.0, 3.0)]
    assert [r[0] for r in got] == [w[0] for w in want]
    for (_, a, b), (_, wa, wb) in zip(got, want):
        assert a == pytest.approx(wa) if wa is not None else a is None
        assert b == pytest.approx(wb) if wb is not None else b is None
    # without PyTorch: no torch ratios, and the overhead row (torch only) is gone
    got = plot.ratios(fake_results(torch=False))
    assert all(r[2] is None for r in got) and "per-op overhead" not in [r[0] for r in got]


def test_every_section_gets_a_chart(tmp_path):
    paths = plot.write_charts(fake_results(), str(tmp_path / "charts"),
                              {"loadavg": ["1.00 0.50 0.20", "1.10 0.60 0.30"], "quick": True})
    names = sorted(Path(p).name for p in paths)
    assert names == sorted(f"{s}.png" for s in ("matmul", "elementwise", "threshold", "conv",
                                                 "overhead", "training", "startup", "distributed",
                                                 "ratios"))
    for p in paths:
        w, h = png_size(Path(p))
        assert w >= 500 and h >= 200


def test_tiny_gpt_workload():
    """The tiny GPT's data are next-token pairs under a causal mask, its step is seeded, starts
    near the uniform loss ln(65), learns, and gives the same losses on both backends."""
    import math

    import numpy as np

    import autograd
    from bench import workloads
    from bench.training import LABELS, ours_step

    assert list(LABELS) == list(workloads.MODELS) == ["mlp", "cnn", "cnn64", "tiny_gpt"]
    idx, pos, mask, y = workloads.data("tiny_gpt")
    assert idx.shape == y.shape == (16, 64) and idx.dtype == y.dtype == np.int64
    assert np.array_equal(idx[:, 1:], y[:, :-1]) and idx.min() >= 0 and y.max() < 65
    assert np.array_equal(pos, np.arange(64)) and mask.dtype == np.float32
    assert np.isneginf(mask[0, 1]) and mask[1, 0] == 0 and mask[5, 5] == 0
    assert np.array_equal(np.isneginf(mask), np.triu(np.ones((64, 64), bool), 1))
    model = workloads.tiny_gpt(__import__("nn"))
    assert sum(p.numel() for p in model.parameters()) == (
        2 * 65 * 128 + 64 * 128 + 65 + 2 * 128  # token emb + head, positions, head bias, ln_f
        + 2 * (4 * 128 * 128 + 4 * 128 + 2 * 128 * 512 + 512 + 128 + 4 * 128))  # 2 layers
    losses = {}
    for backend in ("numba", "numpy"):
        autograd.set_backend(backend)
        try:
            step = ours_step("tiny_gpt")
            losses[backend] = [step().item() for _ in range(4)]
        finally:
            autograd.set_backend("numba")
    first = losses["numba"]
    assert abs(first[0] - math.log(65)) < 0.5, first
    assert first[-1] < first[0] - 0.05, first  # AdamW steps lower the loss
    assert np.allclose(losses["numpy"], first, rtol=1e-4), losses
    assert ours_step("tiny_gpt")().item() == first[0]  # seeded: the same first loss


def test_quick_training_section_has_every_model(tmp_path):
    """A real quick run of the training section records one row per model, tiny GPT included."""
    js = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--only", "training",
                           "--json", str(js)], cwd=ROOT, env=_bench_env(), capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [r for r in json.loads(js.read_text())["results"] if r["section"] == "training"]
    assert [r["model"] for r in rows] == ["mlp", "cnn", "cnn64", "tiny_gpt"]
    for r in rows:
        assert 0 < r["seconds"]["ours (numba)"] < 10 and 0 < r["seconds"]["ours (numpy backend)"]
    assert "tiny GPT 2 layers x 4 heads" in proc.stdout


def test_plot_from_json_file(tmp_path):
    src = tmp_path / "r.json"
    src.write_text(json.dumps({"quick": False, "loadavg": ["0.1", "0.2"],
                               "results": fake_results(torch=False)[:2]}))
    assert plot.main([str(src), str(tmp_path / "out")]) == 0
    assert sorted(os.listdir(tmp_path / "out")) == ["matmul.png", "ratios.png"]
    assert plot.main([str(src)]) == 2  # usage


def test_plot_without_matplotlib_fails_before_running(monkeypatch, capsys, tmp_path):
    import bench.__main__ as cli
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(SystemExit) as e:
        cli.main(["--only", "overhead", "--plot", str(tmp_path)])
    assert e.value.code == 2
    assert "--plot needs matplotlib: pip install numbagrad[examples]" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_quick_bench_writes_charts(tmp_path):
    """A real quick run of two sections with --plot and --json, in a child (headless Agg)."""
    env = dict(os.environ, MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    out_dir, js = tmp_path / "charts", tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--only",
                           "overhead,elementwise", "--plot", str(out_dir), "--json", str(js)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(os.listdir(out_dir)) == ["elementwise.png", "overhead.png", "ratios.png"]
    for name in os.listdir(out_dir):
        assert f"chart written to {out_dir / name}" in proc.stdout
        png_size(out_dir / name)
    data = json.loads(js.read_text())
    assert data["quick"] is True and len(data["loadavg"]) == 2
    memory = [r for r in data["results"] if r["section"] == "memory"]
    assert len(memory) == 1 and memory[0]["gbps"] > 0.1
    kernels = [r for r in data["results"] if r["section"] == "elementwise"]
    assert len(kernels) == 10 and all(r["gbps"]["ours"] > 0 for r in kernels)


def _bench_env() -> dict:
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PYTEST_ADDOPTS", None)
    return env


def test_quick_distributed_row(tmp_path):
    """2 MPI ranks x 1 thread against 1 process x 2 threads on the demo CNN, a real quick run:
    fails (not skips) without mpi4py/mpiexec, which the test extra installs."""
    import bench.distributed as bd
    assert bd.unavailable() is None, f"bench distributed needs MPI: {bd.unavailable()}"
    js = tmp_path / "r.json"
    # a session of its own, so a hung run is killed with its mpiexec and both ranks
    proc = subprocess.Popen([sys.executable, "-m", "bench", "--quick", "--only", "distributed",
                             "--json", str(js)], cwd=ROOT, env=_bench_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f"python -m bench --only distributed hung (>120 s): {out[-3000:]}")
    assert proc.returncode == 0, out[-3000:]
    rows = [r for r in json.loads(js.read_text())["results"] if r["section"] == "distributed"]
    assert len(rows) == 1, out[-3000:]
    row = rows[0]
    rates = row["samples_per_s"]
    assert sorted(rates) == ["1 process x 1 thread", "1 process x 2 threads",
                             "2 ranks x 1 thread"]
    assert all(v > 0 for v in rates.values()), rates
    assert row["ratio"] == pytest.approx(rates["2 ranks x 1 thread"]
                                         / rates["1 process x 2 threads"])
    assert row["global_batch"] == 64 and row["per_rank_batch"] == 32
    for k, v in rates.items():
        assert row["samples_per_s_min"][k] <= v <= row["samples_per_s_max"][k]
    assert "demo CNN" in out and f"{row['ratio']:.2f}" in out


@pytest.mark.parametrize("missing", ["mpi4py", "mpiexec"])
def test_distributed_skipped_without_mpi(monkeypatch, capsys, missing):
    """Without mpi4py or mpiexec the section prints one line saying why, records nothing and
    starts nothing."""
    import bench.distributed as bd
    from bench import timing
    if missing == "mpi4py":
        monkeypatch.setitem(sys.modules, "mpi4py", None)  # as if not installed
    else:
        monkeypatch.setattr(bd, "find_mpiexec", lambda: None)

    def no_run(*a, **k):
        raise AssertionError("mpiexec started although MPI is missing")
    monkeypatch.setattr(bd, "run_worker", no_run)
    before = len(timing.RESULTS)
    bd.bench_distributed()
    lines = capsys.readouterr().out.strip().splitlines()
    why = "mpi4py is not installed" if missing == "mpi4py" else "no mpiexec"
    assert len(lines) == 1 and lines[0].startswith(f"distributed: skipped, {why}"), lines
    assert len(timing.RESULTS) == before


def test_find_mpiexec_prefers_the_venv(monkeypatch, tmp_path):
    import bench.distributed as bd
    fake_python = tmp_path / "bin" / "python"
    fake_python.parent.mkdir()
    (tmp_path / "bin" / "mpiexec").write_text("")
    monkeypatch.setattr(sys, "executable", str(fake_python))
    assert bd.find_mpiexec() == str(tmp_path / "bin" / "mpiexec")
    (tmp_path / "bin" / "mpiexec").unlink()
    monkeypatch.setenv("PATH", str(tmp_path))
    assert bd.find_mpiexec() is None


def test_cnn64_workload_steps_alike_on_both_backends():
    """The 3 x (conv-BN-ReLU-pool) CNN on 3x64x64 (batch 16, Adam): 10-way logits, a loss
    near ln(10) at the start, every step changing it, the same on both backends."""
    import math

    import numpy as np

    import autograd
    from bench import workloads
    from bench.training import ours_step

    x, y = workloads.data("cnn64")
    assert x.shape == (16, 3, 64, 64) and y.shape == (16,)
    model = workloads.cnn64(__import__("nn"))
    assert model(autograd.tensor(x)).shape == (16, 10)
    assert workloads.cnn64(__import__("nn"), 128)(autograd.tensor(
        np.zeros((1, 3, 128, 128), np.float32))).shape == (1, 10)
    losses = {}
    for backend in ("numba", "numpy"):
        autograd.set_backend(backend)
        try:
            step = ours_step("cnn64")
            losses[backend] = [step().item() for _ in range(3)]
        finally:
            autograd.set_backend("numba")
    first = losses["numba"]
    assert abs(first[0] - math.log(10)) < 1.0, first
    assert all(math.isfinite(v) for v in first) and len(set(first)) == 3, first  # it steps
    assert np.allclose(losses["numpy"], first, rtol=1e-3), losses


def test_eager_summary_collects_every_measured_ratio():
    from bench import eager
    rows = [{"section": "eager", "case": "pow3", "ratio": 1.25},
            {"section": "overhead", "us_per_op": {"ours fwd+bwd": 6.0, "torch fwd+bwd": 5.0}},
            {"section": "overhead", "us_per_op": {"ours fwd+bwd": 6.0}},  # no torch: no row
            {"section": "training", "model": "mlp", "seconds": {"ours (numba)": 2.0,
                                                                "torch": 4.0}},
            {"section": "eager", "case": "memory", "peak_gb": {"ours": 1.5, "torch": 1.0}},
            {"section": "eager", "case": "memory", "peak_gb": {"ours": 1.5, "torch": None}}]
    got = dict(eager.summary(rows))
    assert got == pytest.approx({"pow3": 1.25, "per-op fwd+bwd vs torch": 1.2,
                                 "mlp step vs torch": 0.5, "peak memory vs torch": 1.5})


def test_quick_eager_section_records_every_row(tmp_path):
    """A real quick run of the eager section: x**3, a*b+c in both orders with page faults,
    the fresh-process matmul, the MLP step under load, the peak memory; each ratio positive."""
    js = tmp_path / "r.json"
    env = _bench_env()
    env.pop("NUMBAGRAD_BENCH_TORCH_PYTHON", None)
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--only", "eager",
                           "--json", str(js)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = {r["case"]: r for r in json.loads(js.read_text())["results"]
            if r["section"] == "eager"}
    cases = {"pow3", "fma_ours_first", "fma_numpy_first", "matmul1024", "mlp_under_load",
             "memory"}
    assert cases <= set(rows), sorted(rows)
    for case in cases - {"memory"}:
        assert rows[case]["ratio"] > 0, rows[case]
    for order in ("ours", "numpy"):
        assert set(rows[f"fma_{order}_first"]["faults"]) == {"ours", "numpy"}
    assert rows["matmul1024"]["blas_threads"] >= 1
    assert 0 < rows["memory"]["peak_gb"]["ours"] < 10
    assert "issue 15 rows measured in this run" in proc.stdout
    assert "page faults/call" in proc.stdout


def test_quick_compiled_section_records_every_row(tmp_path):
    """A real quick run of the compiled section: a*b+c, the chain, every training model, the
    first call in a fresh process; and a compiled step trains as its eager twin."""
    js = tmp_path / "r.json"
    env = _bench_env()
    env.pop("NUMBAGRAD_BENCH_TORCH_PYTHON", None)
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--only", "compiled",
                           "--json", str(js)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = {r["workload"]: r for r in json.loads(js.read_text())["results"]
            if r["section"] == "compiled"}
    assert set(rows) == {"a*b+c", "chain", "mlp", "cnn", "cnn64", "tiny_gpt", "first call"}
    for name, r in rows.items():
        assert all(v > 0 for v in r["seconds"].values()), name
    assert "first call of the compiled MLP step" in proc.stdout


def test_compiled_bench_step_trains_as_the_eager_one():
    from bench.compiled import compiled_training_step
    eager, compiled, inputs = compiled_training_step("mlp")
    for _ in range(3):
        np.testing.assert_allclose(compiled(*inputs).data, eager(*inputs).data, rtol=1e-5)
