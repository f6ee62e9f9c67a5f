"""The derivative rule an `Op` (node.py) makes of what it is given: one rule joined from a
rule per operand (`parts=`), and a user's rule whose return is checked (`check_returns`).

Both run at every node a backward pass walks, so the common sizes are written out: two
parts (matmul's) and three (linear's) without a loop and a list per node.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..validate import describe

__all__ = ["bad_rule", "checked", "joined"]

Rule = Callable[..., tuple[Any, ...]]
"""A derivative rule: `rule(g, out, *operands)` gives one share per operand."""


def checked(vjp: Callable[..., Any], op: object) -> Rule:
    """vjp, with what it returns checked: one gradient per operand, in a tuple or a list
    (a TypeError naming `op` otherwise)."""

    def rule(g: Any, out: Any, *xs: Any) -> tuple[Any, ...]:
        shares = vjp(g, out, *xs)
        if type(shares) is not tuple:
            if type(shares) is not list:  # a dict or str would unpack into keys or characters
                raise bad_rule(op, len(xs), shares)
            shares = tuple(shares)
        if len(shares) != len(xs):
            raise bad_rule(op, len(xs), shares)
        return shares

    return rule


def bad_rule(op: object, n: int, shares: object) -> TypeError:
    """The error for a derivative rule of `op` that did not return one gradient per operand."""
    return TypeError(
        f"the derivative rule of {op!r} must return a tuple of {n} gradient"
        f"{'s' if n > 1 else ''} (one per operand), got {describe(shares)}"
    )


def joined(parts: Sequence[Callable[..., Any]]) -> Rule:
    """One rule giving every operand's share, from one rule per operand."""
    if len(parts) == 2:
        first, second = parts

        def two(g: Any, out: Any, *xs: Any) -> tuple[Any, ...]:
            return (first(g, out, *xs), second(g, out, *xs))

        return two
    if len(parts) == 3:
        first, second, third = parts

        def three(g: Any, out: Any, *xs: Any) -> tuple[Any, ...]:
            return (first(g, out, *xs), second(g, out, *xs), third(g, out, *xs))

        return three
    every = tuple(parts)

    def rule(g: Any, out: Any, *xs: Any) -> tuple[Any, ...]:
        return tuple([part(g, out, *xs) for part in every])  # a list is faster than a generator

    return rule
