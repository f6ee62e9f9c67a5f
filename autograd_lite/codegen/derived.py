"""An op's emit form written from its own functions, so that each forward is written once.

For an op made without `emit=` (or for a use its emit dict leaves out), generated code
writes what the engine runs:
- an operator (`operator.add`: `{0} + {1}`), or a function math or numpy names
  (`math.tanh`, `np.exp`, `np.add.reduce`): called by that name;
- a function of one expression (a lambda, or a def whose body is `return ...`): that
  expression, with the operands in place of its parameters and the values it closes over
  (an axis, a shape, an exponent) written as literals;
- any other module-level function: called by name, and copied into a standalone module.
Wrappers made with functools.wraps (Op's binding of `params=`, a warnings filter) are looked
through: generated code runs with numpy's warnings off, as the engine's forwards do.
"""

from __future__ import annotations

import ast
import copy
import functools
import inspect
import linecache
import math
import operator
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..engine.node import Op
from .literals import CodegenError

__all__ = ["MODULES", "Derived", "derive", "dotted"]

MODULES: dict[str, types.ModuleType] = {"math": math, "np": np}
"""The modules generated code imports itself (`import math`, `import numpy as np`)."""

_OPERATORS: dict[Callable[..., Any], str] = {
    operator.add: "{0} + {1}", operator.sub: "{0} - {1}", operator.mul: "{0} * {1}",
    operator.truediv: "{0} / {1}", operator.matmul: "{0} @ {1}", operator.pow: "{0} ** {1}",
    operator.neg: "-{0}",
}  # fmt: skip


@dataclass(frozen=True)
class Derived:
    """One use's emit form: a format string over the operands (`{0}`) and `values` by name
    (`{axis}`, `{index:index}`), whose global names are looked up in `space`."""

    text: str
    values: Mapping[str, Any]
    space: Mapping[str, Any]


def dotted(obj: Any) -> str | None:
    """The source of a function math or numpy names (`np.add.reduce`, `np.exp`, `math.log1p`);
    None for anything else."""
    owner: Any = getattr(obj, "__self__", None)
    name: Any = getattr(obj, "__name__", None)
    if not isinstance(name, str):
        return None
    if isinstance(owner, np.ufunc):  # a ufunc's method: np.add.reduce
        ufunc: Any = owner.__name__
        if getattr(np, ufunc, None) is owner and getattr(owner, name, None) == obj:
            return f"np.{ufunc}.{name}"
    for alias, module in MODULES.items():
        if getattr(module, name, None) is obj:
            return f"{alias}.{name}"
    return None


def derive(op: Op, use: str, fn: Callable[..., Any]) -> Derived:
    """The emit form of one of the op's functions (`use` names it in errors); CodegenError
    if it is none of the kinds the module docstring lists."""
    inner = inspect.unwrap(fn)
    keywords = op.params if inner is not fn else {}  # Op passes params= as keywords
    if inner in _OPERATORS:
        return Derived(_OPERATORS[inner], {}, {})
    name = dotted(inner)
    n = inner.nin if isinstance(inner, np.ufunc) else _positional(inner)
    if name is not None and n is not None:
        return Derived(_call(name, n, ()), {}, {})
    if inspect.isfunction(inner):
        found = _expression(inner)
        if found is not None:
            return _inlined(inner, found, keywords)
        if _module_level(inner) and n is not None:
            kw = [k for k in inspect.signature(inner).parameters if k in keywords]
            return Derived(_call(inner.__name__, n, kw), keywords, inner.__globals__)
    what = repr(getattr(inner, "__qualname__", inner))
    why = (
        "(it is not an operator, a math or numpy function, one expression, or a module-level "
        "function, with a fixed number of operands)"
    )
    if use in ("check", "array_check"):
        raise CodegenError(
            f"op {op.name!r} checks its domain with {what}, which cannot be written as code "
            f"{why}; give its emit form a {use!r} entry: a statement raising DomainError, "
            f'e.g. "_my_check({{0}})", or None if the check cannot fail (see docs/codegen.md)'
        )
    raise CodegenError(
        f"op {op.name!r}: its {use} function {what} cannot be written as code {why}; give the "
        f'op an emit form: Op(..., emit="math.sin({{0}})"), a format string over the operands\' '
        f'source, or a function of their source texts, or a dict with "float" and "array" '
        f"entries (see docs/codegen.md)"
    )


