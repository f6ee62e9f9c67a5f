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
from ..validate import describe


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
FRAME_COLOR = "#868e96"  # the border of scope boxes and of the legend
CLUSTER_FILL = ("#f8f9fa", "#eef1f4")  # alternates with nesting depth
OP_FILL = "#fff3bf"  # ops: small yellow ellipses
EDGE_LABEL_COLOR = "#a61e4d"
_OP_STYLE = f'shape=ellipse style=filled fillcolor="{OP_FILL}"'


class Look(NamedTuple):
    """How one kind of value node is drawn, and what the legend says about it."""

    fill: str
    border: int
    italic: bool
    meaning: str


LOOKS: dict[str, Look] = {
    "leaf": Look("#cfe2ff", 1, False, "input or parameter: a Value you made"),  # blue
    "constant": Look("#e9ecef", 1, True, "constant: a number in the formula"),  # grey
    "result": Look("#ffffff", 1, False, "intermediate result"),  # white
    "root": Look("#ffd8a8", 3, False, "the output drawn"),  # orange, thick border
}
"""The look of each kind of value node, in the order the legend lists them."""

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


def _format_number(x: float, precision: int) -> str:
    """`x` to `precision` significant digits, as shown in the drawing."""
    return f"{x:.{precision}g}"


def _kind(node: Node, root: Node) -> str:
    if node is root:
        return "root"
    if node.is_constant:
        return "constant"
    return "leaf" if node.is_leaf else "result"


def _value_label(node: Node, look: Look, precision: int, grad: bool) -> str:
    """The HTML-like label of a value node: its label beside data over grad (two rows).

    Two short rows instead of one long one keep the boxes, and so the picture, narrow.
    """
    data = f"data {_format_number(node.data, precision)}"
    rows = [f"<I>{data}</I>" if look.italic else data]
    if grad:
        rows.append(f"grad {_format_number(node.grad, precision)}")
    name = ""
    if node.label:
        name = f'<TD ROWSPAN="{len(rows)}"><B>{html_text(node.label)}</B></TD><VR/>'
    cells = "</TR><TR>".join(f'<TD ALIGN="LEFT">{row}</TD>' for row in rows)
    return (
        f'<TABLE BORDER="{look.border}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" '
        f'STYLE="ROUNDED" BGCOLOR="{look.fill}"><TR>{name}{cells}</TR></TABLE>'
    )


def _sample(fill: str, border: int, text: str = " ") -> str:
    """A small rounded box of the legend, drawn like the nodes it explains."""
    return (
        f'<TABLE BORDER="{border}" COLOR="black" CELLBORDER="0" CELLSPACING="0" '
        f'CELLPADDING="1" STYLE="ROUNDED" BGCOLOR="{fill}"><TR><TD WIDTH="22">{text}</TD></TR>'
        "</TABLE>"
    )


def _legend(kinds: set[str], ops: bool, derivatives: bool, scopes: bool) -> str:
    """The legend node: a sample and its meaning for each kind of thing the drawing shows."""
    rows = [
        (_sample(look.fill, look.border), look.meaning)
        for kind, look in LOOKS.items()
        if kind in kinds
    ]
    if ops:
        rows.append((_sample(OP_FILL, 1, "op"), "op: + * **2 sigmoid ..."))
    if derivatives:
        rows.append(
            (
                f'<FONT COLOR="{EDGE_LABEL_COLOR}">∂</FONT>',
                'on an edge: d(result)/d(operand), the local<BR ALIGN="LEFT"/>'
                'derivative; backward adds ∂ × grad(result)<BR ALIGN="LEFT"/>'
                'to grad(operand): the chain rule<BR ALIGN="LEFT"/>',
            )
        )
    if scopes:
        rows.append((_sample(CLUSTER_FILL[0], 1), "a scope(...) block"))
    body = "".join(
        f'<TR><TD>{sample}</TD><TD ALIGN="LEFT">{text}</TD></TR>' for sample, text in rows
    )
    return (
        f'legend [label=<<TABLE BORDER="1" COLOR="{FRAME_COLOR}" CELLBORDER="0" '
        f'CELLSPACING="1" CELLPADDING="2" STYLE="ROUNDED"><TR><TD COLSPAN="2" ALIGN="LEFT">'
        f"<B>Legend</B></TD></TR>{body}</TABLE>> fontsize=10]\n"
    )


def _check_options(precision: int, rankdir: str, max_nodes: int, **switches: bool) -> None:
    """ValueError or TypeError naming the option when a drawing option is out of range."""
    if isinstance(precision, bool) or not isinstance(precision, int) or not 1 <= precision <= 17:
        raise ValueError(
            f"draw_graph: precision must be an int from 1 to 17, got {describe(precision)}"
        )
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(
            f"draw_graph: rankdir must be 'TB' or 'LR' (or 'BT', 'RL'), got {describe(rankdir)}"
        )
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"draw_graph: max_nodes must be a positive int, got {describe(max_nodes)}")
    for name, value in switches.items():
        if not isinstance(value, bool):
            raise TypeError(f"draw_graph: {name} must be True or False, got {describe(value)}")


