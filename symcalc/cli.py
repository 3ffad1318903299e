"""The ``symcalc`` command line: parse arguments, call the API, print the result."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from . import calculus
from .printing import to_str


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="symcalc", description="Derivatives of formulas.")
    commands = parser.add_subparsers(dest="command", required=True)
    diff = commands.add_parser("diff", help="derivative", epilog='example: symcalc diff "sin(x)*exp(x)" x')
    diff.add_argument("formula")
    diff.add_argument("variables", nargs="*")
    diff.add_argument("--order", type=int, default=1)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    args = _build_parser().parse_args(argv)
    try:
        spec = [v for name in args.variables for v in (name, args.order)]
        print(to_str(calculus.diff(args.formula, *spec)))
    except (ValueError, TypeError) as exc:
        print(f"symcalc: error: {exc}", file=sys.stderr)
        return 2
    return 0
