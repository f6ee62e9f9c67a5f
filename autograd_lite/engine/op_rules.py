"""How an `Op`'s derivative rule is put together (node.py): from one rule per operand
(`joined`), and with what it returns checked (`checked`, for the rules of custom ops)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..validate import describe

__all__ = ["checked", "counted", "joined"]


def checked(vjp: Callable[..., Any], op: object) -> Callable[..., tuple[Any, ...]]:
    """vjp, with what it returns checked: one gradient per operand, in a tuple or a list
    (else a TypeError naming `op`)."""

    def checked_vjp(g: Any, out: Any, *xs: Any) -> tuple[Any, ...]:
        shares = vjp(g, out, *xs)
        if type(shares) is not tuple:
            if type(shares) is not list:  # a dict or str would unpack into keys or characters
                raise _bad_rule(op, len(xs), shares)
            shares = tuple(shares)
        if len(shares) != len(xs):
            raise _bad_rule(op, len(xs), shares)
        return shares

    return checked_vjp


def _bad_rule(op: object, n: int, shares: object) -> TypeError:
    """The error for a derivative rule that did not return one gradient per operand."""
    return TypeError(
        f"the derivative rule of {op!r} must return a tuple of {n} gradient"
        f"{'s' if n > 1 else ''} (one per operand), got {describe(shares)}"
    )


def joined(parts: Sequence[Callable[..., Any]]) -> Callable[..., tuple[Any, ...]]:
    """One rule giving every operand's share, from one rule per operand. Two and three
    operands (matmul, linear) are written out: a comprehension costs a call more per run."""
    if len(parts) == 2:
        first, second = parts

        def two(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
            return first(g, out, a, b), second(g, out, a, b)

        return two
    if len(parts) == 3:
        first, second, third = parts

        def three(g: Any, out: Any, a: Any, b: Any, c: Any) -> tuple[Any, Any, Any]:
            return first(g, out, a, b, c), second(g, out, a, b, c), third(g, out, a, b, c)

        return three

    def vjp(g: Any, out: Any, *xs: Any) -> tuple[Any, ...]:
        return tuple([part(g, out, *xs) for part in parts])  # a list is faster than a generator

    return vjp


def counted(forward: Callable[..., Any], name: str, n: int) -> Callable[..., Any]:
    """forward, refusing a call on other than `n` operands: an op given `n` parts (one rule
    per operand) applied to more would give the others no gradient, to fewer no rule."""

    def counted_forward(*xs: Any) -> Any:
        if len(xs) != n:
            raise TypeError(
                f"{name}: applied to {len(xs)} operand{'s' if len(xs) != 1 else ''}, but the "
                f"op has {n} parts (one derivative rule per operand): give one per operand"
            )
        return forward(*xs)

    return counted_forward
