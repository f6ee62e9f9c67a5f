"""Drawing graphs: checked through the real Graphviz `dot` and against independent references.

References: the graph's structure walked here (node, edge and cluster counts), numpy's float
formatting (the numbers shown), central finite differences in numpy float64 (edge
derivatives), `dot`'s own SVG parsed with ElementTree (what is shown), file signatures.
"""

from __future__ import annotations

import math
import os
import re
import shlex
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import graphviz
import numpy as np
import pytest

from autograd_lite import Op, Value, draw_graph, render_graph, scope
from autograd_lite.nn import MLP
from autograd_lite.render import GraphTooLargeError, RenderError
from autograd_lite.walkthrough import build_network
from tests.reference import central_gradient

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "http://www.w3.org/1999/xlink"
needs_dot = pytest.mark.needs_dot  # skips with a reason where `dot` is missing (conftest.py)
REPO = Path(__file__).resolve().parent.parent


# -- independent helpers ------------------------------------------------------------------
def walk(root: Value) -> list[Value]:
    """Every node below root once, found here by a plain depth-first search on `.operands`."""
    seen = {id(root): root}
    stack = [root]
    while stack:
        for p in stack.pop().operands:
            if id(p) not in seen:
                seen[id(p)] = p
                stack.append(p)
    return list(seen.values())


def shown(x: float, precision: int = 4) -> str:
    """A number as it should appear: `precision` significant digits by numpy, zeros trimmed."""
    return np.format_float_positional(
        x, precision=precision, unique=False, fractional=False, trim="-"
    )


def svg_groups(svg: bytes, kind: str) -> list[tuple[str, list[str], ET.Element]]:
    """(title, texts, element) of each <g class=kind> in dot's SVG, entities unescaped."""
    out = []
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        if g.get("class") == kind:
            title = g.findtext(f"{SVG}title") or ""
            texts = [t.text or "" for t in g.iter(f"{SVG}text")]
            out.append((title, texts, g))
    return out


def derivative_marks(svg: bytes) -> list[tuple[str, str, str, ET.Element]]:
    """(operand, op, text, node group) of each ∂ that dot drew: a node (`e3_0`) that the
    edge from the operand to the op runs through, as draw_graph writes it."""
    texts = {title: (texts, g) for title, texts, g in svg_groups(svg, "node")}
    into: dict[str, str] = {}
    out: dict[str, str] = {}
    for title, _, _ in svg_groups(svg, "edge"):
        tail, head = title.split("->")
        if head.startswith("e"):
            into[head] = tail
        if tail.startswith("e"):
            out[tail] = head
    return [(into[m], out[m], texts[m][0][0], texts[m][1]) for m in into]


def center(g: ET.Element) -> tuple[float, float]:
    """Centre of a node's bounding box, from the shapes dot drew for it."""
    xs, ys = bbox(g)
    return (xs[0] + xs[1]) / 2, (ys[0] + ys[1]) / 2


def bbox(g: ET.Element) -> tuple[tuple[float, float], tuple[float, float]]:
    """((xmin, xmax), (ymin, ymax)) of the polygons, paths and ellipses in a group."""
    px: list[float] = []
    py: list[float] = []
    for el in g.iter():
        if el.tag == f"{SVG}ellipse":
            cx, cy = float(el.get("cx", 0)), float(el.get("cy", 0))
            rx, ry = float(el.get("rx", 0)), float(el.get("ry", 0))
            px += [cx - rx, cx + rx]
            py += [cy - ry, cy + ry]
        elif el.tag in (f"{SVG}polygon", f"{SVG}path"):
            raw = el.get("points") or el.get("d") or ""
            nums = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", raw)]
            px += nums[0::2]
            py += nums[1::2]
    return (min(px), max(px)), (min(py), max(py))


@pytest.fixture(scope="module")
def network_svg() -> tuple[Value, bytes]:
    net = build_network()
    net.L.backward()
    return net.L, draw_graph(net.L, edge_derivatives=True).pipe(format="svg")


# -- the document's network as PNG and SVG --------------------------------------------------
@needs_dot
def test_png_of_document_network(tmp_path: Path) -> None:
    """Reference: the PNG file signature."""
    net = build_network()
    net.L.backward()
    out = render_graph(net.L, tmp_path / "net.png", edge_derivatives=True)
    assert out == tmp_path / "net.png"
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.png"]


@needs_dot
def test_svg_shows_every_label_data_and_grad(tmp_path: Path) -> None:
    """Reference: the nodes walked here, their numbers formatted by numpy, dot's SVG text."""
    net = build_network()
    net.L.backward()
    svg = render_graph(net.L, tmp_path / "net.svg").read_bytes()
    texts = [t for _, ts, _ in svg_groups(svg, "node") for t in ts]
    labels = {"x", "y", "w1", "b1", "w2", "b2", "z1", "h", "z2", "ŷ", "L"}
    assert labels <= set(texts)
    for node in walk(net.L):
        assert f"data {shown(node.data)}" in texts
        if not node.is_constant:
            assert f"grad {shown(node.grad)}" in texts
    assert "sigmoid" in texts and "**2" in texts


