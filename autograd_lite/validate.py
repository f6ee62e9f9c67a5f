"""Argument checks shared by the whole package: one rule for what a real number is.

A real number is anything `numbers.Real` accepts (int, float, Fraction, numpy real scalars)
and booleans, numpy's included, as 0 and 1. Messages name the caller and describe the
offending value without printing it whole: a 5,000-digit int is shown by its size.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from typing import Any

import numpy as np

_REAL = (numbers.Real, np.bool_)
_SHORT = reprlib.Repr()
_SHORT.maxstring = 40
_SHORT.maxother = 40


def describe(x: object) -> str:
    """`type: short repr` of x, safe for values whose full repr is huge or fails."""
    name = type(x).__name__
    if isinstance(x, int) and not isinstance(x, bool) and abs(x) >= 10**30:
        return f"{name} of about 10**{int(abs(x).bit_length() * math.log10(2))}"
    try:
        text = _SHORT.repr(x)
    except Exception:  # a repr that fails must not hide the real error
        text = "<unprintable>"
    return f"{name}: {text}"


def is_real(x: object) -> bool:
    """True for a real number (bools included, as 0 and 1); False for nodes and arrays."""
    return type(x) is float or isinstance(x, _REAL)


def real(x: object, where: str) -> float:
    """`x` as a Python float, or TypeError / OverflowError naming `where` and the value."""
    if type(x) is float:
        return x
    if isinstance(x, _REAL):
        try:
            return float(x)
        except OverflowError:
            raise OverflowError(f"{where}: {describe(x)} is too large for a float") from None
    if hasattr(type(x), "backward"):  # a graph node: say what to do instead
        raise TypeError(
            f"{where}: a {type(x).__name__} is not accepted here; pass its number "
            f"(x.data) or a new leaf (x.detach()) instead"
        )
    raise TypeError(
        f"{where}: expected a real number (int, float, Fraction, numpy real scalar, bool), "
        f"got {describe(x)}"
    )


def tolerance(x: object, where: str, *, positive: bool = False) -> float:
    """A finite real number >= 0 (> 0 with `positive`), as a float; else a clear error."""
    v = real(x, where)
    if not math.isfinite(v) or v < 0 or (positive and v == 0):
        raise ValueError(f"{where} must be finite and {'> 0' if positive else '>= 0'}, got {v!r}")
    return v


def count(x: object, where: str, *, minimum: int = 1) -> int:
    """A whole number >= minimum (not a bool or float), as an int; else a clear error."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"{where} must be a whole number, got {describe(x)}")
    if x < minimum:
        raise ValueError(f"{where} must be >= {minimum}, got {int(x)}")
    return int(x)


def text(x: object, where: str, *, optional: bool = False) -> Any:
    """A str (or None with `optional`), unchanged; else TypeError naming `where`."""
    if isinstance(x, str) or (optional and x is None):
        return x
    raise TypeError(f"{where} must be a str{' or None' if optional else ''}, got {describe(x)}")
