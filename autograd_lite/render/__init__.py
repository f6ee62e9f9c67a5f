"""Drawing computation graphs with Graphviz: what the engine recorded and how gradients flow.

`draw_graph(root)` gives a `graphviz.Digraph` (it displays inline in Jupyter);
`render_graph(root, "graph.png")` writes a PNG, SVG, PDF or the DOT text alone.
`dot` builds the DOT text (labels, boxes, colours); `export` runs Graphviz and writes files.
"""

from .dot import GraphTooLargeError
from .export import FORMATS, INSTALL_HINT, Drawing, RenderError, draw_graph, render_graph
from .step_table import BackwardSteps, StepRow, backward_steps, format_backward_steps

__all__ = [
    "FORMATS",
    "INSTALL_HINT",
    "BackwardSteps",
    "Drawing",
    "GraphTooLargeError",
    "RenderError",
    "StepRow",
    "backward_steps",
    "draw_graph",
    "format_backward_steps",
    "render_graph",
]
