"""The stepping page in a real browser: headless Chromium, driven by Selenium through the
system's chromedriver (Debian's chromium and chromium-driver, installed by setup.sh).

References: `backward_steps()` (each step's edge, result, operand and numbers: the page must
show what the table says, which tests/test_steps_table.py holds against the document's hand
formulas), and the graph's own data for the forward pass. One browser session serves the
whole module. Skipped, with what to do, where the browser is missing; a failure in CI.

Run as a script, it saves the README's screenshot of the page in the middle of the backward
pass: `.venv/bin/python -m tests.test_browser docs/stepper.png`.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograd_lite import Node, Tensor, Value, backward_steps, explore, graph_nodes, render_graph
from autograd_lite.render.step_table import number_text
from autograd_lite.walkthrough import build_network

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL = "run sh setup.sh to install chromium and chromium-driver (Debian's packages)"
"""What a user does when this module skips."""

WINDOW = (900, 1000)
"""The browser window: about the width of the README on GitHub."""

HOSTILE = "</script><script>alert(1)</script>"

pytestmark = pytest.mark.needs_dot


def _missing() -> str | None:
    """Why no browser can run here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.exists(path) or shutil.which(Path(path).name)):
            return f"{Path(path).name} is not installed"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed in this environment"
    return None


def start_browser() -> Any:
    """Headless Chromium under chromedriver, both the system's: Selenium's own driver manager
    is kept offline, so that nothing is downloaded."""
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or CHROMIUM
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--hide-scrollbars", f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--force-device-scale-factor=1", "--no-first-run", "--disable-extensions",
    ):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=shutil.which("chromedriver") or CHROMEDRIVER)
    return webdriver.Chrome(service=service, options=options)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    why = _missing()
    if why is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{why} in CI; {INSTALL}", pytrace=False)
        pytest.skip(f"{why}: {INSTALL}")
    driver = start_browser()
    try:
        yield driver
    finally:
        driver.quit()


# What the page shows now, read in one call: the highlighted groups, the panel, each box's
# data and grad texts (those visible), and the position.
STATE = """
const ids = (cls) => Array.from(document.querySelectorAll('#graph .' + cls)).map(e => e.id);
const visible = (t) => t.style.visibility !== 'hidden';
const boxes = {};
for (const g of document.querySelectorAll('#graph g.node')) {
  boxes[g.id] = Array.from(g.querySelectorAll('text')).filter(visible).map(t => t.textContent);
}
return {
  edge: ids('hl-edge'), result: ids('hl-result'), operand: ids('hl-operand'), op: ids('hl-op'),
  pending: ids('pending'), phase: document.getElementById('phase').textContent,
  formula: document.getElementById('formula').textContent,
  note: document.getElementById('note').textContent,
  code: document.getElementById('code-line').classList.contains('none') ? null
        : document.getElementById('code').textContent,
  slider: Number(document.getElementById('slider').value),
  max: Number(document.getElementById('slider').max), boxes: boxes,
};
"""


def _open(driver: Any, path: Path) -> None:
    driver.get(path.resolve().as_uri())
    driver.find_element("id", "panel")


def _key(driver: Any, key: str) -> Any:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(key).perform()
    return driver.execute_script(STATE)


