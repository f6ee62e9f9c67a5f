"""Recording modes: whether ops record history (`no_grad`) and the named `scope` new nodes join.

Both live in one ContextVar, so they are per thread and per asyncio task, and an op reads
them with a single lookup. Each mode links to the one it replaced, so leaving a block restores
the mode of the context it runs in: one `no_grad()` object can be shared by threads and tasks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from ..validate import describe


@dataclass(frozen=True, eq=False)
class ScopeBlock:
    """One run of a `with scope(name):` block.

    Blocks compare by identity, so two blocks with the same name (a loop over neurons, say)
    stay apart and are drawn as two boxes.
    """

    name: str


@dataclass(frozen=True)
class Mode:
    """What an op does when it runs: record a node or not, and which scope blocks it is in."""

    grad_enabled: bool = True
    scope: tuple[ScopeBlock, ...] = ()
    previous: Mode | None = None  # the mode to restore when the block that set this one ends


MODE: ContextVar[Mode] = ContextVar("autograd_lite_mode", default=Mode())
"""The current mode; engine code reads it, `no_grad`, `enable_grad` and `scope` set it."""


def _enter(grad_enabled: bool, scope: tuple[ScopeBlock, ...] | None = None) -> None:
    mode = MODE.get()
    MODE.set(Mode(grad_enabled, mode.scope if scope is None else scope, mode))


def _leave() -> None:
    # Blocks end in the reverse order they began within one context, so this is its own.
    previous = MODE.get().previous
    MODE.set(Mode() if previous is None else previous)


def is_grad_enabled() -> bool:
    """True unless inside `no_grad()`."""
    return MODE.get().grad_enabled


class _GradMode(contextlib.ContextDecorator):
    """What no_grad and enable_grad share: a context manager that is also a decorator, with
    or without parentheses, holding no state of its own (all of it is in the context)."""

    _enabled: bool

    def __new__(cls, func: Callable[..., Any] | None = None) -> Any:
        if func is None:
            return super().__new__(cls)
        if not callable(func):
            raise TypeError(
                f"{cls.__name__}: takes no arguments, or decorates a function; got {describe(func)}"
            )
        return cls()(func)  # bare @no_grad

    def __init__(self, func: Callable[..., Any] | None = None) -> None:
        pass  # all state lives in the context, so an instance can be shared

    def __enter__(self) -> _GradMode:
        _enter(self._enabled)
        return self

    def __exit__(self, *exc: object) -> None:
        _leave()


class no_grad(_GradMode):
    """Context manager and decorator: ops inside it record nothing; their results are leaves.

    Use it for evaluation loops and parameter updates: memory stays constant because no graph
    is kept. It nests, and it is per thread and per asyncio task (a ContextVar, never a global
    flag); one instance may be shared between them.

    >>> from autograd_lite import Value, no_grad
    >>> with no_grad():
    ...     y = Value(2.0) * 3
    >>> y.op is None
    True

    As a decorator it may be written `@no_grad()` or `@no_grad`. (Like any context decorator,
    on a generator function it covers creating the generator, not running it.)
    """

    _enabled = False


class enable_grad(_GradMode):
    """Record history again inside a `no_grad()` block (PyTorch's name); a context manager
    and a decorator, like `no_grad`.

    `grad(..., create_graph=True)` and `hessian` use it, so higher derivatives work anywhere.
    """

    _enabled = True


@contextlib.contextmanager
def scope(name: str) -> Iterator[None]:
    """Put the values created inside the block in a named group, drawn as a labelled box.

    Scopes nest: the inner name is drawn inside the outer box. Each run of the block is a box
    of its own, even when another block has the same name.

    >>> from autograd_lite import Value, scope
    >>> with scope("hidden neuron"):
    ...     z = Value(0.4) * 1.0
    >>> z.scope
    ('hidden neuron',)
    """
    if not isinstance(name, str):
        raise TypeError(f"scope: name must be a str, got {describe(name)}")
    if not name:
        raise ValueError("scope: name must not be empty")
    mode = MODE.get()
    _enter(mode.grad_enabled, (*mode.scope, ScopeBlock(name)))
    try:
        yield
    finally:
        _leave()
