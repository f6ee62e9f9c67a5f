"""examples/tutorial.ipynb runs from top to bottom (nbclient, a real Jupyter kernel) and its
outputs hold the document's numbers.

Reference: the "exact" column of the seed document (tests/reference.py's EXACT_TABLE), and the
document's printed SGD update rule w - eta * dL/dw with eta = 0.1.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import nbclient
import nbformat
import pytest

from .reference import EXACT_TABLE

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "tutorial.ipynb"

pytestmark = pytest.mark.needs_dot  # the drawings and the stepper are laid out by dot


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    folder = tmp_path_factory.mktemp("notebook")  # what the notebook writes lands here
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": folder}}
    )
    client.execute()
    return notebook


def _text(cell: Any) -> str:
    """What a code cell printed or returned, as text."""
    parts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            parts.append(out["text"])
        elif "data" in out and "text/plain" in out["data"]:
            parts.append(out["data"]["text/plain"])
    return "".join(parts)


def _code_cells(notebook: Any) -> list[Any]:
    return [c for c in notebook.cells if c.cell_type == "code"]


def test_the_committed_notebook_has_no_outputs() -> None:
    # Outputs are made by running it; committed ones would go stale (and weigh a lot).
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert all(
        not c.get("outputs") and c.get("execution_count") is None for c in _code_cells(notebook)
    )


def test_no_cell_fails(executed: Any) -> None:
    errors = [o for c in _code_cells(executed) for o in c.outputs if o["output_type"] == "error"]
    assert errors == []


def test_the_outputs_hold_the_document_numbers(executed: Any) -> None:
    text = "\n".join(_text(c) for c in _code_cells(executed))
    for shown, name in [
        ("h", "h"), ("ŷ", "y_hat"), ("L", "L"), ("dL/dw2", "dL_dw2"), ("dL/db2", "dL_db2"),
        ("dL/dw1", "dL_dw1"), ("dL/db1", "dL_db1"), ("w2_new", "w2_new"), ("b2_new", "b2_new"),
        ("w1_new", "w1_new"), ("b1_new", "b1_new"),
    ]:  # fmt: skip
        assert f"{shown} = {EXACT_TABLE[name]:.10f}" in text, name
    # The table of steps, at the drawing's 4 digits: delta2 reaches z2, dL/dh reaches h.
    assert f"{EXACT_TABLE['delta2']:.4g}" in text and f"{EXACT_TABLE['dL_dh']:.4g}" in text
    assert "backward() from L, step by step" in text
    assert "True" in _text(_code_cells(executed)[-2])  # gradcheck


def test_the_drawings_and_the_stepper_show_inline(executed: Any) -> None:
    bundles = [o.get("data", {}) for c in _code_cells(executed) for o in c.outputs]
    drawings = [b["image/svg+xml"] for b in bundles if "image/svg+xml" in b]
    assert len(drawings) == 2
    assert "grad 0" in drawings[0] and "grad &#45;0.06065" in drawings[1]  # before, after
    (page,) = [b["text/html"] for b in bundles if "text/html" in b]
    assert page.startswith('<iframe srcdoc="') and 'sandbox="allow-scripts"' in page
    inner = html.unescape(page.split('"')[1])
    assert "grad(h) += grad(t2) × ∂t2/∂h = -0.09744 × 0.3 = -0.02923" in inner
