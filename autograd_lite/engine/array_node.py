"""`ArrayNode`, what the array node types share: the method table's array rows, and `fill`,
the one place that sets every slot of a node an op or a constant makes.

`Tensor` and `Dual` differ by what they carry besides their data (`_carry`): a Tensor
whether it requires a gradient, a Dual its tangent.
"""

from __future__ import annotations

from typing import Any, TypeVar

from . import array_methods
from .conversions import Conversions
from .grad_mode import MODE, ScopeBlock
from .methods import Applying, ArrayMethods, install
from .node import CLOCK, CONSTANT, Node, Op

__all__ = ["ArrayNode", "fill", "made"]

_A = TypeVar("_A", bound="ArrayNode")


class ArrayNode(ArrayMethods, Conversions, Node):
    """An array in a graph (a Dual's primal may also be a number): the operators and methods
    of the method table, each one recorded op; subclasses say what they carry."""

    __slots__ = ("_carry",)

    _carry: Any  # Tensor: requires_grad (a bool); Dual: the tangent (None for zero)

    __hash__ = Node.__hash__  # by identity: nodes are dict keys in the walk (== is elementwise)

    @classmethod
    def _constant(cls: type[_A], data: Any) -> _A:
        """A constant leaf: a number or array mixed into an expression (no gradient, no
        tangent)."""
        return made(cls, data, CONSTANT, None, None, cls._constant_carry, MODE.get().scope)

    _constant_carry: Any = None
    """What a constant of the node type carries."""


def fill(
    node: ArrayNode,
    data: Any,
    op: Op,
    a: Any,
    b: Any,
    carry: Any,
    scope: tuple[ScopeBlock, ...],
    label: str | None = None,
) -> None:
    """Set every slot of `node`: the write stamp is the clock's now, the gradient unset."""
    node._data = data
    node._stamp = CLOCK[0]
    node._grad = None
    node._label = label
    node._op = op
    node._a, node._b = a, b
    node._carry = carry
    node._scope = scope


def made(
    cls: type[_A],
    data: Any,
    op: Op,
    a: Any,
    b: Any,
    carry: Any,
    scope: tuple[ScopeBlock, ...],
    label: str | None = None,
) -> _A:
    """A new node of `cls`, filled in by `fill` (ops have checked every field)."""
    node: _A = object.__new__(cls)
    fill(node, data, op, a, b, carry, scope, label)
    return node


install(
    ArrayNode,
    ArrayMethods,
    # Op.__call__ finds the node among the operands and calls its type's _apply.
    Applying(binary=Op.__call__, unary=Op.__call__, power=array_methods.power),
)
