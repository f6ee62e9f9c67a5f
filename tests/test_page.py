"""The stepping page (render_graph(root, "x.html"), explore, autograd-lite --out x.html), read
as a file: self-contained, its steps and numbers, its ids, hostile labels, its errors.

References: the document's hand formulas (autograd_lite/walkthrough/hand.py, plain floats)
for the numbers; the HTML standard's rules for what ends a <script> element and what makes
a browser fetch something (src, href, url(), @import), checked with Python's own HTML
parser; closed forms worked out in the tests. tests/test_browser.py runs the page itself.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograd_lite import (
    GraphTooLargeError,
    RenderError,
    Tensor,
    Value,
    backward_steps,
    draw_graph,
    explore,
    graph_nodes,
    render_graph,
)
from autograd_lite.render.page import _json_for_script
from autograd_lite.walkthrough import build_network, hand_derivation

pytestmark = pytest.mark.needs_dot

HOSTILE = "</script><script>alert(1)</script>"


class _Page(HTMLParser):
    """The page's elements, and every attribute or text that could make a browser fetch."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.fetching: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "srcset", "action", "poster", "data"):
                self.fetching.append(f"<{tag} {name}={value!r}>")
        self._in_script = tag == "script"
        if tag == "script":
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
        for bad in ("url(", "@import"):
            if bad in data:
                self.fetching.append(f"{bad} in {data[:60]!r}")


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def page_json(text: str) -> Any:
    """The data the page's script reads (the JSON in its first <script>)."""
    found = re.search(r'<script type="application/json" id="stepper-data">(.*?)</script>', text)
    assert found is not None
    return json.loads(found.group(1))


