"""Drawing computation graphs with Graphviz: what the engine recorded and how gradients flow.

`draw_graph(root)` gives a `graphviz.Digraph` (it displays inline in Jupyter);
`render_graph(root, "graph.png")` writes a PNG, SVG, PDF or the DOT text alone.
`dot` builds the DOT text (labels, boxes, colours); `export` runs Graphviz and writes files.
"""

from .dot import GraphTooLargeError
from .export import FORMATS, INSTALL_HINT, Drawing, RenderError, draw_graph, render_graph

__all__ = [
    "FORMATS",
    "INSTALL_HINT",
    "Drawing",
    "GraphTooLargeError",
    "RenderError",
    "draw_graph",
    "render_graph",
]
