"""Drawing Tensor graphs: checked through the real Graphviz `dot` and independent references.

References: gradients written out by hand in numpy float64 (the numbers shown), numpy's
float formatting, numpy's broadcasting rules as its documentation states them, written out
here (which edges are marked, over which axes), numpy's matmul documentation (batch axes
broadcast, the matrix axes do not), the sizes of the graphs known from how they are built,
and dot's own SVG parsed with ElementTree (what is shown).
"""

from __future__ import annotations

import html
import os
import re
import struct
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_lite import (
    Op,
    Tensor,
    backward_steps,
    draw_graph,
    maximum,
    render_graph,
    scope,
    where,
)
from autograd_lite.engine.array_ops import linear
from autograd_lite.render import GraphTooLargeError
from tests.test_render import HOSTILE, SVG, first_fill, shown, svg_groups, walk

needs_dot = pytest.mark.needs_dot  # skips with a reason where `dot` is missing (conftest.py)
REPO = Path(__file__).resolve().parent.parent
NBSP = "\xa0"


# -- independent helpers ------------------------------------------------------------------
def array_lines(values: Any, precision: int = 4) -> list[str]:
    """The lines an array of at most 2 axes should be drawn as: numpy's nesting of brackets,
    one line per row, each number formatted by numpy, rows after the first indented one."""
    a = np.asarray(values, dtype=np.float64)
    if a.ndim == 0:
        return [shown(float(a), precision)]
    if a.ndim == 1:
        return ["[" + ", ".join(shown(float(v), precision) for v in a) + "]"]
    rows = ["[" + ", ".join(shown(float(v), precision) for v in row) + "]" for row in a]
    return [
        ("[" if i == 0 else NBSP) + row + ("]" if i == len(rows) - 1 else ",")
        for i, row in enumerate(rows)
    ]


def dot_array(values: Any, precision: int = 4) -> str:
    """An array as it should appear in the DOT text: `array_lines` joined by line breaks."""
    return "<BR/>".join(array_lines(values, precision)).replace(NBSP, "&#160;")


def summed_axes(operand: tuple[int, ...], result: tuple[int, ...]) -> tuple[int, ...]:
    """numpy's broadcasting rules, as its documentation states them: shapes are aligned on
    the right; the axes the operand lacks on the left, and those where it has length 1 and
    the result does not, are the axes it was stretched over."""
    lead = len(result) - len(operand)
    return tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(operand) if n == 1 and result[lead + i] != 1
    )


def mark(axes: tuple[int, ...], shape: tuple[int, ...]) -> str:
    """The text an edge summed over `axes` back to `shape` should carry."""
    word = "axis" if len(axes) == 1 else "axes"
    return f"Σ {word} {', '.join(map(str, axes))} → {shape}"


def dot_nodes(source: str) -> dict[str, str]:
    """DOT node name -> its whole label line, from draw_graph's source."""
    return {
        m.group(1): m.group(0) for m in re.finditer(r"^\t+([vo]\d+) \[label=<.*$", source, re.M)
    }


def node_named(source: str, label: str) -> str:
    """The DOT name of the value node labelled `label`."""
    (name,) = [n for n, line in dot_nodes(source).items() if f"<B>{label}</B>" in line]
    return name


def edge_marks(source: str) -> dict[tuple[str, str], str]:
    """(tail, head) -> the text on that edge, for every edge that carries text."""
    return {
        (m.group(1), m.group(2)): html.unescape(m.group(3))
        for m in re.finditer(r"^\t(\w+) -> (\w+) \[label=<(.*?)>", source, re.M)
    }


def op_labels(source: str) -> list[str]:
    """The text of every op node, in the order drawn."""
    return [
        html.unescape(m.group(1))
        for m in re.finditer(r"^\t+o\d+ \[label=<(.*)> shape=ellipse", source, re.M)
    ]


