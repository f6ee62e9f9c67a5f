"""In-place operators on a node (`p -= lr * p.grad`): an update of a leaf, or an error.

Without them Python falls back to `p = p - lr * p.grad`: a new node bound to the name, so the
parameter the model holds never changes, silently (and `layer.weight -= ...` puts a computed
tensor where the parameter was). PyTorch's rule instead: an in-place change of a leaf that
takes a gradient is refused while gradients are recorded, and is an update under `no_grad()`
(stamped like any assignment of its data, so graphs that used it are stale). On an op's
result the operator stays Python's fallback, a new node (`h += b` in a forward pass).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from .grad_mode import is_grad_enabled
from .node import Node
from .stale import node_name

__all__ = ["InPlace"]


def _updating(symbol: str, name: str) -> Callable[[Any, Any], Any]:
    """The in-place operator `symbol` (`-=`), which `operator.<name>` computes."""
    compute = getattr(operator, name)

    def update(self: Any, other: Any) -> Any:
        if self._a is not None:
            return NotImplemented  # an op's result: Python computes a new node
        if is_grad_enabled() and getattr(self, "requires_grad", True):  # Values always do
            raise RuntimeError(
                f"{type(self).__name__} {symbol}: {node_name(self)} is a leaf that takes a "
                f"gradient, and gradients are being recorded: an in-place change would leave "
                f"the graph wrong (PyTorch refuses it too). To update it, write "
                f"p.data {symbol} step, or the update under `with no_grad(): p {symbol} step`"
            )
        self._update(compute, symbol, other._data if isinstance(other, Node) else other)
        return self

    update.__name__ = f"__{name}__"
    update.__doc__ = (
        f"self {symbol} other on a leaf: an update of its data, under no_grad() (or for a "
        f"leaf that takes no gradient); refused while gradients are recorded."
    )
    return update


class InPlace:
    """The in-place operators of a node type that can update its leaves (`_update`)."""

    __slots__ = ()

    def _update(self, compute: Callable[[Any, Any], Any], symbol: str, other: Any) -> None:
        raise NotImplementedError

    __iadd__ = _updating("+=", "iadd")
    __isub__ = _updating("-=", "isub")
    __imul__ = _updating("*=", "imul")
    __itruediv__ = _updating("/=", "itruediv")
    __ipow__ = _updating("**=", "ipow")


imatmul = _updating("@=", "imatmul")
"""`@=` for a node type that has `@` (Tensor): without it, `layer.weight @= r` rebinds the
attribute to a new tensor, silently (a Value has no `@`: its `@=` stays a TypeError)."""
