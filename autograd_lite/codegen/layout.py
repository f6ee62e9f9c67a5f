"""The text of generated code: every value named, statements laid out as a def and a module.

Statements (statements.py) refer to values by tokens until here, where every value is named
in one pass: labels made identifiers (`ŷ` is `y_hat`), `t1, t2, ...` for the rest, `d_<name>`
for gradients (`v<n>` for compile_grad, whose names only the compiler reads). In the compact
form a value used once is not named: it goes into the expression that uses it, up to a
bounded weight (a bound on its nesting), so that Python's parser and compiler are never asked
for deep nesting. Comments are aligned, a long return statement is wrapped, and a standalone
module gets its docstring, imports, helpers and constants.
"""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from collections.abc import Callable
from typing import Any

from ..engine.node import Node
from .literals import array_text
from .names import Names, identifier
from .statements import Var, Writer, paren
from .tokens import TOKEN, substitute

__all__ = [
    "COMMENT_COLUMN",
    "INLINE_DEPTH",
    "Line",
    "function_lines",
    "module_text",
    "named_lines",
    "output_name",
]

Line = tuple[str, str | None, bool]
"""A statement as text: its code, its comment, whether it belongs to the backward pass."""
_SHORT = re.compile(r"v\d+")  # the names compile_grad gives values
INLINE_DEPTH = 100
"""The most a value folded into its use may weigh (`_weight` of its source, those folded into
it included): Python's parser allows 200 nested parentheses, and its compiler nests about
3000 deep (less under a lower recursion limit)."""
COMMENT_COLUMN = 56
"""Where comments start in the backward pass, unless a statement is longer."""


def _weight(code: str) -> int:
    """A bound on the nesting of an expression: its characters other than letters, digits and
    _. Every level of nesting (a call, subscript, attribute, operator, bracket) takes one."""
    return len(_WORD.sub("", code))


_WORD = re.compile(r"\w+")


def named_lines(
    w: Writer, reserved: set[str], in_order: bool = False
) -> tuple[list[Line], dict[str, str]]:
    """Each of w's statements as text, after naming every value (none of them `reserved`),
    and each token's text. In the compact form a value used once is not named: its source
    goes into the expression that uses it, unless that would weigh more than INLINE_DEPTH
    (`_weight`, a bound on its nesting), or, `in_order`, the use is the return statement."""
    names = Names(reserved)
    table: dict[str, str] = {}  # token -> its text
    # Names for the compiler only: v and each value's number, which nothing else takes.
    short = w.short and not any(_SHORT.fullmatch(r) for r in reserved)
    if short:
        for v in w.vars:
            v.name = table[v.token] = "v" + v.token[1:-1]
    for v in w.vars:  # the arguments and module constants first: they have names
        if v.name is not None:
            continue
        if v.kind in ("x", "c"):
            v.name = names.take(v.hint) if v.hint else names.numbered(v.kind)
            table[v.token] = v.name
    uses = Counter(TOKEN.findall("\n".join(s[1] for s in w.stmts)))
    fold = w.compact
    # in_order (compile_grad's Tensor code): each value computed where the backward pass
    # reaches it, not inside the return statement: W3's gradient while d_z and h2 are still
    # in the cache, as the hand step writes it (about 1% of W5's step at batch 64)
    returned = set(TOKEN.findall(w.stmts[-1][1])) if in_order and w.stmts else set()
    out: list[Line] = []
    for target, code, prec, comment, backward in w.stmts:
        code = substitute(code, table)
        if target is None:
            out.append((code, None, backward))
            continue
        key = target.token
        if fold and uses[key] == 1 and _weight(code) <= INLINE_DEPTH and key not in returned:
            table[key] = paren(code, prec)
            continue
        if target.name is None:  # (a gradient accumulated in place is named once)
            target.name = table[key] = _name(target, names)
        elif short:
            table[key] = target.name
        text = f"{target.name} = {code}"
        out.append((text, substitute(comment, table) if comment else None, backward))
    return out, table


def _name(v: Var, names: Names) -> str:
    if v.kind == "d_t":
        of = v.of
        base = (of.name or of.hint) if of is not None else None
        return names.take(f"d_{base}") if base else names.numbered(v.kind)
    return names.take(v.hint) if v.hint else names.numbered(v.kind)


