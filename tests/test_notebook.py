"""The notebooks in examples/ run from top to bottom (nbclient, a real Jupyter kernel), their
stored outputs are what a fresh run gives, and those outputs hold the right numbers.

The notebooks are stored with their outputs, pictures included, so that a code host's viewer
shows them. Regenerate the outputs after a change with

    python -m tests.test_notebook --update

Text outputs are compared exactly, after memory addresses (`at 0x7f...`) are normalised.
Pictures (SVG and PNG drawings, the stepping page's HTML) are laid out by Graphviz, whose
output differs from one version to the next, so only their presence is compared: each stored
picture must be where the fresh run has one, of the same kind.

Reference: the "exact" column of the seed document (tests/reference.py's EXACT_TABLE), its SGD
update rule w - eta * dL/dw with eta = 0.1, and for the matrix form the document's hand
formulas applied to each sample in plain floats, here.
"""

from __future__ import annotations

import argparse
import functools
import html
import math
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbclient
import nbformat
import pytest

from .reference import EXACT_TABLE

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
NOTEBOOKS = ("tutorial", "matrix_form", "check_your_derivation")
"""The notebooks in examples/, by name (examples/NAME.ipynb)."""

PICTURES = {"image/svg+xml", "image/png", "image/jpeg", "text/html"}
"""Output kinds compared by presence only: drawings and the stepping page embed Graphviz's
layout, which is not the same from one Graphviz version to the next."""

UPDATE = "python -m tests.test_notebook --update"
"""The command that regenerates the stored outputs."""

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def path_of(name: str) -> Path:
    """Where the notebook `name` is stored."""
    return EXAMPLES / f"{name}.ipynb"


def execute(path: Path) -> Any:
    """The notebook at `path` run from top to bottom in a fresh kernel, in a temporary folder
    (what it writes lands there); raises if a cell fails."""
    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as folder:
        client = nbclient.NotebookClient(
            notebook,
            timeout=300,
            kernel_name="python3",
            record_timing=False,  # no timestamps in the stored notebook
            resources={"metadata": {"path": folder}},
        )
        client.execute()
    return notebook


def normalised(text: str) -> str:
    """Text output with what changes from run to run (memory addresses) made constant."""
    return _ADDRESS.sub(" at 0x...", text)


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def output_summary(output: Any) -> tuple[Any, ...]:
    """What must be the same in a stored output and a fresh one: its type, its text outputs
    (normalised) and the kinds of picture it holds."""
    kind = output["output_type"]
    if kind == "stream":
        return (kind, output["name"], normalised(_text(output["text"])))
    if kind == "error":
        return (kind, output["ename"], output["evalue"])
    data = output.get("data", {})
    texts = tuple(
        sorted((mime, normalised(_text(v))) for mime, v in data.items() if mime not in PICTURES)
    )
    pictures = tuple(sorted(mime for mime in data if mime in PICTURES))
    return (kind, texts, pictures)


def stale_cells(stored: Any, fresh: Any) -> list[str]:
    """The code cells whose stored outputs differ from a fresh run's, one line each."""
    problems = []
    stored_cells = [c for c in stored.cells if c.cell_type == "code"]
    fresh_cells = [c for c in fresh.cells if c.cell_type == "code"]
    for k, (old, new) in enumerate(zip(stored_cells, fresh_cells), start=1):
        before = [output_summary(o) for o in old.get("outputs", [])]
        after = [output_summary(o) for o in new.get("outputs", [])]
        if before != after:
            first = next(
                (i for i, (a, b) in enumerate(zip(before, after)) if a != b),
                min(len(before), len(after)),
            )
            problems.append(
                f"code cell {k} ({old.source.splitlines()[0] if old.source else ''!r}): "
                f"output {first + 1} differs ({len(before)} stored, {len(after)} fresh)"
            )
    return problems


@functools.cache
def fresh(name: str) -> Any:
    """The notebook `name` run now (once per test session)."""
    return execute(path_of(name))


