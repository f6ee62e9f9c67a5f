"""Python identifiers for generated code: from a node's label, and unique in one module.

`identifier("ŷ")` is `"y_hat"`: a label is decomposed (NFKD), accents become a word where
mathematics gives them one (hat, bar, tilde, dot, vec) and are dropped otherwise, Greek
letters are spelt out, a few symbols get a name (∂ is d, ∇ grad) and anything else separates
words with `_`. `Names` hands out each identifier once, adding `_2`, `_3`, ... on a collision.
"""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata

__all__ = ["Names", "identifier"]

_MARKS = {
    "\u0302": "hat",  # x̂
    "\u0304": "bar",  # x̄
    "\u0305": "bar",
    "\u0303": "tilde",  # x̃
    "\u0307": "dot",  # ẋ
    "\u0308": "ddot",  # ẍ
    "\u20d7": "vec",  # x⃗
}
"""Combining marks that read as part of a variable's name; other marks (é) are dropped."""

_SYMBOLS = {"∂": "d", "∇": "grad_", "′": "_prime", "'": "_prime", "″": "_pprime", "∞": "_inf_"}
"""Symbols with a usual name in formulas, as they join their neighbours (∂L is dL)."""

_GREEK = re.compile(r"GREEK (SMALL|CAPITAL) LETTER (\w+)")
_SEPARATORS = re.compile(r"_+")


def _word(ch: str) -> str:
    """A Greek letter's name as a word (capitals capitalised), a known symbol's name, or `_`
    for anything else (a separator)."""
    if ch in _SYMBOLS:
        return _SYMBOLS[ch]
    found = _GREEK.fullmatch(unicodedata.name(ch, ""))
    if found is None:
        return "_"
    name = found.group(2).lower()
    return "_" + (name.capitalize() if found.group(1) == "CAPITAL" else name) + "_"


def identifier(label: str) -> str | None:
    """`label` as an ASCII Python identifier (`"ŷ"` -> `"y_hat"`, `"w[0]"` -> `"w_0"`), or None
    if nothing of it can be written (`"*"`). Keywords and builtins get a trailing `_`."""
    parts: list[str] = []
    for ch in unicodedata.normalize("NFKD", label):
        if ch.isascii() and (ch.isalnum() or ch == "_"):
            parts.append(ch)
        elif unicodedata.combining(ch):
            mark = _MARKS.get(ch)
            if mark is not None:
                parts.append(f"_{mark}_")
        else:
            parts.append(_word(ch))
    name = _SEPARATORS.sub("_", "".join(parts)).strip("_")
    if not name:
        return None
    if name[0].isdigit():
        name = "v" + name
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or hasattr(builtins, name):
        name += "_"
    return name


class Names:
    """Identifiers handed out once each in a module: `take("x")` gives "x", then "x_2", ..."""

    def __init__(self, reserved: set[str]) -> None:
        self._taken = set(reserved)
        self._counters: dict[str, int] = {}

    def take(self, wanted: str) -> str:
        """`wanted` if still free, else `wanted_2`, `wanted_3`, ... (the first free one)."""
        if wanted not in self._taken:
            self._taken.add(wanted)
            return wanted
        n = self._counters.get(wanted, 1)
        while True:
            n += 1
            name = f"{wanted}_{n}"
            if name not in self._taken:
                self._counters[wanted] = n
                self._taken.add(name)
                return name

    def numbered(self, prefix: str) -> str:
        """The next free `prefix1`, `prefix2`, ... (numbers count up per prefix)."""
        n = self._counters.get(prefix + "#", 0)
        while True:
            n += 1
            name = f"{prefix}{n}"
            if name not in self._taken:
                self._counters[prefix + "#"] = n
                self._taken.add(name)
                return name
