"""Source text of the values generated code mentions, and the precedence of an expression.

Numbers are written so that they read back exactly: `repr` of a float round-trips, inf and
nan are `math.inf` and `math.nan`, a numpy scalar keeps its type (`np.float32(0.1)`), since
numpy's type rules treat it otherwise than a Python float. Arrays are not written here: the
caller gives `array`, which names one (a module-level constant).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from ..validate import describe

__all__ = [
    "ATOM",
    "COMPARE",
    "CONDITIONAL",
    "POWER",
    "SUM",
    "TERM",
    "UNARY",
    "CodegenError",
    "Param",
    "array_text",
    "atomic",
    "check_writable",
    "dtype_text",
    "literal",
]

# Python's operator precedence, loosest first: an operand whose precedence is below what its
# place needs is parenthesised.
CONDITIONAL = 1  # x if c else y
COMPARE = 5  # < <= == != > >=
BIT_OR, BIT_XOR, BIT_AND = 6, 7, 8
SUM = 10  # + -
TERM = 11  # * / // % @
UNARY = 12  # -x +x ~x
POWER = 13  # **
ATOM = 14  # names, calls, subscripts, numbers >= 0, (parenthesised)


class CodegenError(ValueError):
    """The graph cannot be written as code: an op without an emit form, a derivative rule
    that cannot be traced, a value that cannot be written, or a graph above `max_nodes`."""


_NUMBER = re.compile(r"\d[\d_]*(\.\d*)?([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?")


def atomic(text: str) -> bool:
    """True if `text` needs no parentheses as an operand: a name, a number >= 0, a call, a
    subscript, or something already in brackets (nothing outside brackets but names)."""
    if _NUMBER.fullmatch(text):
        return True
    depth = 0
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and not (ch.isalnum() or ch in "_.\x00\x01"):  # (tokens.py)
            return False
    return True


def _float(x: float) -> tuple[str, int]:
    if math.isnan(x):
        return "math.nan", ATOM
    if math.isinf(x):
        return ("math.inf", ATOM) if x > 0 else ("-math.inf", UNARY)
    text = repr(x)
    return text, UNARY if text.startswith("-") else ATOM


def dtype_text(dtype: np.dtype[Any]) -> str:
    """`np.float64` for a dtype numpy names so, else `np.dtype('...')`."""
    kind = getattr(np, dtype.name, None)
    if isinstance(kind, type) and np.dtype(kind) == dtype:
        return f"np.{dtype.name}"
    return f"np.dtype({dtype.str!r})"


LITERAL_DEPTH = 50
"""The deepest nesting of containers written as a literal (Python's parser allows 200 nested
brackets, and the literal sits inside an expression)."""


def literal(
    x: object, array: Callable[[np.ndarray[Any, Any]], str], depth: int = 0
) -> tuple[str, int]:
    """The source of x and its precedence; `array(a)` names an array. Text comes from the
    built-in types' own repr (a subclass's repr is not asked: it could write anything), so it
    reads back as the value. CodegenError for a value that has no exact source (a function,
    an object, a numpy array of a subclass, containers nested deeper than LITERAL_DEPTH)."""
    if type(x) is float:
        return _float(x)
    if type(x) is np.ndarray:
        return array(x), ATOM
    if isinstance(x, (bool, np.bool_)):
        return (repr(bool(x)) if type(x) is bool else f"np.{bool(x)}_"), ATOM
    if isinstance(x, np.floating):
        return f"{dtype_text(x.dtype)}({_float(float(x))[0]})", ATOM
    if isinstance(x, np.integer):
        return f"{dtype_text(x.dtype)}({int(x)})", ATOM
    if isinstance(x, int):
        n = int.__int__(x)
        return repr(n), UNARY if n < 0 else ATOM
    if isinstance(x, float):  # a float subclass
        return _float(float.__float__(x))
    if x is None or x is Ellipsis:
        return repr(x), ATOM
    if isinstance(x, str):
        return str.__repr__(x), ATOM
    if isinstance(x, np.dtype):  # the dtype itself: `np.int64` is its type, which == it
        text = dtype_text(x)  # but hashes apart (a dict's key) and is not it (`is`)
        return (text if text.startswith("np.dtype(") else f"np.dtype({text})"), ATOM
    if depth >= LITERAL_DEPTH:
        raise CodegenError(
            f"generated code cannot write {describe(x)}: containers nested more than "
            f"{LITERAL_DEPTH} deep"
        )
    if isinstance(x, slice):
        parts = ", ".join(literal(v, array, depth + 1)[0] for v in (x.start, x.stop, x.step))
        return f"slice({parts})", ATOM
    if isinstance(x, (set, frozenset, dict)) and any(_has_nan(k) for k in x):
        raise CodegenError(
            f"generated code cannot write {describe(x)}: a NaN among its keys is one object "
            f"of its own, which a literal cannot make again"
        )
    if isinstance(x, (tuple, list, set, frozenset)):
        items = [literal(v, array, depth + 1)[0] for v in x]
        if isinstance(x, list):
            return "[" + ", ".join(items) + "]", ATOM
        if isinstance(x, tuple):
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")", ATOM
        text = "{" + ", ".join(items) + "}" if items else "()"
        return (f"frozenset({text})" if isinstance(x, frozenset) else f"set({text})"), ATOM
    if isinstance(x, dict):
        pairs = [
            f"{literal(k, array, depth + 1)[0]}: {literal(v, array, depth + 1)[0]}"
            for k, v in x.items()
        ]
        return "{" + ", ".join(pairs) + "}", ATOM
    raise CodegenError(
        f"generated code cannot write {describe(x)} (not a number, an array, or a str, tuple, "
        f"list, dict or set of those)"
    )


def _has_nan(key: object) -> bool:
    if isinstance(key, (float, np.floating)):
        return bool(key != key)
    return isinstance(key, (tuple, frozenset)) and any(_has_nan(k) for k in key)


def _index_item(x: object, array: Callable[[np.ndarray[Any, Any]], str]) -> str:
    if isinstance(x, slice):
        parts = ["" if v is None else literal(v, array)[0] for v in (x.start, x.stop, x.step)]
        return ":".join(parts[:2] if x.step is None else parts)
    return literal(x, array)[0]


class Param:
    """An op parameter in a format string: `{name}` writes it as a literal, `{name:index}` as
    the inside of a subscript (`1, :2, None` for the tuple `(1, slice(None, 2), None)`)."""

    def __init__(self, value: object, array: Callable[[np.ndarray[Any, Any]], str]) -> None:
        self.value = value
        self.array = array

    def __format__(self, spec: str) -> str:
        if spec == "index":
            items = self.value if isinstance(self.value, tuple) else (self.value,)
            return ", ".join(_index_item(i, self.array) for i in items) if items else "()"
        if spec:
            raise ValueError(f"unknown format {spec!r} for a parameter (only 'index')")
        return literal(self.value, self.array)[0]


def check_writable(a: np.ndarray[Any, Any]) -> None:
    """CodegenError unless `array_text` can write a (its dtype bool, int or float): checked
    when the array is met, so that the error can name the op that holds it."""
    if a.dtype.kind not in "biuf":
        raise CodegenError(f"generated code cannot write an array of dtype {a.dtype}")


def array_text(a: np.ndarray[Any, Any]) -> str:
    """`np.array(...)` that gives a back exactly: its elements' repr, its dtype and shape."""
    check_writable(a)
    kind = a.dtype.kind

    def item(v: Any) -> str:
        if kind == "f":
            return _float(float(v))[0]
        return repr(bool(v)) if kind == "b" else repr(int(v))

    def nested(x: np.ndarray[Any, Any]) -> str:
        if x.ndim == 0:
            return item(x)
        if x.ndim == 1:
            return "[" + ", ".join(item(v) for v in x.tolist()) + "]"
        return "[" + ", ".join(nested(row) for row in x) + "]"

    body = nested(a)
    if a.size == 0:  # [] loses the shape: say it
        return f"np.zeros({a.shape!r}, dtype={dtype_text(a.dtype)})"
    return f"np.array({body}, dtype={dtype_text(a.dtype)})"
