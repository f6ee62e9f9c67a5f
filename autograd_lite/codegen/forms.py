"""An op's emit form, read: the source it writes, and the helpers that source calls.

`Op(emit=...)` takes a format string over the operands' source (`"math.sin({0})"`; the op's
params by name, `{exponent}`, written as literals), a function of the operands' source texts,
or a dict of those with the keys:
- "float": the result for float operands (a Value graph), "array": for numpy arrays (a Tensor
  graph); a string or function alone serves both;
- "check", "array_check": a statement that raises `DomainError` outside the op's domain, run
  before the result is computed (as the engine runs `check`); None for a check that cannot
  fail. An op with a `check` needs one.

Names in the source other than `math`, `np` and builtins are helpers: functions (or classes,
modules, constants) looked up in the module of the emit function, or for a string in the
module of the op's forward function. `Helpers` collects them and what they use in turn, to
write their source at the top of a module (compiled code is given the objects themselves).
"""

from __future__ import annotations

import ast
import builtins
import dis
import inspect
import math
import string
import textwrap
import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from ..engine.node import Op
from ..validate import describe
from .literals import CodegenError, Param, atomic, literal
from .tokens import PLACEHOLDER

__all__ = ["EMIT_KEYS", "Forms", "Helpers"]

EMIT_KEYS = ("float", "array", "check", "array_check")
"""The keys of an emit dict: the result for floats and for arrays, and their domain checks."""

MODULES: dict[str, types.ModuleType] = {"math": math, "np": np}
"""The modules generated code imports itself (`import math`, `import numpy as np`)."""

_ABSENT = object()
_HOW = (
    'give it one: Op(..., emit="math.sin({0})"), a format string over the operands\' source, '
    'or a function of their source texts, or a dict with "float" and "array" entries (see '
    "docs/codegen.md)"
)


def _functions_of(op: Op) -> Iterator[Callable[..., Any]]:
    """The op's own functions, unwrapped (functools.wraps, and Op's binding of params)."""
    for fn in (op.forward, op.array_forward, op.check, op.array_check):
        if fn is None:
            continue
        fn = inspect.unwrap(fn)
        closure = getattr(fn, "__closure__", None) or ()
        if getattr(fn, "__qualname__", "").startswith("_bind."):  # params= bound by Op
            inner = [c.cell_contents for c in closure if callable(c.cell_contents)]
            fn = inspect.unwrap(inner[0]) if inner else fn
        yield fn


