"""The documentation stays true to the code: the Python examples of docs/porting.md and the
README's first example run; every public name of autograd, nn and optim is in
docs/api.md, and every name docs/api.md lists exists; the README and docs/ link only to
files of the repository (never to ../shared)."""
from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import autograd

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "docs" / "api.md"
PORTING = ROOT / "docs" / "porting.md"
README = ROOT / "README.md"

# the modules whose __all__ docs/api.md must cover (autograd.kernels is described as a
# whole: its kernels are listed in docs/architecture.md)
DOCUMENTED_MODULES = ("autograd", "autograd.functional", "autograd.data", "autograd.nn_ops",
                      "autograd.errors", "autograd.distributed", "nn", "nn.functional",
                      "nn.init", "nn.utils", "nn.parallel", "optim", "optim.lr_scheduler")


def python_blocks(path: Path) -> list[str]:
    """The ```python fenced blocks of a markdown file, in order."""
    return re.findall(r"^```python\n(.*?)^```", path.read_text(), flags=re.DOTALL | re.MULTILINE)


def run_example(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OPENBLAS_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


EXAMPLES = [(f"porting-{i}", code) for i, code in enumerate(python_blocks(PORTING))]
EXAMPLES.append(("readme-0", python_blocks(README)[0]))


def test_porting_guide_has_an_example_script():
    assert len(EXAMPLES) >= 2
    assert "import autograd" in EXAMPLES[0][1] and "optim." in EXAMPLES[0][1]


@pytest.mark.parametrize("code", [c for _, c in EXAMPLES], ids=[n for n, _ in EXAMPLES])
def test_documented_examples_run(code):
    done = run_example(code)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]


def documented_names() -> set[str]:
    """The first column of every table in docs/api.md: `name` entries."""
    return set(re.findall(r"^\| `([^`]+)` \|", API.read_text(), flags=re.MULTILINE))


def public_names() -> list[str]:
    names = []
    for module in DOCUMENTED_MODULES:
        mod = importlib.import_module(module)
        names += [f"{module}.{n}" for n in mod.__all__]
    names += [f"Tensor.{n}" for n in dir(autograd.Tensor) if not n.startswith("_")]
    return names


def spelled(name: str) -> str:
    """How api.md spells a name: nn.functional.X as F.X, autograd.Tensor.X as Tensor.X."""
    return re.sub(r"^nn\.functional\.", "F.", name)


def test_every_public_name_is_in_the_api_reference():
    documented = documented_names()
    missing = [n for n in public_names() if n not in documented and spelled(n) not in documented]
    assert missing == [], f"docs/api.md lacks {missing}"


def resolve(name: str):
    """The object a documented name stands for (F. is nn.functional, Tensor. autograd's)."""
    name = re.sub(r"^F\.", "nn.functional.", name)
    name = re.sub(r"^Tensor\.", "autograd.Tensor.", name)
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(name)


def test_every_name_in_the_api_reference_exists():
    for name in sorted(documented_names()):
        resolve(name)  # raises AttributeError / ImportError for a stale line


def test_docs_link_only_to_files_in_the_repository():
    for path in [README, *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text()
        assert "../shared" not in text, f"{path.name} points outside the repository"
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" in target:
                continue
            assert (path.parent / target).exists(), f"{path.name} links to missing {target}"


def test_readme_links_the_documentation():
    text = README.read_text()
    for doc in ("docs/api.md", "docs/porting.md", "docs/architecture.md"):
        assert f"]({doc})" in text


# what docs/porting.md's "Not there yet" section says is missing, one probe per bullet: when
# a probe stops raising, the feature landed and the guide must move it up
NOT_THERE_YET = {
    "layers": "import nn; nn.TransformerDecoderLayer",
}


@pytest.mark.parametrize("probe", list(NOT_THERE_YET.values()), ids=list(NOT_THERE_YET))
def test_what_the_porting_guide_calls_missing_is_missing(probe):
    assert "## Not there yet" in PORTING.read_text()
    with pytest.raises((AttributeError, ImportError, RuntimeError)):
        exec(probe, {})  # noqa: S102 - a fixed probe string of this file
