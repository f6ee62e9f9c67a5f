"""Running Graphviz's `dot` and writing files: `draw_graph`, `render_graph` and their errors.

Files are written by `files.write_file` (whole or not at all, through symlinks, keeping the
mode and hard links of the file replaced); when `dot` is missing, the DOT text is kept so that
nothing the user asked for is lost.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import graphviz

from ..engine.node import Node
from ..files import FileWriteError, write_file
from .dot import digraph_parts
from .page import StepperPage

FORMATS: dict[str, str] = {
    ".png": "png", ".svg": "svg", ".pdf": "pdf", ".dot": "dot", ".html": "html"
}  # fmt: skip
"""The file extensions `render_graph` accepts and the Graphviz output format of each (.html:
the stepping page, around dot's SVG)."""

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

    `path` is the file that was requested (None when a drawing was being shown, not saved).
    `dot_path` is where the DOT source was saved instead when `dot` is missing (so nothing is
    lost), or None if it was not saved.
    """

    def __init__(self, message: str, path: Path | None, dot_path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.dot_path = dot_path


_NO_DOT = "Graphviz's `dot` program was not found on PATH"


@contextlib.contextmanager
def _dot_found(doing: str) -> Iterator[None]:
    """Turn graphviz's ExecutableNotFound into a RenderError that says how to install dot."""
    try:
        yield
    except graphviz.ExecutableNotFound:
        message = f"{_NO_DOT}, so {doing} (its DOT text is in `.source`).\n{INSTALL_HINT}"
        raise RenderError(message, None) from None


# Third-party boundary that cannot be typed: graphviz ships no type information, so to mypy
# its Digraph is Any, and subclassing Any needs this one ignore.
class Drawing(graphviz.Digraph):  # type: ignore[misc]
    """The `graphviz.Digraph` that `draw_graph` returns: it says how to get `dot` if missing.

    Shown in Jupyter without `dot`, it displays the install hint as text; `pipe()`,
    `render()` and `view()` raise `RenderError` with the hint instead of graphviz's
    ExecutableNotFound.
    """

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        """`graphviz.Digraph.pipe`, with RenderError and the install hint if dot is missing."""
        with _dot_found("the drawing could not be laid out"):
            return super().pipe(*args, **kwargs)

    def render(self, *args: Any, **kwargs: Any) -> Any:
        """`graphviz.Digraph.render`, with RenderError and the install hint if dot is missing."""
        with _dot_found("the drawing could not be rendered"):
            return super().render(*args, **kwargs)

    def _repr_mimebundle_(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        # What Jupyter calls to show the object: the hint as text rather than a traceback.
        try:
            bundle: dict[str, Any] = super()._repr_mimebundle_(*args, **kwargs)
        except RenderError as e:
            return {"text/plain": str(e)}
        return bundle


def draw_graph(
    root: Node,
    *,
    precision: int = 4,
    edge_derivatives: bool = False,
    rankdir: str = "TB",
    max_nodes: int = 1000,
    constant_grads: bool = False,
    legend: bool = True,
    gradients: Mapping[Node, Any] | None = None,
) -> Drawing:
    """The graph below `root` as a `graphviz.Digraph` (shown inline in Jupyter).

    Every value is a box showing its name beside its data over its grad (its label, or the
    name the step table and the stepping page give it: `t1`, `t2`, ... for a result,
    `leaf1`, ... for a leaf; a constant shows its number alone; a module's parameter drawn
    in its neuron's frame shows the end of its path, `w₀` for `layers.0.neurons.1.w.0`, with
    the whole path as its tooltip); every op is a small node of its own between its operands
    and its result. A legend in the
    picture explains what it shows:

    - blue box: a leaf you made, an input or a parameter (`Value(...)`);
    - grey box, data in italics: a constant, a number mixed into an expression
      (`node.is_constant`, such as the 2 in `x * 2`); its grad is not shown (it is the
      gradient of a number nobody can change) unless `constant_grads=True`;
    - white box: an intermediate result;
    - orange box with a thick border: `root`, the output being drawn;
    - yellow ellipse: an op (`node.op.display`: "+", "*", "**2", "sigmoid", ...);
    - "∂=..." on an operand -> op edge (with `edge_derivatives=True`), which runs through
      it: the local derivative d(result)/d(operand) at the recorded values. Backward
      multiplies the result's grad by it to get this operand's share of its grad: the chain
      rule, one edge at a time;
    - grey rounded frame: a `scope(...)` block, labelled with its name; nested scopes are
      drawn nested, and an op is drawn in the frame of its result. A parameter made in a
      block where nothing is computed (as `nn.Neuron` makes its weights) is drawn in the
      frame of its uses when they all sit in one.

    A graph of `Tensor`s is drawn the same way, with these differences:

    - each box shows the tensor's shape and dtype (`(2, 3) float64`), and its data and
      grad only when it has at most 6 elements (its grad once a backward pass gave one);
    - green box with a dashed border: an input with `requires_grad=False` (it gets no
      gradient); constants are numbers and arrays mixed into an expression;
    - ops show their parameters (`sum(axis=(1,))`, `reshape(64, 1)`, `[0, :]`);
    - "Σ axis 0 → (2,)" on a violet operand -> op edge: the operand was broadcast (numpy's
      rules: by an elementwise op, over matmul's batch axes, or as linear's bias), so
      backward sums its gradient over those axes of the result back to the operand's
      shape. Only operands that get a gradient are marked;
    - `edge_derivatives=True` raises ValueError: an op's derivative is then a Jacobian,
      not one number to write on an edge.

    Options: `precision` significant digits for data, grad and derivatives; `rankdir` "TB"
    (top to bottom, the default: the boxes are wider than tall, so a graph drawn
    downwards stays narrow enough to read on a page), "LR" (left to right, the stepping
    page's default: a screen is wider than tall), "BT" or "RL";
    `max_nodes` the most nodes to draw, counting value nodes plus op nodes, beyond which
    `GraphTooLargeError` is raised (raise it to draw bigger graphs; Graphviz gets slow
    beyond a few thousand); `constant_grads` shows the grad of constants and the ∂ on their
    edges; `legend=False` leaves the legend out; `gradients`, a dict of node to gradient,
    shows those instead of each node's `.grad` (a node missing from it shows none): the
    stepping page draws the gradients of the one backward pass it steps through.

    The DOT text (`.source`) depends only on the graph: nodes are named by their position
    in `graph_nodes(root)`, so it is identical in every process.

    >>> from autograd_lite import Value, draw_graph
    >>> y = (Value(2.0, label="a") * 3).tanh()
    >>> y.backward()
    >>> g = draw_graph(y, edge_derivatives=True)
    >>> g.source.count("->")  # a -> ∂ -> *, 3 -> *, * -> result, result -> ∂ -> tanh, tanh -> y
    7
    """
    parts = digraph_parts(
        root,
        precision=precision,
        edge_derivatives=edge_derivatives,
        rankdir=rankdir,
        max_nodes=max_nodes,
        constant_grads=constant_grads,
        legend=legend,
        gradients=gradients,
    )
    return Drawing(name="autograd_lite", **parts._asdict())


def write_rendered(path: Path, data: bytes, *, keep_existing: bool = False) -> Path:
    """`write_file(path, data)`, its error a RenderError (how every drawing and page is
    written); the path written."""
    try:
        return write_file(path, data, keep_existing=keep_existing)
    except FileWriteError as e:
        raise RenderError(str(e), path) from e


def render_graph(
    root: Node,
    path: str | os.PathLike[str],
    *,
    code: Sequence[str | None] | None = None,
    parameters: Sequence[Node] | None = None,
    lr: float | None = None,
    **options: Any,
) -> Path:
    """Draw the graph below `root` to `path`; `options` are draw_graph's, legend included.

    The format comes from the extension: .png, .svg, .pdf (laid out by Graphviz's `dot`
    program), or .dot for the DOT text alone (no `dot` needed). Returns the path written.
    .html writes one self-contained page (nothing fetched when opened) that steps through
    the forward pass and then every chain-rule step of backward() on the drawing (see
    `explore`); `code`, for .html only, gives one line of code to show beside each backward
    step (None for none). The page ends with a table of the gradients of `parameters`
    (default: every leaf that gets one) and, given a learning rate `lr`, the SGD step
    w <- w - lr * grad of each (both for .html only).

    Errors: ValueError for another extension (before anything is written);
    `GraphTooLargeError` above `max_nodes`; `RenderError` when the file cannot be written,
    or when `dot` is missing, in which case the DOT text is saved to `path` with a .dot
    extension, or the first free name `stem.1.dot`, `stem.2.dot`, ... so that no file is
    replaced (`error.dot_path`), and the message gives the command to render it later and
    how to install Graphviz. The file is written by `write_file`: whole or not at all, through
    a symlink to its target, keeping an existing file's mode and hard links; a failed
    drawing leaves an existing file as it was.
    """
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        shown = repr(path.suffix) if path.suffix else "no extension"
        raise ValueError(
            f"render_graph: cannot tell the format of {str(path)!r} from its extension "
            f"({shown}); use one of {', '.join(FORMATS)}"
        )
    for name, given in (("code", code), ("parameters", parameters), ("lr", lr)):
        if given is not None and fmt != "html":
            raise ValueError(f"render_graph: {name}= is for .html pages, not {path.suffix!r} files")
    graph = draw_graph(root, **options)
    page = None
    if fmt == "html":  # drawn again with the gradients of the pass the page steps through
        page = StepperPage(root, options, code, parameters=parameters, lr=lr)
        graph = draw_graph(root, **page.drawing_options(options))
    source = graph.source.encode("utf-8")
    if fmt == "dot":
        write_rendered(path, source)
        return path
    if shutil.which("dot") is None:
        _missing_dot(path, source)
    try:
        data = graph.pipe(format="svg" if fmt == "html" else fmt)
    except RenderError:  # dot went missing since the check above
        _missing_dot(path, source)
    except graphviz.CalledProcessError as e:
        stderr = e.stderr.decode("utf-8", "replace") if isinstance(e.stderr, bytes) else ""
        raise RenderError(f"dot failed to render {path}: {stderr.strip() or e}", path) from e
    except OSError as e:
        raise RenderError(f"could not run dot to render {path}: {e}", path) from e
    if page is not None:
        data = page.html(data.decode("utf-8")).encode("utf-8")
    write_rendered(path, data)
    return path


def _missing_dot(path: Path, source: bytes) -> NoReturn:
    """Save the DOT text beside `path` and raise the RenderError that says how to get dot.

    An existing file is never replaced: the user asked for `path`, not for its .dot twin.
    A page (.html) is not saved as DOT text: no `dot` command makes the page from it later.
    """
    if FORMATS[path.suffix.lower()] == "html":
        raise RenderError(
            f"{_NO_DOT}, so the page {path} could not be written: its graph is drawn by dot."
            f"\n{INSTALL_HINT}",
            path,
        )
    wanted = path.with_suffix(".dot")
    try:
        dot_path = write_rendered(wanted, source, keep_existing=True)
    except RenderError as e:
        raise RenderError(
            f"{_NO_DOT}, so {path} could not be rendered, and the DOT text could not be "
            f"saved either ({e}).\n{INSTALL_HINT}",
            path,
        ) from None
    kept = "" if dot_path == wanted else f" ({wanted} exists already and was left as it was)"
    command = shlex.join(["dot", f"-T{FORMATS[path.suffix.lower()]}", _arg(dot_path), "-o"])
    raise RenderError(
        f"{_NO_DOT}, so {path} could not be rendered.\n"
        f"The DOT text was saved to {dot_path}{kept}; once Graphviz is installed, run\n"
        f"  {command} {shlex.quote(_arg(path))}\n{INSTALL_HINT}",
        path,
        dot_path,
    )


def _arg(path: Path) -> str:
    """`path` as a command argument that no program can take for an option."""
    text = str(path)
    return f".{os.sep}{text}" if text.startswith("-") else text
