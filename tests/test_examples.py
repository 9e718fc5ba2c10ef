"""The examples/ scripts are PyTorch code; each runs on numbagrad after rewriting its import
lines only (API.md part 2, "Porting"), and its loss goes down.

`rewrite_imports` applies the porting table mechanically: it touches import lines only and
refuses a torch import the table does not cover, so a script cannot pass by leaning on a
hand edit. Each rewritten script runs in a subprocess for a few optimiser steps (`--steps`)
with a timeout, and must print an "initial loss" and a lower "final loss".
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))

# API.md part 2, "Porting": PyTorch line -> numbagrad line
TABLE = [
    (r"import torch", "import autograd as torch"),
    (r"import torch\.nn as nn", "import nn"),
    (r"from torch import nn", "import nn"),
    (r"import torch\.nn\.functional as F", "import nn.functional as F"),
    (r"import torch\.optim as optim", "import optim"),
    (r"from torch\.utils\.data import (.+)", r"from autograd.data import \1"),
]
_TORCH_IMPORT = re.compile(r"\s*(import|from)\s+torch\b")


def rewrite_imports(source: str) -> str:
    """The porting table applied to `source`: each import line it lists is replaced
    (indentation kept), every other line is left byte for byte; a torch import the table
    does not list raises ValueError."""
    out = []
    for number, line in enumerate(source.splitlines(keepends=True), 1):
        stripped = line.strip()
        for pattern, replacement in TABLE:
            if re.fullmatch(pattern, stripped):
                indent = line[:len(line) - len(line.lstrip())]
                ending = line[len(line.rstrip("\r\n")):]
                line = indent + re.sub(pattern, replacement, stripped) + ending
                break
        else:
            if _TORCH_IMPORT.match(line):
                raise ValueError(f"line {number}: {stripped!r} is not in the porting table")
        out.append(line)
    return "".join(out)


def test_rewrite_imports_maps_each_table_line() -> None:
    source = ("import torch\nimport torch.nn as nn\nfrom torch import nn\n"
              "import torch.nn.functional as F\nimport torch.optim as optim\n"
              "from torch.utils.data import DataLoader, TensorDataset\n"
              "    import torch\n"
              "x = torch.zeros(2)  # import torch\n")
    assert rewrite_imports(source) == (
        "import autograd as torch\nimport nn\nimport nn\nimport nn.functional as F\n"
        "import optim\nfrom autograd.data import DataLoader, TensorDataset\n"
        "    import autograd as torch\n"
        "x = torch.zeros(2)  # import torch\n")


@pytest.mark.parametrize("line", ["import torch.nn.init as init",
                                  "from torch.optim.lr_scheduler import StepLR",
                                  "from torch.nn import functional as F",
                                  "  import torch.optim"])
def test_rewrite_imports_refuses_unlisted_torch_imports(line: str) -> None:
    with pytest.raises(ValueError, match="not in the porting table"):
        rewrite_imports(f"import os\n{line}\n")


def test_examples_exist_and_only_their_imports_change() -> None:
    assert len(EXAMPLES) >= 4, EXAMPLES
    for path in EXAMPLES:
        source = path.read_text()
        rewritten = rewrite_imports(source)
        assert "import torch\n" in source  # written as PyTorch code
        changed = [(a, b) for a, b in zip(source.splitlines(), rewritten.splitlines())
                   if a != b]
        assert changed and all(re.match(r"(import|from) ", a) for a, _ in changed), changed
        assert len(source.splitlines()) == len(rewritten.splitlines())


def _loss(text: str, which: str) -> float:
    match = re.search(rf"^{which} loss ([-+0-9.eE]+|nan|inf)", text, re.MULTILINE)
    assert match, f"no '{which} loss' line in the output:\n{text[-2000:]}"
    return float(match.group(1))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_after_import_rewrite(path: Path, tmp_path: Path) -> None:
    script = tmp_path / path.name
    script.write_text(rewrite_imports(path.read_text()))
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    result = subprocess.run([sys.executable, str(script), "--steps", "25"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    initial, final = _loss(out, "initial"), _loss(out, "final")
    assert final < 0.9 * initial, (initial, final)