def layer() -> dict[str, Any]:
    """A batch through relu(x @ W.T + b) summed, after backward, and the same by hand."""
    x_np = np.arange(12.0).reshape(4, 3) / 10 - 0.5
    w_np = np.array([[0.5, -0.25, 0.1], [0.2, 0.4, -0.3]])
    b_np = np.array([0.1, -0.1])
    x = Tensor(x_np, label="x", requires_grad=False)
    w, b = Tensor(w_np, label="W"), Tensor(b_np, label="b")
    loss = (x @ w.T + b).relu().sum()
    loss.label = "loss"
    loss.backward()
    z = x_np @ w_np.T + b_np  # by hand: dloss/dz is relu's mask; b was added to every row
    mask = (z > 0).astype(np.float64)
    assert 0 < mask.sum() < mask.size  # both sides of the kink
    hand = {"loss": float(np.maximum(z, 0).sum()), "dW": mask.T @ x_np, "db": mask.sum(axis=0)}
    return {"x": x, "W": w, "b": b, "loss": loss, "hand": hand, "w_np": w_np, "b_np": b_np}


def texts_by_first(svg: bytes) -> dict[str, list[str]]:
    """Each node's texts in dot's SVG, keyed by its first text (its label, for labelled ones)."""
    return {texts[0]: texts for _, texts, _ in svg_groups(svg, "node")}


