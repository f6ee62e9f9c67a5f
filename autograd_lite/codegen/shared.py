"""A call written more than once in compile_grad's code for a Tensor graph, computed once.

Emit forms may write the same call in several statements: cross_entropy's loss and its
derivative both start from `logsumexp_array(z, 1, True)`. Every value of the generated code
is assigned once, and every emitted call is a function of its operands alone (the engine
runs the same functions on a node's data, which they must not change), so two calls with
the same text compute the same array. `share_calls` computes such a call once, into a value
of its own, just before the first statement that makes it; the later statements read that
value. The float operations are the same ones, so the results stay bit for bit the
engine's. (On arrays a call is worth sharing; Value graphs, whose calls cost little and
whose graphs are large, are left as they are.)
"""

from __future__ import annotations

import ast
import re
from collections import Counter

from .literals import ATOM
from .statements import Writer
from .tokens import parsed

__all__ = ["share_calls"]

_FUNCTION = re.compile(r"[A-Za-z_][\w.]*")  # a function by its (dotted) name: np.exp, _helper


def _calls(code: str) -> list[str]:
    """The texts of the calls in code that read a value of the function (a token) and call a
    function by name (`np.exp(...)`, `_helper(...)`, not a method of a value)."""
    tree, segment = parsed(code)
    found = []
    for node in _always_run(tree):
        text = segment(node) if isinstance(node, ast.Call) else None
        if text is None:
            continue
        name = _FUNCTION.match(text)
        if name and text[name.end()] == "(" and "\x00" in text:
            found.append(text)
    return found


def _always_run(tree: ast.AST) -> list[ast.AST]:
    """The nodes of tree that run whenever it does: not those under a conditional
    expression, `and`/`or`, a lambda or a comprehension, which computing a call ahead of its
    statement would run where the code did not (or run there with another value)."""
    found: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        found.append(node)
        if not isinstance(node, _CONDITIONAL):
            todo.extend(ast.iter_child_nodes(node))
    return found


_CONDITIONAL = (ast.IfExp, ast.BoolOp, ast.Lambda, ast.comprehension, ast.ListComp,
                ast.SetComp, ast.DictComp, ast.GeneratorExp)  # fmt: skip


_START = re.compile("(?<![\\w.])[A-Za-z_][\\w.]*\\(\x00\\d+\x00")
"""The start of a call by name whose first argument is a value: `np.exp(<token>`."""


def _occurrences(text: str) -> re.Pattern[str]:
    """text where it starts a call: not the tail of a longer name (`f(x)` in `g.f(x)`)."""
    return re.compile(r"(?<![\w.])" + re.escape(text))


def share_calls(w: Writer) -> None:
    """Each call written in two places or more in w's statements, computed once: `v = call`
    before its first use, then `v`. Checks run as the engine runs them, and a statement that
    is a call alone keeps it: its value may be returned as an array of its own."""
    # Each statement's calls that run whenever it does (None: a check, left as it is, or a
    # statement without a call whose name and first argument another call has too: parsing
    # only those keeps writing a large graph quick).
    starts = [
        _START.findall(code) if target is not None or code.startswith("return ") else None
        for target, code, *_ in w.stmts
    ]
    twice = Counter(s for found in starts if found for s in found)
    calls = [
        _own_calls(code) if found and any(twice[s] > 1 for s in found) else None
        for found, (_, code, *_) in zip(starts, w.stmts)
    ]
    counts = Counter(c for found in calls if found for c in found)
    # the longest first: a call inside a shared call is then written once, in its statement
    for text in sorted((t for t, n in counts.items() if n > 1), key=len, reverse=True):
        pattern = _occurrences(text)
        uses = [i for i, found in enumerate(calls) if found and text in found]
        if sum(len(pattern.findall(w.stmts[i][1])) for i in uses) < 2:
            continue
        v = w.var(None, "t")
        for i in uses:  # (a token holds no backslash: re.sub takes it as it is)
            target, code, prec, comment, backward = w.stmts[i]
            w.stmts[i] = (target, pattern.sub(v.token, code), prec, comment, backward)
            calls[i] = _own_calls(w.stmts[i][1])
        w.stmts.insert(uses[0], (v, text, ATOM, None, w.stmts[uses[0]][4]))
        calls.insert(uses[0], _own_calls(text))


def _own_calls(code: str) -> set[str]:
    """The calls a statement's code makes whenever it runs (`_calls`), but the code itself
    if it is a call alone: its value may be returned as an array of its own."""
    code = code.removeprefix("return ")
    return {c for c in _calls(code) if c != code}
