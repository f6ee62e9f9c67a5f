"""How an op applied to its operands reads when written out: `x * w1`, `sigmoid(z1)`, `t3**2`.

One writer for every place that shows a node as a formula: the step table and the stepping
page (with names or numbers for the operands) and the comments of generated code (with the
code's names). User text (an op's display, a label) is kept to one line here too, so no
caller can print a line break that ends a table row or a comment.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["formula", "one_line"]


def one_line(text: str) -> str:
    """User text (a label, an op's name or display) on one line: every character that is not
    printable (each line break str.splitlines knows, tabs, control and format characters,
    lone surrogates) written as its escape, as repr writes it."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _term(text: str) -> str:
    """`text` in parentheses when it would not read as one term beside an operator."""
    return f"({text})" if text.startswith("-") or " " in text else text


def formula(display: str, args: Sequence[str]) -> str:
    """An op applied to its arguments as a reader writes it: `x * w1`, `sigmoid(z1)`,
    `t3**2`, `x[0, :]`, `sum(t1, axis=(1,))` (`display` is the op's `display`, made one line;
    `args` are the operands' texts, which the caller has made one line)."""
    display = one_line(display)
    if len(args) == 2 and not any(ch.isalnum() or ch == "_" for ch in display):
        return f"{_term(args[0])} {display} {_term(args[1])}"
    if len(args) == 1 and display.startswith(("**", "[")):
        return f"{_term(args[0])}{display}"
    head, paren, rest = display.partition("(")
    if paren and display.endswith(")") and head.isidentifier():
        inside = rest[:-1]  # the parameters, after the operands
        return f"{head}({', '.join([*args, inside] if inside else args)})"
    return f"{display}({', '.join(args)})"
