"""The DOT text of a computation graph: labels, scope boxes and the look of each kind of node.

The text is built line by line rather than through `Digraph.node()`: every label is an
HTML-like label assembled from escaped text, node names are positions in `graph_nodes`
order (so the text is the same in every process), and it stays fast for 100,000 nodes.
A Value's box shows its data and grad; a Tensor's its shape and dtype, the numbers only
when there are few, and the edges where backward sums a broadcast gradient (broadcast.py).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from ..engine.backward import check_unchanged, graph_nodes, local_derivatives
from ..engine.grad_mode import ScopeBlock
from ..engine.node import Node
from ..engine.release import RELEASED
from ..engine.tensor import Tensor
from ..engine.value import Value
from ..validate import describe, flag
from .broadcast import Summed, summed_operands
from .numbers import SMALL, array_lines, format_number
from .step_table import node_names


class GraphTooLargeError(ValueError):
    """The graph has more drawn nodes (values plus ops) than `max_nodes` allows.

    `node_count` is how many nodes the drawing would have; `max_nodes` the limit in force.
    """

    def __init__(
        self, node_count: int, value_count: int, max_nodes: int, noun: str = "values"
    ) -> None:
        super().__init__(
            f"the graph has {node_count} nodes to draw ({value_count} {noun} + "
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
SUMMED_COLOR = "#5f3dc4"  # violet: an edge whose gradient backward sums (a broadcast)
_OP_STYLE = f'shape=ellipse style=filled fillcolor="{OP_FILL}"'
_DERIVATIVE_STYLE = (
    f'shape=plaintext width=0 height=0 margin="0.03,0.01" fontsize=10 '
    f'fontcolor="{EDGE_LABEL_COLOR}"'
)
LEGEND_OPS = 4
"""How many of the graph's ops the legend names, in the order they are first used."""
CHAIN_WEIGHT = 4
"""The weight of the edges along a chain of results (operand result -> op -> result): dot
keeps heavy edges short and straight, so each neuron is drawn as one column instead of a
staircase, with its parameters beside it."""


RANKDIRS = ("TB", "LR", "BT", "RL")
"""The directions a drawing can take: top to bottom, left to right, and their reverses."""


class Look(NamedTuple):
    """How one kind of value node is drawn, and what the legend says about it."""

    fill: str
    border: int
    italic: bool
    meaning: str
    dashed: bool = False


LOOKS: dict[str, Look] = {
    "leaf": Look("#cfe2ff", 1, False, "input or parameter: a Value you made"),  # blue
    "no_grad": Look(  # green, dashed: a Tensor leaf with requires_grad=False
        "#d3f9d8", 1, False, "input with requires_grad=False: it gets no gradient", True
    ),
    "constant": Look("#e9ecef", 1, True, "constant: a number in the formula"),  # grey
    "result": Look("#ffffff", 1, False, "intermediate result"),  # white
    "root": Look("#ffd8a8", 3, False, "the output drawn"),  # orange, thick border
}
"""The look of each kind of value node, in the order the legend lists them."""

TENSOR_MEANINGS: dict[str, str] = {
    "leaf": "parameter or input: a Tensor you made",
    "constant": "constant: a number or array in the formula",
}
"""What the legend of a Tensor graph says instead, where it differs from `LOOKS`."""

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


def _kind(node: Node, root: Node) -> str:
    if node is root:
        return "root"
    if node.is_constant:
        return "constant"
    if not node.is_leaf:
        return "result"
    return "no_grad" if isinstance(node, Tensor) and not node.requires_grad else "leaf"


def _table(look: Look) -> str:
    """The opening of a value node's table: its border, corners and fill."""
    style = "ROUNDED,DASHED" if look.dashed else "ROUNDED"
    return (
        f'<TABLE BORDER="{look.border}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" '
        f'STYLE="{style}" BGCOLOR="{look.fill}">'
    )


_PATH = re.compile(r"[A-Za-z_]\w*(?:\.\w+)+")
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def shown_name(name: str, boxed: bool) -> str:
    """The name a box shows: `name`, or for a module's parameter drawn in its scope box
    (`boxed`), the end of its dotted path (`layers.0.neurons.1.w.0` is `w₀`, `...b` is
    `b`): the frames around it say the rest, and the tooltip the whole name."""
    if not boxed or not _PATH.fullmatch(name):
        return name
    *_, head, last = name.split(".")
    return head + last.translate(_SUBSCRIPTS) if last.isdigit() else last


def _name_cell(name: str, rows: int) -> str:
    """The cell that shows a node's name (bold, left of its rows), or none for no name."""
    if not name:
        return ""
    return f'<TD ROWSPAN="{rows}"><B>{html_text(name)}</B></TD><VR/>'


