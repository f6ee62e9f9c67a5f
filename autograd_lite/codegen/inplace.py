"""compile_grad's Tensor code writing an elementwise result into its left operand's array,
where that array is a temporary nothing else reads.

`d_h = d_z @ W * (h > 0).astype(np.float32)` (relu's derivative after a matmul) makes a new
array for the product although the matmul's result is a fresh array read only there: the
hand-written step writes `d = d_z @ W; d *= h > 0`. So when a statement is `a <op> b`, `op`
one of * + - /, and `a` is a value that one of numpy's operators or ufuncs made (an array of
its own, at least one dimension), read by this statement only, of the result's shape and
dtype, it is written `np.multiply(a, b, out=a)`: numpy computes each element from the same
two operands with the same loop, so the bits are the same, without a new array. A boolean
mask cast to the result's dtype, `(h > 0).astype(np.float32)`, is given to the ufunc as the
comparison itself, which numpy casts element by element to the same 0.0 and 1.0.
A statement that calls a ufunc, `np.maximum(a, 0)` (relu's forward, whose derivative reads
its result, not a), is written `np.maximum(a, 0, out=a)` on the same conditions: the hand
step's `np.maximum(h, 0, out=h)` after `h = x @ W.T; h += b`. A fresh array is one that an
operator or a ufunc made, or a function known to return a new array (`_FRESH`: nn.Linear's
forward, `x @ w.T` plus b in place).
(backward_code's code stays as the derivation writes it.)
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import array_ops
from ..engine.node import Node
from .literals import ATOM
from .statements import Writer, ufunc_call
from .tokens import TOKEN, parsed

__all__ = ["write_in_place"]

_UFUNCS = {ast.Mult: "np.multiply", ast.Add: "np.add", ast.Sub: "np.subtract",
           ast.Div: "np.true_divide"}  # fmt: skip


_FRESH: frozenset[Callable[..., Any]] = frozenset({array_ops.linear_op.array_forward})
"""Array forwards that return a new array of their own (not an operand or a view of one)."""


def _fresh(code: str, node: Node | None) -> bool:
    """Whether code, the value of node, makes a new array: an operator's result, a ufunc's,
    or a call of the node's op's forward if `_FRESH` holds it."""
    tree, _ = parsed(code)
    if isinstance(tree, (ast.BinOp, ast.UnaryOp)):
        return True
    if not isinstance(tree, ast.Call):
        return False
    if ufunc_call(tree):
        return True
    forward = getattr(node.op, "array_forward", None) if node is not None else None
    return (
        forward in _FRESH
        and isinstance(tree.func, ast.Name)
        and tree.func.id == getattr(forward, "__name__", None)
    )


def _ufunc_first(tree: ast.expr, segment: Callable[[ast.AST], str | None]) -> str | None:
    """The first operand's source if tree is `np.<ufunc>(a, ...)` (positional operands
    only, no `out=`), else None."""
    if not (isinstance(tree, ast.Call) and ufunc_call(tree) and tree.args) or tree.keywords:
        return None
    if isinstance(tree.func, ast.Attribute) and tree.func.attr == "reduce":
        return None
    if any(isinstance(arg, ast.Starred) for arg in tree.args):
        return None
    return segment(tree.args[0])


def _mask(tree: ast.expr, segment: Callable[[ast.AST], str | None], dtype: str) -> str | None:
    """The comparison's source if tree is `(comparison).astype(<dtype>)`, else None."""
    if (
        isinstance(tree, ast.Call)
        and isinstance(tree.func, ast.Attribute)
        and tree.func.attr == "astype"
        and isinstance(tree.func.value, ast.Compare)
        and len(tree.args) == 1
        and not tree.keywords
        and segment(tree.args[0]) == dtype
    ):
        return segment(tree.func.value)
    return None


def write_in_place(w: Writer, grads: dict[Node, str]) -> None:
    """Each statement `a <op> b` of w whose `a` is a fresh array read there only, of the
    result's shape and dtype, written as `np.<ufunc>(a, b, out=a)` (`grads`: the token of
    each node's gradient, for the shapes and dtypes of gradients)."""
    kinds: dict[str, tuple[tuple[int, ...], np.dtype[Any]]] = {}
    for x, v in w.value_of.items():
        data = np.asarray(x._data)
        kinds[v.token] = (data.shape, data.dtype)
    for x, g in grads.items():
        if x in w.final:
            final = np.asarray(w.final[x])
            kinds.setdefault(g, (final.shape, final.dtype))
    uses = Counter(TOKEN.findall("\n".join(s[1] for s in w.stmts)))
    made = {s[0].token: s[1] for s in w.stmts if s[0] is not None}  # each value's code
    node_of = {v.token: x for x, v in w.value_of.items()}

    def writable(a: str | None, kind: tuple[tuple[int, ...], np.dtype[Any]]) -> bool:
        """Whether a is a fresh array of the result's kind that only this statement reads."""
        return (
            a in made and uses[a] == 1 and kinds.get(a) == kind and _fresh(made[a], node_of.get(a))
        )

    for i, (target, code, _, comment, backward) in enumerate(w.stmts):
        kind = kinds.get(target.token) if target is not None else None
        if kind is None or not kind[0]:  # (a 0-d result: numpy's scalars are no arrays)
            continue
        tree, segment = parsed(code)
        first = _ufunc_first(tree, segment)
        if first is not None and writable(first, kind):
            assert target is not None and code.endswith(")")
            w.stmts[i] = (target, f"{code[:-1]}, out={first})", ATOM, comment, backward)
            continue
        if not (isinstance(tree, ast.BinOp) and type(tree.op) in _UFUNCS):
            continue
        a = segment(tree.left)
        if not writable(a, kind):
            continue
        b = _mask(tree.right, segment, w.source(kind[1])[0]) or segment(tree.right)
        assert target is not None and a is not None and b is not None
        ufunc = _UFUNCS[type(tree.op)]
        w.stmts[i] = (target, f"{ufunc}({a}, {b}, out={a})", ATOM, comment, backward)