def _code_cells(nb: Any) -> list[Any]:
    return [c for c in nb.cells if c.cell_type == "code"]


def _all_text(nb: Any) -> str:
    """Everything the code cells printed or returned, as text."""
    parts = []
    for cell in _code_cells(nb):
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream":
                parts.append(_text(out["text"]))
            elif "text/plain" in out.get("data", {}):
                parts.append(_text(out["data"]["text/plain"]))
    return "\n".join(parts)


pytestmark = pytest.mark.needs_dot  # the drawings and the stepper are laid out by dot


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_no_cell_fails_and_the_stored_outputs_are_current(name: str) -> None:
    stored = nbformat.read(path_of(name), as_version=4)
    nbformat.validate(stored)
    run = fresh(name)
    errors = [o for c in _code_cells(run) for o in c.outputs if o["output_type"] == "error"]
    assert errors == []
    assert [c.source for c in stored.cells] == [c.source for c in run.cells]
    problems = stale_cells(stored, run)
    assert not problems, (
        f"examples/{name}.ipynb: stored outputs are not current; run `{UPDATE}`:\n"
        + "\n".join(problems)
    )
    # Every code cell is stored run, in order, so the viewer shows a notebook that ran.
    assert [c.execution_count for c in _code_cells(stored)] == list(
        range(1, len(_code_cells(stored)) + 1)
    )


def test_every_notebook_links_the_worked_example() -> None:
    for name in NOTEBOOKS:
        nb = nbformat.read(path_of(name), as_version=4)
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert "](../docs/worked_example.md)" in text, name


def test_the_staleness_check_finds_planted_changes() -> None:
    # Reference: hand-made notebooks: a changed number, a missing picture, and a picture
    # whose bytes differ (another Graphviz) and an address that differs, which must pass.
    def nb(outputs: list[Any]) -> Any:
        cell = nbformat.v4.new_code_cell("draw()", execution_count=1, outputs=outputs)
        return nbformat.v4.new_notebook(cells=[cell])

    def picture(svg: str, address: str) -> Any:
        return nbformat.v4.new_output(
            "execute_result",
            {"image/svg+xml": svg, "text/plain": f"<Drawing at {address}>"},
            execution_count=1,
        )

    def printed(text: str) -> Any:
        return nbformat.v4.new_output("stream", name="stdout", text=text)

    base = nb([printed("L = 0.0818112799\n"), picture("<svg>a</svg>", "0x7f01")])
    same = nb([printed("L = 0.0818112799\n"), picture("<svg>b</svg>", "0x7fab")])
    assert stale_cells(base, same) == []
    assert stale_cells(base, nb([printed("L = 0.0818112800\n"), picture("x", "0x1")]))
    assert stale_cells(base, nb([printed("L = 0.0818112799\n")]))
    text_only = nbformat.v4.new_output("execute_result", {"text/plain": "<Drawing at 0x1>"})
    assert stale_cells(base, nb([printed("L = 0.0818112799\n"), text_only]))


def test_the_tutorial_holds_the_document_numbers() -> None:
    text = _all_text(fresh("tutorial"))
    for shown, name in [
        ("h", "h"), ("ŷ", "y_hat"), ("L", "L"), ("dL/dw2", "dL_dw2"), ("dL/db2", "dL_db2"),
        ("dL/dw1", "dL_dw1"), ("dL/db1", "dL_db1"), ("w2_new", "w2_new"), ("b2_new", "b2_new"),
        ("w1_new", "w1_new"), ("b1_new", "b1_new"),
    ]:  # fmt: skip
        assert f"{shown} = {EXACT_TABLE[name]:.10f}" in text, name
    # The table of steps, at the drawing's 4 digits: delta2 reaches z2, dL/dh reaches h.
    assert f"{EXACT_TABLE['delta2']:.4g}" in text and f"{EXACT_TABLE['dL_dh']:.4g}" in text
    assert "backward() from L, step by step" in text
    (check,) = [c for c in _code_cells(fresh("tutorial")) if "gradcheck(loss" in c.source]
    assert _all_text(nbformat.v4.new_notebook(cells=[check])).strip() == "True"


