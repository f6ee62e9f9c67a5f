"""The DOT text of a computation graph: labels, scope boxes and the look of each kind of node.

The text is built line by line rather than through `Digraph.node()`: every label is an
HTML-like label assembled from escaped text, node names are positions in `graph_nodes`
order (so the text is the same in every process), and it stays fast for 100,000 nodes.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from typing import NamedTuple

from ..engine.backward import graph_nodes, local_derivatives
from ..engine.grad_mode import ScopeBlock
from ..engine.node import Node


class GraphTooLargeError(ValueError):
    """The graph has more drawn nodes (values plus ops) than `max_nodes` allows.

    `node_count` is how many nodes the drawing would have; `max_nodes` the limit in force.
    """

    def __init__(self, node_count: int, value_count: int, max_nodes: int) -> None:
        super().__init__(
            f"the graph has {node_count} nodes to draw ({value_count} values + "
            f"{node_count - value_count} ops), more than max_nodes={max_nodes}; pass "
            f"max_nodes={node_count} (or more) to draw it anyway (dot may then take a long "
            f"time to lay it out), or draw a smaller part of the graph"
        )
        self.node_count = node_count
        self.max_nodes = max_nodes


class DigraphParts(NamedTuple):
    """What `graphviz.Digraph(...)` takes to hold a drawing: attributes and body lines."""

    graph_attr: dict[str, str]
    node_attr: dict[str, str]
    edge_attr: dict[str, str]
    body: list[str]


# -- look ---------------------------------------------------------------------------------
FONT = "Helvetica,Arial,sans-serif"
LEAF_FILL = "#cfe2ff"  # inputs and parameters: blue
CONST_FILL = "#e9ecef"  # numbers mixed into an expression: grey
RESULT_FILL = "#ffffff"  # intermediate results: white
ROOT_FILL = "#ffd8a8"  # the output being drawn: orange, thick border
OP_FILL = "#fff3bf"  # ops: small yellow ellipses
_OP_STYLE = f'shape=ellipse style=filled fillcolor="{OP_FILL}"'
EDGE_LABEL_COLOR = "#a61e4d"
CLUSTER_FILL = ("#f8f9fa", "#eef1f4")  # alternates with nesting depth

# Line breaks a label may contain; each becomes <BR/> (str.splitlines would drop a last one).
_LINE_BREAK = re.compile(r"\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def html_text(text: str) -> str:
    """`text` as content of an HTML-like label, shown literally whatever it contains."""
    lines = []
    for line in _LINE_BREAK.split(text):
        if not line.isprintable():
            # Control characters, lone surrogates and non-characters are not valid in the
            # SVG's XML (or in UTF-8): show them as their Python escape instead.
            line = "".join(
                repr(ch)[1:-1] if unicodedata.category(ch) in ("Cc", "Cs", "Cn") else ch
                for ch in line
            )
        # dot expands \N, \G, ... even in HTML-like labels; a doubled backslash shows as one.
        lines.append(html.escape(line, quote=True).replace("\\", "\\\\"))
    return "<BR/>".join(lines)


def _number(x: float, precision: int) -> str:
    """`x` to `precision` significant digits, as shown in the drawing."""
    return f"{x:.{precision}g}"


def _value_label(node: Node, fill: str, border: int, italic: bool, precision: int) -> str:
    """The HTML-like label of a value node: [label |] data | grad, in one row."""
    cells = []
    if node.label:
        cells.append(f"<TD><B>{html_text(node.label)}</B></TD>")
    data = f"data {_number(node.data, precision)}"
    cells.append(f"<TD><I>{data}</I></TD>" if italic else f"<TD>{data}</TD>")
    cells.append(f"<TD>grad {_number(node.grad, precision)}</TD>")
    return (
        f'<<TABLE BORDER="{border}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4" '
        f'STYLE="ROUNDED" BGCOLOR="{fill}"><TR>{"<VR/>".join(cells)}</TR></TABLE>>'
    )


def check_options(precision: int, rankdir: str, max_nodes: int) -> None:
    """ValueError naming the option when one of the drawing options is out of range."""
    if isinstance(precision, bool) or not isinstance(precision, int) or not 1 <= precision <= 17:
        raise ValueError(f"precision must be an int from 1 to 17, got {precision!r}")
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be 'LR' or 'TB' (or 'RL', 'BT'), got {rankdir!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")


def digraph_parts(
    root: Node, *, precision: int, edge_derivatives: bool, rankdir: str, max_nodes: int
) -> DigraphParts:
    """The drawing of the graph below `root` (see `draw_graph` for the legend and options)."""
    if not isinstance(root, Node):
        raise TypeError(f"draw_graph: root must be a Value, got {type(root).__name__}")
    check_options(precision, rankdir, max_nodes)
    nodes = graph_nodes(root)
    n_values = len(nodes)
    n_drawn = n_values + sum(1 for node in nodes if node.operands)
    if n_drawn > max_nodes:
        raise GraphTooLargeError(n_drawn, n_values, max_nodes)

    index = {node: i for i, node in enumerate(nodes)}
    # Statements per scope; clusters numbered in order of first appearance (deterministic).
    members: dict[tuple[ScopeBlock, ...], list[str]] = {(): []}
    children: dict[tuple[ScopeBlock, ...], list[tuple[ScopeBlock, ...]]] = {(): []}
    edges: list[str] = []
    for i, node in enumerate(nodes):
        scope = node.scope_blocks
        if scope not in members:
            for depth in range(1, len(scope) + 1):
                prefix = scope[:depth]
                if prefix not in members:
                    members[prefix] = []
                    children[prefix] = []
                    children[prefix[:-1]].append(prefix)
        out = members[scope]
        if node is root:
            fill, border, italic = ROOT_FILL, 3, False
        elif node.is_constant:
            fill, border, italic = CONST_FILL, 1, True
        elif node.is_leaf:
            fill, border, italic = LEAF_FILL, 1, False
        else:
            fill, border, italic = RESULT_FILL, 1, False
        out.append(f"v{i} [label={_value_label(node, fill, border, italic, precision)}]\n")
        if not node.operands:
            continue
        op = node.op
        assert op is not None  # a node with operands was made by an op
        out.append(f"o{i} [label=<{html_text(op.display)}> {_OP_STYLE}]\n")
        derivatives: Sequence[float] = local_derivatives(node) if edge_derivatives else ()
        for k, operand in enumerate(node.operands):
            label = ""
            if edge_derivatives:
                label = f" [label=<∂={_number(derivatives[k], precision)}>]"
            edges.append(f"v{index[operand]} -> o{i}{label}\n")
        edges.append(f"o{i} -> v{i}\n")

    # Nest the clusters with an explicit stack (scopes may nest deeply; no recursion).
    body: list[str] = []
    cluster_ids = {scope: k for k, scope in enumerate(members) if scope}
    stack: list[tuple[tuple[ScopeBlock, ...], bool]] = [((), False)]
    while stack:
        scope, closing = stack.pop()
        if closing:
            body.append("\t" * len(scope) + "}\n")
            continue
        indent = "\t" * (len(scope) + 1)
        if scope:
            fill = CLUSTER_FILL[(len(scope) - 1) % 2]
            body.append("\t" * len(scope) + f"subgraph cluster_{cluster_ids[scope]} {{\n")
            body.append(
                f"{indent}label=<<B>{html_text(scope[-1].name)}</B>> "
                f'style="rounded,filled" fillcolor="{fill}" color="#868e96"\n'
            )
            stack.append((scope, True))
        body.extend(indent + line for line in members[scope])
        stack.extend((child, False) for child in reversed(children[scope]))
    body.extend("\t" + line for line in edges)

    return DigraphParts(
        graph_attr={
            "rankdir": rankdir,
            "fontname": FONT,
            "labeljust": "l",
            "nodesep": "0.25",
            "ranksep": "0.35",
        },
        node_attr={
            "shape": "plain",
            "fontname": FONT,
            "fontsize": "11",
            "margin": "0.04,0.02",
            "height": "0.3",
        },
        edge_attr={
            "fontname": FONT,
            "fontsize": "10",
            "fontcolor": EDGE_LABEL_COLOR,
            "arrowsize": "0.7",
        },
        body=body,
    )
