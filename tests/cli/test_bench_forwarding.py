"""`numbagrad bench ARGS` hands ARGS to `python -m bench` untouched (argparse.REMAINDER used
to reject every option: "unrecognized arguments: --quick")."""
from __future__ import annotations

import json

from .helpers import run_cli

_FAKE_MAIN = "import json, sys\nprint(json.dumps(sys.argv[1:]))\nsys.exit(3)\n"


def test_every_option_reaches_bench_untouched(tmp_path):
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "__init__.py").write_text("")
    (tmp_path / "bench" / "__main__.py").write_text(_FAKE_MAIN)
    args = ["--quick", "--only", "matmul,conv", "--json", "out.json", "--plot", "plots", "--",
            "-x"]
    proc = run_cli("bench", *args, cwd=str(tmp_path), pythonpath=(str(tmp_path),))
    assert proc.returncode == 3, proc.stderr  # bench's own exit status comes back
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == args
    old_style = run_cli("bench", "--", "--quick", cwd=str(tmp_path), pythonpath=(str(tmp_path),))
    assert json.loads(old_style.stdout.strip().splitlines()[-1]) == ["--quick"]


def test_real_bench_parser_sees_the_options():
    proc = run_cli("bench", "--help")
    assert proc.returncode == 0, proc.stderr
    for flag in ("--quick", "--only", "--json"):
        assert flag in proc.stdout
    bad = run_cli("bench", "--quick", "--only", "nosuch")
    assert bad.returncode == 2 and "unknown section" in bad.stderr
    assert "unrecognized arguments" not in bad.stderr
