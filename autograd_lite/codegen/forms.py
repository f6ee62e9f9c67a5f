"""An op's emit form, read: the source it writes, and the helpers that source calls.

`Op(emit=...)` takes a format string over the operands' source (`"math.sin({0})"`; the op's
params by name, `{exponent}`, written as literals), a function of the operands' source texts,
or a dict of those with the keys:
- "float": the result for float operands (a Value graph), "array": for numpy arrays (a Tensor
  graph); a string or function alone serves both;
- "check", "array_check": a statement that raises `DomainError` outside the op's domain, run
  before the result is computed (as the engine runs `check`); None for a check that cannot
  fail.

A use the op's emit leaves out (all of them, for an op made without `emit=`) is derived from
the op's own function for it (derived.py): each forward is written once.

Names in the source other than `math`, `np` and builtins are helpers: functions (or classes,
modules, constants) looked up in the module of the emit function, or for a string in the
module of the op's forward function (for a derived form, of the function it copies).
`Helpers` collects them and what they use in turn, to write their source at the top of a
module (compiled code is given the objects themselves).
"""

from __future__ import annotations

import ast
import builtins
import dis
import inspect
import string
import textwrap
import types
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..engine.node import Op
from ..validate import describe
from .derived import MODULES, derive, dotted
from .literals import CodegenError, Param, atomic, literal
from .tokens import PLACEHOLDER

__all__ = ["EMIT_KEYS", "MODULES", "Forms", "Helpers"]

EMIT_KEYS = ("float", "array", "check", "array_check")
"""The keys of an emit dict: the result for floats and for arrays, and their domain checks."""

_ABSENT = object()
_FUNCTIONS = {"float": "forward", "array": "array_forward", "check": "check",
              "array_check": "array_check"}  # fmt: skip


class Forms:
    """An op's emit form, checked once: `write(use, texts)` gives the source for one use.

    Each use comes from the op's `emit` if it gives one, else it is derived from the op's own
    function for that use (derived.py), when first written."""

    def __init__(self, op: Op) -> None:
        emit = op.emit
        self.op = op
        given: dict[str, Any] = {}
        if isinstance(emit, Mapping):
            unknown = sorted(set(emit) - set(EMIT_KEYS))
            if unknown:
                raise CodegenError(
                    f"op {op.name!r}: emit has unknown key(s) {unknown}; the keys "
                    f"are {', '.join(EMIT_KEYS)}"
                )
            given = dict(emit)
        elif emit is not None:
            given = {"float": emit, "array": emit}
        for use, part in given.items():
            if part is not None and not isinstance(part, str) and not callable(part):
                raise CodegenError(
                    f"op {op.name!r}: emit[{use!r}] must be a format string or "
                    f"a function, got {describe(part)}"
                )
        self.parts: dict[str, Any] = {}  # each use's format string or function (None: none)
        self._values: dict[str, Mapping[str, Any]] = {}  # a format string's named fields
        self._spaces: dict[str, list[Mapping[str, Any]]] = {}  # where its names are found
        own = [getattr(inspect.unwrap(f), "__globals__", None) for f in _functions(op)]
        for use, part in given.items():
            self.parts[use], self._values[use] = part, op.params
            self._spaces[use] = [s for s in [getattr(part, "__globals__", None), *own] if s]
        self.names: dict[str, set[str]] = {}  # the helper names each use writes (first seen)
        self.atomic: dict[str, bool] = {}  # whether a use's last source needs no parentheses
        self.fast: dict[str, Callable[..., str]] = {}  # writers that need no more checking
        self._named: dict[str, bool] = {}  # format strings that use params by name

    def _part(self, use: str) -> Any:
        """The use's format string or function, derived if the op's emit does not give it;
        _ABSENT for a check the op does not have."""
        if use in self.parts:
            return self.parts[use]
        fn = getattr(self.op, _FUNCTIONS[use])
        if fn is None:
            return _ABSENT
        found = derive(self.op, use, fn)
        self.parts[use], self._values[use], self._spaces[use] = (
            found.text,
            found.values,
            [found.space],
        )
        return found.text

    def write(
        self, use: str, texts: list[str], array: Callable[[np.ndarray[Any, Any]], str]
    ) -> str | None:
        """The source of one use ("float", "array", "check", "array_check") with operands
        `texts` (names, or parenthesised); None for a check that cannot fail or that the op
        does not have. `array` names an array parameter."""
        op = self.op
        part = self._part(use)
        if part is _ABSENT or part is None:
            return None  # the op has no check, or one that cannot fail
        if isinstance(part, str) and use not in self._named:
            self._named[use] = _reads_names(op, use, part)
        try:
            if not isinstance(part, str):
                text: object = part(*texts)
            elif self._named[use]:
                values = self._values[use]
                text = part.format(*texts, **{k: Param(v, array) for k, v in values.items()})
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
        modules of the op's own functions (for a derived use, its function's module)."""
        return self._spaces.get(use, [])


def _functions(op: Op) -> list[Callable[..., Any]]:
    return [f for f in (op.forward, op.array_forward, op.check, op.array_check) if f]


def _reads_names(op: Op, use: str, part: str) -> bool:
    """Whether a format string uses params by name (`{exponent}`); CodegenError if it is not
    a format string."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(part)]
    except ValueError as e:  # "{0" and the like
        raise CodegenError(
            f"op {op.name!r}: emit[{use!r}] = {part!r} is not a format string: {e}"
        ) from None
    return any(f and not f.isdigit() for f in fields)


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
            text = dotted(obj)
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
