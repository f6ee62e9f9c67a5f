"""docs/worked_example.md tells the document's example with every number, and the README, the
command's --help and the notebooks lead to it; the README says how to open the notebooks.

Reference: the document's exact table (tests/reference.py's EXACT_TABLE), its printed numbers
(DOCUMENT_PRINTED, copied from it), and the loss after its SGD step worked out here from the
exact updated parameters by the network's formulas in plain floats.
"""

from __future__ import annotations

import math
from pathlib import Path

from autograd_lite.walkthrough import DOCUMENT_PRINTED
from autograd_lite.walkthrough.cli import build_parser

from .reference import EXACT_TABLE

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "worked_example.md"
OPEN_NOTEBOOKS = ".venv/bin/pip install -e '.[notebook]' && .venv/bin/jupyter lab examples/"


def page_text() -> str:
    """The page, with the typographic minus read as "-"."""
    return PAGE.read_text(encoding="utf-8").replace("−", "-")


def test_the_page_holds_every_exact_number_and_the_sgd_step() -> None:
    text = page_text()
    missing = [name for name, v in EXACT_TABLE.items() if f"{v:.10f}" not in text]
    assert missing == []
    assert "η = 0.1" in text and "p ← p - η · dL/dp" in text

    # The loss after the step, from the exact new parameters: stated on the page.
    def sigmoid(z: float) -> float:
        return 1 / (1 + math.exp(-z))

    h = sigmoid(1.0 * EXACT_TABLE["w1_new"] + EXACT_TABLE["b1_new"])
    y_hat = sigmoid(h * EXACT_TABLE["w2_new"] + EXACT_TABLE["b2_new"])
    assert f"the loss is {0.5 * (1 - y_hat) ** 2:.10f}" in text


def test_the_page_says_what_the_original_printed() -> None:
    text = page_text()
    missing = [name for name, v in DOCUMENT_PRINTED.items() if repr(v) not in text]
    assert missing == []


def test_the_page_has_every_step_of_the_derivation() -> None:
    text = page_text()
    for formula in [
        "z1 = x·w1 + b1", "h = σ(z1)", "z2 = h·w2 + b2", "ŷ = σ(z2)", "L = ½ (y - ŷ)²",
        "σ(z) (1 - σ(z))", "dL/dŷ = ŷ - y", "dŷ/dz2 = ŷ (1 - ŷ)", "δ₂ = dL/dz2 = dL/dŷ · dŷ/dz2",
        "dL/dw2 = δ₂ · h", "dL/db2 = δ₂", "dL/dh = δ₂ · w2", "dh/dz1 = h (1 - h)",
        "δ₁ = dL/dz1 = dL/dh · dh/dz1", "dL/dw1 = δ₁ · x", "dL/db1 = δ₁",
    ]:  # fmt: skip
        assert formula in text, formula


def test_the_readme_and_the_help_lead_to_the_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/worked_example.md)" in readme
    assert "docs/worked_example.md" in build_parser().format_help()


def test_the_readme_says_how_to_open_the_notebooks() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert OPEN_NOTEBOOKS in readme
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'notebook = ["jupyterlab' in pyproject
    for name in ("tutorial", "matrix_form", "check_your_derivation"):
        assert f"](examples/{name}.ipynb)" in readme, name