@needs_dot
def test_svg_node_edge_and_cluster_counts(network_svg: tuple[Value, bytes]) -> None:
    """Reference: counts from the structure walked here vs the groups dot drew."""
    root, svg = network_svg
    nodes = walk(root)
    results = [n for n in nodes if n.operands]
    assert len(nodes) == 16 and len(results) == 9  # sanity: the document's network
    # A ∂ on each operand's edge but a constant's: 13 of the 14 + 1 (0.5 * ...) edges.
    marks = sum(1 for n in results for x in n.operands if not x.is_constant)
    assert marks == 14
    assert svg.count(b'<g id="node') == len(nodes) + len(results) + marks + 1  # + legend
    assert b"<title>legend</title>" in svg
    # Each edge through a ∂ is drawn in two pieces.
    assert svg.count(b'<g id="edge') == sum(len(n.operands) + 1 for n in results) + marks
    scopes = {n.scope[:k] for n in nodes for k in range(1, len(n.scope) + 1)}
    assert svg.count(b'<g id="clust') == len(scopes) == 3
    cluster_titles = sorted(texts[0] for _, texts, _ in svg_groups(svg, "cluster"))
    assert cluster_titles == ["hidden neuron", "loss", "output neuron"]


@needs_dot
def test_nodes_are_drawn_inside_their_scope_and_ops_with_their_result(
    network_svg: tuple[Value, bytes],
) -> None:
    """Reference: the geometry of dot's SVG (node centres inside cluster boxes)."""
    _, svg = network_svg
    nodes = {title: (texts, g) for title, texts, g in svg_groups(svg, "node")}
    boxes = {texts[0]: bbox(g) for _, texts, g in svg_groups(svg, "cluster")}

    def inside(g: ET.Element, box: tuple[tuple[float, float], tuple[float, float]]) -> bool:
        x, y = center(g)
        return box[0][0] <= x <= box[0][1] and box[1][0] <= y <= box[1][1]

    def node_with(label: str) -> ET.Element:
        (g,) = [g for texts, g in nodes.values() if texts[0] == label]
        return g

    expected = {"hidden neuron": {"w1", "b1", "z1", "h"}, "output neuron": {"w2", "b2", "z2", "ŷ"}}
    expected["loss"] = {"L"}
    for name, labels in expected.items():
        for label in labels:
            assert inside(node_with(label), boxes[name]), (label, name)
    for label in ("x", "y"):  # made outside any scope
        assert not any(inside(node_with(label), box) for box in boxes.values())
    op_to_result = 0
    for title, _, _ in svg_groups(svg, "edge"):
        tail, head = title.split("->")
        _, tail_g = nodes[tail]
        if not tail.startswith("o"):
            continue  # operand -> op edge, or a piece of one
        op_to_result += 1
        for box in boxes.values():
            assert inside(tail_g, box) == inside(nodes[head][1], box), title
    assert op_to_result == 9


def test_kinds_of_node_are_told_apart() -> None:
    """Reference: the legend in draw_graph's docstring (fill colours), read off the DOT text."""
    a = Value(2.0, label="a")
    y = a * 3
    source = draw_graph(y.tanh(), legend=False).source
    lines = source.splitlines()
    leaf = next(line for line in lines if "<B>a</B>" in line)
    const = next(line for line in lines if "<I>data 3</I>" in line)
    root = next(line for line in lines if 'BORDER="3"' in line)
    middle = next(line for line in lines if "data 6<" in line)
    fills = {line.split('BGCOLOR="')[1][:7] for line in (leaf, const, root, middle)}
    assert len(fills) == 4


# -- edge labels: local derivatives against central finite differences ----------------------
def sigmoid64(x: float) -> float:
    return float(1 / (1 + np.exp(np.float64(-x))))


# name -> (engine expression of a, b; numpy float64 function of [a, b]; a; b)
CASES: dict[str, tuple[Callable[[Value, Value], Value], Callable[[Sequence[float]], float]]] = {
    "+": (lambda a, b: a + b, lambda v: v[0] + v[1]),
    "-": (lambda a, b: a - b, lambda v: v[0] - v[1]),
    "*": (lambda a, b: a * b, lambda v: v[0] * v[1]),
    "/": (lambda a, b: a / b, lambda v: v[0] / v[1]),
    "neg": (lambda a, b: -a, lambda v: -v[0]),
    "exp": (lambda a, b: a.exp(), lambda v: float(np.exp(v[0]))),
    "log": (lambda a, b: a.log(), lambda v: float(np.log(v[0]))),
    "tanh": (lambda a, b: a.tanh(), lambda v: float(np.tanh(v[0]))),
    "sigmoid": (lambda a, b: a.sigmoid(), lambda v: sigmoid64(v[0])),
    "relu": (lambda a, b: a.relu(), lambda v: float(np.maximum(v[0], 0.0))),
    "**3": (lambda a, b: a**3, lambda v: float(np.float64(v[0]) ** 3)),
    "**-0.5": (lambda a, b: a**-0.5, lambda v: float(np.float64(v[0]) ** -0.5)),
    "**": (lambda a, b: a**b, lambda v: float(np.float64(v[0]) ** v[1])),
}
POINTS = [(0.7, -1.3), (1.9, 0.4)]
POINTS_BY_OP = {"relu": [(0.7, 0.0), (-0.7, 0.0)], "**": [(0.7, -1.3), (1.9, 0.4)]}


