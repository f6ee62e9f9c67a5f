"""Drawing computation graphs with Graphviz (being written: issue 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .value import Value


def draw_graph(root: Value, **options: Any) -> Any:
    """The graph below `root` as a graphviz.Digraph."""
    raise NotImplementedError


def render_graph(root: Value, path: str | Path, **options: Any) -> Path:
    """Write the drawing of the graph below `root` to `path` (.png .svg .pdf .dot)."""
    raise NotImplementedError