class Forms:
    """An op's emit form, checked once: `write(use, texts)` gives the source for one use."""

    def __init__(self, op: Op) -> None:
        emit = op.emit
        self.op = op
        if emit is None:
            raise CodegenError(
                f"op {op.name!r} has no emit form, so generated code cannot compute it; {_HOW}"
            )
        if isinstance(emit, Mapping):
            unknown = sorted(set(emit) - set(EMIT_KEYS))
            if unknown:
                raise CodegenError(
                    f"op {op.name!r}: emit has unknown key(s) {unknown}; the keys "
                    f"are {', '.join(EMIT_KEYS)}"
                )
            self.parts: dict[str, Any] = dict(emit)
        else:
            self.parts = {"float": emit, "array": emit}
        for use, needed in (("check", op.check), ("array_check", op.array_check)):
            if needed is not None and use not in self.parts:
                raise CodegenError(
                    f"op {op.name!r} checks its domain, but its emit form has no {use!r}: give "
                    f'one (a statement raising DomainError, e.g. "_my_check({{0}})"), or '
                    f"{use!r}: None if the check cannot fail"
                )
        for use, part in self.parts.items():
            if part is not None and not isinstance(part, str) and not callable(part):
                raise CodegenError(
                    f"op {op.name!r}: emit[{use!r}] must be a format string or "
                    f"a function, got {describe(part)}"
                )
        self.names: dict[str, set[str]] = {}  # the helper names each use writes (first seen)
        self.atomic: dict[str, bool] = {}  # whether a use's last source needs no parentheses
        self.fast: dict[str, Callable[..., str]] = {}  # writers that need no more checking
        self._named: dict[str, bool] = {}  # format strings that use params by name
        for use, part in self.parts.items():
            if not isinstance(part, str):
                continue
            try:
                fields = [f for _, f, _, _ in string.Formatter().parse(part)]
            except ValueError as e:  # "{0" and the like
                raise CodegenError(
                    f"op {op.name!r}: emit[{use!r}] = {part!r} is not a format string: {e}"
                ) from None
            self._named[use] = any(f and not f.isdigit() for f in fields)

    def write(
        self, use: str, texts: list[str], array: Callable[[np.ndarray[Any, Any]], str]
    ) -> str | None:
        """The source of one use ("float", "array", "check", "array_check") with operands
        `texts` (names, or parenthesised); None for a check that cannot fail or that the op
        does not have. `array` names an array parameter."""
        op = self.op
        part = self.parts.get(use, _ABSENT)
        if part is _ABSENT:
            if use in ("check", "array_check"):
                return None  # the op has no check (__init__ made sure)
            kind = "floats (a Value graph)" if use == "float" else "arrays (a Tensor graph)"
            raise CodegenError(
                f"op {op.name!r}: its emit form has no {use!r} entry, for {kind}; {_HOW}"
            )
        if part is None:
            return None
        try:
            if not isinstance(part, str):
                text: object = part(*texts)
            elif self._named[use]:
                text = part.format(*texts, **{k: Param(v, array) for k, v in op.params.items()})
            else:
                text = part.format(*texts)
        except CodegenError as e:  # a parameter that cannot be written
            raise CodegenError(f"op {op.name!r}: {e}") from None
        except Exception as e:
            raise CodegenError(
                f"op {op.name!r}: its emit form {part!r} failed on {len(texts)} operand(s): {e!r}"
            ) from None
        # A format string writes one shape of text whatever the operands (names, numbers or
        # parenthesised): read once. A function may write anything: read each time.
        if use not in self.names or not isinstance(part, str):
            names = _names_read(op, use, text)
            assert isinstance(text, str)  # (_names_read made sure)
            self.names[use] = self.names.get(use, set()) | names
            self.atomic[use] = atomic(text)
            if isinstance(part, str) and not self._named[use]:
                self.fast[use] = part.format
        assert isinstance(text, str)
        return text

    def namespaces(self, use: str) -> list[Mapping[str, Any]]:
        """Where the names of one use are looked up: the emit function's module, then the
        modules of the op's own functions."""
        part = self.parts.get(use)
        spaces = [getattr(part, "__globals__", None)]
        spaces += [getattr(fn, "__globals__", None) for fn in _functions_of(self.op)]
        return [s for s in spaces if s is not None]


def _names_read(op: Op, use: str, text: object) -> set[str]:
    """The global names text reads (helpers, modules, builtins), after checking that it is
    one line of Python: an expression, or for a check a statement. CodegenError naming the op
    otherwise."""
    if not isinstance(text, str):
        raise CodegenError(
            f"op {op.name!r}: its emit form returned {describe(text)}, not source text (a str)"
        )
    shown = PLACEHOLDER.sub(_OPERAND, text)
    if not shown.isprintable():
        raise CodegenError(
            f"op {op.name!r}: its emit form wrote {shown!r}, with a line break or another "
            f"character that is not printable; an emit form writes one line"
        )
    mode = "exec" if use in ("check", "array_check") else "eval"
    try:
        tree = ast.parse(shown, mode=mode)
    except (SyntaxError, ValueError) as e:
        what = "a statement" if mode == "exec" else "an expression"
        raise CodegenError(
            f"op {op.name!r}: its emit form wrote {shown!r}, which is not {what} of Python "
            f"({getattr(e, 'msg', e)})"
        ) from None
    read: set[str] = set()
    bound = {_OPERAND}
    for n in ast.walk(tree):
        if isinstance(n, ast.Name):
            (read if isinstance(n.ctx, ast.Load) else bound).add(n.id)
        elif isinstance(n, ast.arg):  # a lambda's parameters
            bound.add(n.arg)
    return read - bound


_OPERAND = "__operand__"
"""How an operand reads in the text checked by _names_read."""


