"""Drawing computation graphs with Graphviz: what the engine recorded and how gradients flow.

`draw_graph(root)` gives a `graphviz.Digraph` (it displays inline in Jupyter);
`render_graph(root, "graph.png")` writes a PNG, SVG, PDF or the DOT text alone.

The DOT text is built here line by line rather than through `Digraph.node()`: every label is
an HTML-like label assembled from escaped text, node names are positions in `graph_nodes`
order, and it stays fast for graphs of 100,000 nodes.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import secrets
import shutil
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import graphviz

from .engine.backward import graph_nodes, local_derivatives
from .engine.grad_mode import ScopeBlock
from .engine.node import Node

__all__ = ["FORMATS", "GraphTooLargeError", "RenderError", "draw_graph", "render_graph"]

FORMATS: dict[str, str] = {".png": "png", ".svg": "svg", ".pdf": "pdf", ".dot": "dot"}
"""The file extensions `render_graph` accepts and the Graphviz output format of each."""

INSTALL_HINT = (
    "Install Graphviz (the `pip install graphviz` package is only the Python bindings):\n"
    "  Debian/Ubuntu: sudo apt-get install graphviz\n"
    "  macOS:         brew install graphviz\n"
    "  conda:         conda install -c conda-forge graphviz\n"
    "  Windows:       winget install graphviz   (or: choco install graphviz)\n"
    "then make sure the `dot` program is on PATH."
)
"""How to install the `dot` program, quoted in the error raised when it is missing."""


class RenderError(RuntimeError):
    """The drawing could not be written: `dot` is missing or failed, or the path is unwritable.

    `path` is the file that was requested. `dot_path` is where the DOT source was saved
    instead when `dot` is missing (so nothing is lost), or None if it was not saved.
    """

    def __init__(self, message: str, path: Path, dot_path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.dot_path = dot_path


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


# -- look ---------------------------------------------------------------------------------
_FONT = "Helvetica,Arial,sans-serif"
_LEAF_FILL = "#cfe2ff"  # inputs and parameters: blue
_CONST_FILL = "#e9ecef"  # numbers mixed into an expression: grey
_RESULT_FILL = "#ffffff"  # intermediate results: white
_ROOT_FILL = "#ffd8a8"  # the output being drawn: orange, thick border
_OP_STYLE = 'shape=ellipse style=filled fillcolor="#fff3bf"'  # ops: small yellow ellipses
_EDGE_LABEL_COLOR = "#a61e4d"
_CLUSTER_FILL = ("#f8f9fa", "#eef1f4")  # alternates with nesting depth

# Line breaks a label may contain; each becomes <BR/> (str.splitlines would drop a last one).
_LINE_BREAK = re.compile(r"\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def _html_text(text: str) -> str:
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
        cells.append(f"<TD><B>{_html_text(node.label)}</B></TD>")
    data = f"data {_number(node.data, precision)}"
    cells.append(f"<TD><I>{data}</I></TD>" if italic else f"<TD>{data}</TD>")
    cells.append(f"<TD>grad {_number(node.grad, precision)}</TD>")
    return (
        f'<<TABLE BORDER="{border}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4" '
        f'STYLE="ROUNDED" BGCOLOR="{fill}"><TR>{"<VR/>".join(cells)}</TR></TABLE>>'
    )


def _check_options(precision: int, rankdir: str, max_nodes: int) -> None:
    if isinstance(precision, bool) or not isinstance(precision, int) or not 1 <= precision <= 17:
        raise ValueError(f"precision must be an int from 1 to 17, got {precision!r}")
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be 'LR' or 'TB' (or 'RL', 'BT'), got {rankdir!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")


def draw_graph(
    root: Node,
    *,
    precision: int = 4,
    edge_derivatives: bool = False,
    rankdir: str = "LR",
    max_nodes: int = 1000,
) -> graphviz.Digraph:
    """The graph below `root` as a `graphviz.Digraph` (shown inline in Jupyter).

    Every value is a box showing its label (if any), its data and its grad; every op is a
    small node of its own between its operands and its result. Legend:

    - blue box: a leaf you made, an input or a parameter (`Value(...)`);
    - grey box, data in italics: a constant, a number mixed into an expression
      (`node.is_constant`, such as the 2 in `x * 2`);
    - white box: an intermediate result;
    - orange box with a thick border: `root`, the output being drawn;
    - yellow ellipse: an op (`node.op.display`: "+", "*", "**2", "sigmoid", ...);
    - "∂=..." on an operand -> op edge (with `edge_derivatives=True`): the local derivative
      d(result)/d(operand) at the recorded values. Backward multiplies the result's grad by
      it to get this operand's share of its grad: the chain rule, one edge at a time;
    - grey rounded frame: a `scope(...)` block, labelled with its name; nested scopes are
      drawn nested, and an op is drawn in the frame of its result.

    Options: `precision` significant digits for data, grad and derivatives; `rankdir` "LR"
    (left to right) or "TB" (top to bottom); `max_nodes` the most nodes to draw, counting
    value nodes plus op nodes, beyond which `GraphTooLargeError` is raised (raise it to
    draw bigger graphs; Graphviz gets slow beyond a few thousand).

    The DOT text (`.source`) depends only on the graph: nodes are named by their position
    in `graph_nodes(root)`, so it is identical in every process.

    >>> from autograd_lite import Value, draw_graph
    >>> y = (Value(2.0, label="a") * 3).tanh()
    >>> y.backward()
    >>> g = draw_graph(y, edge_derivatives=True)
    >>> g.source.count("->")  # a -> *, 3 -> *, * -> result, result -> tanh, tanh -> y
    5
    """
    if not isinstance(root, Node):
        raise TypeError(f"draw_graph: root must be a Value, got {type(root).__name__}")
    _check_options(precision, rankdir, max_nodes)
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
            fill, border, italic = _ROOT_FILL, 3, False
        elif node.is_constant:
            fill, border, italic = _CONST_FILL, 1, True
        elif node.is_leaf:
            fill, border, italic = _LEAF_FILL, 1, False
        else:
            fill, border, italic = _RESULT_FILL, 1, False
        out.append(f"v{i} [label={_value_label(node, fill, border, italic, precision)}]\n")
        if not node.operands:
            continue
        op = node.op
        assert op is not None  # a node with operands was made by an op
        out.append(f"o{i} [label=<{_html_text(op.display)}> {_OP_STYLE}]\n")
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
            fill = _CLUSTER_FILL[(len(scope) - 1) % 2]
            body.append("\t" * len(scope) + f"subgraph cluster_{cluster_ids[scope]} {{\n")
            body.append(
                f"{indent}label=<<B>{_html_text(scope[-1].name)}</B>> "
                f'style="rounded,filled" fillcolor="{fill}" color="#868e96"\n'
            )
            stack.append((scope, True))
        body.extend(indent + line for line in members[scope])
        stack.extend((child, False) for child in reversed(children[scope]))
    body.extend("\t" + line for line in edges)

    return graphviz.Digraph(
        name="autograd_lite",
        graph_attr={
            "rankdir": rankdir,
            "fontname": _FONT,
            "labeljust": "l",
            "nodesep": "0.25",
            "ranksep": "0.35",
        },
        node_attr={
            "shape": "plain",
            "fontname": _FONT,
            "fontsize": "11",
            "margin": "0.04,0.02",
            "height": "0.3",
        },
        edge_attr={
            "fontname": _FONT,
            "fontsize": "10",
            "fontcolor": _EDGE_LABEL_COLOR,
            "arrowsize": "0.7",
        },
        body=body,
    )


def _write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`.

    Readers never see a half-written file, and a failure leaves nothing behind.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(tmp, flags, 0o666)  # 0o666 minus the umask, like open() would give
    except OSError as e:
        raise RenderError(f"cannot write {path}: {e.strerror or e}", path) from e
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise RenderError(f"cannot write {path}: {e.strerror or e}", path) from e
        raise


def render_graph(
    root: Node,
    path: str | os.PathLike[str],
    *,
    precision: int = 4,
    edge_derivatives: bool = False,
    rankdir: str = "LR",
    max_nodes: int = 1000,
) -> Path:
    """Draw the graph below `root` (see `draw_graph` for the legend and options) to `path`.

    The format comes from the extension: .png, .svg, .pdf (laid out by Graphviz's `dot`
    program), or .dot for the DOT text alone (no `dot` needed). Returns the path written.

    Errors: ValueError for another extension (before anything is written);
    `GraphTooLargeError` above `max_nodes`; `RenderError` when the file cannot be written,
    or when `dot` is missing, in which case the DOT text is saved to `path` with a .dot
    extension (`error.dot_path`) and the message says how to install Graphviz. The file
    appears complete or not at all (it is written beside `path` and renamed).
    """
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        shown = repr(path.suffix) if path.suffix else "no extension"
        raise ValueError(
            f"render_graph: cannot tell the format of {str(path)!r} from its extension "
            f"({shown}); use one of {', '.join(FORMATS)}"
        )
    graph = draw_graph(
        root,
        precision=precision,
        edge_derivatives=edge_derivatives,
        rankdir=rankdir,
        max_nodes=max_nodes,
    )
    source = graph.source.encode("utf-8")
    if fmt == "dot":
        _write_atomically(path, source)
        return path
    if shutil.which("dot") is None:
        _missing_dot(path, source)
    try:
        data = graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        _missing_dot(path, source)
    except graphviz.CalledProcessError as e:
        stderr = e.stderr.decode("utf-8", "replace") if isinstance(e.stderr, bytes) else ""
        raise RenderError(f"dot failed to render {path}: {stderr.strip() or e}", path) from e
    except OSError as e:
        raise RenderError(f"could not run dot to render {path}: {e}", path) from e
    _write_atomically(path, data)
    return path


def _missing_dot(path: Path, source: bytes) -> NoReturn:
    """Save the DOT text beside `path` and raise the RenderError that says how to get dot."""
    dot_path = path.with_suffix(".dot")
    try:
        _write_atomically(dot_path, source)
    except RenderError as e:
        raise RenderError(
            f"Graphviz's `dot` program was not found on PATH, so {path} could not be "
            f"rendered, and the DOT text could not be saved either ({e}).\n{INSTALL_HINT}",
            path,
        ) from None
    raise RenderError(
        f"Graphviz's `dot` program was not found on PATH, so {path} could not be rendered.\n"
        f"The DOT text was saved to {dot_path}; once Graphviz is installed, run\n"
        f"  dot -T{FORMATS[path.suffix.lower()]} {dot_path} -o {path}\n{INSTALL_HINT}",
        path,
        dot_path,
    )