@needs_dot
@pytest.mark.parametrize("name", list(CASES))
def test_edge_labels_equal_central_differences(name: str) -> None:
    """Reference: tests.reference.central_gradient (numpy float64, h = 1e-6)."""
    precision = 6
    expr, f = CASES[name]
    for a0, b0 in POINTS_BY_OP.get(name, POINTS):
        a, b = Value(a0, label="a"), Value(b0, label="b")
        result = expr(a, b)
        assert result.op is not None and result.op.display == name
        svg = draw_graph(result, edge_derivatives=True, precision=precision).pipe(format="svg")
        label_of = {title: texts[0] for title, texts, _ in svg_groups(svg, "node")}
        derivative_shown = {}
        for tail, _, text, _ in derivative_marks(svg):
            if label_of[tail] in ("a", "b"):
                assert text.startswith("∂=")
                derivative_shown[label_of[tail]] = float(text[2:])
        operands = ["a", "b"] if len(result.operands) == 2 else ["a"]
        assert sorted(derivative_shown) == operands
        reference = central_gradient(f, [a0, b0])
        for k, operand in enumerate(operands):
            got, want = derivative_shown[operand], reference[k]
            # half a unit in the last digit shown, plus the finite difference's own error
            unit = 10 ** (math.floor(math.log10(abs(want))) - precision + 1) if want else 0
            assert abs(got - want) <= unit / 2 + 1e-7 * max(1.0, abs(want)), (name, operand)


def test_no_edge_labels_unless_asked() -> None:
    """Reference: the DOT text (edge labels are the only place ∂ appears)."""
    y = Value(2.0) * Value(3.0)
    assert "∂" not in draw_graph(y).source
    assert draw_graph(y, edge_derivatives=True).source.count("∂=") == 2


# -- determinism ----------------------------------------------------------------------------
DETERMINISM_SCRIPT = textwrap.dedent(
    """
    import sys
    from autograd_lite import Value, draw_graph, scope
    from autograd_lite.walkthrough import build_network
    net = build_network()
    net.L.backward()
    xs = [Value(float(i), label=f"x{i}") for i in range(30)]
    with scope("outer"):
        with scope("inner"):
            s = sum((x * x for x in xs), Value(0.0))
        t = s.tanh() + net.L
    t.backward()
    for root in (net.L, t):
        text = draw_graph(root, edge_derivatives=True, precision=6).source
        sys.stdout.buffer.write(text.encode("utf-8"))
    """
)


def test_dot_text_is_identical_across_hash_seeds() -> None:
    """Reference: the bytes printed by separate processes with different PYTHONHASHSEED."""
    outputs = []
    for seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", DETERMINISM_SCRIPT],
            cwd=REPO,
            env=env,
            capture_output=True,
            check=True,
        )
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    assert b"cluster" in outputs[0] and len(outputs[0]) > 10_000


# -- hostile text ---------------------------------------------------------------------------
HOSTILE = [
    'say "hi"',
    "back\\slash \\N \\G \\E \\T \\H \\L \\n \\l end\\",
    "{brace} }{",
    "p|q",
    "<b>bold?</b> <BR/>",
    "line one\nline two",
    "ŷ δ η → ∂ 🙂",
    "</TD></TR></TABLE>",
    "]; evil [",
    "&amp; &lt; &#92;",
    "' single '",
]


@needs_dot
def test_hostile_labels_are_shown_literally() -> None:
    """Reference: dot's exit status and warnings, and the text in its SVG (XML-unescaped)."""
    leaves = [Value(float(i + 1), label=text) for i, text in enumerate(HOSTILE)]
    with scope('outer "scope" ]; x [ </TD>'), scope("inner & <nested>\\N"):
        total = leaves[0]
        for leaf in leaves[1:]:
            total = total + leaf
    weird = Op('my<op>|"x"\\G', lambda a: 2 * a, lambda g, out, a: (2 * g,))
    root = weird(total)
    root.label = "root {x|y}"
    root.backward()
    source = draw_graph(root, edge_derivatives=True).source
    run = subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True, check=False)
    assert run.returncode == 0 and run.stderr == b""
    node_texts = ["\n".join(texts) for _, texts, _ in svg_groups(run.stdout, "node")]
    for text in [*HOSTILE, "root {x|y}", 'my<op>|"x"\\G']:
        assert any(t.startswith(text + "\n") or t == text for t in node_texts), text
    clusters = sorted(texts[0] for _, texts, _ in svg_groups(run.stdout, "cluster"))
    assert clusters == sorted(['outer "scope" ]; x [ </TD>', "inner & <nested>\\N"])


@needs_dot
def test_control_characters_are_shown_escaped() -> None:
    """Reference: Python's repr of the character; dot's SVG must stay well-formed XML."""
    root = Value(1.0, label="bell\x07 tab\t nul\x00")
    svg = draw_graph(root, legend=False).pipe(format="svg")
    (texts,) = [texts for _, texts, _ in svg_groups(svg, "node")]
    assert texts[0] == "bell\\x07 tab\\t nul\\x00"