def output_name(w: Writer, output: Node) -> str:
    """What the docstrings call the output: its name in the code, else its label."""
    v = w.value_of.get(output)
    if v is not None and v.name:
        return v.name
    label = output.label
    return (identifier(label) if label else None) or "the output"


def function_lines(
    w: Writer,
    name: str,
    params: list[str],
    what: str,
    prologue: Callable[[list[str]], list[str]] | None,
    named: tuple[list[Line], dict[str, str]],
    quiet: bool = True,
) -> list[str]:
    """The def's lines: signature, docstring, the statements (comments aligned); `named` is
    `named_lines`' result. `quiet`: a Tensor function's statements run under
    `np.errstate(all="ignore")` (inf and nan are values); without it, its caller runs the
    function so (compile_grad, as a decorator: one frame per call instead of three)."""
    rendered, table = named
    lines = [f"def {name}({', '.join(params)}):"]
    wrt = ", ".join(params) if len(params) <= 8 else f"its {len(params)} arguments"
    lines.append(f'    """{what} and its gradient with respect to {wrt or "nothing"}."""')
    lines += ["    " + line for line in (prologue(params) if prologue else [])]
    indent = "    "
    if w.tensor and quiet:
        lines.append(
            '    with np.errstate(all="ignore"):  # inf and nan are values, as in the engine'
        )
        indent = "        "
    width = max(
        (len(indent + t) for t, c, _ in rendered if c and len(indent + t) <= COMMENT_COLUMN),
        default=0,
    )
    section = "" if w.compact else None
    for text, comment, backward in rendered:
        if section is None and not text.startswith("return "):
            lines.append(f"{indent}# forward pass")
            section = "forward"
        if backward and section == "forward":
            lines.append(f"{indent}# backward pass: d_v is d{what}/dv")
            section = "backward"
        line = indent + text
        if comment:
            line = line.ljust(width) + "  # " + comment
        if not w.compact and line.startswith(indent + "return ") and len(line) > 100:
            lines += _wrapped_return(w, table, indent)
            continue
        lines.append(line)
    return lines


def _wrapped_return(w: Writer, table: dict[str, str], indent: str) -> list[str]:
    """The return statement over several lines, one item (or one gradient) a line."""
    value, results, aux = w.returned
    inner = indent + "        "
    lines = [f"{indent}return (", f"{indent}    {substitute(value, table)},", f"{indent}    ("]
    lines += [f"{inner}{substitute(r, table)}," for r in results]
    lines.append(f"{indent}    ),")
    if aux:
        lines.append(f"{indent}    (")
        lines += [f"{inner}{substitute(a, table)}," for a in aux]
        lines.append(f"{indent}    ),")
    return [*lines, f"{indent})"]


def module_text(
    name: str,
    params: list[str],
    what: str,
    function: str,
    helpers: tuple[list[str], list[str]],
    constants: dict[str, Any],
) -> str:
    """A module holding the function: docstring, imports, helpers, constants, the def."""
    imports, sources = helpers
    consts = [f"{k} = {array_text(v)}" for k, v in constants.items()]
    used = "\n".join([function, *consts, *sources])
    found = set(imports)
    for alias, module in (("math", "math"), ("np", "numpy")):
        if re.search(rf"(?<![\w.]){alias}\.", used):
            found.add(f"import {module}" if alias == module else f"import {module} as {alias}")
    grads = ", ".join(f"d{what}/d{p}" for p in params) + ("," if len(params) == 1 else "")
    usage = (
        f"{name}({', '.join(params)}) returns ({what}, ({grads})): the same float operations, "
        f"in the same order, as computing {what} with the engine and calling backward()."
    )
    doc = "\n".join(
        [
            f'"""{what} and its gradient, written by autograd-lite from the recorded graph.',
            "",
            *textwrap.wrap(usage, 96, break_on_hyphens=False),
            '"""',
        ]
    )
    head = [doc, "from __future__ import annotations", "\n".join(sorted(found))]
    text = "\n\n".join(part for part in head if part)
    if sources:
        text += "\n\n\n" + "\n\n\n".join(sources)
    if consts:
        text += "\n\n\n" + "\n".join(consts)
    return text + "\n\n\n" + function
