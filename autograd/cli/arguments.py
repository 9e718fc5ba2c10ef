"""Argument parsing shared by the commands: one-line errors and validating argument types.

Every usage error of `numbagrad` is one line on stderr and exit status 2 (argparse's own
convention for usage errors), never a traceback: scripts can grep it, people can read it.
"""
from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from typing import NoReturn

USAGE_ERROR = 2


class UsageError(ValueError):
    """A command's input is invalid; the message is printed as one line and the exit is 2."""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line ("prog: error: ...") instead of usage+error."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: error: {one_line(message)} "
                               f"(see {self.prog} --help)\n")


def one_line(message: object, limit: int = 400) -> str:
    """`message` as a single line of at most `limit` characters (exception texts may span
    several lines or quote a huge value)."""
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def report(prog: str, message: object) -> int:
    """Print `prog: error: message` as one line on stderr and return the usage exit status."""
    print(f"{prog}: error: {one_line(message)}", file=sys.stderr)
    sys.stderr.flush()
    return USAGE_ERROR


def _integer(text: str) -> int:
    text = text.strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isascii() or not digits.isdigit():
        raise argparse.ArgumentTypeError(f"expected an integer, got {text[:40]!r}")
    if len(digits) > 18:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is far too large")
    return int(text)


def int_in(lo: int, hi: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer with lo <= value (<= hi)."""
    def parse(text: str) -> int:
        value = _integer(text)
        if value < lo or (hi is not None and value > hi):
            bound = f"at least {lo:,}" if hi is None else f"between {lo:,} and {hi:,}"
            raise argparse.ArgumentTypeError(f"must be an integer {bound}, got {value:,}")
        return value
    parse.__name__ = "integer"
    return parse


def float_in(lo: float, hi: float = math.inf, *, lo_open: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite float with lo (<) <= value <= hi."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text[:40]!r}") from None
        below = value <= lo if lo_open else value < lo
        if not math.isfinite(value) or below or value > hi:
            bound = f"{'>' if lo_open else '>='} {lo:g}" + (f" and <= {hi:g}" if hi < math.inf
                                                           else "")
            raise argparse.ArgumentTypeError(f"must be a finite number {bound}, got {text!r}")
        return value
    parse.__name__ = "number"
    return parse