# -- errors and files -----------------------------------------------------------------------
@pytest.fixture
def no_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PATH holds only an empty folder: `dot` cannot be found."""
    empty = tmp_path / "empty_bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def test_missing_dot_saves_the_dot_text_and_says_how_to_install(
    tmp_path: Path, no_dot: None
) -> None:
    """Reference: the install commands named in the issue; the DOT text from draw_graph."""
    out = tmp_path / "out"
    out.mkdir()
    net = build_network()
    net.L.backward()
    with pytest.raises(RenderError) as info:
        render_graph(net.L, out / "net.png", edge_derivatives=True)
    message = str(info.value)
    for command in (
        "sudo apt-get install graphviz",
        "brew install graphviz",
        "conda install -c conda-forge graphviz",
        "winget install graphviz",
    ):
        assert command in message
    assert info.value.dot_path == out / "net.dot"
    assert str(out / "net.dot") in message
    saved = (out / "net.dot").read_text(encoding="utf-8")
    assert saved == draw_graph(net.L, edge_derivatives=True).source
    assert "hidden neuron" in saved and "ŷ" in saved
    assert sorted(p.name for p in out.iterdir()) == ["net.dot"]


def test_missing_dot_never_replaces_a_file_and_quotes_the_command(
    tmp_path: Path, no_dot: None
) -> None:
    """Reference: the files' bytes before and after; POSIX shell word splitting (shlex.split)."""
    out = tmp_path / "my out"
    out.mkdir()
    (out / "s p.dot").write_bytes(b"the user's own file")
    (out / "s p.1.dot").mkdir()  # a directory is a taken name too
    root = Value(2.0, label="x") * 3
    with pytest.raises(RenderError) as info:
        render_graph(root, out / "s p.png")
    assert (out / "s p.dot").read_bytes() == b"the user's own file"
    assert info.value.dot_path == out / "s p.2.dot"
    assert (out / "s p.2.dot").read_text(encoding="utf-8") == draw_graph(root).source
    assert sorted(p.name for p in out.iterdir()) == ["s p.1.dot", "s p.2.dot", "s p.dot"]
    message = str(info.value)
    assert f"saved to {out / 's p.2.dot'} ({out / 's p.dot'} exists already" in message
    (command,) = [line for line in message.splitlines() if line.startswith("  dot ")]
    assert shlex.split(command) == [
        "dot",
        "-Tpng",
        str(out / "s p.2.dot"),
        "-o",
        str(out / "s p.png"),
    ]


@needs_dot
def test_the_suggested_command_renders_the_saved_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reference: the real shell runs the command from the message; the PNG file signature."""
    monkeypatch.chdir(tmp_path)
    path = os.environ["PATH"]
    monkeypatch.setenv("PATH", str(tmp_path / "nothing here"))
    for name in ("-it's $HOME.png", "a;b `c`.png"):
        with pytest.raises(RenderError) as info:
            render_graph(Value(1.0, label="x").exp(), Path(name))
        (command,) = [line for line in str(info.value).splitlines() if line.startswith("  dot ")]
        subprocess.run(["sh", "-c", command], env={"PATH": path}, check=True)
        assert Path(name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_dot_format_needs_no_dot_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reference: draw_graph's DOT text, written as UTF-8 bytes."""
    monkeypatch.setenv("PATH", str(tmp_path))
    root = Value(1.5, label="ŷ").tanh()
    out = render_graph(root, tmp_path / "g.dot", precision=6)
    assert out.read_bytes() == draw_graph(root, precision=6).source.encode("utf-8")


def test_missing_dot_and_unwritable_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reference: the file system after the call (nothing created)."""
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RenderError) as info:
        render_graph(Value(1.0), tmp_path / "missing" / "g.svg")
    assert info.value.dot_path is None
    assert "brew install graphviz" in str(info.value)
    assert list(tmp_path.iterdir()) == []


@needs_dot
def test_unwritable_path_leaves_nothing(tmp_path: Path) -> None:
    """Reference: the directory listing before and after the call."""
    root = Value(1.0, label="a") * 2
    missing = tmp_path / "no such dir" / "g.png"
    with pytest.raises(RenderError, match=re.escape(str(missing))):
        render_graph(root, missing)
    taken = tmp_path / "taken.svg"  # a directory where the file should go
    taken.mkdir()
    with pytest.raises(RenderError, match=re.escape(str(taken))):
        render_graph(root, taken)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.svg"]
    assert list(taken.iterdir()) == []


@needs_dot
def test_format_comes_from_the_extension(tmp_path: Path) -> None:
    """Reference: the PDF, PNG and SVG file signatures."""
    root = (Value(0.3, label="x").exp() + 1).log()
    root.backward()
    assert render_graph(root, tmp_path / "g.pdf").read_bytes().startswith(b"%PDF")
    assert render_graph(root, tmp_path / "G.PNG").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert b"<svg" in render_graph(root, str(tmp_path / "g.svg")).read_bytes()


def test_unknown_extension_is_refused_before_writing(tmp_path: Path) -> None:
    """Reference: the accepted extensions listed in the issue."""
    for name in ("g.jpg", "g", "g.png.bak"):
        with pytest.raises(ValueError) as info:
            render_graph(Value(1.0), tmp_path / name)
        message = str(info.value)
        for ext in (".png", ".svg", ".pdf", ".dot"):
            assert ext in message
        assert name in message
    assert list(tmp_path.iterdir()) == []


def test_node_limit(tmp_path: Path) -> None:
    """Reference: value + op counts from the structure walked here."""
    net = build_network()
    nodes = walk(net.L)
    count = len(nodes) + sum(1 for n in nodes if n.operands)
    with pytest.raises(GraphTooLargeError) as info:
        draw_graph(net.L, max_nodes=count - 1)
    assert isinstance(info.value, ValueError)
    assert str(count) in str(info.value) and f"max_nodes={count}" in str(info.value)
    assert info.value.node_count == count
    assert isinstance(draw_graph(net.L, max_nodes=count), graphviz.Digraph)
    with pytest.raises(GraphTooLargeError):
        render_graph(net.L, tmp_path / "g.png", max_nodes=10)
    assert list(tmp_path.iterdir()) == []


def test_deep_chain_of_100000_values_without_recursion() -> None:
    """Reference: the chain's size known from how it is built (4 values, 6 edges a step)."""
    steps = 25_000
    x = Value(1.0, label="x0")
    for _ in range(steps):
        x = x * 1.0001 + 0.0001
    values, ops = 1 + 4 * steps, 2 * steps
    assert values >= 100_000
    with pytest.raises(GraphTooLargeError):
        draw_graph(x)
    source = draw_graph(x, max_nodes=values + ops, legend=False).source
    assert source.count(" -> ") == 6 * steps
    assert source.count("[label=<<TABLE") == values