def _errors(driver: Any) -> list[str]:
    """What the page logged as errors (a failing script shows here)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _text(x: Any) -> str:
    return number_text(x, 4)


def _step_through(driver: Any, root: Node, tmp_path: Path, *, tensors: bool = False) -> None:
    """Step with → through the whole page of `root`, checking each position against the
    graph (forward) and backward_steps() (backward)."""
    from selenium.webdriver.common.keys import Keys

    nodes = graph_nodes(root)
    index = {node: i for i, node in enumerate(nodes)}
    ops = [n for n in nodes if n.operands]
    rows = list(backward_steps(root))
    state = driver.execute_script(STATE)
    assert state["slider"] == 0 and state["max"] == len(ops) + 2 + len(rows)  # + the summary
    # At the start only the leaves are known: every op, its result and its edges are faded.
    faded = {f"{kind}{index[n]}" for n in ops for kind in ("v", "o")}
    faded |= {f"o{index[n]}-v{index[n]}" for n in ops}
    assert faded <= set(state["pending"])
    assert all(p in faded or (p.startswith("v") and "-o" in p) for p in state["pending"])
    for k, node in enumerate(ops, start=1):
        state = _key(driver, Keys.ARROW_RIGHT)
        i = index[node]
        assert state["slider"] == k and state["phase"] == f"Forward pass: op {k} of {len(ops)}"
        assert state["result"] == [f"v{i}"] and state["op"] == [f"o{i}"]
        assert sorted(state["operand"]) == sorted({f"v{index[x]}" for x in node.operands})
        assert f"v{i}" not in state["pending"]
        if not tensors:
            assert f"data {_text(node.data)}" in state["boxes"][f"v{i}"]
            assert state["formula"].endswith(f" = {_text(node.data)}")
    state = _key(driver, Keys.ARROW_RIGHT)
    assert state["phase"].startswith("Backward pass: the start")
    assert state["result"] == [f"v{index[root]}"] and state["pending"] == []
    for k, row in enumerate(rows, start=1):
        state = _key(driver, Keys.ARROW_RIGHT)
        i, j = index[row.operand], index[row.result]
        assert state["phase"] == f"Backward pass: step {k} of {len(rows)}"
        slot = sum(1 for x in row.result.operands[: row.index] if x is row.operand) + 1
        edge = f"v{i}-o{j}" + (f"-{slot}" if slot > 1 else "")
        # The edge, and where it runs through its ∂ (edge_derivatives), the ∂ and the rest.
        assert sorted(state["edge"]) in ([edge], [edge, f"{edge}-label", f"{edge}-to"])
        assert state["result"] == [f"v{j}"] and state["operand"] == [f"v{i}"]
        r, x = row.result_name, row.operand_name
        if tensors:
            assert state["formula"] == f"grad({x}) += grad({r}) · ∂{r}/∂{x} = {_text(row.share)}"
        else:
            assert state["formula"] == (
                f"grad({x}) += grad({r}) × ∂{r}/∂{x} = {_text(row.upstream)} × "
                f"{_text(row.local)} = {_text(row.share)}"
            )
            assert f"grad {_text(row.gradient)}" in state["boxes"][f"v{i}"]
        assert state["note"].startswith(f"grad({x}) is {'now ' if row.complete else ''}")
        assert _text(row.gradient) in state["note"]
        if k == len(rows) // 2:
            driver.save_screenshot(str(tmp_path / "mid-backward.png"))
    state = _key(driver, Keys.ARROW_RIGHT)
    assert state["slider"] == state["max"] and state["phase"] == "The end: the gradients"
    assert _key(driver, Keys.ARROW_RIGHT)["slider"] == state["max"]  # the end holds
    assert _errors(driver) == []


def test_the_document_page_step_by_step(browser: Any, tmp_path: Path) -> None:
    net = build_network()
    path = render_graph(net.L, tmp_path / "backprop.html", edge_derivatives=True)
    _open(browser, path)
    _step_through(browser, net.L, tmp_path)
    shot = tmp_path / "mid-backward.png"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_buttons_slider_reset_and_keys(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.keys import Keys

    net = build_network()
    _open(browser, render_graph(net.L, tmp_path / "b.html"))
    click = lambda name: browser.find_element("id", name).click()  # noqa: E731
    state = browser.execute_script(STATE)
    assert state["slider"] == 0 and state["phase"] == "Forward pass: the start"
    click("next")
    click("next")
    click("prev")
    assert browser.execute_script(STATE)["slider"] == 1
    browser.execute_script(
        "const s = document.getElementById('slider'); s.value = '19';"
        "s.dispatchEvent(new Event('input'));"
    )
    state = browser.execute_script(STATE)
    assert state["phase"] == "Backward pass: step 9 of 14"
    assert state["formula"] == "grad(h) += grad(t2) × ∂t2/∂h = -0.09744 × 0.3 = -0.02923"
    assert _key(browser, Keys.ARROW_LEFT)["phase"] == "Backward pass: step 8 of 14"
    assert _key(browser, Keys.END)["slider"] == 25
    click("reset")
    assert browser.execute_script(STATE)["slider"] == 0
    assert _key(browser, Keys.ARROW_LEFT)["slider"] == 0  # the start holds
    assert _errors(browser) == []


def test_hostile_labels_show_literally_and_no_alert_fires(browser: Any, tmp_path: Path) -> None:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    a = Value(2.0, label=HOSTILE)
    b = Value(3.0, label="\"q\" & 'r' <b>bold</b>")
    y = a * b
    y.label = "<img src=x onerror=alert(2)>"
    _open(browser, render_graph(y, tmp_path / "hostile.html"))
    with pytest.raises(TimeoutException):
        WebDriverWait(browser, 1).until(expected_conditions.alert_is_present())
    assert browser.execute_script("return document.querySelectorAll('script').length") == 2
    assert browser.execute_script("return document.querySelectorAll('img').length") == 0
    state = browser.execute_script(STATE)
    assert HOSTILE in state["boxes"]["v0"] and y.label in state["boxes"]["v2"]
    for _ in range(4):
        state = _key(browser, Keys.ARROW_RIGHT)
    assert state["formula"].startswith(f"grad({HOSTILE}) += grad({y.label})")
    assert _errors(browser) == []


def test_a_small_tensor_graph_step_by_step(browser: Any, tmp_path: Path) -> None:
    x = Tensor(np.ones((2, 3)), label="x", requires_grad=False)
    w = Tensor([[0.5, -0.25, 0.1], [0.2, 0.4, -0.3]], label="W")
    b = Tensor([0.1, -0.1], label="b")
    loss = (x @ w.T + b).tanh().sum()
    loss.label = "L"
    _open(browser, render_graph(loss, tmp_path / "tensor.html"))
    _step_through(browser, loss, tmp_path, tensors=True)
    # At the end every gradient is shown in its box (b's: the column sums of 1 - tanh²).
    boxes = browser.execute_script(STATE)["boxes"]
    (v_b,) = [f"v{i}" for i, n in enumerate(graph_nodes(loss)) if n is b]
    (final,) = [r.gradient for r in backward_steps(loss) if r.operand is b]
    assert "grad" in boxes[v_b] and _text(final) in boxes[v_b]


def test_code_lines_show_beside_their_steps(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.keys import Keys

    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    y = a * b
    path = render_graph(y, tmp_path / "code.html", code=["d_b = d_y * a", None])
    _open(browser, path)
    assert browser.execute_script(STATE)["code"] is None
    _key(browser, Keys.ARROW_RIGHT)
    _key(browser, Keys.ARROW_RIGHT)
    assert _key(browser, Keys.ARROW_RIGHT)["code"] == "d_b = d_y * a"
    assert _key(browser, Keys.ARROW_RIGHT)["code"] is None


def test_the_notebook_frame_steps_too(browser: Any, tmp_path: Path) -> None:
    # What Jupyter shows: explore()'s HTML inside a page of its own (the notebook).
    from selenium.webdriver.common.keys import Keys

    shown = explore(build_network().L)
    host = tmp_path / "notebook.html"
    host.write_text(
        f"<!DOCTYPE html><html><body><p id='before'>a cell</p>{shown._repr_html_()}</body></html>",
        encoding="utf-8",
    )
    _open_host = host.resolve().as_uri()
    browser.get(_open_host)
    frame = browser.find_element("tag name", "iframe")
    assert frame.size["height"] == shown.height + 2  # and its border
    browser.switch_to.frame(frame)
    try:
        browser.find_element("tag name", "body").click()
        for _ in range(11):
            state = _key(browser, Keys.ARROW_RIGHT)
        assert state["phase"] == "Backward pass: step 1 of 14"
    finally:
        browser.switch_to.default_content()
    assert _errors(browser) == []


def test_a_leaf_alone(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.keys import Keys

    _open(browser, render_graph(Value(2.0, label="x"), tmp_path / "leaf.html"))
    state = _key(browser, Keys.ARROW_RIGHT)
    assert (state["slider"], state["max"]) == (1, 2)
    assert state["phase"] == "Backward pass: the start (0 steps to go)"
    assert "grad 1" in state["boxes"]["v0"]
    assert _errors(browser) == []


SCREENS = [(1280, 800), (1920, 1080)]
"""A laptop's and a desktop's window: the page must show the whole graph on both."""

DOCUMENT_NEW = {
    name: f"{w - 0.1 * g:.6g}"
    for name, w, g in [
        ("w1", 0.4, -0.0068694006), ("b1", 0.1, -0.0068694006),
        ("w2", 0.3, -0.0606504249), ("b2", 0.2, -0.0974367672),
    ]
}  # fmt: skip
"""The document's SGD step, w - eta * dL/dw with eta = 0.1 and the document's exact
gradients (its note on rounding), to the 6 digits the page shows."""

# Where things are on the screen: each node's box, the header, the graph's area, and the
# highlighted edge's path ends and backward arrowhead.
GEOMETRY = """
const rect = (el) => { const r = el.getBoundingClientRect();
  return [r.left, r.top, r.right, r.bottom]; };
