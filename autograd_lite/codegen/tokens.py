"""How generated text refers to values before they are named, and how user text is kept inert.

A statement refers to a value by a token, `\\x00<n>\\x00`, until every value is named; then
`substitute` replaces each token by its text in one pass, so a replacement is never read
again. No user text can forge a token: labels become identifiers (names.py), values are
written with `repr` (literals.py), which escapes every control character, and the text of a
comment goes through `notation.one_line`, which escapes them too.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping

__all__ = ["PLACEHOLDER", "TOKEN", "parsed", "substitute", "token"]

TOKEN = re.compile("\x00\\d+\x00")
"""A value of the generated function, not named yet."""
PLACEHOLDER = re.compile("[\x00\x01]\\d+[\x00\x01]")
"""A token, or an argument of a derivative rule being traced (`\\x01<k>\\x01`)."""


def token(n: int) -> str:
    """The token of the n-th value."""
    return f"\x00{n}\x00"


def substitute(text: str, table: Mapping[str, str]) -> str:
    """text with each token replaced by its entry in table, in one pass."""
    if "\x00" not in text:
        return text
    return TOKEN.sub(lambda m: table[m.group()], text)


def parsed(code: str) -> tuple[ast.expr, Callable[[ast.AST], str | None]]:
    """An expression's code, tokens included, parsed (each token read as an identifier of
    its length, `Q<n>Q`), and a function giving the source of a node of the tree as it is in
    code (None for a node over several lines)."""
    tree = ast.parse(TOKEN.sub(lambda m: f"Q{m.group()[1:-1]}Q", code), mode="eval").body
    data = code.encode()  # ast's columns count UTF-8 bytes; a token's are as many as Q<n>Q's

    def segment(node: ast.AST) -> str | None:
        start, end = getattr(node, "col_offset", None), getattr(node, "end_col_offset", None)
        lines = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
        if start is None or end is None or lines != (1, 1):
            return None
        return data[start:end].decode()

    return tree, segment
