"""The command line: `numbagrad demo | bench | gradcheck` (also `python -m autograd ...`).

The CLI sits on top of every layer (the demo trains an nn model with an optim optimiser); it
lives here only so that `python -m autograd` works, and imports nn and optim lazily.
"""
from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="numbagrad", description=(
        "numbagrad: a reverse-mode autograd engine with a PyTorch-like API on numpy + numba."))
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="train a small CNN (or MLP) on the scikit-learn digits",
                          description="Train on the 1,797 8x8 handwritten digits bundled with "
                                      "scikit-learn and print the held-out test accuracy.")
    demo.add_argument("--epochs", type=int, default=12)
    demo.add_argument("--batch-size", type=int, default=32)
    demo.add_argument("--lr", type=float, default=3e-3)
    demo.add_argument("--model", choices=["cnn", "mlp"], default="cnn")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--out", default="checkpoints/demo.ckpt",
                      help="checkpoint written after training (default: %(default)s)")
    demo.add_argument("--resume", metavar="CHECKPOINT",
                      help="continue training from a checkpoint written by --out")
    demo.add_argument("--limit", type=int, default=None,
                      help="train on only the first N training images (quick checks)")
    demo.add_argument("--stop-after", type=int, default=None, metavar="N",
                      help="stop after N epochs, as if interrupted (then use --resume)")
    demo.add_argument("--no-progress", action="store_true", help="no progress bar")

    bench = sub.add_parser("bench", help="run the kernel and training benchmarks (python -m bench)")
    bench.add_argument("args", nargs=argparse.REMAINDER, help="passed on to python -m bench")

    check = sub.add_parser("gradcheck", help="gradient-check a tensor expression",
                           description='e.g. numbagrad gradcheck "(x @ w).tanh().sum()" '
                                       '--shape x=3,4 --shape w=4,2')
    check.add_argument("expression")
    check.add_argument("--shape", action="append", default=[], metavar="NAME=D1,D2",
                       help="an input and its shape (repeat for each input)")
    check.add_argument("--seed", type=int, default=0)
    check.add_argument("--eps", type=float, default=1e-6)
    check.add_argument("--atol", type=float, default=1e-5)
    check.add_argument("--rtol", type=float, default=1e-3)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo
        return run_demo(args)
    if args.command == "bench":
        import runpy
        sys.argv = ["bench", *[a for a in args.args if a != "--"]]
        try:
            runpy.run_module("bench", run_name="__main__")
        except SystemExit as e:
            return int(e.code or 0)
        return 0
    from .gradcheck_cmd import run
    return run(args.expression, args.shape, args.seed, args.eps, args.atol, args.rtol)