const nodes = {};
for (const g of document.querySelectorAll('#graph g.node')) nodes[g.id] = rect(g);
const edge = document.querySelector('#graph g.edge.hl-edge:not([id$="-to"])');
let arrow = null, start = null, forward = [];
if (edge) {
  const path = edge.querySelector('path');
  const m = path.getScreenCTM();
  const at = (p) => { const q = new DOMPoint(p.x, p.y).matrixTransform(m); return [q.x, q.y]; };
  start = at(path.getPointAtLength(0));
  const a = edge.querySelector('polygon.back-arrow');
  if (a) { const p = a.points.getItem(0); arrow = at(p); }
  forward = Array.from(document.querySelectorAll('#graph g.hl-edge polygon:not(.back-arrow)'))
    .map(p => getComputedStyle(p).visibility);
}
return {nodes, header: rect(document.getElementById('top')),
  area: rect(document.getElementById('graph')), arrow, start, forward,
  texts: Array.from(document.querySelectorAll('#graph text')).map(t => t.textContent),
  flow: document.querySelectorAll('#graph g.hl-edge .flow').length,
  summary: Array.from(document.querySelectorAll('#gradients tr')).map(
    tr => Array.from(tr.children).map(c => c.textContent)),
  summaryShown: !document.getElementById('summary').hidden};
