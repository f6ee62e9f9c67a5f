"""The `autograd-lite` command: the document's worked example, by hand and by autodiff.

`autograd-lite` and `python -m autograd_lite` run `main`. This module reads the arguments,
runs the walkthrough and writes what report.py formats; it turns every way the output can
fail (Ctrl-C, a closed pipe, a full disk, a terminal that cannot encode a path) into a short
message and an exit code instead of a traceback.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..codegen import backward_code
from ..render import FORMATS, RANKDIRS, RenderError, render_graph
from .compare import compare
from .forward import forward_mode, forward_text, with_forward
from .network import (
    DOCUMENT_ETA,
    DOCUMENT_INPUTS,
    INPUT_NAMES,
    PARAMETERS,
    Inputs,
    build_network,
)
from .report import graph_text, json_text, table_text, training_text
from .training import train

DEFAULT_OUT = "document_graph.png"
"""Where the graph is drawn unless --out says otherwise."""

MAX_STEPS = 100_000
"""The most SGD steps --steps runs (about 5 s at 50 µs a step), so a typo cannot run forever."""

EXIT_INTERRUPTED = 130
"""Exit code after Ctrl-C: 128 + SIGINT, as shells report a command that Ctrl-C stopped."""

EXIT_BROKEN_PIPE = 141
"""Exit code when the reader of stdout went away (`| head`): 128 + SIGPIPE, as shells report
for a command that a closed pipe stopped, so `set -o pipefail` scripts see it was cut short."""

EXAMPLES = f"""\
examples:
  autograd-lite                          the document's example, graph in document_graph.png
  autograd-lite --steps 100              then 100 SGD steps, showing the loss fall
  autograd-lite --x 0.5 --y 0 --lr 0.5   the same network on other numbers
  autograd-lite --y -1e-3                negative numbers in any notation (or --y=-1e-3)
  autograd-lite --out graph.svg          the graph as SVG (.png .svg .pdf .dot)
  autograd-lite --out walkthrough.html   a page that steps through backprop on the graph
  autograd-lite --out page.html --rankdir LR   the same, the graph drawn left to right
  autograd-lite --json                   the numbers as one JSON object (no graph drawn)
  autograd-lite --mode forward           also the four gradients by forward mode, one pass each
  autograd-lite --code                   the forward and backward pass as Python code

the example told in full, every formula and number: docs/worked_example.md in the
  autograd-lite source (notebooks in examples/: tutorial, matrix form, check your derivation)

exit codes: 0 done, 1 the graph or the output could not be written, 2 usage error,
  {EXIT_INTERRUPTED} interrupted (Ctrl-C), {EXIT_BROKEN_PIPE} the output was closed early \
