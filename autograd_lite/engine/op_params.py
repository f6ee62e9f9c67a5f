"""An `Op`'s params (node.py): kept as read-only copies, and passed to its functions.

`Op(params=...)` freezes each param (`frozen`) and binds them to its forward functions,
rule and check as keyword arguments (`bind`), once, when the op is made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["bind", "frozen"]


def frozen(value: Any) -> Any:
    """A param as the op keeps it: arrays (also inside tuples, lists and dicts) as read-only
    copies, so that writing into the caller's array, or into `op.params`, cannot change what
    the op's forward and rule compute after the forward pass."""
    if isinstance(value, np.ndarray):
        if not value.flags.writeable and value.base is None:
            return value  # frozen already (another op's param: the same array, as codegen expects)
        copy = np.array(value, copy=True, subok=True)  # a subclass (np.matrix) stays one
        copy.setflags(write=False)
        return copy
    if type(value) in (tuple, list):
        return type(value)(frozen(v) for v in value)
    if type(value) is dict:
        return {k: frozen(v) for k, v in value.items()}
    return value


def bind(fn: Callable[..., Any] | None, params: dict[str, Any]) -> Any:
    """fn with params passed as keyword arguments (a closure: functools.partial would copy
    its keywords on every call, which doubles the cost of a parameterised op). It names fn as
    its `__wrapped__`, for codegen to write the function it calls (only that: functools.wraps'
    copies were half the cost of an op made per call, as cross_entropy's)."""
    if fn is None or not params:
        return fn

    def bound(*xs: Any) -> Any:
        return fn(*xs, **params)

    bound.__dict__["__wrapped__"] = fn  # what update_wrapper would set, at a fifth the cost
    return bound