"""


def _viewport(driver: Any, width: int, height: int) -> None:
    """Make the page's viewport (not the window) width x height pixels."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])
    assert driver.execute_script("return [window.innerWidth, window.innerHeight]") == [
        width,
        height,
    ]


def _all_in_view(geometry: dict[str, Any]) -> None:
    """Every node's box inside the graph's area, which lies below the header."""
    left, top, right, bottom = geometry["area"]
    assert top >= geometry["header"][3] - 0.5
    for name, (x0, y0, x1, y1) in geometry["nodes"].items():
        assert left - 0.5 <= x0 and x1 <= right + 0.5, (name, geometry["area"])
        assert top - 0.5 <= y0 and y1 <= bottom + 0.5, (name, geometry["area"])


def _document_page(tmp_path: Path) -> tuple[Node, Path]:
    """The document's page as the CLI writes it: ∂ on the edges, the four parameters and
    the document's eta = 0.1."""
    net = build_network()
    params = [net.w1, net.b1, net.w2, net.b2]
    page = render_graph(
        net.L, tmp_path / "doc.html", edge_derivatives=True, parameters=params, lr=0.1
    )
    return net.L, page


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_page_fits_the_screen_and_zooms_and_pans(
    browser: Any, tmp_path: Path, screen: tuple[int, int]
) -> None:
    """Reference: the browser's own layout (bounding boxes of the SVG's node groups)."""
    from selenium.webdriver.common.action_chains import ActionChains

    _, page = _document_page(tmp_path)
    try:
        _viewport(browser, *screen)
        _open(browser, page)
        first = browser.execute_script(GEOMETRY)
        _all_in_view(first)
        click = lambda name: browser.find_element("id", name).click()  # noqa: E731
        click("zoom-in")
        click("zoom-in")
        zoomed = browser.execute_script(GEOMETRY)
        width = lambda g, k: g["nodes"][k][2] - g["nodes"][k][0]  # noqa: E731
        assert width(zoomed, "v0") == pytest.approx(width(first, "v0") * 1.25**2, rel=0.02)
        main = browser.find_element("id", "graph")
        ActionChains(browser).drag_and_drop_by_offset(main, 120, -60).perform()
        panned = browser.execute_script(GEOMETRY)
        assert panned["nodes"]["v0"][0] - zoomed["nodes"]["v0"][0] == pytest.approx(120, abs=2)
        assert panned["nodes"]["v0"][1] - zoomed["nodes"]["v0"][1] == pytest.approx(-60, abs=2)
        click("fit")
        _all_in_view(browser.execute_script(GEOMETRY))
        # Zoomed in, each step pans its operand and result into view.
        for _ in range(4):
            _key(browser, "+")
        left, top, right, bottom = browser.execute_script(GEOMETRY)["area"]
        for k in range(11, 25):
            browser.execute_script(
                f"const s = document.getElementById('slider'); s.value = '{k}';"
                "s.dispatchEvent(new Event('input'));"
            )
            state = browser.execute_script(STATE)
            boxes = browser.execute_script(GEOMETRY)["nodes"]
            for name in state["result"] + state["operand"]:
                x0, y0, x1, y1 = boxes[name]
                assert left <= x0 and x1 <= right and top <= y0 and y1 <= bottom, (k, name)
        assert _errors(browser) == []
    finally:
        browser.set_window_size(*WINDOW)


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_step_names_what_the_picture_shows_under_a_header_of_one_height(
    browser: Any, tmp_path: Path, screen: tuple[int, int]
) -> None:
    """Reference: backward_steps() (the steps and their names), the document's exact
    gradients and its SGD step with eta = 0.1 (DOCUMENT_NEW), the browser's layout."""
    from selenium.webdriver.common.keys import Keys

    root, page = _document_page(tmp_path)
    steps = backward_steps(root)
    try:
        _viewport(browser, *screen)
        _open(browser, page)
        geometry = browser.execute_script(GEOMETRY)
        texts = set(geometry["texts"])
        # Every name the text uses for a node (not a constant: its number) is on its box.
        named = {name for node, name in steps.names.items() if not node.is_constant}
        assert {"t1", "t2", "t3", "t4", "h", "ŷ", "w1"} <= named
        assert named <= texts
        heights = {geometry["header"][3] - geometry["header"][1]}
        state = browser.execute_script(STATE)
        while True:
            for word in re.findall(r"[^\s()=+×·*,:;]+", state["formula"]):
                if word in named:
                    assert word in texts
            geometry = browser.execute_script(GEOMETRY)
            heights.add(geometry["header"][3] - geometry["header"][1])
            if state["phase"].startswith("Backward pass: step"):
                # The gradient goes from result to operand: an arrowhead at the operand's
                # end of the edge (where dot's path starts), a dot running to it, and the
                # forward arrowhead hidden.
                assert geometry["arrow"] == pytest.approx(geometry["start"], abs=0.5)
                assert geometry["flow"] == 1 and set(geometry["forward"]) == {"hidden"}
            if state["slider"] == state["max"]:
                break
            state = _key(browser, Keys.ARROW_RIGHT)
        assert len(heights) == 1, heights
        assert state["phase"] == "The end: the gradients"
        assert geometry["summaryShown"]
        head, *rows = geometry["summary"]
        assert head[0] == "parameter" and len(head) == 4
        exact = {"w1": -0.0068694006, "b1": -0.0068694006, "w2": -0.0606504249,
                 "b2": -0.0974367672}  # fmt: skip
        assert [row[0] for row in rows] == list(DOCUMENT_NEW)
        initial = {"w1": "0.4", "b1": "0.1", "w2": "0.3", "b2": "0.2"}  # the document's
        for name, grad, old, new in rows:
            assert grad == _text(exact[name]) and new == DOCUMENT_NEW[name]
            assert old == initial[name]
        assert DOCUMENT_NEW == {"w1": "0.400687", "b1": "0.100687", "w2": "0.306065",
                                "b2": "0.209744"}  # fmt: skip
        _all_in_view(geometry)  # the summary beside the graph, not over it
        assert geometry["area"][2] <= browser.find_element("id", "summary").rect["x"] + 0.5
        assert _errors(browser) == []
    finally:
        browser.set_window_size(*WINDOW)


