"""Run every course notebook in notebooks/ top to bottom, headless; any cell error fails.

Each notebook ends with a cell of `assert`s on the numbers its prose states, so a regression in
autograd / nn / optim that changes what a lecture demonstrates fails here. Needs the optional
packages nbclient, nbformat, ipykernel, matplotlib and scikit-learn (skipped without them).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(autouse=True)
def _kernel_env(monkeypatch):
    """The kernel inherits this environment: the repo on its path, a headless matplotlib,
    and one BLAS thread (small matrices; avoids BLAS and numba's pools fighting)."""
    pythonpath = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + (os.pathsep + pythonpath if pythonpath else ""))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # ipykernel then uses the inline backend
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    # jupyter_client starts a kernel spec whose argv is "python" with sys.executable, so the
    # kernel runs in this interpreter's environment (the venv with numbagrad's dependencies).
    client.execute()  # raises CellExecutionError naming the cell and the traceback


def test_notebooks_exist() -> None:
    assert len(NOTEBOOKS) >= 1, "no notebooks found in notebooks/"