def _value_label(node: Node, name: str, look: Look, precision: int, grad: Any) -> str:
    """The HTML-like label of a value node: its name beside data over grad (two rows).

    Two short rows instead of one long one keep the boxes, and so the picture, narrow.
    """
    data = f"data {format_number(node.data, precision)}"
    rows = [f"<I>{data}</I>" if look.italic else data]
    if grad is not None:  # None: not shown
        rows.append(
            "grad released" if grad is RELEASED else f"grad {format_number(grad, precision)}"
        )
    name = _name_cell(name, len(rows))
    cells = "</TR><TR>".join(f'<TD ALIGN="LEFT">{row}</TD>' for row in rows)
    return f"{_table(look)}<TR>{name}{cells}</TR></TABLE>"


def _array_text(array: object, precision: int) -> str:
    """`array_lines` as an HTML-like label's text."""
    # Non-breaking spaces: dot's SVG would collapse the spaces that line the rows up.
    return "<BR/>".join(
        "&#160;" * (len(line) - len(line.lstrip(" "))) + line.lstrip(" ")
        for line in array_lines(array, precision)
    )


def _tensor_label(node: Tensor, name: str, look: Look, precision: int, grad: Any) -> str:
    """The HTML-like label of a Tensor node: its name beside its shape and dtype, and, for a
    small tensor, its data and (once a backward pass gave one) its grad below them."""
    heading = f"{node.shape} {node.dtype}"
    numbers: list[tuple[str, str]] = []
    if node.size <= SMALL:
        numbers.append(("data", _array_text(node.data, precision)))
        if grad is RELEASED:  # backward(retain_grads=False) kept none: said, not left out
            numbers.append(("grad", "released"))
        elif grad is not None:  # None until a backward pass gives one, or not shown
            numbers.append(("grad", _array_text(getattr(grad, "data", grad), precision)))
    if look.italic:
        heading = f"<I>{heading}</I>"
        numbers = [(key, f"<I>{text}</I>") for key, text in numbers]
    span = ' COLSPAN="2"' if numbers else ""
    rows = [f'<TD ALIGN="LEFT"{span}>{heading}</TD>']
    rows += [
        f'<TD ALIGN="LEFT" VALIGN="TOP">{key}</TD><TD ALIGN="LEFT" BALIGN="LEFT">{text}</TD>'
        for key, text in numbers
    ]
    return f"{_table(look)}<TR>{_name_cell(name, len(rows))}{'</TR><TR>'.join(rows)}</TR></TABLE>"


def _box_name(node: Node, name: str) -> str:
    """What a box says it is: its label (`h#2` for a label's second use, as the steps say),
    its made-up name (`t1`, `leaf1`) if it has none, nothing for a constant (its data says)."""
    if node.is_constant:
        return ""
    if node.label and not node.label.isprintable():
        return node.label  # html_text shows its line breaks and escapes
    return name


def _summed_text(summed: Summed) -> str:
    """The mark on an edge whose gradient backward sums: over which axes, to which shape."""
    axes = ", ".join(str(a) for a in summed.axes)
    return f"Σ {'axis' if len(summed.axes) == 1 else 'axes'} {axes} → {summed.shape}"


def _sample(fill: str, border: int, text: str = " ", dashed: bool = False) -> str:
    """A small rounded box of the legend, drawn like the nodes it explains."""
    style = "ROUNDED,DASHED" if dashed else "ROUNDED"
    return (
        f'<TABLE BORDER="{border}" COLOR="black" CELLBORDER="0" CELLSPACING="0" '
        f'CELLPADDING="1" STYLE="{style}" BGCOLOR="{fill}"><TR><TD WIDTH="22">{text}</TD></TR>'
        "</TABLE>"
    )