@pytest.fixture(scope="module")
def document_page(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("page") / "backprop.html"
    render_graph(build_network().L, path, edge_derivatives=True)
    return path.read_text(encoding="utf-8")


def test_the_page_is_one_file_that_fetches_nothing(document_page: str) -> None:
    # Reference: what makes a browser fetch (src/href attributes, url(), @import, fetch).
    page = _parse(document_page)
    assert page.fetching == []
    assert "link" not in page.tags and "img" not in page.tags and "iframe" not in page.tags
    assert len(page.scripts) == 2 and page.tags.count("style") == 1 and "svg" in page.tags
    script = page.scripts[1]
    for call in ("fetch(", "XMLHttpRequest", "import(", "innerHTML", "eval(", "document.write"):
        assert call not in script, call
    assert "<?xml" not in document_page and "<!DOCTYPE svg" not in document_page


def test_the_page_holds_the_document_numbers(document_page: str) -> None:
    # Reference: hand.py's formulas: dL/dh = delta2 * w2, with delta2 = dL/dz2; h = s(z1).
    hd = hand_derivation()
    data = page_json(document_page)
    assert data["title"] == "Backpropagation through L, step by step"
    assert len(data["forward"]) == 9 and len(data["backward"]) == 14 and data["hidden"] == 1
    texts = [s["text"] for s in data["backward"]]
    expected = f"grad(h) += grad(t2) × ∂t2/∂h = {hd.delta2:.4g} × 0.3 = {hd.dL_dh:.4g}"
    assert expected == "grad(h) += grad(t2) × ∂t2/∂h = -0.09744 × 0.3 = -0.02923"
    assert expected in texts
    assert (
        f"grad(z2) += grad(ŷ) × ∂ŷ/∂z2 = {hd.dL_dy_hat:.4g} × {hd.dy_hat_dz2:.4g} = "
        f"{hd.delta2:.4g}" in texts
    )
    forward = [f["text"] for f in data["forward"]]
    assert forward[:3] == [
        "t1 = x * w1 = 1 * 0.4 = 0.4",
        "z1 = t1 + b1 = 0.4 + 0.1 = 0.5",
        f"h = sigmoid(z1) = sigmoid(0.5) = {hd.h:.4g}",
    ]
    assert forward[-1] == f"L = 0.5 * t4 = 0.5 * {(1 - hd.y_hat) ** 2:.4g} = {hd.L:.4g}"
    notes = [s["note"] for s in data["backward"]]
    assert notes[0] == "grad(t4) is now 0.5, complete: every use of t4 has handed its share"
    assert data["seed"]["text"] == "backward() starts: grad(L) = 1 (dL/dL)"
    assert data["start"].startswith("The inputs and parameters are known: y = 1, x = 1, w1 = 0.4")


def test_every_node_and_step_edge_has_its_id(document_page: str) -> None:
    # Reference: graph_nodes' order names the DOT nodes v0, v1, ... (dot.py); each step's
    # edge runs from the operand's box to the result's op.
    net = build_network()
    nodes = graph_nodes(net.L)
    ids = set(re.findall(r'<g id="([^"]+)" class="(?:node|edge)">', document_page))
    for i, node in enumerate(nodes):
        assert f"v{i}" in ids
        if node.operands:
            assert f"o{i}" in ids and f"o{i}-v{i}" in ids
    index = {node: i for i, node in enumerate(nodes)}
    data = page_json(document_page)
    for row, step in zip(backward_steps(net.L), data["backward"]):
        edge = f"v{index[row.operand]}-o{index[row.result]}"
        assert step["edge"] == edge and edge in ids
        assert (step["result"], step["operand"]) == (index[row.result], index[row.operand])


def test_an_operand_used_twice_by_one_op_has_two_edges(tmp_path: Path) -> None:
    # Reference: y = a * a has two edges a -> *, one per operand slot; backward() hands the
    # second slot its share first (engine/steps.py).
    a = Value(3.0, label="a")
    y = a * a
    data = page_json(render_graph(y, tmp_path / "sq.html").read_text(encoding="utf-8"))
    assert [s["edge"] for s in data["backward"]] == ["v0-o1-2", "v0-o1"]
    assert [s["grad"] for s in data["backward"]] == ["3", "6"]  # d(a*a)/da = 2a = 6
    text = (tmp_path / "sq.html").read_text(encoding="utf-8")
    assert '<g id="v0-o1" class="edge">' in text and '<g id="v0-o1-2" class="edge">' in text


def test_the_drawing_shows_this_pass_gradients_even_before_backward(document_page: str) -> None:
    # Reference: hand.py's dL/dh; .grad stays 0 (nothing is written to the nodes).
    net = build_network()
    page = explore(net.L, edge_derivatives=True).html
    assert f"grad {hand_derivation().dL_dh:.4g}</text>" in html.unescape(page)
    assert net.h.grad == 0.0
    assert page == document_page  # the same page, whatever .grad holds


def test_hostile_labels_show_literally_and_run_nothing(tmp_path: Path) -> None:
    # Reference: the HTML standard: a <script> element ends at the first "</script"; the
    # page must hold exactly its own two scripts, and the labels must come back literally.
    a = Value(2.0, label=HOSTILE)
    b = Value(3.0, label="\"q\" & 'r' <b>bold</b>")
    y = a * b
    y.label = "<img src=x onerror=alert(2)>"
    path = render_graph(y, tmp_path / "hostile.html")
    text = path.read_text(encoding="utf-8")
    page = _parse(text)
    assert len(page.scripts) == 2 and page.fetching == []
    assert "img" not in page.tags and text.count("<script") == 2
    data = page_json(text)
    assert [n["name"] for n in data["nodes"]] == [HOSTILE, "\"q\" & 'r' <b>bold</b>", y.label]
    assert data["backward"][0]["text"].startswith(
        f"grad(\"q\" & 'r' <b>bold</b>) += grad({y.label})"
    )
    # In the SVG, labels are escaped text (and tooltips too).
    assert html.escape(HOSTILE) in text and "&lt;img src=x onerror=alert(2)&gt;" in text


def test_json_escapes_what_could_end_the_script(tmp_path: Path) -> None:
    # Reference: the characters that let JSON text break out of a <script> element.
    a = Value(1.0, label="</script>&<!--")
    text = render_graph(a * 2.0, tmp_path / "j.html").read_text(encoding="utf-8")
    found = re.search(r'id="stepper-data">(.*?)</script>', text)
    assert found is not None
    raw = found.group(1)
    assert not set("<>&") & set(raw)
    assert "\\u003c/script\\u003e\\u0026\\u003c!--" in raw
    assert _json_for_script(["\u2028\u2029"]) == '["\\u2028\\u2029"]'  # old JS rejected them


def test_a_tensor_page_gives_shares_and_says_why(tmp_path: Path) -> None:
    # Reference: L = sum(relu(x @ W.T + b)) with x ones (4, 3): the bias b (2,) is broadcast
    # over the batch, so its share is the column sums of ones (4, 2) where relu passes: [4, 4].
    x = Tensor(np.ones((4, 3)), label="x", requires_grad=False)
    w = Tensor([[0.5, -0.25, 0.1], [0.2, 0.4, -0.3]], label="W")
    b = Tensor([0.1, -0.1], label="b")
    loss = (x @ w.T + b).relu().sum()
    data = page_json(render_graph(loss, tmp_path / "t.html").read_text(encoding="utf-8"))
    assert data["tensors"] is True
    (into_b,) = [s for s in data["backward"] if s["text"].startswith("grad(b)")]
    assert into_b["text"] == "grad(b) += grad(t3) · ∂t3/∂b = [4, 4]"
    assert (
        "Jacobian" in into_b["note"]
        and "summed over axis 0 back to b's shape (2,)" in into_b["note"]
    )
    assert data["forward"][1]["text"] == "t2 = x @ t1 = a (4, 2) float64 array"
    assert data["hidden"] == 1  # x takes no gradient


def test_a_graph_beyond_max_nodes_gives_the_drawing_error(tmp_path: Path) -> None:
    net = build_network()
    with pytest.raises(GraphTooLargeError) as drawing:
        draw_graph(net.L, max_nodes=10)
    for make in (
        lambda: render_graph(net.L, tmp_path / "big.html", max_nodes=10),
        lambda: explore(net.L, max_nodes=10),
    ):
        with pytest.raises(GraphTooLargeError) as page:
            make()
        assert str(page.value) == str(drawing.value)
    assert list(tmp_path.iterdir()) == []


def test_code_lines_are_shown_beside_their_steps(tmp_path: Path) -> None:
    # Reference: y = a * b has two steps (b first, then a: engine/steps.py's order).
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    y = a * b
    code = ["d_b = d_y * a", None]
    data = page_json(render_graph(y, tmp_path / "c.html", code=code).read_text(encoding="utf-8"))
    assert data["hasCode"] is True and [s["code"] for s in data["backward"]] == code
    # without code=, a Value graph's page shows the generated backward code's lines
    shown = [s["code"] for s in page_json(explore(y).html)["backward"]]
    assert shown == ["d_b = d_t1 * a  # t1 = a * b", "d_a = d_t1 * b  # t1 = a * b"]
    x = Tensor([1.0, 2.0])
    assert page_json(explore((x * x).sum()).html)["hasCode"] is False  # tensors: none yet


@pytest.mark.parametrize(
    ("code", "error", "message"),
    [
        (["one line"], ValueError, "code has 1 lines and the backward pass 2 steps"),
        ("d_b = 1", TypeError, "code must be a list of strings, one per backward step"),
        (["a", 3], TypeError, r"code\[1\] must be a str or None, got int: 3"),
    ],
)
def test_bad_code_is_a_clear_error_before_anything_is_written(
    tmp_path: Path, code: Any, error: type[Exception], message: str
) -> None:
    y = Value(2.0) * Value(3.0)
    with pytest.raises(error, match=message):
        render_graph(y, tmp_path / "c.html", code=code)
    with pytest.raises(ValueError, match=r"render_graph: code= is for \.html pages, not '\.png'"):
        render_graph(y, tmp_path / "c.png", code=["a", "b"])
    assert list(tmp_path.iterdir()) == []


def test_without_dot_the_page_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    with pytest.raises(RenderError, match="sudo apt-get install graphviz") as e:
        render_graph(Value(1.0) * 2.0, tmp_path / "p.html")
    assert "the page" in str(e.value) and e.value.dot_path is None
    assert list(tmp_path.iterdir()) == []


def test_explore_shows_the_page_in_an_iframe_of_its_own(tmp_path: Path) -> None:
    # Reference: the HTML standard's srcdoc: the attribute's unescaped value is the document.
    y = build_network().L
    shown = explore(y)
    inline = shown._repr_html_()
    found = re.fullmatch(r'<iframe srcdoc="([^"]*)" sandbox="allow-scripts" .*></iframe>', inline)
    assert found is not None and html.unescape(found.group(1)) == shown.html
    assert 'id="' not in inline.replace(html.escape('id="'), "")  # ids live inside the frame
    assert len(shown.steps) == 14 and "<Explorer of L: 14 backward steps" in repr(shown)
    saved = shown.save(tmp_path / "saved.html")
    assert saved.read_text(encoding="utf-8") == shown.html


def test_the_command_writes_the_page(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "autograd_lite", "--out", "walkthrough.html"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Open it in a browser to step through the passes (keys: ← →)." in result.stdout
    data = page_json((tmp_path / "walkthrough.html").read_text(encoding="utf-8"))
    assert "grad(h) += grad(t2) × ∂t2/∂h = -0.09744 × 0.3 = -0.02923" in [
        s["text"] for s in data["backward"]
    ]


def test_a_page_needs_a_one_element_output(tmp_path: Path) -> None:
    t = Tensor([1.0, 2.0], label="t") * 2.0
    with pytest.raises(
        ValueError, match=r"render_graph: a page steps through backward\(\) from a one"
    ):
        render_graph(t, tmp_path / "t.html")
    with pytest.raises(RuntimeError, match="backward_steps: this tensor does not depend"):
        explore(Tensor([1.0], requires_grad=False) * 2.0)
    assert list(tmp_path.iterdir()) == []


def test_a_leaf_alone_is_a_page_of_one_position(tmp_path: Path) -> None:
    data = page_json(render_graph(Value(2.0, label="x"), tmp_path / "x.html").read_text("utf-8"))
    assert data["forward"] == [] and data["backward"] == []
    assert data["seed"]["text"] == "backward() starts: grad(x) = 1 (dx/dx)"


def test_the_page_assets_ship_with_the_package() -> None:
    # Reference: pyproject's package-data, which decides what a wheel holds besides .py files.
    root = Path(__file__).resolve().parents[1]
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r"^autograd_lite = \[(.*)\]$", text, re.MULTILINE)
    assert found is not None
    shipped = set(re.findall(r'"([^"]+)"', found.group(1)))
    assets = {
        p.relative_to(root / "autograd_lite").as_posix()
        for p in (root / "autograd_lite" / "render").iterdir()
        if p.suffix in (".js", ".css")
    }
    assert assets == {"render/stepper.js", "render/stepper.css"} and assets <= shipped


def test_the_document_page_shows_each_steps_line_of_the_generated_code() -> None:
    """Reference: backward_code writes one statement per chain-rule step in backward()'s
    order, assigning d_<operand>; the document's labelled nodes keep their labels there."""
    from autograd_lite.render.page import StepperPage
    from autograd_lite.walkthrough.network import build_network

    page = StepperPage(build_network().L, {})
    assert page.code is not None and len(page.code) == len(page.steps)
    labelled = [(row, line) for row, line in zip(page.steps, page.code) if row.operand.label]
    assert len(labelled) >= 10
    for row, line in labelled:
        name = {"ŷ": "y_hat"}.get(row.operand.label, row.operand.label)  # codegen's identifier
        assert line is not None and line.startswith(f"d_{name} = "), line
    # the sigmoid step reads as the hand derivation's delta2
    assert "d_z2 = d_y_hat * (y_hat * (1 - y_hat))  # y_hat = sigmoid(z2)" in page.code


def _svg_size(page: str) -> tuple[float, float]:
    """The width and height dot gave the page's drawing, in points."""
    found = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', page)
    assert found is not None
    return float(found.group(1)), float(found.group(2))


def test_the_command_page_ends_with_the_document_sgd_step(tmp_path: Path) -> None:
    """Reference: the document's section 4 (eta = 0.1) with its exact gradients (its note on
    rounding): w_new = w - eta * dL/dw, to the 6 digits the page shows."""
    result = subprocess.run(
        [sys.executable, "-m", "autograd_lite", "--out", "p.html", "--rankdir", "TB"],
        cwd=tmp_path, capture_output=True, text=True, encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8"}, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "p.html").read_text(encoding="utf-8")
    summary = page_json(text)["summary"]
    assert summary["lr"] == "0.1"
    assert [(r["name"], r["grad"], r["old"], r["new"]) for r in summary["rows"]] == [
        ("w1", "-0.006869", "0.4", "0.400687"),  # 0.4 - 0.1 * -0.0068694006
        ("b1", "-0.006869", "0.1", "0.100687"),
        ("w2", "-0.06065", "0.3", "0.306065"),  # 0.3 - 0.1 * -0.0606504249
        ("b2", "-0.09744", "0.2", "0.209744"),  # 0.2 - 0.1 * -0.0974367672
    ]
    width, height = _svg_size(text)
    assert height > width  # --rankdir TB: drawn downwards
    lr_page = tmp_path / "lr.html"
    subprocess.run(
        [sys.executable, "-m", "autograd_lite", "--out", str(lr_page), "--rankdir", "LR"],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    width, height = _svg_size(lr_page.read_text(encoding="utf-8"))
    assert width > height
    bad = subprocess.run(
        [sys.executable, "-m", "autograd_lite", "--out", "x.html", "--rankdir", "up"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and "--rankdir: invalid choice: 'up'" in bad.stderr


def test_a_page_without_lr_lists_the_gradients_alone(tmp_path: Path) -> None:
    """Reference: d(a*b + a)/da = b + 1 = 4, d/db = a = 2, worked out by hand."""
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    y = a * b + a
    summary = page_json(render_graph(y, tmp_path / "y.html").read_text("utf-8"))["summary"]
    assert summary["lr"] is None
    assert summary["rows"] == [{"name": "a", "grad": "4"}, {"name": "b", "grad": "2"}]


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"lr": 0.0}, ValueError, "lr must be a positive finite number, got float: 0.0"),
        ({"lr": "0.1"}, ValueError, "lr must be a positive finite number, got str"),
        ({"lr": float("inf")}, ValueError, "lr must be a positive finite number"),
        ({"parameters": "a"}, TypeError, "parameters must be a list of the graph's nodes"),
        ({"parameters": [Value(1.0)]}, ValueError, r"parameters\[0\] is not a node of this"),
        ({"rankdir": "diagonal"}, ValueError, "rankdir must be 'TB' or 'LR'"),
        ({"rankdir": ["LR"]}, ValueError, "rankdir must be 'TB' or 'LR'"),
    ],
)
def test_bad_page_options_are_clear_errors_before_anything_is_written(
    tmp_path: Path, options: dict[str, Any], error: type[Exception], message: str
) -> None:
    a = Value(2.0, label="a")
    y = a * 3.0
    with pytest.raises(error, match=message):
        render_graph(y, tmp_path / "c.html", **options)
    with pytest.raises(ValueError, match=r"parameters\[1\] \(a\) is given twice"):
        render_graph(y, tmp_path / "c.html", parameters=[a, a])
    with pytest.raises(ValueError, match=r"parameters\[0\] \(t1\) is computed by an op"):
        render_graph(y, tmp_path / "c.html", parameters=[y])
    with pytest.raises(ValueError, match=r"render_graph: lr= is for \.html pages, not '\.svg'"):
        render_graph(y, tmp_path / "c.svg", lr=0.1)
    assert list(tmp_path.iterdir()) == []


def test_explore_takes_the_update_rule_too() -> None:
    """Reference: the document's section 4: b2_new = 0.2 - 0.1 * -0.0974367672 (its exact
    dL/db2), to 6 digits."""
    net = build_network()
    shown = explore(net.L, parameters=[net.b2], lr=0.1, rankdir="BT")
    summary = page_json(shown.html)["summary"]
    assert summary["rows"] == [{"name": "b2", "grad": "-0.09744", "old": "0.2", "new": "0.209744"}]
    assert f"{0.2 - 0.1 * -0.0974367672:.6g}" == "0.209744"
    with pytest.raises(ValueError, match=r"lr must be a positive finite number, got float: -0\.1"):
        explore(net.L, lr=-0.1)


def test_the_footer_leads_to_the_worked_example(document_page: str) -> None:
    # Reference: issue 23 asks the page's footer to name docs/worked_example.md.
    footer = document_page.split("<footer>")[1].split("</footer>")[0]
    assert "docs/worked_example.md" in " ".join(footer.split())
