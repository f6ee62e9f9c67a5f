"""`ArrayNode`, what the array node types share: the method table's array rows, and `made`,
the one place that sets every slot of a node.

`Tensor` and `Dual` differ by what they carry besides their data (`_carry`): a Tensor
whether it requires a gradient, a Dual its tangent.
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np

from . import array_methods
from .arrays import setflags as _setflags
from .conversions import Conversions
from .grad_mode import MODE, ScopeBlock
from .methods import Applying, ArrayMethods, install
from .node import CLOCK, CONSTANT, Node, Op
from .vspace import space_of

__all__ = ["ArrayNode", "made"]

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

    @classmethod
    def _constant_of(cls: type[_A], x: object, data: Any) -> _A:
        """The constant of an operand x that is no node (data: x as an array): a copy of a
        caller's numpy array, so that changing that array later cannot change the graph's
        numbers (the rules read them in backward), and the array is not made read-only."""
        if isinstance(x, np.ndarray) and np.may_share_memory(data, x):
            data = data.copy()
        return cls._constant(data)

    _constant_carry: Any = None
    """What a constant of the node type carries."""

    def _takes_gradient(self) -> bool:
        """Whether a derivative rule must give this node a share (constants take none)."""
        return self._op is not CONSTANT

    def _renew(self) -> None:
        super()._renew()
        if type(self._data) is np.ndarray:  # a copied or unpickled array is writeable
            self._data.setflags(write=False)

    # -- the Node hooks: the kind of data says what a gradient is (vspace.py) -------------
    _scalar_fills = True
    """Whether backward's number `gradient` fills an output of several elements."""

    def _seed(self, gradient: object, create_graph: bool) -> Any:
        data = self._data
        if gradient is None and not create_graph and type(data) is np.ndarray and not data.ndim:
            return np.array(1.0, dtype=data.dtype)  # a loss's, as Arrays.seed makes it
        g = space_of(data).seed(data, gradient, self._scalar_fills)
        return self._constant(g) if create_graph else g

    def _zero(self, create_graph: bool) -> Any:
        zero = space_of(self._data).zero(self._data)
        return self._constant(zero) if create_graph else zero

    @staticmethod
    def _finish_gradients(
        nodes: list[Any], grads: list[Any], create_graph: bool, owned: set[Any] | None = None
    ) -> tuple[list[Any], list[Any]]:
        """The gradients in each node's own dtype (a total summed in another float dtype is
        converted once, here)."""
        if create_graph:
            return nodes, grads
        return nodes, [in_dtype_of(n, g) for n, g in zip(nodes, grads)]

    def _as_gradient(
        self, share: object, op: Op | None, create_graph: bool, where: str | None = None
    ) -> Any:
        data = self._data
        if (  # the common case, first: a float array of the operand's shape
            type(share) is np.ndarray
            and type(data) is np.ndarray
            and not create_graph
            and share.shape == data.shape
            and (share.dtype == data.dtype or (where is None and share.dtype.kind == "f"))
        ):
            # In the walk (no `where`), another float dtype (float64 from a float64 constant
            # in a float32 graph) is summed as it is and converted once, when the walk ends
            # (`_finish_gradients`): the same rounding as generated code, which converts the
            # total. Assigned to `.grad`, it is converted here. The array is copied unless a
            # rule's share is read-only: an array a rule returns (a buffer it keeps) or a
            # caller assigns may be held elsewhere, and every `.grad` is an array of its own
            # (a write into one changes no other array), which a walk may write into (relu's
            # `vjp_into`). The engine's own ops (`trusted`) never come here in a first-order
            # walk, so a training step pays nothing.
            return share if where is None and not share.flags.writeable else share.copy()
        if (  # a numpy float scalar for a 0-d array: summed as it is, the same way
            isinstance(share, np.floating)
            and where is None
            and type(data) is np.ndarray
            and not create_graph
            and data.ndim == 0
        ):
            return share
        if share is None and (where is not None or not self._takes_gradient()):
            return None  # .grad = None resets it; constants get no share
        rule = where or f"the derivative rule of {op!r}"  # (for an error only: repr costs)
        if share is None:
            raise TypeError(f"{rule} returned None for an operand that needs a gradient")
        kind = type(self).__name__
        if type(share) is type(self):
            if not create_graph:
                raise TypeError(f"{rule} returned a {kind}; it must return numbers or arrays")
            found = share._data
            if (type(found) is float) != (type(data) is float) or np.shape(found) != np.shape(data):
                raise ValueError(
                    f"{rule} gave a gradient of shape {np.shape(found)} for a {kind} of shape "
                    f"{np.shape(data)}"
                )
            return share
        if isinstance(share, Node):
            raise TypeError(f"{rule} returned a {type(share).__name__} for a {kind} operand")
        g = space_of(data).share(data, share, rule, where is not None)
        if (
            isinstance(g, np.ndarray)
            and isinstance(share, np.ndarray)
            and np.may_share_memory(g, share)
        ):
            g = g.copy()  # the caller's memory (see above)
        return self._constant(g) if create_graph else g


def in_dtype_of(node: Node, g: Any) -> Any:
    """g, an array gradient of node's shape, in node's dtype (a float of a 0-d Dual as it is)."""
    dtype = getattr(node._data, "dtype", None)
    if dtype is None or type(g) is not np.ndarray or g.dtype == dtype:
        return g
    return g.astype(dtype)


def made(
    cls: type[_A],
    data: Any,
    op: Op,
    a: Any,
    b: Any,
    carry: Any,
    scope: tuple[ScopeBlock, ...],
    label: str | None = None,
    into: _A | None = None,
) -> _A:
    """A new node of `cls` (or `into`, a node being initialised, of that class) with every
    slot set from the fields, which ops have checked: the write stamp is the clock's now,
    the gradient unset. An array is made read-only: the node's, changed only by assigning
    `.data` (data_view.py). The one place that sets a node's slots, and one call per op
    node (the fields by name, not `*fields`: no tuple packed and unpacked per node)."""
    node: _A = object.__new__(cls) if into is None else into
    if type(data) is np.ndarray:
        _setflags(data, False)  # write=False
    node._data = data
    node._stamp = CLOCK[0]
    node._grad = None
    node._label = label
    node._op = op
    node._a, node._b = a, b
    node._carry = carry
    node._scope = scope
    return node


def _binary(op: Op, a: Any, b: Any) -> Any:
    """op(a, b) for an operator of the node a or b (self, on either side): that node's type
    applies it, without Op.__call__'s search for a node among the operands."""
    node = a if isinstance(a, Node) else b
    return node._apply(op, (a, b))


def _unary(op: Op, x: Any) -> Any:
    """op(x) for a method of the node x: x's type applies it."""
    return x._apply(op, (x,))


install(
    ArrayNode,
    ArrayMethods,
    Applying(binary=_binary, unary=_unary, power=array_methods.power, direct=True),
)
