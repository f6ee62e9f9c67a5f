"""The `autograd-lite` command: the document's worked example, by hand and by autodiff.

`autograd-lite` and `python -m autograd_lite` run `main`. This module reads the arguments,
runs the walkthrough and writes what report.py formats.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import __version__
from ..render import FORMATS, RenderError, render_graph
from .compare import compare
from .network import DOCUMENT_ETA, DOCUMENT_INPUTS, INPUT_NAMES, Inputs
from .report import graph_text, json_text, table_text, training_text
from .training import train

DEFAULT_OUT = "document_graph.png"
"""Where the graph is drawn unless --out says otherwise."""

EXAMPLES = """\
examples:
  autograd-lite                          the document's example, graph in document_graph.png
  autograd-lite --steps 100              then 100 SGD steps, showing the loss fall
  autograd-lite --x 0.5 --y 0 --lr 0.5   the same network on other numbers
  autograd-lite --y -1e-3                negative numbers in any notation (or --y=-1e-3)
  autograd-lite --out graph.svg          the graph as SVG (.png .svg .pdf .dot)
  autograd-lite --json --no-render       the numbers as one JSON object
"""
"""The examples --help shows."""


# argparse reads an argument that starts with "-" as an option unless it looks like a plain
# negative number ("-1", "-.5"); widen that to every float notation ("-1e-3", "-inf") so
# negative numbers work as option values. The command has no option that starts this way.
_NEGATIVE_NUMBER = re.compile(r"^-(?:\.?\d|inf|nan)", re.IGNORECASE)


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def _positive(text: str) -> float:
    value = _finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
    return value


def _steps(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return value


def _out_path(text: str) -> Path:
    path = Path(text)
    if path.suffix.lower() not in FORMATS:
        raise argparse.ArgumentTypeError(
            f"unknown extension {path.suffix or '(none)'!r} in {text!r}; use one of "
            + " ".join(FORMATS)
        )
    return path


def build_parser() -> argparse.ArgumentParser:
    """The command's argument parser (negative numbers in any notation read as values)."""
    parser = argparse.ArgumentParser(
        prog="autograd-lite",
        description=(
            "Reproduce the worked example of backpropagation (x -> sigmoid hidden neuron -> "
            "sigmoid output, loss 1/2 (y - y_hat)^2, one SGD step) step by step: the document's "
            "printed numbers, the hand-derived formulas and autograd-lite's autodiff side by "
            "side, and the computation graph as a picture."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser._negative_number_matcher = _NEGATIVE_NUMBER
    for name, default in DOCUMENT_INPUTS.as_dict().items():
        what = "input" if name == "x" else "target" if name == "y" else "parameter"
        parser.add_argument(
            f"--{name}", type=_finite, default=default, help=f"{what} (default {default})"
        )
    parser.add_argument(
        "--lr",
        type=_positive,
        default=DOCUMENT_ETA,
        help=f"learning rate eta (default {DOCUMENT_ETA})",
    )
    parser.add_argument(
        "--steps", type=_steps, default=0, help="then run N SGD steps and show the loss (default 0)"
    )
    parser.add_argument(
        "--out",
        type=_out_path,
        default=Path(DEFAULT_OUT),
        help=f"where to draw the graph: .png .svg .pdf or .dot (default {DEFAULT_OUT})",
    )
    parser.add_argument("--no-render", action="store_true", help="do not draw the graph")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.add_argument("--version", action="version", version=f"autograd-lite {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the walkthrough; returns the exit code (0, 1 for a runtime error, 2 for usage)."""
    try:
        return _run(build_parser().parse_args(argv))
    except BrokenPipeError:  # e.g. `autograd-lite | head`: stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _run(args: argparse.Namespace) -> int:
    inputs = Inputs(**{name: getattr(args, name) for name in INPUT_NAMES})
    comparison = compare(inputs, eta=args.lr)  # the one network of this run
    training = train(comparison, args.steps) if args.steps else None
    graph: Path | None = None
    error: str | None = None
    if not args.no_render:
        try:
            graph = render_graph(comparison.network.L, args.out, edge_derivatives=True)
        except RenderError as exc:
            error = str(exc)
    if args.json:
        sys.stdout.write(json_text(comparison, training, graph))
    else:
        sys.stdout.write(table_text(comparison))
        if training is not None:
            sys.stdout.write(training_text(training))
        if graph is not None:
            sys.stdout.write(graph_text(graph))
    if error is not None:
        print(f"autograd-lite: error: could not draw the graph: {error}", file=sys.stderr)
        return 1
    return 0