# -- a batch through a layer, laid out by dot ---------------------------------------------
@needs_dot
def test_layer_on_a_batch_as_svg_and_png(tmp_path: Path) -> None:
    """Reference: the layer's gradients by hand in numpy float64, numpy's formatting of them,
    and numpy's broadcasting rules for b (2,) added to x @ W.T (4, 2)."""
    built = layer()
    hand = built["hand"]
    svg = render_graph(built["loss"], tmp_path / "layer.svg").read_bytes()
    nodes = texts_by_first(svg)
    assert nodes["x"] == ["x", "(4, 3) float64"]  # 12 elements: no numbers
    assert nodes["W"] == [
        "W",
        "(2, 3) float64",
        "data",
        *array_lines(built["w_np"]),
        "grad",
        *array_lines(hand["dW"]),
    ]
    assert nodes["b"] == [
        "b",
        "(2,) float64",
        "data",
        *array_lines(built["b_np"]),
        "grad",
        *array_lines(hand["db"]),
    ]
    assert nodes["loss"] == ["loss", "() float64", "data", shown(hand["loss"]), "grad", "1"]
    every = [texts for _, texts, _ in svg_groups(svg, "node")]
    # x @ W.T, + b, relu: 8 elements, no numbers; named as the step table names them
    assert [t for t in every if t[1:] == ["(4, 2) float64"]] == [
        ["t2", "(4, 2) float64"], ["t3", "(4, 2) float64"], ["t4", "(4, 2) float64"]
    ]  # fmt: skip
    assert {"t2", "t3", "t4"} <= set(backward_steps(built["loss"]).names.values())
    ops = [texts[0] for texts in every if len(texts) == 1 and "float" not in texts[0]]
    assert sorted(ops) == sorted(["transpose(axes=(1, 0))", "@", "+", "relu", "sum"])

    titles = {title: texts for title, texts, _ in svg_groups(svg, "node")}
    marked = [(title, texts) for title, texts, _ in svg_groups(svg, "edge") if texts]
    assert len(marked) == 1  # only b was broadcast
    ((title, texts),) = marked
    tail, head = title.split("->")
    assert titles[tail][0] == "b" and titles[head] == ["+"]
    assert texts == [mark(summed_axes((2,), (4, 2)), (2,))] == ["Σ axis 0 → (2,)"]

    png = render_graph(built["loss"], tmp_path / "layer.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


# -- what each node shows -----------------------------------------------------------------
def test_numbers_only_for_tensors_of_at_most_six_elements() -> None:
    """Reference: the sizes chosen here; numpy's formatting of the data and of the
    gradient of sum(t) by hand (all ones)."""
    tensors = [Tensor(np.arange(n) + 1.5, label=f"t{n}") for n in range(1, 9)]
    total = tensors[0].sum()
    for t in tensors[1:]:
        total = total + t.sum()
    before = draw_graph(total).source
    assert "grad</TD>" not in before  # no backward yet: no tensor has a gradient
    total.backward()
    after = draw_graph(total).source
    for n in range(1, len(tensors) + 1):
        line = dot_nodes(after)[node_named(after, f"t{n}")]
        data = dot_array(np.arange(n) + 1.5)
        assert (f'>data</TD><TD ALIGN="LEFT" BALIGN="LEFT">{data}</TD>' in line) is (n <= 6)
        assert (
            f'>grad</TD><TD ALIGN="LEFT" BALIGN="LEFT">{array_lines(np.ones(n))[0]}<' in line
        ) is (n <= 6)
        assert f"({n},) float64" in line
        assert ("data" in dot_nodes(before)[node_named(before, f"t{n}")]) is (n <= 6)


def test_operations_show_their_parameters() -> None:
    """Reference: the op texts the issue asks for (`sum(axis=1)` as the normalised
    `sum(axis=(1,))`, `reshape(64, 1)`) and numpy's index notation."""
    t = Tensor(np.linspace(-1, 1, 64), label="t")
    m = t.reshape(64, 1)
    parts = [
        m.sum(axis=1),
        m.mean(axis=0, keepdims=True),
        m[0, :],
        m.T.max(axis=-1),
        (m**2).softmax(axis=0),
        m.log_softmax(axis=1).logsumexp(axis=0),
    ]
    total = parts[0].sum()
    for p in parts[1:]:
        total = total + p.sum()
    shown_ops = op_labels(draw_graph(total).source)
    for expected in (
        "reshape(64, 1)",
        "sum(axis=(1,))",
        "mean(axis=(0,), keepdims=True)",
        "[0, :]",
        "transpose(axes=(1, 0))",
        "max(axis=(1,))",
        "**2",
        "softmax(axis=0)",
        "log_softmax(axis=1)",
        "logsumexp(axis=0)",
        "sum",
    ):
        assert expected in shown_ops, (expected, shown_ops)


def test_kinds_of_tensor_look_different_and_the_legend_says_so() -> None:
    """Reference: the legend's list in draw_graph's docstring (fills, dashes, italics), read
    off the DOT text."""
    w = Tensor([1.0, 2.0], label="w")
    x = Tensor([3.0, 4.0], label="x", requires_grad=False)
    y = (w * x + np.array([0.5, 0.5])).sum()  # the array is a constant
    y.backward()
    source = draw_graph(y, constant_grads=True).source
    lines = dot_nodes(source)
    leaf, data = lines[node_named(source, "w")], lines[node_named(source, "x")]
    (const,) = [line for line in lines.values() if "<I>[0.5, 0.5]</I>" in line]
    (root,) = [line for line in lines.values() if 'BORDER="3"' in line]
    (middle,) = [line for line in lines.values() if ">[3, 8]<" in line]
    kinds = {"leaf": leaf, "data": data, "const": const, "root": root, "middle": middle}
    fill = {kind: line.split('BGCOLOR="')[1][:7] for kind, line in kinds.items()}
    assert len(set(fill.values())) == 5
    assert 'STYLE="ROUNDED,DASHED"' in data and "DASHED" not in leaf + const + root + middle
    assert "grad" not in data and "grad" not in const  # neither gets a gradient
    assert "grad</TD>" in leaf and "grad</TD>" in middle
    legend = html.unescape(next(line for line in source.splitlines() if "legend" in line))
    for meaning in (
        "parameter or input: a Tensor you made",
        "input with requires_grad=False: it gets no gradient",
        "constant: a number or array in the formula",
        "intermediate result",
        "the output drawn",
        "data and grad when at",
    ):
        assert meaning in legend
    assert "Σ" not in legend  # nothing was broadcast
    samples = re.findall(r'BGCOLOR="(#\w+)"><TR><TD WIDTH="22"> </TD>', legend)
    assert samples == [fill[k] for k in ("leaf", "data", "const", "middle", "root")]


@needs_dot
def test_legend_samples_have_the_colours_of_the_nodes_they_explain(tmp_path: Path) -> None:
    """Reference: the fills dot gave the nodes and the legend's samples in the same SVG."""
    w = Tensor([[1.0], [2.0]], label="w")
    x = Tensor([[3.0, 4.0]], label="x", requires_grad=False)
    y = (w * x * 2).sum()
    y.backward()
    svg = render_graph(y, tmp_path / "g.svg").read_bytes()
    nodes = {texts[0]: g for _, texts, g in svg_groups(svg, "node")}
    (legend,) = [g for title, _, g in svg_groups(svg, "node") if title == "legend"]
    meaning, fill = {}, ""
    for el in legend.iter():
        if el.tag == f"{SVG}path" and el.get("fill") not in ("none", "transparent"):
            fill = el.get("fill", "")
        elif el.tag == f"{SVG}text" and fill and (el.text or "").strip() not in ("", "op"):
            meaning[(el.text or "").split(":")[0]], fill = fill, ""
    assert meaning["parameter or input"] == first_fill(nodes["w"])
    assert meaning["input with requires_grad=False"] == first_fill(nodes["x"])
    dashes = [el.get("stroke-dasharray") for el in nodes["x"].iter() if el.tag == f"{SVG}path"]
    assert any(dashes)
    (sigma,) = [t for t in legend.iter(f"{SVG}text") if t.text == "Σ"]
    (edge_text,) = [t for _, _, g in svg_groups(svg, "edge") for t in g.iter(f"{SVG}text")]
    assert edge_text.text == mark(summed_axes((2, 1), (2, 2)), (2, 1)) and sigma.get(
        "fill"
    ) == edge_text.get("fill")


# -- broadcasting: which edges are marked, over which axes --------------------------------
@st.composite
def broadcast_pair(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two shapes that broadcast together: 0-d, axes of length 1, extra leading axes."""
    result = draw(st.lists(st.integers(1, 3), min_size=0, max_size=3))

    def operand() -> tuple[int, ...]:
        ndim = draw(st.integers(0, len(result)))
        kept = result[len(result) - ndim :]
        return tuple(1 if draw(st.booleans()) else n for n in kept)

    return operand(), operand()


ELEMENTWISE = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "maximum": maximum,
    "where": lambda a, b: where(np.array(True), a, b),
}


@given(
    shapes=broadcast_pair(),
    name=st.sampled_from(sorted(ELEMENTWISE)),
    b_kind=st.sampled_from(["parameter", "no grad", "constant"]),
)
def test_broadcast_edges_are_marked_with_the_axes_numpy_stretched(
    shapes: tuple[tuple[int, ...], tuple[int, ...]], name: str, b_kind: str
) -> None:
    """Reference: numpy's broadcasting rules written out here (summed_axes), and, for *,
    d sum(a * b) / da by hand: b stretched to the result's shape, summed over those axes."""
    sa, sb = shapes
    rng = np.random.default_rng(len(sa) * 10 + len(sb))
    a_np, b_np = rng.uniform(0.5, 2.0, sa), rng.uniform(0.5, 2.0, sb)
    a = Tensor(a_np, label="a")
    b: Any = b_np if b_kind == "constant" else Tensor(b_np, label="b")
    if b_kind == "no grad":
        b = Tensor(b_np, label="b", requires_grad=False)
    out = ELEMENTWISE[name](a, b)
    result = np.broadcast_shapes(sa, sb)
    assert out.shape == result
    loss = out.sum()
    loss.backward()
    source = draw_graph(loss).source
    marks = edge_marks(source)
    (op_name,) = [n for n, line in dot_nodes(source).items() if f"<{out.op.display}>" in line]
    a_axes, b_axes = summed_axes(sa, result), summed_axes(sb, result)
    expected = {}
    if a_axes:
        expected[(node_named(source, "a"), op_name)] = mark(a_axes, sa)
    if b_axes and b_kind == "parameter":  # no gradient, nothing summed, for the others
        expected[(node_named(source, "b"), op_name)] = mark(b_axes, sb)
    assert marks == expected
    assert ("Σ</FONT>" in source) is bool(expected)  # the legend explains it when used
    if name == "*":
        by_hand = np.broadcast_to(b_np, result).sum(axis=a_axes).reshape(sa)
        np.testing.assert_allclose(a.grad, by_hand, rtol=1e-12)


MATMUL_CASES = [
    # a's shape, b's shape, a's mark, b's mark; numpy's matmul: batch axes broadcast
    ((3, 4), (4, 5), None, None),
    ((2, 3, 4), (4, 5), None, "Σ axis 0 → (4, 5)"),
    ((1, 3, 4), (2, 4, 5), "Σ axis 0 → (1, 3, 4)", None),
    ((2, 1, 3, 4), (5, 4, 2), "Σ axis 1 → (2, 1, 3, 4)", "Σ axis 0 → (5, 4, 2)"),
    ((4,), (2, 4, 5), "Σ axis 0 → (4,)", None),
    ((2, 3, 4), (4,), None, "Σ axis 0 → (4,)"),
    ((4,), (4,), None, None),
    ((4,), (4, 5), None, None),
    ((3, 1), (1, 3), None, None),  # a product of matrices, not a broadcast
]


@pytest.mark.parametrize(("sa", "sb", "mark_a", "mark_b"), MATMUL_CASES)
def test_matmul_marks_only_broadcast_batch_axes(
    sa: tuple[int, ...], sb: tuple[int, ...], mark_a: str | None, mark_b: str | None
) -> None:
    """Reference: numpy's matmul documentation: the last two axes are matrices (a 1-D
    operand a vector), the axes before them are broadcast like any elementwise operands."""
    a, b = Tensor(np.ones(sa), label="a"), Tensor(np.ones(sb), label="b")
    out = a @ b
    source = draw_graph(out.sum()).source
    op = node_named(source, "a")
    (at,) = [head for tail, head in re.findall(r"(\w+) -> (\w+)", source) if tail == op]
    marks = edge_marks(source)
    assert marks.get((node_named(source, "a"), at)) == mark_a
    assert marks.get((node_named(source, "b"), at)) == mark_b
    assert len(marks) == (mark_a is not None) + (mark_b is not None)


@pytest.mark.parametrize(
    ("sx", "sw", "mark_bias"),
    [
        ((5, 3), (2, 3), "Σ axis 0 → (2,)"),
        ((4, 5, 3), (2, 3), "Σ axes 0, 1 → (2,)"),
        ((3,), (2, 3), None),
        ((3, 1), (3, 1), "Σ axis 0 → (3,)"),  # x's shape fits the result's; still not broadcast
    ],
)
def test_linear_marks_its_bias_summed_over_the_batch(
    sx: tuple[int, ...], sw: tuple[int, ...], mark_bias: str | None
) -> None:
    """Reference: PyTorch's F.linear, x @ w.T + b: b (out,) is added to each of the batch's
    rows; x and w (out, in) are a matrix product's operands, not broadcast."""
    x = Tensor(np.ones(sx), label="x")
    w, b = Tensor(np.ones(sw), label="w"), Tensor(np.ones(sw[0]), label="bias")
    source = draw_graph(linear(x, w, b).sum()).source
    marks = edge_marks(source)
    assert list(marks.values()) == ([mark_bias] if mark_bias else [])
    if mark_bias:
        ((tail, _),) = marks
        assert tail == node_named(source, "bias")


def test_an_explicit_broadcast_to_is_marked_and_a_reshape_is_not() -> None:
    """Reference: numpy's broadcasting rules (summed_axes); a reshape moves no element."""
    from autograd_lite.engine.array_ops import broadcast_to

    t = Tensor(np.ones((3, 1)), label="t")
    s = Tensor(np.ones(3), label="s")
    total = broadcast_to(t, (2, 3, 4)).sum() + s.reshape(1, 3).sum() + s[None].sum()
    marks = edge_marks(draw_graph(total).source)
    assert list(marks.values()) == [mark(summed_axes((3, 1), (2, 3, 4)), (3, 1))]
    assert list(marks.values()) == ["Σ axes 0, 2 → (3, 1)"]


# -- dtypes ---------------------------------------------------------------------------------
def test_float32_and_float64_tensors_in_one_graph() -> None:
    """Reference: numpy's type promotion (float32 with float64 gives float64; a number mixed
    in takes the tensor's dtype) and numpy's formatting of float32 values as float64."""
    a = Tensor([[0.1, 0.2], [0.3, 0.4]], dtype=np.float32, label="a")
    b = Tensor([1.5, -2.0], label="b")
    c = a * 3
    c.label = "c"
    d = c + b
    d.label = "d"
    loss = d.sum()
    loss.backward()
    source = draw_graph(loss, precision=9).source
    lines = dot_nodes(source)
    assert "(2, 2) float32" in lines[node_named(source, "a")]
    assert "(2, 2) float32" in lines[node_named(source, "c")]
    assert "(2, 2) float64" in lines[node_named(source, "d")]
    assert "(2,) float64" in lines[node_named(source, "b")]
    assert any("<I>() float32</I>" in line for line in lines.values())  # the 3
    a32 = np.array([[0.1, 0.2], [0.3, 0.4]], dtype=np.float32).astype(np.float64)
    assert dot_array(a32, 9) in lines[node_named(source, "a")]
    assert "0.100000001" in lines[node_named(source, "a")]  # float32's 0.1, not 0.1
    # d sum(3a + b) / da = 3 everywhere, in a's dtype
    assert (
        f'grad</TD><TD ALIGN="LEFT" BALIGN="LEFT">{dot_array(np.full((2, 2), 3.0))}<'
        in (lines[node_named(source, "a")])
    )
    assert edge_marks(source) == {(node_named(source, "b"), "o" + node_named(source, "d")[1:]):
                                  "Σ axis 0 → (2,)"}  # fmt: skip


# -- limits, errors, hostile text -----------------------------------------------------------
def test_node_limit_counts_tensors_and_ops(tmp_path: Path) -> None:
    """Reference: tensor + op counts from the structure walked here."""
    loss = layer()["loss"]
    nodes = walk(loss)
    count = len(nodes) + sum(1 for n in nodes if n.operands)
    assert (len(nodes), count) == (8, 13)  # x W W.T x@W.T b +b relu loss; 5 ops
    with pytest.raises(GraphTooLargeError) as info:
        draw_graph(loss, max_nodes=count - 1)
    assert info.value.node_count == count
    assert f"({len(nodes)} tensors + {count - len(nodes)} ops)" in str(info.value)
    assert f"max_nodes={count}" in str(info.value)
    edges = sum(len(n.operands) + 1 for n in nodes if n.operands)
    assert draw_graph(loss, max_nodes=count).source.count(" -> ") == edges == 12
    with pytest.raises(GraphTooLargeError):
        render_graph(loss, tmp_path / "g.png", max_nodes=5)
    assert list(tmp_path.iterdir()) == []


def test_errors_name_the_option(tmp_path: Path) -> None:
    """Reference: the options named in draw_graph's docstring; a Jacobian is not a number."""
    loss = layer()["loss"]
    with pytest.raises(ValueError, match=r"edge_derivatives.*Tensors.*shape \(\).*Jacobian"):
        draw_graph(loss, edge_derivatives=True)
    with pytest.raises(ValueError, match="edge_derivatives"):
        render_graph(loss, tmp_path / "g.dot", edge_derivatives=True)
    for bad in ({"precision": 0}, {"rankdir": "XY"}, {"max_nodes": 0}):
        with pytest.raises(ValueError, match=f"draw_graph: {next(iter(bad))}"):
            draw_graph(loss, **bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="draw_graph: legend must be True or False"):
        draw_graph(loss, legend=1)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


@needs_dot
def test_hostile_labels_on_tensors_are_shown_literally() -> None:
    """Reference: dot's exit status and warnings, and the text in its SVG (XML-unescaped)."""
    small = [Tensor([float(i + 1)], label=text) for i, text in enumerate(HOSTILE)]
    big = Tensor(np.ones(7), label='big <B>"7"</B> & \\N')
    with scope('tensor "scope" ]; x [ </TD>'):
        total = big.sum()
        for t in small:
            total = total + t
    weird = Op('my<op>|"x"\\G', lambda a: 2 * a, lambda g, out, a: (2 * g,))
    root = weird(total)
    root.label = "root {x|y}"
    root.backward()
    source = draw_graph(root).source
    run = subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True, check=False)
    assert run.returncode == 0 and run.stderr == b""
    firsts = {texts[0] for _, texts, _ in svg_groups(run.stdout, "node")}
    labelled = {texts[0]: texts for _, texts, _ in svg_groups(run.stdout, "node")}
    for text in HOSTILE:
        if "\n" in text:  # a label of two lines: two texts
            assert any("\n".join(t[:2]) == text for t in labelled.values()), text
        else:
            assert labelled[text][1:] == ["(1,) float64", "data", *array_lines([
                HOSTILE.index(text) + 1.0]), "grad", "[2]"], text  # fmt: skip
    assert labelled['big <B>"7"</B> & \\N'][1:] == ["(7,) float64"]
    assert {"root {x|y}", 'my<op>|"x"\\G'} <= firsts
    clusters = [texts[0] for _, texts, _ in svg_groups(run.stdout, "cluster")]
    assert clusters == ['tensor "scope" ]; x [ </TD>']


def test_dot_text_of_a_tensor_graph_is_identical_across_hash_seeds() -> None:
    """Reference: the bytes printed by separate processes with different PYTHONHASHSEED."""
    script = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, "examples")
        from draw_tensor_graph import build_layer
        from autograd_lite import draw_graph
        sys.stdout.buffer.write(draw_graph(build_layer()).source.encode("utf-8"))
        """
    )
    outputs = [
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=REPO,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            check=True,
        ).stdout
        for seed in ("0", "4242")
    ]
    assert outputs[0] == outputs[1] and "Σ axis 0 → (2,)".encode() in outputs[0]


# -- the example and the picture in docs/drawing.md -----------------------------------------
@needs_dot
def test_the_docs_picture_is_what_the_example_draws(tmp_path: Path) -> None:
    """Reference: the PNG's IHDR size (width, height) of the committed picture and of a fresh
    one; the SVG's font sizes for reading at page width (as the README's picture)."""
    run = subprocess.run(
        [sys.executable, str(REPO / "examples" / "draw_tensor_graph.py"), str(tmp_path / "t.png")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.strip() == str(tmp_path / "t.png")
    fresh = (tmp_path / "t.png").read_bytes()
    committed = (REPO / "docs" / "tensor_graph.png").read_bytes()
    size = struct.unpack(">II", fresh[16:24])
    assert struct.unpack(">II", committed[16:24]) == size, (
        "regenerate it: python examples/draw_tensor_graph.py docs/tensor_graph.png"
    )
    assert size[0] <= 900  # shown at its own size on a page
    svg = render_graph(_example_layer(), tmp_path / "t.svg").read_bytes()
    sizes = {float(t.get("font-size", 0)) for t in ET.fromstring(svg).iter(f"{SVG}text")}
    assert min(sizes) >= 10


def _example_layer() -> Tensor:
    sys.path.insert(0, str(REPO / "examples"))
    try:
        from draw_tensor_graph import build_layer
    finally:
        sys.path.remove(str(REPO / "examples"))
    loss: Tensor = build_layer()
    return loss


def test_the_legend_names_only_ops_the_graph_holds() -> None:
    """Reference: the ops written in the expression below, in the order they are applied."""
    x = Tensor(np.ones((3, 2)), label="x")
    y = (x * 2.0).sum()
    source = draw_graph(y).source
    (row,) = [line for line in source.splitlines() if "legend" in line]
    assert "op: * sum" in row
    assert "reshape" not in row and "@" not in row and "..." not in row
    z = ((x @ np.ones((2, 2))).reshape((6,)) + 1.0).tanh().sum()
    (row,) = [line for line in draw_graph(z).source.splitlines() if "legend" in line]
    assert "op: @ reshape(6) + tanh ..." in row  # the first four, then "..."
