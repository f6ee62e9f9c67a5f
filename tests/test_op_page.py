"""docs/ops.md is the page the op table writes: regenerated here, it must be the same text.

The first test only guards that the committed page is current (regenerate it with
`python -m autograd_lite.op_page > docs/ops.md` after changing an op): it compares the page
with itself. What the page says is checked against hand-written rows below (reference: the
derivatives worked out by hand, d/dx sin x = cos x ...)."""

from __future__ import annotations

from pathlib import Path

from autograd_lite.engine import methods
from autograd_lite.op_page import page

PAGE = Path(__file__).resolve().parent.parent / "docs" / "ops.md"


def test_the_page_is_the_tables() -> None:
    assert PAGE.read_text() == page(), (
        "docs/ops.md differs from the op table: run python -m autograd_lite.op_page > docs/ops.md"
    )


def test_every_method_of_the_table_is_on_the_page() -> None:
    text = PAGE.read_text()
    for name in methods.rows():
        if name.startswith("__r") or name in (
            "__abs__",
            "__lt__",
            "__le__",
            "__gt__",
            "__ge__",
            "__eq__",
            "__ne__",
        ):
            continue
        assert f"| {name} |" in text, name
    for shown in (
        "`x: g * (1 + out * out)`",  # d/dx tan x = 1 + tan² x
        "`x: g * (out * (1 - out))`",  # d/dx sigmoid x = s (1 - s)
        "`x: g / (1 + x)`",  # d/dx log(1 + x)
        "leaky_relu(negative_slope=0.01)",
        "`np.clip`",
    ):
        assert shown in text, shown
