"""Numbers as the drawings, the step table and the page show them: `precision` significant
digits, small arrays in full, larger ones by their shape."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["SMALL", "array_lines", "format_number", "number_text"]

SMALL = 6
"""A Tensor of at most this many elements shows its data and grad; a larger one only its
shape and dtype (a box stays readable)."""


def format_number(x: float, precision: int) -> str:
    """`x` to `precision` significant digits, as shown in the drawing."""
    return f"{x:.{precision}g}"


def array_lines(array: object, precision: int) -> list[str]:
    """The numbers of a small array as text: nested brackets, one line per innermost row,
    each number as `format_number` shows a Value's."""
    text = np.array2string(
        np.asarray(array),
        separator=", ",
        formatter={"float_kind": lambda x: format_number(float(x), precision)},
        max_line_width=10**6,
        threshold=10**6,
    )
    return [line for line in text.split("\n") if line]  # no blank line between blocks


def number_text(x: Any, precision: int) -> str:
    """A float, or an array on one line (its shape alone beyond `SMALL` elements), with
    `precision` significant digits; "-" for None (no gradient)."""
    if x is None:
        return "-"
    if isinstance(x, np.ndarray):
        if x.size > SMALL:
            return f"{x.shape} array"
        return " ".join(line.strip() for line in array_lines(x, precision))
    return format_number(float(x), precision)
