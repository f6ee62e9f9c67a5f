"""Argument checks shared by the whole package: one rule for what a real number is.

A real number is anything `numbers.Real` accepts (int, float, Fraction, numpy real scalars)
and booleans, numpy's included, as 0 and 1. Messages name the caller and describe the
offending value without printing it whole: a 5,000-digit int is shown by its size.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from collections.abc import Iterable, Mapping, Set
from typing import Any, NoReturn, cast

import numpy as np

# The common types first: isinstance against a tuple of classes is a quick C check, while
# numbers.Real, an abstract class, costs a few thousand instructions (a Fraction needs it).
_REAL = (float, int, np.floating, np.integer, np.bool_, numbers.Real)
_SHORT = reprlib.Repr()
_SHORT.maxstring = 40
_SHORT.maxother = 40


def describe(x: object) -> str:
    """`type: short repr` of x, safe for values whose full repr is huge or fails. A type
    may name itself in a user's words (`_described`: a Tensor's `.data` view)."""
    name = getattr(type(x), "_described", None) or type(x).__name__
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


def reals(array: np.ndarray[Any, Any], where: str) -> np.ndarray[Any, Any]:
    """An array numpy could not type (its dtype is object: ints beyond int64, Fractions, a
    mix) as float64, each element by `real`'s rule: the numbers a Value accepts, a Tensor
    accepts too, and what is refused (a node, a str, an int too large for a float) is
    refused with the same message."""
    flat = [real(x, where) for x in array.reshape(-1)]
    return np.array(flat, dtype=np.float64).reshape(array.shape)


def array_of(
    x: object, refusal: str, kinds: str = "", *, copy: bool = False
) -> np.ndarray[Any, Any]:
    """x as a numpy array (a new one with `copy`), or a TypeError that starts with `refusal`:
    for what numpy cannot make one array of (ragged lists, a torch tensor that requires
    grad), with numpy's reason; with `kinds` (dtype kinds, "biuf" for real numbers), also
    for an array of another kind (strings, objects), with the value and its dtype."""
    if isinstance(x, np.ma.MaskedArray):
        masked_error(refusal, x)
    try:
        array = np.array(x) if copy else np.asarray(x)
    except (TypeError, ValueError, RuntimeError) as e:
        raise TypeError(f"{refusal}: {e}") from None
    if kinds and array.dtype.kind not in kinds:
        raise TypeError(f"{refusal}, got {describe(x)} (dtype {array.dtype})")
    return array


def masked_error(where: str, data: np.ma.MaskedArray[Any, Any]) -> NoReturn:
    """The TypeError for a numpy masked array given as numbers: reading it as an array
    would use the masked-out numbers as they are, silently."""
    hidden = int(np.count_nonzero(data.mask))
    raise TypeError(
        f"{where}: got a numpy masked array ({hidden} of its {data.size} numbers masked); "
        f"read as an array it would use the masked numbers as they are. Pass "
        f"np.ma.filled(x, value) for the numbers you mean, or x.data for all of them"
    )


def plain_array(x: object, where: str) -> object:
    """x, or a numpy array subclass's numbers as a plain array (a view of them: a Tensor's
    `.data`, a matrix, whose `*` would multiply matrices); a masked array is refused
    (`masked_error`)."""
    if isinstance(x, np.ma.MaskedArray):
        masked_error(where, x)
    return np.asarray(x) if isinstance(x, np.ndarray) else x


def flag(x: object, where: str) -> bool:
    """True or False (a bool or numpy bool) as a bool; else TypeError naming `where`. Other
    values are refused, not taken by their truth: "no" and [0] are true in Python."""
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    raise TypeError(f"{where} must be True or False, got {describe(x)}")


def bounded(
    x: object, where: str, low: float, high: float = math.inf, *, above: bool = False
) -> float:
    """A finite real number >= low (> low with `above`) and < high, as a float; else an error.

    TypeError / OverflowError as `real` for what is not a float; ValueError for NaN, an
    infinity or a number out of range, saying the range and the value.
    """
    v = real(x, where)
    if not (math.isfinite(v) and (v > low if above else v >= low) and v < high):
        rule = f"{'>' if above else '>='} {low:g}" + (f" and < {high:g}" if high < math.inf else "")
        raise ValueError(f"{where} must be a finite number {rule}, got {v!r}")
    return v


def tolerance(x: object, where: str, *, positive: bool = False) -> float:
    """A finite real number >= 0 (> 0 with `positive`), as a float; else a clear error."""
    return bounded(x, where, 0.0, above=positive)


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


def choice(x: object, where: str, options: Iterable[str]) -> str:
    """`x` if it is one of the strings `options`; else an error listing them."""
    name: str = text(x, where)
    allowed = tuple(options)
    if name not in allowed:
        raise ValueError(
            f"{where} must be one of {', '.join(map(repr, allowed))}, got {describe(x)}"
        )
    return name


def sequence(x: object, where: str, accepted: str) -> list[Any]:
    """The items of an ordered collection (list, tuple, 1-d array, iterator) as a list.

    TypeError, naming `where` and saying what is `accepted`, for what iterates in an order
    that means nothing or over something else than the items: a mapping (its keys), a set,
    a str or bytes (characters), a numpy array that is not 1-d (its rows); and for anything
    that does not iterate at all.
    """
    why = ""
    if isinstance(x, Mapping):
        why = f"a {type(x).__name__} is not accepted: iterating over it gives its keys"
    elif isinstance(x, Set):
        why = f"a {type(x).__name__} is not accepted: it has no order"
    elif isinstance(x, (str, bytes, bytearray, memoryview)):
        why = f"a {type(x).__name__} is not accepted: its items are characters, not numbers"
    elif isinstance(x, np.ndarray) and x.ndim != 1:
        why = f"a numpy array must be 1-d here, got shape {x.shape}"
    if not why:
        try:
            items = iter(cast("Iterable[Any]", x))
        except TypeError:  # only this call: an error raised while iterating is the caller's
            why = f"got {describe(x)}"
        else:
            return list(items)
    raise TypeError(f"{where} must be {accepted}; {why}")


def listed_once(seen: dict[Any, int], key: object, where: str, items: str, i: int) -> None:
    """Note that `items`[i] is `key` (a node, or an array's id); ValueError naming both
    positions if an earlier item was: a list of distinct things (inputs, args) must not
    repeat one."""
    if key in seen:
        raise ValueError(
            f"{where}: {items}[{i}] is {items}[{seen[key]}]; list each {items[:-1]} once"
        )
    seen[key] = i