def test_the_tutorial_shows_the_drawings_and_the_stepper() -> None:
    cells = _code_cells(fresh("tutorial"))
    bundles = [o.get("data", {}) for c in cells for o in c.outputs]
    drawings = [b["image/svg+xml"] for b in bundles if "image/svg+xml" in b]
    assert len(drawings) == 2
    assert "grad 0" in drawings[0] and "grad &#45;0.06065" in drawings[1]  # before, after
    (page,) = [b["text/html"] for b in bundles if "text/html" in b]
    assert page.startswith('<iframe srcdoc="') and 'sandbox="allow-scripts"' in page
    inner = html.unescape(page.split('"')[1])
    assert "-0.09744" in inner and "-0.02923" in inner  # δ₂ and dL/dh, in the page's steps


def _document_gradients(x: float, y: float) -> dict[str, float]:
    """dL/dW1, dL/db1, dL/dW2, dL/db2 for one sample by the document's hand formulas."""
    h = 1 / (1 + math.exp(-(x * 0.4 + 0.1)))
    y_hat = 1 / (1 + math.exp(-(h * 0.3 + 0.2)))
    delta2 = (y_hat - y) * y_hat * (1 - y_hat)
    delta1 = delta2 * 0.3 * h * (1 - h)
    return {"W1": delta1 * x, "b1": delta1, "W2": delta2 * h, "b2": delta2}


def test_the_matrix_form_sums_the_per_sample_gradients() -> None:
    text = _all_text(fresh("matrix_form"))
    batch = [(1.0, 1.0), (0.5, 0.0), (-1.0, 1.0), (2.0, 0.0)]  # the notebook's x and y
    per_sample = [_document_gradients(x, y) for x, y in batch]
    assert per_sample[0]["W2"] == pytest.approx(EXACT_TABLE["dL_dw2"], abs=1e-10)
    for name in ("W1", "b1", "W2", "b2"):
        total = sum(g[name] for g in per_sample)
        assert f"dL/d{name} = {total:.10f}" in text, name
    assert "All 6 agree." in text
    gap = re.search(r"largest \|matrix form - sum of per-sample gradients\|: (\S+)", text)
    assert gap is not None and float(gap.group(1)) < 1e-15  # the same sums, in another order


def test_check_your_derivation_shows_a_right_and_a_wrong_derivation() -> None:
    text = _all_text(fresh("check_your_derivation"))
    assert "All 5 agree." in text
    assert "the first in backward order is grad(z)" in text
    assert "the factor that differs is ∂a/∂z" in text
    assert "AssertionError" in text


def update(names: Sequence[str]) -> None:
    """Run each notebook and store it with its fresh outputs (memory addresses normalised,
    so that running it again changes nothing that did not change)."""
    for name in names:
        path = path_of(name)
        notebook = execute(path)
        for cell in _code_cells(notebook):
            for out in cell.outputs:
                if out["output_type"] == "stream":
                    out["text"] = normalised(_text(out["text"]))
                elif "text/plain" in out.get("data", {}):
                    out["data"]["text/plain"] = normalised(_text(out["data"]["text/plain"]))
        nbformat.write(notebook, path)
        print(f"updated {path.relative_to(ROOT)}")


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m tests.test_notebook --update [NAME ...]`: regenerate the stored outputs."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.test_notebook",
        description="Run the notebooks in examples/ and store them with their outputs.",
    )
    parser.add_argument("--update", action="store_true", required=True)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"of {', '.join(NOTEBOOKS)}")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in NOTEBOOKS]
    if unknown:
        parser.error(f"no notebook {unknown[0]!r}; the notebooks are {', '.join(NOTEBOOKS)}")
    update(args.names or NOTEBOOKS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
