"""The `autograd-lite` command: the document's worked example, by hand and by autodiff.

`autograd-lite` and `python -m autograd_lite` run `main`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .document import DOCUMENT_ETA, DOCUMENT_INPUTS, build_network
from .render import FORMATS, RenderError, render_graph
from .walkthrough import SECTIONS, Row, Training, compare, is_document_setup, train

DEFAULT_OUT = "document_graph.png"
"""Where the graph is drawn unless --out says otherwise."""

EXAMPLES = """\
examples:
  autograd-lite                          the document's example, graph in document_graph.png
  autograd-lite --steps 100              then 100 SGD steps, showing the loss fall
  autograd-lite --x 0.5 --y 0 --lr 0.5   the same network on other numbers
  autograd-lite --out graph.svg          the graph as SVG (.png .svg .pdf .dot)
  autograd-lite --json --no-render       the numbers as one JSON object
"""
"""The examples --help shows."""

FOOTNOTE = (
    "* off by more than the document's printed precision: it rounds intermediates before "
    "using them (h = 0.622 in z2; delta2 = -0.405 * 0.241 = -0.0976, exact -0.09744) and "
    "carries that on."
)
"""Explains the rows marked * (printed values off by more than their rounding)."""


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
    """The command's argument parser."""
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
    for name, default in DOCUMENT_INPUTS.items():
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


def _num(x: float) -> str:
    return f"{x:.10f}" if abs(x) >= 1e-4 or x == 0 else f"{x:.6e}"


def print_table(rows: list[Row], inputs: dict[str, float], eta: float, out: TextIO) -> None:
    """The walkthrough as text: network, then each section's rows side by side."""
    show_doc = any(row.document is not None for row in rows)
    print("Network: x -> hidden neuron (sigmoid) -> output neuron (sigmoid)", file=out)
    print("Loss:    L = 1/2 (y - y_hat)^2, then one SGD step", file=out)
    print(
        "  " + "  ".join(f"{k} = {v:g}" for k, v in inputs.items()) + f"  eta = {eta:g}", file=out
    )
    if not show_doc:
        print("  (not the document's numbers, so its column is left out)", file=out)
    by_name = {row.name: row for row in rows}
    head = f"  {'quantity':<32}" + (f"{'document':>11}  " if show_doc else "")
    head += f"{'hand-derived':>16}  {'autodiff':>16}  {'hand - autodiff':>15}"
    marked = False
    for title, names in SECTIONS:
        print(f"\n{title}" + (f" (eta = {eta:g})" if title.startswith("4") else ""), file=out)
        print(head, file=out)
        for name in names:
            row = by_name[name]
            line = f"  {row.title:<32}"
            if show_doc:
                mark = "*" if row.early_rounded else " "
                marked |= row.early_rounded
                line += f"{row.document:>10g}{mark}  "
            diff = row.hand - row.autodiff
            shown = "0" if row.hand == row.autodiff else f"{diff:.1e}"
            line += f"{_num(row.hand):>16}  {_num(row.autodiff):>16}  {shown:>15}"
            print(line, file=out)
    if marked:
        print(f"\n{FOOTNOTE}", file=out)


def print_training(training: Training, out: TextIO) -> None:
    """The loss per step (every step up to 20, else about 20 lines) and the final parameters."""
    losses = training.losses
    steps = len(losses) - 1
    print(f"\nTraining: {steps} SGD steps on this network", file=out)
    every = max(1, steps // 20)
    for i, loss in enumerate(losses):
        if i % every == 0 or i == steps:
            print(f"  step {i:>6}  L = {loss:.10f}", file=out)
    params = "  ".join(f"{k} = {v:.10f}" for k, v in training.parameters.items())
    print(f"  final parameters: {params}", file=out)


def _render(inputs: dict[str, float], path: Path) -> Path:
    net = build_network(**inputs)
    net.L.backward()
    return render_graph(net.L, path, edge_derivatives=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the walkthrough; returns the exit code (0, 1 for a runtime error, 2 for usage)."""
    try:
        return _run(build_parser().parse_args(argv))
    except BrokenPipeError:  # e.g. `autograd-lite | head`: stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _finite_or_null(x: Any) -> Any:
    """JSON has no inf or nan: extreme inputs can overflow a quantity, which becomes null."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _finite_or_null(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite_or_null(v) for v in x]
    return x


def _run(args: argparse.Namespace) -> int:
    inputs = {name: getattr(args, name) for name in DOCUMENT_INPUTS}
    eta: float = args.lr
    rows = compare(inputs, eta)
    training = train(inputs, eta, args.steps) if args.steps else None
    graph: Path | None = None
    error: str | None = None
    if not args.no_render:
        try:
            graph = _render(inputs, args.out)
        except RenderError as exc:
            error = str(exc)
    if args.json:
        result: dict[str, Any] = {
            "inputs": {**inputs, "eta": eta},
            "document_setup": is_document_setup(inputs, eta),
            "quantities": {
                r.name: {"document": r.document, "hand": r.hand, "autodiff": r.autodiff}
                for r in rows
            },
            "graph": None if graph is None else str(graph),
        }
        if training is not None:
            result["losses"] = training.losses
            result["final_parameters"] = training.parameters
        json.dump(_finite_or_null(result), sys.stdout, indent=2, allow_nan=False)
        print()
    else:
        print_table(rows, inputs, eta, sys.stdout)
        if training is not None:
            print_training(training, sys.stdout)
        if graph is not None:
            print(
                f"\nGraph: {graph} (data and gradient on each value, local derivatives on "
                "the edges, neurons grouped)"
            )
    if error is not None:
        print(f"autograd-lite: error: could not draw the graph: {error}", file=sys.stderr)
        return 1
    return 0
