"""How generated text refers to values before they are named, and how user text is kept inert.

A statement refers to a value by a token, `\\x00<n>\\x00`, until every value is named; then
`substitute` replaces each token by its text in one pass, so a replacement is never read
again. No user text can forge a token: labels become identifiers (names.py), values are
written with `repr` (literals.py), which escapes every control character, and the text of a
comment goes through `notation.one_line`, which escapes them too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["PLACEHOLDER", "TOKEN", "substitute", "token"]

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
