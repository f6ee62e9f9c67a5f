"""docs/ops.md, written from the method table: every op with its forward and its derivative
rule as generated code writes them (`backward_code` traces each op's own rule, so the page
cannot say another thing than the engine does).

Regenerate the page with `python -m autograd_lite.op_page > docs/ops.md`; a test fails when
the page and the table differ.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from .codegen.compiled import backward_code
from .engine import methods
from .engine.numpy_protocol import supported
from .engine.tensor import Tensor
from .engine.value import Value

__all__ = ["page"]

_ARGS: dict[str, tuple[Any, ...]] = {"clamp": (-1.0, 1.0), "clip": (-1.0, 1.0)}
"""Arguments the page shows an op with parameters for (the others: their defaults)."""

# How each array method is shown: applied to x, a (2, 3) Tensor (None: it records no op of
# its own; the text says what it is).
_ARRAY: dict[str, Callable[[Any], Any] | str] = {
    "__matmul__": lambda x: x @ Tensor(np.ones((3, 2))),  # w, a constant (3, 2)
    "sum": lambda x: x.sum(1),
    "mean": lambda x: x.mean(1),
    "max": lambda x: x.max(1),
    "min": lambda x: x.min(1),
    "prod": lambda x: x.prod(1),
    "norm": lambda x: x.norm(axis=1),
    "softmax": lambda x: x.softmax(1),
    "log_softmax": lambda x: x.log_softmax(1),
    "logsumexp": lambda x: x.logsumexp(1),
    "reshape": lambda x: x.reshape(3, 2),
    "transpose": lambda x: x.transpose(),
    "T": lambda x: x.T,
    "__getitem__": lambda x: x[0],
    "var": "ops: x - mean(x), *, sum, / (n - ddof)",
    "std": "ops: sqrt(var(x))",
    "flatten": "the reshape op",
    "squeeze": "the reshape op",
    "unsqueeze": "the reshape op",
    "expand_dims": "the reshape op",
    "argmax": "no op: a plain integer array, no gradient",
    "argmin": "no op: a plain integer array, no gradient",
}
_TWO = {"+", "-", "*", "/", "maximum", "minimum"}
"""The two-operand elementwise ops, whose operands the page calls a and b."""
_COMPARISONS = {"__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"}


def _code(text: str) -> str:
    return "`" + text.replace("|", "\\|") + "`"


def _lines(out: Any, leaves: list[Any], names: dict[str, str]) -> tuple[str, str]:
    """The op's forward and derivative lines of the code written for `out` (its node is t1),
    with the generated names replaced by `names` (x1 -> x, d_t1 -> g ...)."""
    source = backward_code(out, leaves)
    forward, backward = source.split("# backward pass")
    found = re.search(r"^\s*t1 = (.*?)\s*$", forward, re.MULTILINE)
    assert found is not None  # t1 is always the op's node here
    rules = [
        f"{target}: {rhs}"
        for target, rhs in re.findall(r"^\s*d_(\w+) = (.*?)\s+# t1 = ", backward, re.MULTILINE)
    ]

    def renamed(text: str) -> str:
        return re.sub(r"\b(d_t1|t1|x1|x2|c1)\b", lambda m: names[m.group(1)], text)

    return renamed(found.group(1)), "; ".join(renamed(r) for r in rules)


def _elementwise() -> list[str]:
    rows = ["| method | op | value (float code) | derivative rule (g: the result's gradient) |"]
    rows.append("|---|---|---|---|")
    for name, row in methods.rows(methods.Methods).items():
        if isinstance(row, methods.Reflected) or name in ("__abs__",):
            continue  # the same op as its unreflected row, and abs
        a, b = Value(0.5), Value(1.5)
        if isinstance(row, methods.Power):
            out = a**3.0
        elif isinstance(row, methods.Infix):
            out = getattr(a, name)(b)
        else:
            out = getattr(a, name)(*_ARGS.get(name, ()))
        op = out.op
        assert op is not None  # made by an op
        two = op.name in _TWO
        names = {"d_t1": "g", "t1": "out", "x1": "a" if two else "x", "x2": "b", "c1": "c"}
        value, rule = _lines(out, [a, b], names)
        rows.append(f"| {name} | {_code(op.display)} | {_code(value)} | {_code(rule)} |")
    return rows


def _arrays() -> list[str]:
    rows = ["| method | op | derivative rule, for x of shape (2, 3) (g: the result's gradient) |"]
    rows.append("|---|---|---|")
    base = methods.rows(methods.Methods)
    for name in methods.rows():
        if name in base or name in _COMPARISONS or name == "__rmatmul__":
            continue
        shown = _ARRAY[name]  # KeyError: a new array method needs a line in _ARRAY
        if isinstance(shown, str):
            rows.append(f"| {name} | {shown} | |")
            continue
        x = Tensor(np.arange(1.0, 7.0).reshape(2, 3))
        out = shown(x)
        _, rule = _lines(out.sum(), [x], {"d_t1": "g", "t1": "out", "x1": "x", "c1": "w"})
        rows.append(f"| {name} | {_code(out.op.display if out.op else name)} | {_code(rule)} |")
    return rows


def page() -> str:
    """The text of docs/ops.md."""
    return "\n".join(
        [
            "# Every op and its derivative",
            "",
            "Generated from the method table (`autograd_lite.engine.methods`) by",
            "`python -m autograd_lite.op_page > docs/ops.md`; tests/test_op_page.py fails when",
            "this page and the table differ. Each rule is the op's own derivative rule as",
            "generated code writes it (`backward_code`, [codegen](codegen.md)): `g` is the",
            "gradient of the result `out`, and the rule gives each operand's share. The rules",
            "are written with the engine's ops, so they run on nodes too: every op has",
            "derivatives of any order, and a tangent in forward mode. How to add an op:",
            "[the engine](engine.md#adding-an-op).",
            "",
            "## Elementwise: Value, Tensor and Dual",
            "",
            "Shown for x = 0.5 (a = 0.5, b = 1.5).",
            "",
            *_elementwise(),
            "",
            "## Reductions and shapes: Tensor and array Dual",
            "",
            "Each takes `dim=` and `keepdim=` (PyTorch's names) for `axis=` and `keepdims=`.",
            "The comparisons (`<`, `==` ...) give boolean arrays outside the graph.",
            "",
            *_arrays(),
            "",
            "## numpy functions on Tensors",
            "",
            "These record into the graph (any other numpy function on a node is a TypeError",
            "naming it):",
            "",
            ", ".join(f"`{name}`" for name in supported()),
            "",
        ]
    )


if __name__ == "__main__":
    print(page(), end="")
