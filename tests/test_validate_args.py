"""validate.bounded, choice and sequence: what they accept, returned as written here, and the
errors for everything else (kind, reason and the caller's name in the message)."""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from fractions import Fraction

import numpy as np
import pytest

from autograd_lite.validate import bounded, choice, sequence, tolerance


@pytest.mark.parametrize(
    ("x", "want"),
    [(0, 0.0), (0.5, 0.5), (Fraction(3, 4), 0.75), (True, 1.0), (np.bool_(False), 0.0),
     (np.float32(0.25), 0.25), (np.int64(0), 0.0)],
)  # fmt: skip
def test_bounded_accepts_real_numbers_in_range(x: object, want: float) -> None:
    got = bounded(x, "f: a", 0.0, 2.0)
    assert got == want and type(got) is float


def test_bounded_range_ends() -> None:
    assert bounded(0.0, "f: a", 0.0) == 0.0  # low is allowed...
    with pytest.raises(ValueError, match=r"^f: a must be a finite number > 0, got 0\.0$"):
        bounded(0.0, "f: a", 0.0, above=True)  # ...unless above
    with pytest.raises(ValueError, match=r"^f: a must be a finite number >= 0 and < 1, got 1\.0$"):
        bounded(1, "f: a", 0.0, 1.0)  # high never is
    assert bounded(math.nextafter(1.0, 0.0), "f: a", 0.0, 1.0) < 1.0
    for bad in (math.nan, math.inf, -math.inf, -1e-300):
        with pytest.raises(ValueError, match=f"got {bad!r}"):
            bounded(bad, "f: a", 0.0)


def test_bounded_wrong_kinds() -> None:
    with pytest.raises(TypeError, match=r"f: a: expected a real number .*got str: '1'"):
        bounded("1", "f: a", 0.0)
    with pytest.raises(OverflowError, match=r"f: a: int of about 10\*\*400") as info:
        bounded(10**400, "f: a", 0.0)
    assert "0000000000" not in str(info.value)


def test_tolerance_is_bounded_from_zero() -> None:
    assert tolerance(0, "g: atol") == 0.0
    with pytest.raises(ValueError, match=r"g: eps must be a finite number > 0, got 0\.0"):
        tolerance(0, "g: eps", positive=True)


def test_choice() -> None:
    assert choice("sum", "f: reduction", ("mean", "sum")) == "sum"
    with pytest.raises(
        ValueError, match=r"^f: reduction must be one of 'mean', 'sum', got str: 'max'$"
    ):
        choice("max", "f: reduction", ["mean", "sum"])
    with pytest.raises(TypeError, match=r"^f: reduction must be a str, got NoneType: None$"):
        choice(None, "f: reduction", ["mean", "sum"])


@pytest.mark.parametrize(
    "x",
    [[1, 2.5], (1, 2.5), np.array([1.0, 2.5]), iter([1, 2.5]), deque([1, 2.5]),
     (v for v in (1, 2.5)), {"a": 1, "b": 2.5}.values()],
)  # fmt: skip
def test_sequence_accepts_ordered_collections(x: object) -> None:
    assert sequence(x, "f: x", "numbers") == [1, 2.5]


@pytest.mark.parametrize(
    ("x", "why"),
    [({1: 2}, "a dict is not accepted: iterating over it gives its keys"),
     (OrderedDict(a=1), "an? OrderedDict is not accepted: iterating over it gives its keys"),
     ({1, 2}, "a set is not accepted: it has no order"),
     ({1: 2}.keys(), "a dict_keys is not accepted: it has no order"),
     ("12", "a str is not accepted: its items are characters, not numbers"),
     (b"12", "a bytes is not accepted"), (bytearray(b"12"), "a bytearray is not accepted"),
     (np.zeros((2, 2)), r"a numpy array must be 1-d here, got shape \(2, 2\)"),
     (np.float64(1.0), "got float64: "),
     (np.array(1.0), r"a numpy array must be 1-d here, got shape \(\)"),
     (3, "got int: 3"), (None, "got NoneType: None")],
)  # fmt: skip
def test_sequence_refuses_unordered_text_and_non_iterables(x: object, why: str) -> None:
    with pytest.raises(TypeError, match=r"^f: x must be numbers in order; " + why):
        sequence(x, "f: x", "numbers in order")


def test_sequence_describes_a_huge_int_by_its_size() -> None:
    with pytest.raises(TypeError, match=r"got int of about 10\*\*5000$"):
        sequence(10**5000, "f: x", "numbers in order")


def test_sequence_does_not_hide_an_error_raised_while_iterating() -> None:
    def broken():  # type: ignore[no-untyped-def]
        yield 1
        raise TypeError("from inside the generator")

    with pytest.raises(TypeError, match=r"^from inside the generator$"):
        sequence(broken(), "f: x", "numbers")