(e.g. | head)
"""
"""The examples and exit codes --help shows."""

# argparse reads an argument that starts with "-" as an option unless it looks like a plain
# negative number ("-1", "-.5"); widen that to every float notation ("-1e-3", "-inf") so
# negative numbers work as option values. The command has no option that starts this way.
_NEGATIVE_NUMBER = re.compile(r"^-(?:\.?\d|inf|nan)", re.IGNORECASE)


class _OutputError(Exception):
    """Writing to stdout failed; the OSError is its cause."""


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
    if not 0 <= value <= MAX_STEPS:
        raise argparse.ArgumentTypeError(f"must be from 0 to {MAX_STEPS}, got {text!r}")
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
        "--steps",
        type=_steps,
        default=0,
        help=f"then run N SGD steps, 0 to {MAX_STEPS}, and show the loss (default 0)",
    )
    parser.add_argument(
        "--out",
        type=_out_path,
        help=(
            f"where to draw the graph: .png .svg .pdf or .dot, or .html for a page that steps "
            f"through the forward and backward pass (default {DEFAULT_OUT}; with --json the "
            "graph is drawn only when --out is given)"
        ),
    )
    parser.add_argument(
        "--rankdir",
        choices=RANKDIRS,
        help="the drawing's direction: TB top to bottom (the default for pictures), LR left "
        "to right (the default for an .html page, which fits it to the screen), BT, RL",
    )
    parser.add_argument(
        "--no-render", action="store_true", help="do not draw the graph (not with --out)"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object instead (inf and nan as null; no graph unless --out)",
    )
    parser.add_argument(
        "--mode",
        choices=("reverse", "forward"),
        default="reverse",
        help="forward: also compute the four gradients in forward mode, one pass per "
        "parameter with its tangents, beside reverse mode's one pass (default reverse)",
    )
    parser.add_argument(
        "--code",
        action="store_true",
        help="print the network's forward and backward pass as Python code (backward_code), "
        "one statement per op and per chain-rule step, and nothing else",
    )
    parser.add_argument("--version", action="version", version=f"autograd-lite {__version__}")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The parsed command line; a usage error (exit 2) for contradicting options."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.no_render and args.out is not None:
        parser.error(f"--out {args.out} asks for a drawing and --no-render for none; drop one")
    clash = [f"--{o}" for o in ("json", "steps", "out") if getattr(args, o)]
    clash += [f"--mode {args.mode}"] if args.mode != "reverse" else []
    if args.code and clash:
        parser.error(f"--code prints the code alone; drop {' and '.join(clash)}")
    return args


def _write(text: str) -> None:
    """Write text to stdout now; what its encoding cannot show is written as escapes."""
    stream = sys.stdout
    encoding = stream.encoding or "utf-8"
    # A path the terminal cannot encode (é under PYTHONIOENCODING=ascii, undecodable bytes
    # from the file system) is shown as \xe9 or \udcff rather than crash the print.
    text = text.encode(encoding, "backslashreplace").decode(encoding)
    try:
        stream.write(text)
        stream.flush()
    except OSError as exc:
        raise _OutputError(exc) from exc


def _say(message: str) -> None:
    print(f"autograd-lite: {message}", file=sys.stderr)


def _detach_stdout() -> None:
    # What stdout still buffers would fail again when Python flushes it at exit (and print
    # "Exception ignored"): point the descriptor at /dev/null so that flush succeeds.
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # no real descriptor (stdout replaced, e.g. in a test)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the walkthrough and return the exit code (see `EXAMPLES` for what each means)."""
    try:
        return _run(parse_args(argv))
    except KeyboardInterrupt:
        _say("interrupted")
        return EXIT_INTERRUPTED
    except _OutputError as exc:
        _detach_stdout()
        cause = exc.__cause__
        if isinstance(cause, BrokenPipeError):  # e.g. `autograd-lite | head`: stop quietly
            return EXIT_BROKEN_PIPE
        reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else cause
        _say(f"error: could not write the output: {reason}")
        return 1


def _run(args: argparse.Namespace) -> int:
    inputs = Inputs(**{name: getattr(args, name) for name in INPUT_NAMES})
    if args.code:  # x, y and the parameters are the function's arguments, in this order
        net = build_network(inputs)
        _write(backward_code(net.L, [getattr(net, name) for name in INPUT_NAMES]))
        return 0
    comparison = compare(inputs, eta=args.lr)  # the one network of this run
    forward = forward_mode(comparison) if args.mode == "forward" else None
    if not args.json:
        _write(table_text(comparison))  # before training: the table shows while it runs
        if forward is not None:
            _write(forward_text(forward))
    training = train(comparison, args.steps) if args.steps else None
    if training is not None and not args.json:
        _write(training_text(training))
    graph: Path | None = None
    error: str | None = None
    if not args.no_render and (args.out is not None or not args.json):
        net = comparison.network
        path = args.out or Path(DEFAULT_OUT)
        # A page ends with the four gradients and the SGD step the walkthrough takes.
        options: dict[str, Any] = {"edge_derivatives": True}
        if args.rankdir is not None:
            options["rankdir"] = args.rankdir
        if path.suffix.lower() == ".html":
            options.update(parameters=[getattr(net, n) for n in PARAMETERS], lr=args.lr)
        try:
            graph = render_graph(net.L, path, **options)
        except RenderError as exc:
            error = str(exc)
    if args.json:
        text = json_text(comparison, training, graph)
        _write(text if forward is None else with_forward(text, forward))
    elif graph is not None:
        _write(graph_text(graph))
        if graph.suffix.lower() == ".html":
            _write("Open it in a browser to step through the passes (keys: ← →).\n")
    if error is not None:
        _say(f"error: could not draw the graph: {error}")
        return 1
    return 0
