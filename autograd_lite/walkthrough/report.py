"""The walkthrough as text: the table, the training log and the JSON object the command prints.

Pure formatting: each function returns a string and writes nothing.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .compare import Comparison
from .document import SECTIONS
from .training import Training

FOOTNOTE = (
    "* off by more than the document's printed precision: it rounds intermediates before "
    "using them (h = 0.622 in z2; delta2 = -0.405 * 0.241 = -0.0976, exact -0.09744) and "
    "carries that on."
)
"""Explains the rows marked * (printed values off by more than their rounding)."""


def number(x: float) -> str:
    """x with 10 decimals, or in scientific notation when that would hide it or run long.

    >>> number(-0.09743676719), number(2.5e-7), number(1e300), number(float("inf"))
    ('-0.0974367672', '2.500000e-07', '1.000000e+300', 'inf')
    """
    return f"{x:.10f}" if 1e-4 <= abs(x) < 1e5 or x == 0 else f"{x:.6e}"


def table_text(comparison: Comparison) -> str:
    """The walkthrough as text: the network, then each section's rows side by side."""
    rows, eta = comparison.rows, comparison.eta
    show_doc = any(row.document is not None for row in rows)
    shown_inputs = "  ".join(f"{k} = {v:g}" for k, v in comparison.inputs.as_dict().items())
    lines = [
        "Network: x -> hidden neuron (sigmoid) -> output neuron (sigmoid)",
        "Loss:    L = 1/2 (y - y_hat)^2, then one SGD step",
        f"  {shown_inputs}  eta = {eta:g}",
    ]
    if not show_doc:
        lines.append("  (not the document's numbers, so its column is left out)")
    by_name = {row.name: row for row in rows}
    head = f"  {'quantity':<32}" + (f"{'document':>11}  " if show_doc else "")
    head += f"{'hand-derived':>16}  {'autodiff':>16}  {'hand - autodiff':>15}"
    marked = False
    for title, names in SECTIONS:
        lines += ["", title + (f" (eta = {eta:g})" if title.startswith("4") else ""), head]
        for name in names:
            row = by_name[name]
            line = f"  {row.title:<32}"
            if show_doc:
                mark = "*" if row.early_rounded else " "
                marked |= row.early_rounded
                line += f"{row.document:>10g}{mark}  "
            diff = row.hand - row.autodiff
            shown = "0" if row.hand == row.autodiff else f"{diff:.1e}"
            lines.append(line + f"{number(row.hand):>16}  {number(row.autodiff):>16}  {shown:>15}")
    if marked:
        lines += ["", FOOTNOTE]
    return "\n".join(lines) + "\n"


def training_text(training: Training) -> str:
    """The loss per step (every step up to 20, else about 20 lines) and the final parameters."""
    losses = training.losses
    steps = len(losses) - 1
    lines = ["", f"Training: {steps} SGD steps on this network"]
    every = max(1, steps // 20)
    lines += [
        f"  step {i:>6}  L = {number(loss)}"
        for i, loss in enumerate(losses)
        if i % every == 0 or i == steps
    ]
    params = "  ".join(f"{k} = {number(v)}" for k, v in training.parameters.items())
    lines.append(f"  final parameters: {params}")
    return "\n".join(lines) + "\n"


def graph_text(graph: Path) -> str:
    """The line that says where the graph was drawn and what it shows."""
    return (
        f"\nGraph: {graph} (data and gradient on each value, local derivatives on the edges, "
        "neurons grouped)\n"
    )


def _finite_or_null(x: Any) -> Any:
    """JSON has no inf or nan: extreme inputs can overflow a quantity, which becomes null."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _finite_or_null(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite_or_null(v) for v in x]
    return x


def json_text(comparison: Comparison, training: Training | None, graph: Path | None) -> str:
    """Everything as one JSON object (inf and nan as null), with a final newline."""
    result: dict[str, Any] = {
        "inputs": {**comparison.inputs.as_dict(), "eta": comparison.eta},
        "document_setup": comparison.document_setup,
        "quantities": {
            r.name: {"document": r.document, "hand": r.hand, "autodiff": r.autodiff}
            for r in comparison.rows
        },
        "graph": None if graph is None else str(graph),
    }
    if training is not None:
        result["losses"] = training.losses
        result["final_parameters"] = training.parameters
    return json_dump(result)


def json_dump(result: dict[str, Any]) -> str:
    """`result` as indented JSON text (inf and nan as null), with a final newline."""
    return json.dumps(_finite_or_null(result), indent=2, allow_nan=False) + "\n"
