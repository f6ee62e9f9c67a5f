"""One formula writer: the step table, the stepping page and generated code's comments read a
node the same way, and keep an op's display on one line.

References: each expression written out by hand in the test (as a reader writes it, the
step table's own convention: `t3**2`, `neg(t1)`, `x[0, :]`); repr's escapes for characters
that are not printable.
"""

from __future__ import annotations

import math
import re

import numpy as np

from autograd_lite import Op, Tensor, Value, backward_code, backward_steps, format_backward_steps
from autograd_lite.notation import formula


def _comments(source: str) -> list[str]:
    """The comments of the backward pass, in order (after the seed's `dy/dy`)."""
    backward = source.split("# backward pass")[1]
    return re.findall(r"  # (\S+ = .*)$", backward, re.MULTILINE)


def _definitions(root: Value | Tensor) -> set[str]:
    steps = backward_steps(root, constants=True)
    return {f"{name} = {text}" for name, text in steps.definitions.items()}


def test_code_comments_read_as_the_step_table() -> None:
    # Reference: each node's formula written by hand. On main the code wrote `t3 ** 2` and
    # `-t1` where the step table writes `t3**2` and `neg(t1)`: two writers, two answers.
    x, w = Value(1.5, label="x"), Value(-0.5, label="w")
    half = Op("half", lambda v: v / 2, lambda g, out, v: (g / 2,), display="½", emit="{0} / 2")
    y = half((-(x * w)) ** 2) + x.tanh()
    y.label = "y"
    expected = {
        "t1 = x * w",
        "t2 = neg(t1)",
        "t3 = t2**2",
        "t4 = ½(t3)",
        "t5 = tanh(x)",
        "y = t4 + t5",
    }
    assert _definitions(y) == expected
    assert set(_comments(backward_code(y, [x, w]))) == expected


def test_tensor_code_comments_read_as_the_step_table() -> None:
    # Reference: each node's formula written by hand.
    X = Tensor(np.arange(6.0).reshape(2, 3), label="X")
    W = Tensor(np.ones((3, 2)), label="W")
    y = ((X @ W)[0, :] ** 2).sum()
    y.label = "y"
    expected = {"t1 = X @ W", "t2 = t1[0, :]", "t3 = t2**2", "y = sum(t3)"}
    assert _definitions(y) == expected
    assert set(_comments(backward_code(y, [X, W]))) == expected


def test_a_display_with_line_breaks_stays_on_one_line() -> None:
    # Reference: repr's escapes (\n, \x00, \u2028). On main the step table printed the
    # display as it was: its line breaks split a definition over several lines.
    display = "f\nimport os\x00\u2028"
    assert formula(display, ["x"]) == "f\\nimport os\\x00\\u2028(x)"
    op = Op("f", math.sin, lambda g, out, v: (g * math.cos(v),), display=display)
    x = Value(0.5, label="x")
    y = op(x) * x
    table = format_backward_steps(y)
    assert "t1 = f\\nimport os\\x00\\u2028(x)" in table
    assert all(line.isprintable() for line in table.splitlines())
