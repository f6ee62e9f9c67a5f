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
  code: document.getElementById('code-line').hidden ? null
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
    assert state["slider"] == 0 and state["max"] == len(ops) + 1 + len(rows)
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
        assert state["edge"] == [f"v{i}-o{j}" + (f"-{slot}" if slot > 1 else "")]
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
    assert _key(browser, Keys.END)["slider"] == 24
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
    state = _key(browser, Keys.END)
    assert (state["slider"], state["max"]) == (1, 1)
    assert state["phase"] == "Backward pass: the start (0 steps to go)"
    assert "grad 1" in state["boxes"]["v0"]
    assert _errors(browser) == []


def save_screenshot(path: Path) -> Path:
    """The README's picture: the document's page in the middle of the backward pass, at the
    step `grad(h) += grad(t2) × ∂t2/∂h` (step 9 of 14)."""
    import tempfile

    driver = start_browser()
    try:
        with tempfile.TemporaryDirectory() as folder:
            page = render_graph(
                build_network().L, Path(folder) / "backprop.html", edge_derivatives=True
            )
            _open(driver, page)
            driver.set_window_size(WINDOW[0], 900)
            driver.execute_script(
                "const s = document.getElementById('slider'); s.value = '19';"
                "s.dispatchEvent(new Event('input'));"
            )
            driver.save_screenshot(str(path))
    finally:
        driver.quit()
    return path


if __name__ == "__main__":
    why = _missing()
    if why is not None:
        sys.exit(f"{why}: {INSTALL}")
    print(save_screenshot(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/stepper.png")))
