"""Drawing computation graphs with Graphviz: what the engine recorded and how gradients flow.

`draw_graph(root)` gives a `graphviz.Digraph` (it displays inline in Jupyter);
`render_graph(root, "graph.png")` writes a PNG, SVG, PDF or the DOT text alone, and
`render_graph(root, "page.html")` a page that steps through backprop on the drawing
(`explore(root)` shows it in Jupyter). `dot` builds the DOT text (labels, boxes, colours);
`export` runs Graphviz and writes files; `step_table` lists backward()'s chain-rule steps
(`backward_steps`); `page` builds the stepping page; `explore` shows it in a notebook.
"""

from .dot import RANKDIRS, GraphTooLargeError
from .explore import Explorer, explore
from .export import FORMATS, INSTALL_HINT, Drawing, RenderError, draw_graph, render_graph
from .step_table import BackwardSteps, StepRow, backward_steps, format_backward_steps

__all__ = [
    "FORMATS",
    "INSTALL_HINT",
    "RANKDIRS",
    "BackwardSteps",
    "Drawing",
    "Explorer",
    "GraphTooLargeError",
    "RenderError",
    "StepRow",
    "backward_steps",
    "draw_graph",
    "explore",
    "format_backward_steps",
    "render_graph",
]
