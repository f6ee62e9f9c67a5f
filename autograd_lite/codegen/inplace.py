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
(backward_code's code stays as the derivation writes it.)
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine.node import Node
from .literals import ATOM
from .statements import Writer, ufunc_call
from .tokens import TOKEN, parsed

__all__ = ["write_in_place"]

_UFUNCS = {ast.Mult: "np.multiply", ast.Add: "np.add", ast.Sub: "np.subtract",
           ast.Div: "np.true_divide"}  # fmt: skip


def _fresh(code: str) -> bool:
    """Whether code makes a new array: an operator's result or a ufunc's."""
    tree, _ = parsed(code)
    if isinstance(tree, (ast.BinOp, ast.UnaryOp)):
        return True
    return isinstance(tree, ast.Call) and ufunc_call(tree)


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
    for i, (target, code, _, comment, backward) in enumerate(w.stmts):
        kind = kinds.get(target.token) if target is not None else None
        if kind is None or not kind[0]:  # (a 0-d result: numpy's scalars are no arrays)
            continue
        tree, segment = parsed(code)
        if not (isinstance(tree, ast.BinOp) and type(tree.op) in _UFUNCS):
            continue
        a = segment(tree.left)
        if a not in made or uses[a] != 1 or kinds.get(a) != kind or not _fresh(made[a]):
            continue
        b = _mask(tree.right, segment, w.source(kind[1])[0]) or segment(tree.right)
        assert target is not None and b is not None
        ufunc = _UFUNCS[type(tree.op)]
        w.stmts[i] = (target, f"{ufunc}({a}, {b}, out={a})", ATOM, comment, backward)