def test_options() -> None:
    """Reference: the option values named in the issue, read off the DOT text."""
    y = Value(2.0 / 3.0, label="a").exp()
    assert "rankdir=TB" in draw_graph(y).source  # the default: narrow enough for a page
    assert "rankdir=LR" in draw_graph(y, rankdir="LR").source
    assert "data 0.666667<" in draw_graph(y, precision=6).source
    assert "data 0.67<" in draw_graph(y, precision=2).source
    assert "Legend" in draw_graph(y).source and "Legend" not in draw_graph(y, legend=False).source
    for bad in ({"precision": 0}, {"rankdir": "XY"}, {"max_nodes": 0}):
        with pytest.raises(ValueError, match=f"draw_graph: {next(iter(bad))}"):
            draw_graph(y, **bad)  # type: ignore[arg-type]
    for switch in ("edge_derivatives", "constant_grads", "legend"):
        with pytest.raises(TypeError, match=f"draw_graph: {switch} must be True or False"):
            draw_graph(y, **{switch: "no"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"got int of about 10\*\*5000$"):  # not 5000 digits
        draw_graph(y, precision=10**5000)
    with pytest.raises(TypeError, match="draw_graph: root must be a Value or a Tensor, got float"):
        draw_graph(2.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="legnd"):  # render_graph passes options on
        render_graph(y, "never.dot", legnd=False)
    assert not Path("never.dot").exists()


def test_jupyter_display_without_dot_shows_the_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reference: IPython's display protocol (_repr_mimebundle_), the install commands."""
    g = draw_graph(Value(1.0, label="x") + 1)
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no `dot`
    monkeypatch.chdir(tmp_path)  # where view() saves the source
    bundle = g._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    assert "`dot` program was not found" in bundle["text/plain"]
    assert "sudo apt-get install graphviz" in bundle["text/plain"]
    for show in (g._repr_image_svg_xml, lambda: g.pipe(format="png"), g.view):
        with pytest.raises(RenderError, match="brew install graphviz") as info:
            show()
        assert info.value.path is None
    with pytest.raises(RenderError, match="conda install"):
        g.render(tmp_path / "g", format="svg")
    # graphviz saved the DOT source before running dot: nothing is lost
    assert sorted(p.name for p in tmp_path.iterdir()) == ["autograd_lite.gv", "g"]


@needs_dot
def test_draw_graph_displays_inline_in_jupyter() -> None:
    """Reference: IPython's display protocol (_repr_mimebundle_ with an SVG)."""
    g = draw_graph(Value(1.0, label="x") + 1)
    assert isinstance(g, graphviz.Digraph)
    bundle = g._repr_mimebundle_(include=["image/svg+xml"])
    assert "<svg" in bundle["image/svg+xml"]


@needs_dot
def test_each_run_of_a_scope_block_is_its_own_box(tmp_path: Path) -> None:
    """Reference: the blocks entered here (three runs of one name, one nested), in the SVG."""
    x = Value(1.0, label="x")
    total = Value(0.0, label="total")
    for i in range(3):
        with scope("neuron"):
            total = total + x * float(i)
            if i == 2:
                with scope("inner"):
                    total = total.tanh()
    svg = render_graph(total, tmp_path / "g.svg").read_bytes()
    clusters = sorted(texts[0] for _, texts, _ in svg_groups(svg, "cluster"))
    assert clusters == ["inner", "neuron", "neuron", "neuron"]
    assert total.scope == ("neuron", "inner")
    after_run_2 = total.operands[0].operands[0]  # tanh(run 3's sum) <- run 3's sum <- run 2's
    assert after_run_2.scope == ("neuron",)
    assert total.scope_blocks[0] is not after_run_2.scope_blocks[0]


# -- tests without `dot` ----------------------------------------------------------------------
def test_tests_needing_dot_skip_with_a_reason_but_fail_in_ci(tmp_path: Path) -> None:
    """Reference: pytest's own report of a run with a PATH that holds no `dot`."""
    empty = tmp_path / "empty_bin"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PATH"] = str(empty)
    command = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"]
    command.append("tests/test_render.py::test_png_of_document_network")
    local = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    assert local.returncode == 0, local.stdout
    assert "1 skipped" in local.stdout
    assert "sudo apt-get install graphviz, or run sh setup.sh" in local.stdout
    ci = subprocess.run(
        command, cwd=REPO, env={**env, "CI": "true"}, capture_output=True, text=True
    )
    assert ci.returncode == 1 and "1 error" in ci.stdout, ci.stdout  # failed in setup
    assert "`dot` is not on PATH in CI" in ci.stdout


def test_example_script_reports_a_bad_path_in_one_line(tmp_path: Path) -> None:
    """Reference: the exit status, stderr and the file system after running the example."""
    a_file = tmp_path / "a file"
    a_file.write_text("not a folder")
    bad = [a_file / "g.png", tmp_path / "new" / "g.jpg"]
    if Path("/proc/self").is_dir():  # Linux: a folder no one may create (the case)
        bad.append(Path("/proc/x/g.png"))
    for path in bad:
        run = subprocess.run(
            [sys.executable, str(REPO / "examples" / "draw_graph.py"), str(path)],
            capture_output=True,
            text=True,
        )
        assert run.returncode == 1 and run.stdout == "", (path, run.stderr)
        (line,) = run.stderr.splitlines()
        assert line.startswith("error: ") and str(path) in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a file"]


# -- legend, constants, README picture, MLP boxes and edge labels ---------------------------
def first_fill(g: ET.Element) -> str:
    """The fill of the first filled shape of an SVG group: a node's or box's colour."""
    for el in g.iter():
        if el.tag in (f"{SVG}path", f"{SVG}polygon", f"{SVG}ellipse"):
            if el.get("fill") not in (None, "none", "transparent"):
                return el.get("fill", "")
    raise AssertionError("no filled shape")


def hand_network() -> dict[str, float]:
    """The document's network by hand in numpy float64: y_hat and the loss's factor."""
    x, y, w1, b1, w2, b2 = (np.float64(v) for v in (1.0, 1.0, 0.4, 0.1, 0.3, 0.2))
    h = 1 / (1 + np.exp(-(w1 * x + b1)))
    y_hat = 1 / (1 + np.exp(-(w2 * h + b2)))
    return {"y_hat": float(y_hat), "square": float((y - y_hat) ** 2)}


@needs_dot
def test_legend_explains_the_colours_the_drawing_uses(network_svg: tuple[Value, bytes]) -> None:
    """Reference: the fills dot gave the nodes, ops, boxes and ∂ labels in the same SVG."""
    _, svg = network_svg
    nodes = {tuple(texts): g for _, texts, g in svg_groups(svg, "node")}
    (legend,) = [g for title, _, g in svg_groups(svg, "node") if title == "legend"]
    meaning: dict[str, str] = {}  # text of a legend row -> the colour of its sample
    fill = ""
    for el in legend.iter():
        if el.tag == f"{SVG}path" and el.get("fill") not in ("none", "transparent"):
            fill = el.get("fill", "")
        elif el.tag == f"{SVG}text" and (el.text or "").strip() not in ("", "op", "Legend"):
            if el.text == "∂":
                fill = el.get("fill", "")
            elif fill:  # the first line of a row's text; the next lines have no sample
                meaning[el.text or ""] = fill
                fill = ""
    by_start = {text.split(":")[0].split(" ")[0]: colour for text, colour in meaning.items()}
    (cluster,) = [g for _, texts, g in svg_groups(svg, "cluster") if texts[0] == "loss"]
    (label,) = [t for t in ET.fromstring(svg).iter(f"{SVG}text") if t.text == "∂=0.809"]
    assert by_start == {
        "input": first_fill(nodes["w1", "data 0.4", "grad -0.006869"]),
        "constant": first_fill(nodes[("data 0.5",)]),
        "intermediate": first_fill(nodes["t3", "data 0.4045", "grad 0.4045"]),
        "the": first_fill(nodes["L", "data 0.08181", "grad 1"]),  # the output drawn
        "op": first_fill(nodes[("sigmoid",)]),
        "on": label.get("fill"),  # on an edge: ∂
        "a": first_fill(cluster),  # a scope(...) block
    }
    assert len(set(by_start.values())) == 7
    (only,) = [
        g for t, _, g in svg_groups(draw_graph(Value(1.0)).pipe("svg"), "node") if t == "legend"
    ]
    assert [t.text for t in only.iter(f"{SVG}text") if t.text and t.text.strip()] == [
        "Legend",
        "the output drawn",
    ]


@needs_dot
def test_constants_show_no_grad_unless_asked() -> None:
    """Reference: the document's network by hand in numpy (dL/d0.5 = (y - y_hat)**2)."""
    net = build_network()
    net.L.backward()
    hand = hand_network()
    assert net.y_hat.data == pytest.approx(hand["y_hat"], rel=1e-15)
    for asked in (False, True):
        svg = draw_graph(net.L, edge_derivatives=True, constant_grads=asked).pipe("svg")
        (const,) = [texts for _, texts, _ in svg_groups(svg, "node") if texts[0] == "data 0.5"]
        edge_texts = {text for _, _, text, _ in derivative_marks(svg)}
        square = shown(hand["square"])
        assert (const == ["data 0.5", f"grad {square}"]) is asked
        assert (const == ["data 0.5"]) is not asked
        assert (f"∂={square}" in edge_texts) is asked


@needs_dot
def test_readme_picture_reads_at_readme_width(tmp_path: Path) -> None:
    """Reference: the PNG's IHDR size and the SVG's size and font size, both from dot.

    The README shows docs/document_graph.png at most about 900 px wide; its text must
    then stay at least 10 px tall. The committed picture is what the CLI draws today.
    """
    net = build_network()
    net.L.backward()
    png = render_graph(net.L, tmp_path / "g.png", edge_derivatives=True).read_bytes()
    svg = render_graph(net.L, tmp_path / "g.svg", edge_derivatives=True).read_bytes()
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    svg_width = float(ET.fromstring(svg).get("width", "").removesuffix("pt"))
    sizes = {float(t.get("font-size", 0)) for t in ET.fromstring(svg).iter(f"{SVG}text")}
    smallest_px = min(sizes) * min(width, 900) / svg_width
    assert smallest_px >= 10, (width, sorted(sizes))
    committed = (REPO / "docs" / "document_graph.png").read_bytes()
    assert committed[16:24] == png[16:24], "regenerate it: see README.md"
    assert height > width  # drawn downwards: the neurons one under the other


def edge_paths(svg: bytes) -> dict[str, list[tuple[float, float]]]:
    """Points along each edge's path: dot's cubic Bézier segments, sampled 20 times each."""
    out = {}
    for title, _, g in svg_groups(svg, "edge"):
        path = g.find(f"{SVG}path")
        assert path is not None
        nums = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))]
        pts = list(zip(nums[0::2], nums[1::2]))
        samples = []
        for k in range(0, len(pts) - 3, 3):
            p0, p1, p2, p3 = pts[k : k + 4]
            for t in np.linspace(0.0, 1.0, 21):
                u = 1 - t
                samples.append(
                    (
                        u**3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0],
                        u**3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1],
                    )
                )
        out[title] = samples
    return out


