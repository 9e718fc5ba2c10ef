"""The command line: `numbagrad demo | bench | gradcheck` (also `python -m autograd ...`).

The CLI sits on top of every layer (the demo trains an nn model with an optim optimiser); it
lives here only so that `python -m autograd` works, and imports nn and optim lazily. Usage
errors are one line on stderr with exit status 2 (see `arguments.py`).
"""
from __future__ import annotations

import argparse
import importlib.util
import sys

from .arguments import OneLineParser, report


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="numbagrad", description=(
        "numbagrad: a reverse-mode autograd engine with a PyTorch-like API on numpy + numba."))
    sub = parser.add_subparsers(dest="command", required=True)

    from .demo import add_arguments as add_demo_arguments
    demo = sub.add_parser("demo", help="train a small CNN (or MLP) on the scikit-learn digits",
                          description="Train on the 1,797 8x8 handwritten digits bundled with "
                                      "scikit-learn and print the held-out test accuracy.")
    add_demo_arguments(demo)

    # Never parsed here: main() hands everything after "bench" to bench's own parser, so that
    # its options (--quick, --only, --json, ...) reach it untouched. Listed for --help only.
    sub.add_parser("bench", add_help=False,
                   help="run the kernel and training benchmarks (options: numbagrad bench -h)")

    from .gradcheck_cmd import add_arguments as add_gradcheck_arguments
    check = sub.add_parser("gradcheck", help="gradient-check a tensor expression",
                           description='e.g. numbagrad gradcheck "(x @ w).tanh().sum()" '
                                       '--shape x=3,4 --shape w=4,2 (an expression that '
                                       'starts with "-" goes last, after "--")')
    add_gradcheck_arguments(check)
    return parser


def run_bench(argv: list[str]) -> int:
    """Run `python -m bench` with `argv` as its command line, exactly as given (a leading
    "--", once needed to get options past this parser, is dropped)."""
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if importlib.util.find_spec("bench") is None:
        return report("numbagrad bench", "the benchmarks (the bench/ package) are not "
                                         "installed: run from a source checkout of numbagrad")
    import runpy
    saved = sys.argv
    sys.argv = ["python -m bench", *argv]
    try:
        runpy.run_module("bench", run_name="__main__", alter_sys=True)
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            return e.code or 0
        print(e.code, file=sys.stderr)
        return 1
    finally:
        sys.argv = saved
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:
        return run_bench(argv[1:])
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo
        return run_demo(args)
    from .gradcheck_cmd import run
    return run(args.expression, args.shape, args.seed, args.eps, args.atol, args.rtol,
               args.domain, args.time_limit)