def _call(name: str, n: int, keywords: list[str] | tuple[str, ...]) -> str:
    args = [f"{{{i}}}" for i in range(n)] + [f"{k}={{{k}}}" for k in keywords]
    return f"{name}({', '.join(args)})"


def _positional(fn: Callable[..., Any]) -> int | None:
    """How many operands fn takes; None if its signature does not say (`*args`, or none)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in params if p.kind in kinds and p.default is p.empty)


def _module_level(fn: types.FunctionType) -> bool:
    return (
        not fn.__closure__
        and fn.__qualname__ == fn.__name__
        and fn.__globals__.get(fn.__name__) is fn
    )


@functools.lru_cache(maxsize=64)
def _parsed(source: str) -> ast.Module:
    return ast.parse(source)


def _expression(fn: types.FunctionType) -> tuple[ast.arguments, ast.expr] | None:
    """The parameters and the one expression of fn (a lambda or `def f(...): return e`), or
    None for a longer function or one whose source cannot be read."""
    code = fn.__code__
    lines = linecache.getlines(code.co_filename, fn.__globals__)
    if not lines:
        return None
    try:
        tree = _parsed("".join(lines))
    except SyntaxError:
        return None
    found: list[tuple[ast.arguments, ast.expr]] = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) != code.co_firstlineno:
            continue
        if isinstance(node, ast.Lambda) and code.co_name == "<lambda>":
            found.append((node.args, node.body))
        elif isinstance(node, ast.FunctionDef) and node.name == code.co_name:
            stmts = node.body[1:] if ast.get_docstring(node) is not None else node.body
            if len(stmts) == 1 and isinstance(stmts[0], ast.Return) and stmts[0].value:
                found.append((node.args, stmts[0].value))
    # Two lambdas on one line are told apart by their parameters only; if those match too,
    # the function is called by name, or refused, rather than guessed.
    names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    found = [f for f in found if tuple(a.arg for a in f[0].args + f[0].kwonlyargs) == names]
    if len(found) != 1:
        return None
    args, body = found[0]
    simple = not (args.vararg or args.kwarg or args.defaults or args.posonlyargs)
    nested = (ast.Lambda, ast.NamedExpr, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
    if not simple or any(isinstance(n, nested) for n in ast.walk(body)):
        return None
    return args, body


class _Operands(ast.NodeTransformer):
    """Parameters and closed-over names replaced by marks that become format fields."""

    def __init__(self, fields: dict[str, str], space: Mapping[str, Any]) -> None:
        self.fields = fields
        self.space = space  # global and closed-over names that may be functions numpy names

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        if isinstance(node.slice, ast.Name) and node.slice.id in self.fields:
            field = self.fields[node.slice.id]
            if not field.isdigit():  # a closed-over index: written as one, x[1, :2]
                node.value = self.visit(node.value)
                node.slice = ast.Name(f"\x02{field}:index\x02", ast.Load())
                return node
        return self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.fields:
            return ast.Name(f"\x02{self.fields[node.id]}\x02", ast.Load())
        known = dotted(self.space.get(node.id))  # np.add.reduce kept under a name of ours
        if known is not None and node.id not in MODULES:
            return ast.parse(known, mode="eval").body
        return node


def _inlined(
    fn: types.FunctionType, found: tuple[ast.arguments, ast.expr], keywords: Mapping[str, Any]
) -> Derived:
    args, body = found
    values: dict[str, Any] = {}
    fields = {a.arg: str(i) for i, a in enumerate(args.args)}
    for a in args.kwonlyargs:
        if a.arg not in keywords:
            raise CodegenError(f"{fn.__qualname__}: keyword parameter {a.arg!r} is not a param")
        fields[a.arg], values[a.arg] = a.arg, keywords[a.arg]
    space = dict(fn.__globals__)
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
        if dotted(cell.cell_contents) is None:  # a value: written as a literal
            fields[name], values[name] = name, cell.cell_contents
        else:  # a function numpy or math names (np.add.reduce): written by that name
            space[name] = cell.cell_contents
    tree = _Operands(fields, space).visit(ast.Expression(copy.deepcopy(body)))  # (parsed once)
    text = ast.unparse(tree).replace("{", "{{").replace("}", "}}")
    for field in list(fields.values()) + [f"{k}:index" for k in values]:
        text = text.replace(f"\x02{field}\x02", f"{{{field}}}")
    if isinstance(body, ast.IfExp):  # parenthesised: an operand as it stands
        text = f"({text})"
    return Derived(text, values, fn.__globals__)