@needs_dot
@pytest.mark.parametrize(
    ("nin", "nouts", "seed"), [(2, [3, 1], 0), (3, [4, 4, 1], 1), (2, [2, 2], 3)]
)
def test_mlp_parameters_sit_in_their_neuron_box_and_each_derivative_on_its_edge(
    nin: int, nouts: list[int], seed: int
) -> None:
    """Reference: dot's SVG geometry (cluster boxes, node centres, sampled edge paths)."""
    model = MLP(nin, nouts, rng=seed)
    out = sum(model([0.5 + i for i in range(nin)]), Value(0.0))
    out.backward()
    svg = draw_graph(out, edge_derivatives=True).pipe("svg")
    clusters = [(texts[0], bbox(g)) for _, texts, g in svg_groups(svg, "cluster")]

    def inside(point: tuple[float, float], box: tuple[tuple[float, float], ...]) -> bool:
        return box[0][0] <= point[0] <= box[0][1] and box[1][0] <= point[1] <= box[1][1]

    names = [name for name, _ in model.named_parameters()]
    assert len(names) == sum((n_in + 1) * n for n_in, n in zip([nin, *nouts], nouts))
    placed = 0
    for _, texts, g in svg_groups(svg, "node"):
        # The box shows the short name (w.0 as w₀, b), its tooltip the whole path.
        tips = [a.get(f"{{{XLINK}}}title") for a in g.iter(f"{SVG}a")]
        if not tips or tips[0] not in names:
            continue
        full = tips[0]
        *_, kind, last = full.split(".")
        short = "b" if last == "b" else kind + "₀₁₂₃₄₅₆₇₈₉"[int(last)]
        assert texts[0] == short, (texts, full)
        _, layer, _, neuron, *_ = full.split(".")
        (layer_box,) = [box for name, box in clusters if name == f"layers.{layer}"]
        holding = [name for name, box in clusters if inside(center(g), box)]
        assert sorted(holding) == sorted([f"layers.{layer}", f"neurons.{neuron}"]), full
        (neuron_box,) = [
            box
            for name, box in clusters
            if name == f"neurons.{neuron}"
            and inside(((box[0][0] + box[0][1]) / 2, box[1][0]), layer_box)
        ]
        assert inside(center(g), neuron_box)
        placed += 1
    assert placed == len(names)
    assert each_derivative_on_its_edge(svg) == sum(len(n.operands) for n in walk(out))