Box = tuple[ScopeBlock, ...]
"""A scope box of the drawing: the blocks it is nested in, outermost first; () for none."""


def _boxes(nodes: Sequence[Node]) -> list[Box]:
    """The box each node is drawn in: the scope blocks it was made in, with one exception.

    A leaf made in a block where nothing of this graph is computed (a module's parameter,
    made when the module was built) is drawn in the box of its uses when they share one:
    a neuron's weights belong in the box of the neuron's computation.
    """
    computed = {
        n.scope_blocks[:k] for n in nodes if n.operands for k in range(len(n.scope_blocks) + 1)
    }
    uses: dict[Node, set[Box]] = {}
    for node in nodes:
        for operand in node.operands:
            uses.setdefault(operand, set()).add(node.scope_blocks)
    boxes = []
    for node in nodes:
        box = node.scope_blocks
        if node.is_leaf and box not in computed and len(uses.get(node, ())) == 1:
            (box,) = uses[node]
        boxes.append(box)
    return boxes


def digraph_parts(
    root: Node,
    *,
    precision: int,
    edge_derivatives: bool,
    rankdir: str,
    max_nodes: int,
    constant_grads: bool,
    legend: bool,
) -> DigraphParts:
    """The drawing of the graph below `root` (see `draw_graph` for the legend and options)."""
    if not isinstance(root, Node):
        raise TypeError(f"draw_graph: root must be a Value, got {describe(root)}")
    _check_options(
        precision,
        rankdir,
        max_nodes,
        edge_derivatives=edge_derivatives,
        constant_grads=constant_grads,
        legend=legend,
    )
    nodes = graph_nodes(root)
    n_values = len(nodes)
    n_drawn = n_values + sum(1 for node in nodes if node.operands)
    if n_drawn > max_nodes:
        raise GraphTooLargeError(n_drawn, n_values, max_nodes)

    index = {node: i for i, node in enumerate(nodes)}
    # Statements per box; clusters numbered in order of first appearance (deterministic).
    members: dict[Box, list[str]] = {(): []}
    children: dict[Box, list[Box]] = {(): []}
    edges: list[str] = []
    kinds: set[str] = set()
    for i, (node, box) in enumerate(zip(nodes, _boxes(nodes))):
        if box not in members:
            for depth in range(1, len(box) + 1):
                prefix = box[:depth]
                if prefix not in members:
                    members[prefix] = []
                    children[prefix] = []
                    children[prefix[:-1]].append(prefix)
        out = members[box]
        kind = _kind(node, root)
        kinds.add(kind)
        grad = constant_grads or kind != "constant"
        out.append(f"v{i} [label=<{_value_label(node, LOOKS[kind], precision, grad)}>]\n")
        if not node.operands:
            continue
        op = node.op
        assert op is not None  # a node with operands was made by an op
        out.append(f"o{i} [label=<{html_text(op.display)}> {_OP_STYLE}]\n")
        derivatives: Sequence[float] = local_derivatives(node) if edge_derivatives else ()
        for k, operand in enumerate(node.operands):
            label = ""
            if edge_derivatives and (constant_grads or not operand.is_constant):
                # `label`, not head/taillabel: dot gives it room beside its own edge.
                label = f" [label=<∂={_format_number(derivatives[k], precision)}>]"
            edges.append(f"v{index[operand]} -> o{i}{label}\n")
        edges.append(f"o{i} -> v{i}\n")

    # Nest the clusters with an explicit stack (scopes may nest deeply; no recursion).
    body: list[str] = []
    if legend:
        ops = len(nodes) > 1
        body.append("\t" + _legend(kinds, ops, edge_derivatives and ops, len(members) > 1))
    cluster_ids = {box: k for k, box in enumerate(members) if box}
    stack: list[tuple[Box, bool]] = [((), False)]
    while stack:
        box, closing = stack.pop()
        if closing:
            body.append("\t" * len(box) + "}\n")
            continue
        indent = "\t" * (len(box) + 1)
        if box:
            fill = CLUSTER_FILL[(len(box) - 1) % 2]
            body.append("\t" * len(box) + f"subgraph cluster_{cluster_ids[box]} {{\n")
            body.append(
                f"{indent}label=<<B>{html_text(box[-1].name)}</B>> "
                f'style="rounded,filled" fillcolor="{fill}" color="{FRAME_COLOR}"\n'
            )
            stack.append((box, True))
        body.extend(indent + line for line in members[box])
        stack.extend((child, False) for child in reversed(children[box]))
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
