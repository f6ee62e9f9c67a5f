"""`explore(root)`: the stepping page of a graph as an object that Jupyter shows inline.

In a notebook the page sits in an iframe of its own (`srcdoc`, scripts allowed, nothing else):
its element ids cannot clash with the notebook's or another page's, and a notebook that
strips <script> elements from outputs leaves it whole.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..engine.node import Node
from .export import draw_graph, write_rendered
from .page import StepperPage
from .step_table import BackwardSteps

__all__ = ["Explorer", "explore"]

HEADER_PX = 250
"""About how tall the page's header (title, controls, the step's text) and footer are, in
pixels."""

MAX_HEIGHT_PX = 760
"""The tallest an inline page is: a taller graph is fitted into it below the header (zoom
and pan to read it)."""


class Explorer:
    """The stepping page of one graph: `html` (the page), `steps` (the backward steps it
    shows, as `backward_steps` gives them), `save(path)`, and `_repr_html_`, which Jupyter
    calls to show it inline."""

    def __init__(self, page: str, steps: BackwardSteps, height: int) -> None:
        self.html = page
        self.steps = steps
        self.height = height

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to `path` (whole or not at all) and return the path."""
        path = Path(path)
        write_rendered(path, self.html.encode("utf-8"))
        return path

    def _repr_html_(self) -> str:
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" sandbox="allow-scripts" '
            f'title="backpropagation, step by step" style="width: 100%; height: '
            f'{self.height}px; border: 1px solid #dee2e6; border-radius: 6px"></iframe>'
        )

    def __repr__(self) -> str:
        name = self.steps.names[self.steps.output]
        return (
            f"<Explorer of {name}: {len(self.steps)} backward steps; shown inline in Jupyter, "
            f".save('page.html') writes it>"
        )


def explore(
    root: Node,
    *,
    code: Sequence[str | None] | None = None,
    parameters: Sequence[Node] | None = None,
    lr: float | None = None,
    **options: Any,
) -> Explorer:
    """The page that steps through the forward pass and then every chain-rule step of
    backward() on the drawing of the graph below `root`, shown inline in Jupyter.

    The same page as `render_graph(root, "page.html", ...)` writes; `options` are
    draw_graph's; `code`, optional, one line per backward step to show beside it, and
    `parameters` and `lr`, the parameters whose gradients the last step lists and the
    learning rate of the SGD step it shows (see `render_graph`). The graph is laid out now,
    so a missing `dot` raises `RenderError`, and a graph beyond `max_nodes`
    `GraphTooLargeError`, as for a drawing. Nothing is written to the nodes: the page shows
    one backward pass whatever `.grad` holds.
    """
    draw_graph(root, **options)  # the options and the graph's size are checked first
    page = StepperPage(root, options, code, parameters=parameters, lr=lr)
    svg = draw_graph(root, **page.drawing_options(options)).pipe(format="svg").decode("utf-8")
    found = re.search(r'<svg width="[\d.]+pt" height="([\d.]+)pt"', svg)
    graph_px = float(found.group(1)) * 4 / 3 if found else MAX_HEIGHT_PX
    height = int(min(MAX_HEIGHT_PX, HEADER_PX + graph_px + 20))
    return Explorer(page.html(svg), page.steps, height)