def each_derivative_on_its_edge(svg: bytes) -> int:
    """Check that each ∂'s text is nearer its own edge (the operand -> op edge it labels,
    drawn in two pieces through it) than any other edge; return how many there are.

    Reference: dot's SVG geometry: the text's middle (its anchor point, half a line above
    the baseline) and each edge's sampled Bézier path."""
    paths = edge_paths(svg)
    marks = derivative_marks(svg)
    for operand, op, text, g in marks:
        mark = g.findtext(f"{SVG}title")
        into, out = f"{operand}->{mark}", f"{mark}->{op}"  # the edge's two pieces
        own = {into, out}
        # The edge runs through the ∂: from the end of its first piece to the start of its
        # second, the text is where the line would be.
        (ax, ay), (bx, by) = paths[into][-1], paths[out][0]
        through = [(ax + t * (bx - ax), ay + t * (by - ay)) for t in np.linspace(0, 1, 21)]
        (node_text,) = g.iter(f"{SVG}text")
        size = float(node_text.get("font-size", 10))
        x, y = float(node_text.get("x", 0)), float(node_text.get("y", 0)) - size * 0.35
        width = 0.55 * size * len(node_text.text or "")  # Helvetica's mean advance, about
        x += {"start": width / 2, "end": -width / 2}.get(node_text.get("text-anchor", ""), 0)
        distance = {t: min(math.hypot(px - x, py - y) for px, py in p) for t, p in paths.items()}
        nearest_own = min(distance[into], distance[out], *(math.hypot(px - x, py - y)
                                                           for px, py in through))  # fmt: skip
        others = [d for t, d in distance.items() if t not in own]
        assert not others or nearest_own < min(others), (text, operand, op)
    return len(marks)


def _x_times_y() -> Value:
    x, y = Value(3.0, label="x"), Value(2.0, label="y")
    return x * y


def _used_three_times() -> Value:
    a = Value(3.0, label="a")
    return a * a + a


def _four_edges_meet() -> Value:
    x, y = Value(3.0, label="x"), Value(2.0, label="y")
    return (x * y) * (x + y)


def _long_edges_cross() -> Value:
    a, b, c = Value(1.5, label="a"), Value(-2.0, label="b"), Value(0.5, label="c")
    return (a * b + c).tanh() * a - b / c


def _one_weight_many_inputs() -> Value:
    w = Value(0.3, label="w")
    return sum((Value(float(i), label=f"x{i}") * w for i in range(4)), Value(0.0))


@needs_dot
@pytest.mark.parametrize(
    "build",
    [_x_times_y, _used_three_times, _four_edges_meet, _long_edges_cross,
     _one_weight_many_inputs, lambda: build_network().L],
    ids=["x*y", "a*a+a", "(x*y)*(x+y)", "long-edges", "fan-out", "document"],
)  # fmt: skip
def test_each_derivative_sits_on_its_own_edge(build: Any) -> None:
    """Reference: dot's SVG geometry (see each_derivative_on_its_edge); the count of edges
    into ops from operands that are not constants, walked here."""
    root = build()
    svg = draw_graph(root, edge_derivatives=True).pipe("svg")
    expected = sum(1 for n in walk(root) for x in n.operands if not x.is_constant)
    assert each_derivative_on_its_edge(svg) == expected > 0