def _legend(
    kinds: set[str], ops: list[str], derivatives: bool, scopes: bool, tensors: bool, summed: bool
) -> str:
    """The legend node: a sample and its meaning for each kind of thing the drawing shows."""
    meanings = TENSOR_MEANINGS if tensors else {}
    rows = [
        (_sample(look.fill, look.border, dashed=look.dashed), meanings.get(kind, look.meaning))
        for kind, look in LOOKS.items()
        if kind in kinds
    ]
    if tensors:
        rows.append(
            ("", f'shape and dtype; data and grad when at<BR ALIGN="LEFT"/>most {SMALL} '
             f'elements (grad after backward)<BR ALIGN="LEFT"/>')
        )  # fmt: skip
    if ops:  # examples from this graph only: the legend must not name ops it does not hold
        examples = " ".join(html_text(op) for op in ops[:LEGEND_OPS])
        more = " ..." if len(ops) > LEGEND_OPS else ""
        rows.append((_sample(OP_FILL, 1, "op"), f"op: {examples}{more}"))
    if summed:
        rows.append(
            (
                f'<FONT COLOR="{SUMMED_COLOR}">Σ</FONT>',
                'on an edge: the operand was broadcast;<BR ALIGN="LEFT"/>'
                'backward sums its gradient over these<BR ALIGN="LEFT"/>'
                'axes back to its shape<BR ALIGN="LEFT"/>',
            )
        )
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
    if not isinstance(rankdir, str) or rankdir not in RANKDIRS:
        raise ValueError(
            f"draw_graph: rankdir must be 'TB' or 'LR' (or 'BT', 'RL'), got {describe(rankdir)}"
        )
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"draw_graph: max_nodes must be a positive int, got {describe(max_nodes)}")
    for name, value in switches.items():
        flag(value, f"draw_graph: {name}")


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
    gradients: Mapping[Node, Any] | None = None,
) -> DigraphParts:
    """The drawing of the graph below `root` (see `draw_graph` for the legend and options);
    `gradients`, if given, are shown instead of each node's `.grad` (None: no grad row)."""
    if not isinstance(root, (Value, Tensor)):
        hint = " (draw the Value or Tensor graph: forward mode's tangents are not drawn)"
        raise TypeError(
            f"draw_graph: root must be a Value or a Tensor, got {describe(root)}"
            + (hint if isinstance(root, Node) else "")
        )
    _check_options(
        precision,
        rankdir,
        max_nodes,
        edge_derivatives=edge_derivatives,
        constant_grads=constant_grads,
        legend=legend,
    )
    tensors = isinstance(root, Tensor)
    if isinstance(root, Tensor) and edge_derivatives:
        raise ValueError(
            f"draw_graph: edge_derivatives=True is for Value graphs; this is a graph of "
            f"Tensors (the root has shape {root.shape}), where d(result)/d(operand) is a "
            f"Jacobian, not one number to write on an edge: draw it without edge_derivatives"
        )
    nodes = graph_nodes(root)
    check_unchanged(root)  # data changed since the graph used it: the numbers would not fit
    n_values = len(nodes)
    n_drawn = n_values + sum(1 for node in nodes if node.operands)
    if n_drawn > max_nodes:
        raise GraphTooLargeError(n_drawn, n_values, max_nodes, "tensors" if tensors else "values")

    index = {node: i for i, node in enumerate(nodes)}
    names = node_names(nodes)  # the step table's and the page's names, t1, t2, ...
    # Statements per box; clusters numbered in order of first appearance (deterministic).
    members: dict[Box, list[str]] = {(): []}
    children: dict[Box, list[Box]] = {(): []}
    edges: list[str] = []
    kinds: set[str] = set()
    any_summed = False
    boxes = _boxes(nodes)
    for i, (node, box) in enumerate(zip(nodes, boxes)):
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
        grad = None
        if constant_grads or kind != "constant":
            grad = node._grad if gradients is None else gradients.get(node)
        look = LOOKS[kind]
        name = _box_name(node, names[node])
        shown = shown_name(name, bool(box))
        label = (
            _tensor_label(node, shown, look, precision, grad)
            if isinstance(node, Tensor)
            else _value_label(node, shown, look, precision, grad)
        )
        tooltip = f' tooltip="{name}"' if shown != name else ""  # a dotted path: no quotes
        out.append(f"v{i} [label=<{label}>{tooltip}]\n")
        if not node.operands:
            continue
        op = node.op
        assert op is not None  # a node with operands was made by an op
        out.append(f"o{i} [label=<{html_text(op.display)}> {_OP_STYLE}]\n")
        derivatives: Sequence[float] = local_derivatives(node) if edge_derivatives else ()
        summed = summed_operands(node) if isinstance(node, Tensor) else []
        for k, operand in enumerate(node.operands):
            tail = f"v{index[operand]}"
            attrs = "" if operand.is_leaf else f" weight={CHAIN_WEIGHT}"
            first = attrs  # of the edge's first piece, from the operand
            if not operand.is_leaf and boxes[index[operand]] != box:
                # A rank of its own between the boxes for the next box's parameters: else
                # they share the operand's rank, and the boxes must sit side by side.
                first += " minlen=2"
            if edge_derivatives and (constant_grads or not operand.is_constant):
                # The ∂ is a node of its own that the edge runs through (operand -> ∂ -> op),
                # so it sits on its edge and no other: an edge's `label` sits beside it,
                # where two edges that meet at one op can both pass close.
                mark = f"e{i}_{k}"
                out.append(
                    f"{mark} [label=<∂={format_number(derivatives[k], precision)}> "
                    f"{_DERIVATIVE_STYLE}]\n"
                )
                edges.append(f"{tail} -> {mark} [arrowhead=none{first}]\n")
                tail = mark
            else:
                attrs = first
            if summed and (where := summed[k]) is not None:
                any_summed = True
                attrs += (
                    f' label=<{html_text(_summed_text(where))}> color="{SUMMED_COLOR}" '
                    f'fontcolor="{SUMMED_COLOR}" penwidth=2'
                )
            edges.append(f"{tail} -> o{i}" + (f" [{attrs.lstrip()}]" if attrs else "") + "\n")
        edges.append(f"o{i} -> v{i} [weight={CHAIN_WEIGHT}]\n")

    # Nest the clusters with an explicit stack (scopes may nest deeply; no recursion).
    body: list[str] = []
    if legend:
        ops = list(dict.fromkeys(n.op.display for n in nodes if n.op is not None and n.operands))
        body.append(
            "\t"
            + _legend(
                kinds, ops, edge_derivatives and bool(ops), len(members) > 1, tensors, any_summed
            )
        )
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
            "ranksep": "0.25",
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
