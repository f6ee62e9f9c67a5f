"""A derivative rule traced on Syms into a template of source text, filled in per node.

A rule is run once per rule and kind of operands (type, shape, dtype: what a rule may branch
on) on Syms standing for its arguments (g, out, operands), with one node's values as
examples. Each share's source is cut at the arguments' placeholders, so the template serves
every node that runs the rule on arguments of that kind: `fill` puts in their names.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..engine.node import Node
from ..engine.steps import BackwardStep
from .literals import ATOM, CodegenError
from .symbols import Sym, Tracer, Untraceable, example_of

__all__ = ["Template", "fill", "kind_of", "op_name", "trace"]

Template = tuple[tuple[str, ...], tuple[int, ...]]
"""A traced share's source around the rule's arguments: texts[0], args[ks[0]], texts[1], ..."""


def _arg(k: int) -> str:
    """The placeholder of a rule template's k-th argument (g, out, operands)."""
    return f"\x01{k}\x01"


_ARG = re.compile("\x01(\\d+)\x01")


def _template(text: str) -> Template:
    """A traced share's source, cut at the placeholders of the rule's arguments."""
    parts = _ARG.split(text)
    return tuple(parts[::2]), tuple(int(k) for k in parts[1::2])


def fill(template: Template, args: list[str]) -> str:
    """The template's source with the rule's arguments put in (text is not read again)."""
    texts, ks = template
    out = [texts[0]]
    for k, text in zip(ks, texts[1:]):
        out += (args[k], text)
    return "".join(out)


def kind_of(x: Any) -> object:
    """What a rule may branch on: the type, and an array's shape and dtype."""
    t = type(x)
    if t is float:
        return t
    return (t, np.shape(x), getattr(x, "dtype", None))


def _same(a: Any, b: Any) -> bool:
    """a and b hold the same numbers (nan equal to nan), of the same shape and dtype."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    return bool(a == b or (a != a and b != b))


def trace(
    tracer: Tracer, node: Node, examples: list[Any], step: BackwardStep
) -> list[tuple[Template, int] | None]:
    """The node's rule run on Syms for its arguments (g, out, operands), with the node's
    values as examples; checked against what the rule gave that node."""
    args = [Sym(tracer, _arg(k), ATOM, e) for k, e in enumerate(examples)]
    name = op_name(node)
    try:
        shares = node.rule(*args)
    except Untraceable as e:
        raise CodegenError(
            f"the derivative rule of op {name!r} cannot be written as code: {e}. Write "
            f"it with arithmetic and ops only (ops.step, ops.relu, ops.maximum for what "
            f"depends on a sign)"
        ) from None
    except CodegenError as e:
        raise CodegenError(f"in the derivative rule of op {name!r}: {e}") from None
    except Exception as e:  # the rule met a Sym where it expected a number or an array
        raise CodegenError(
            f"the derivative rule of op {name!r} failed when run on the symbolic values "
            f"that write code: {e!r}"
        ) from None
    shares = tuple(shares)
    if not _same(example_of(shares[step.index]), step.share):
        raise CodegenError(
            f"the derivative rule of op {name!r} gave another value when traced than "
            f"when run; it reads values in a way generated code cannot follow"
        )
    out: list[tuple[Template, int] | None] = []
    for s in shares:
        if s is None:
            out.append(None)
            continue
        text, prec = tracer.source(s)
        out.append((_template(text), prec))
    return out


def op_name(node: Node) -> str:
    """The name of the op that made node (a node with operands)."""
    op = node.op
    assert op is not None
    return op.name