SHOT = (1100, 700)
"""The README's screenshot: a small laptop's window, shown about 900 px wide."""


def save_screenshot(path: Path) -> Path:
    """The README's picture: the document's page as the CLI writes it, in the middle of the
    backward pass, at the step `grad(h) += grad(t2) × ∂t2/∂h` (step 9 of 14), zoomed in
    four times with the + key (the page then pans to the step)."""
    import tempfile

    from selenium.webdriver.common.keys import Keys

    driver = start_browser()
    try:
        with tempfile.TemporaryDirectory() as folder:
            _, page = _document_page(Path(folder))
            _viewport(driver, *SHOT)
            _open(driver, page)
            driver.execute_script(
                "const s = document.getElementById('slider'); s.value = '18';"
                "s.dispatchEvent(new Event('input'));"
            )
            for _ in range(4):
                _key(driver, "+")
            state = _key(driver, Keys.ARROW_RIGHT)  # the step, panned into view
            assert state["phase"] == "Backward pass: step 9 of 14", state["phase"]
            driver.save_screenshot(str(path))
    finally:
        driver.quit()
    return path


if __name__ == "__main__":
    why = _missing()
    if why is not None:
        sys.exit(f"{why}: {INSTALL}")
    print(save_screenshot(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/stepper.png")))