@needs_dot
def test_parameters_join_the_box_of_their_uses_only_when_there_is_one(tmp_path: Path) -> None:
    """Reference: dot's SVG geometry (node centres inside cluster boxes)."""
    with scope("made"):
        w, once = Value(2.0, label="w"), Value(3.0, label="once")
    x = Value(1.0, label="x")
    with scope("first"):
        a = w * x + once
    with scope("second"):
        b = w * a
    svg = render_graph(b, tmp_path / "g.svg").read_bytes()
    boxes = {texts[0]: bbox(g) for _, texts, g in svg_groups(svg, "cluster")}
    assert sorted(boxes) == ["first", "made", "second"]
    for label, box in (("w", "made"), ("once", "first"), ("x", None)):
        (g,) = [g for _, texts, g in svg_groups(svg, "node") if texts[0] == label]
        (cx, cy) = center(g)
        holding = [
            name
            for name, ((x0, x1), (y0, y1)) in boxes.items()
            if x0 <= cx <= x1 and y0 <= cy <= y1
        ]
        assert holding == ([box] if box else []), label


def test_a_file_name_near_the_length_limit_can_be_written(tmp_path: Path) -> None:
    # Reference: the file system's limit of 255 bytes per name; a .dot needs no `dot`.
    name = "a" * 251 + ".dot"
    written = render_graph(Value(1.0) * 2, tmp_path / name)
    assert written.name == name and written.read_text(encoding="utf-8").startswith("digraph")


def test_without_hard_links_the_dot_text_is_still_kept(
    tmp_path: Path, no_dot: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reference: the file system's state. Some file systems refuse hard links (EPERM).
    import autograd_lite.render.export as export

    def refuse(*args: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(export.os, "link", refuse)
    (tmp_path / "g.dot").write_bytes(b"mine")
    root = Value(2.0, label="x") * 3
    with pytest.raises(RenderError) as info:
        render_graph(root, tmp_path / "g.png")
    assert (tmp_path / "g.dot").read_bytes() == b"mine"
    assert info.value.dot_path == tmp_path / "g.1.dot"
    assert (tmp_path / "g.1.dot").read_text(encoding="utf-8") == draw_graph(root).source


@needs_dot
def test_every_name_the_steps_use_is_on_the_drawing(tmp_path: Path) -> None:
    """Reference: the names the document's step table uses (docs/stepping.md: t1 = x * w1,
    t2 = h * w2, t3 = y - ŷ, t4 = t3**2) and, for a graph without labels, the names the
    module docstring of step_table gives (t1, t2, ...; leaf1, leaf2, ...)."""
    net = build_network()
    net.L.backward()
    svg = render_graph(net.L, tmp_path / "g.svg", edge_derivatives=True).read_bytes()
    boxes = {texts[0]: texts for _, texts, _ in svg_groups(svg, "node")}
    assert boxes["t1"] == ["t1", "data 0.4", "grad -0.006869"]  # t1 = x * w1 = 0.4
    assert boxes["t2"][:2] == ["t2", "data 0.1867"]  # t2 = h * w2 = 0.6225 * 0.3
    assert boxes["t3"][:2] == ["t3", "data 0.4045"]  # t3 = y - ŷ
    assert boxes["t4"][:2] == ["t4", "data 0.1636"]  # t4 = t3**2
    named = {"x", "y", "w1", "b1", "w2", "b2", "z1", "h", "z2", "ŷ", "L", "t1", "t2", "t3", "t4"}
    assert named <= set(boxes)
    # The PNG is drawn from the same DOT text.
    assert all(f"<B>{name}</B>" in draw_graph(net.L).source for name in named)
    a, b = Value(2.0), Value(3.0)
    y = (a * b).tanh()
    svg = draw_graph(y).pipe("svg")
    firsts = sorted(texts[0] for _, texts, _ in svg_groups(svg, "node"))
    assert [t for t in firsts if t[:1] in ("t", "l") and t not in ("Legend", "tanh")] == [
        "leaf1", "leaf2", "t1", "t2"
    ]  # fmt: skip


@needs_dot
def test_the_document_drawing_has_its_neurons_one_above_the_other() -> None:
    """Reference: dot's SVG geometry: the boxes' x ranges and the centres of the chain's
    nodes (a staircase shifts each box sideways)."""
    net = build_network()
    net.L.backward()
    svg = draw_graph(net.L, edge_derivatives=True).pipe("svg")
    boxes = {texts[0]: bbox(g) for _, texts, g in svg_groups(svg, "cluster")}
    (h0, h1), (hy0, hy1) = boxes["hidden neuron"]
    (o0, o1), (oy0, oy1) = boxes["output neuron"]
    assert hy1 <= oy0 or oy1 <= hy0  # one above the other ...
    overlap = min(h1, o1) - max(h0, o0)
    assert overlap >= 0.9 * min(h1 - h0, o1 - o0)  # ... and aligned
    xs = {texts[0]: center(g)[0] for title, texts, g in svg_groups(svg, "node") if title[0] == "v"}
    chain = ["t1", "z1", "h", "t2", "z2", "ŷ", "t3", "t4", "L"]
    assert max(xs[n] for n in chain) - min(xs[n] for n in chain) < 20  # one straight column