class Helpers:
    """The helpers generated code calls, by name, and what they use in turn."""

    def __init__(self) -> None:
        self.objects: dict[str, Any] = {}  # what the generated function's names refer to
        self._sources: dict[str, str] = {}  # name -> source, for a module's text
        self._imports: dict[str, str] = {}  # alias -> module name
        self._seen: dict[str, Any] = {}  # name -> object, for every helper collected

    def add_uses(self, forms: Forms) -> None:
        """Resolve the names the op's emit form wrote (once per use)."""
        for use, names in forms.names.items():
            spaces = forms.namespaces(use)
            for name in names:
                if name in MODULES or name in self.objects:
                    continue
                found = _lookup(name, spaces)
                if found is _BUILTIN:
                    continue
                if found is _MISSING:
                    raise CodegenError(
                        f"op {forms.op.name!r}: its emit form uses the name {name!r}, which is "
                        f"not defined in the module of its emit function or of its forward "
                        f"function (nor is it math, np or a builtin)"
                    )
                self.objects[name] = found

    def collect(self) -> tuple[list[str], list[str]]:
        """The import lines and helper sources a standalone module needs: classes and
        constants first, then functions."""
        for name, obj in list(self.objects.items()):
            self._collect(name, obj)
        imports = [
            f"import {module}" if module == alias else f"import {module} as {alias}"
            for alias, module in self._imports.items()
        ]
        first = [t for n, t in self._sources.items() if not inspect.isfunction(self._seen[n])]
        last = [t for n, t in self._sources.items() if inspect.isfunction(self._seen[n])]
        return imports, first + last

    def names(self) -> set[str]:
        """Every module-level name the helpers take (after `collect`, their own uses too)."""
        return set(self.objects) | set(self._sources) | set(self._imports)

    def _collect(self, name: str, obj: Any) -> None:
        if name in self._seen:
            if self._seen[name] is not obj:
                raise CodegenError(f"two different helpers are named {name!r}; rename one")
            return
        self._seen[name] = obj
        if isinstance(obj, types.ModuleType):
            self._imports[name] = obj.__name__
            return
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            text = _dotted(obj)
            if text is None:
                text, _ = literal(obj, _no_array(name))
            self._sources[name] = f"{name} = {text}"
            return
        if inspect.unwrap(obj) is not obj:
            raise CodegenError(
                f"helper {name!r} is decorated; generated code can only copy plain functions"
            )
        try:
            source = textwrap.dedent(inspect.getsource(obj))
        except (OSError, TypeError) as e:
            raise CodegenError(f"cannot read the source of helper {name!r} ({e})") from None
        if inspect.isfunction(obj) and obj.__name__ != name:
            raise CodegenError(
                f"helper {name!r} is the function {obj.__name__!r} under another name; name it once"
            )
        self._sources[name] = source.rstrip()
        if not inspect.isfunction(obj):
            return
        if obj.__closure__:
            raise CodegenError(
                f"helper {name!r} closes over variables of another function; "
                f"generated code can only copy module-level functions"
            )
        for dep in sorted(_globals_read(obj.__code__)):
            if dep in MODULES:
                self._imports[dep] = MODULES[dep].__name__
                continue
            found = _lookup(dep, [obj.__globals__])
            if found is _MISSING:
                raise CodegenError(f"helper {name!r} uses {dep!r}, which is not defined")
            if found is not _BUILTIN:
                self._collect(dep, found)


_MISSING = object()
_BUILTIN = object()


def _dotted(obj: Any) -> str | None:
    """The source of a function math or numpy names (`np.add.reduce`, `np.exp`, `math.log1p`),
    as a helper module refers to one under a name of its own; None for anything else."""
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


def _lookup(name: str, spaces: list[Mapping[str, Any]]) -> Any:
    for space in spaces:
        if name in space:
            return space[name]
    return _BUILTIN if hasattr(builtins, name) else _MISSING


def _globals_read(code: types.CodeType) -> set[str]:
    """The global names a function reads (not attribute names: np.sum reads only np)."""
    names = {i.argval for i in dis.get_instructions(code) if i.opname == "LOAD_GLOBAL"}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _globals_read(const)
    return names


def _no_array(name: str) -> Callable[[np.ndarray[Any, Any]], str]:
    def refuse(a: np.ndarray[Any, Any]) -> str:
        raise CodegenError(
            f"helper {name!r} is an array; generated code copies only functions, "
            f"classes and numbers"
        )

    return refuse
