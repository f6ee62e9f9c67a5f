"""`Value`, the scalar node type: a float `data`, a float `grad`, and the `Node` fields.

Its operators and methods are the rows of the method table (methods.py) that every node type
has, each applying one op from ops.py through the fast paths here (`_binary`, `_unary`);
`backward()` runs the walk in backward.py.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, Union, cast

import numpy as np

from ..validate import describe, is_real, real, text
from . import backward as _backward
from . import ops as _ops
from .conversions import Conversions
from .grad_args import backward_modes
from .grad_mode import MODE, ScopeBlock
from .in_place import InPlace
from .methods import Applying, Methods, install
from .node import CLOCK, CONSTANT, LEAF, Node, Op, mixing_error, stamp_write
from .release import RELEASED, released_gradient
from .stale import check_assignable
from .vspace import FLOATS

Number = int | float | np.integer[Any] | np.floating[Any]
"""A plain real number: Python int or float, or a numpy real scalar (Fraction and bool work too)."""

Operand = Union["Value", Number]
"""What an op accepts: a `Value`, or a number that becomes a constant leaf."""


def _ordering(compare: Callable[[Any, Any], Any]) -> Callable[[Value, object], Any]:
    """`<`, `<=`, `>` or `>=` of a Value's number with a number or a Value's: a bool outside
    the graph (PyTorch gives a tensor; a Value's `==` is identity, so the order is all there
    is). Any other operand is NotImplemented: Python then asks it (an array node compares
    elementwise) or raises its TypeError."""

    def method(self: Value, other: object) -> Any:
        if isinstance(other, Value):
            return bool(compare(self._data, other._data))
        if isinstance(other, np.ndarray) and other.shape == () and other.dtype.kind in "biuf":
            other = other.item()  # a numpy scalar, as numpy's ufuncs hand it over
        if is_real(other):  # exact for ints and Fractions: Python compares them with floats so
            return bool(compare(self._data, other))
        return NotImplemented

    method.__doc__ = f"self {compare.__name__} other on the numbers: a bool, no graph."
    return method


class Value(InPlace, Methods, Conversions, Node[float]):
    """A scalar in a computation graph: its `data`, its `grad`, and how it was made.

    `Value(data, label=None)`: `data` is a real number (int, float, Fraction, numpy real
    scalar, bool), stored as a float. Each operator and method of the method table
    (`+ - * / **`, unary `-`, `abs`, `exp`, `log`, ...: `methods.Methods`) records a node;
    numbers mixed in become constant leaves. `backward()` then fills `.grad` of every node
    below with d(this)/d(node).

    Values hash and compare by identity, so they can be dict keys and set members: `==` is
    `is`, not a comparison of the numbers. `<`, `<=`, `>`, `>=` with a number or another
    Value compare the numbers and give a plain bool, recording nothing (so `sorted`, `max`
    and `if loss < 1e-3:` work). The number leaves the graph only when asked for
    (`.item()`, `.data`, `f"{v:.4f}"`): `float()`, `math.*` and numpy functions without an
    op are a TypeError (conversions.py); `bool()` is the truth of the number.

    >>> from autograd_lite import Value
    >>> a, b = Value(2.0, label="a"), Value(3.0, label="b")
    >>> c = a * b + a
    >>> c.backward()
    >>> (c.data, a.grad, b.grad)
    (8.0, 4.0, 2.0)
    """

    __slots__ = ()

    _data: float

    def __init__(self, data: Number, label: str | None = None) -> None:
        self._data = real(data, "Value")
        self._grad = 0.0
        self._label = label if label is None else text(label, "Value: label", optional=True)
        self._op = LEAF
        self._a = self._b = None
        self._scope = MODE.get().scope
        self._stamp = CLOCK[0]

    @property
    def data(self) -> float:
        """The number this node holds. Assigning converts it to a float (or TypeError); only
        a leaf's can be assigned, and graphs made before that which used it are then stale
        (a walk through them raises `StaleDataError`; see docs/engine.md)."""
        return self._data

    @data.setter
    def data(self, value: Number) -> None:
        new = real(value, "Value.data")
        check_assignable(self, "Value.data")
        self._data = new
        stamp_write(self)

    def _update(self, compute: Callable[[Any, Any], Any], symbol: str, other: Any) -> None:
        self.data = compute(self._data, real(other, f"Value {symbol}"))  # stamped

    __lt__ = _ordering(operator.lt)
    __le__ = _ordering(operator.le)
    __gt__ = _ordering(operator.gt)
    __ge__ = _ordering(operator.ge)

    def __repr__(self) -> str:
        label = "" if self._label is None else f", label={self._label!r}"
        return f"Value({self._data!r}, grad={self._grad!r}{label})"

    # The operators and methods (+, *, **, exp, relu ...) are the method table's (methods.py),
    # installed below with the fast paths `_binary` and `_unary`.

    # -- gradients (see backward.py) --------------------------------------------------------
    def backward(
        self,
        gradient: float = 1.0,
        *,
        retain_grads: bool | None = None,
        retain_graph: bool = True,
    ) -> None:
        """Add d(self)/d(node) * gradient to `.grad` of every node below this one.

        Intermediate nodes get their gradient too. Calling it again adds the same amount again
        (gradients accumulate, as in PyTorch); use `zero_grad()` to reset them.
        `retain_graph=False` and `retain_grads=False` keep what they keep for a Tensor
        (docs/engine.md, "backward"): the leaves' gradients, and every node's data. Both are
        keyword-only, as Tensor.backward's: `y.backward(1.0, False)` would not say which.
        """
        if retain_grads is None and retain_graph is True:  # the default: nothing to check
            _backward.backward(self, gradient)
        else:
            keep, graph = backward_modes("Value.backward", retain_grads, retain_graph)
            _backward.backward(self, gradient, keep, graph)

    @property
    def grad(self) -> float:
        """The accumulated gradient d(output)/d(this node) (0.0 until a backward pass);
        `ReleasedGradientError` for an op's result after `backward(retain_grads=False)`."""
        g = self._grad
        if g is RELEASED:
            raise released_gradient(self)
        return cast(float, g)

    @grad.setter
    def grad(self, value: object) -> None:
        self._grad = self._as_gradient(value, None, False, "Value.grad")

    def zero_grad(self) -> None:
        """Set `.grad` to 0.0 on this node and every node below it."""
        _backward.zero_grad(self)

    def detach(self) -> Value:
        """A new leaf with the same data and label and no history."""
        return Value(self._data, self._label)

    # -- the Node hooks: what a scalar's gradient is ------------------------------------------
    def _seed(self, gradient: object, create_graph: bool) -> Any:
        g = FLOATS.seed(self._data, gradient)
        return Value(g) if create_graph else g

    def _zero(self, create_graph: bool) -> Any:
        zero = FLOATS.zero(self._data)
        return Value(zero) if create_graph else zero

    @staticmethod
    def _plain_gradient(create_graph: bool) -> type | None:
        return Value if create_graph else float

    def _as_gradient(
        self, share: object, op: Op | None, create_graph: bool, where: str | None = None
    ) -> Any:
        if where is not None:  # an assignment to .grad
            return real(share, where)
        if isinstance(share, Value) and create_graph:
            return share
        if is_real(share):  # a constant derivative: a leaf when gradients are Values
            g = real(share, f"the derivative rule of {op!r}")
            return Value(g) if create_graph else g
        raise TypeError(
            f"the derivative rule of {op!r} returned {describe(share)} for a Value operand; "
            f"it must return {'Values or ' if create_graph else ''}real numbers"
        )

    @classmethod
    def _apply(cls, op: Op, operands: tuple[Any, ...]) -> Value:
        """Any op on any number of operands (the operators use the fast paths below)."""
        datas = []
        for x in operands:
            if isinstance(x, Value):
                datas.append(x._data)
            elif isinstance(x, Node):
                raise mixing_error(op, "Value", x)
            else:
                datas.append(real(x, op.name))
        out = _forward(op, datas)
        mode = MODE.get()
        if not mode.grad_enabled:
            return _make(out, LEAF, None, None, mode.scope)
        nodes = [
            x if isinstance(x, Value) else _make(d, CONSTANT, None, None, mode.scope)
            for x, d in zip(operands, datas)
        ]
        if len(nodes) > 2:
            return _make(out, op, tuple(nodes), None, mode.scope)
        return _make(out, op, nodes[0], nodes[1] if len(nodes) == 2 else None, mode.scope)


def _number(x: object, op: Op) -> float | None:
    """x as a float if it is a real number; None if not (the operator returns NotImplemented)."""
    if type(x) is int:  # sum() starts from 0, and 1 - x is common: the quick way first
        try:
            return float(x)
        except OverflowError:  # a huge int: real() says so, below
            pass
    return real(x, op.name) if is_real(x) else None


def _forward(op: Op, datas: list[Any]) -> float:
    if op.check is not None:
        op.check(*datas)
    out = op.forward(*datas)
    return out if type(out) is float else _as_float(op, out)


def _as_float(op: Op, out: object) -> float:
    return real(out, f"{op.name}: the result of forward")


# The two functions below are the hot path of graph building: every operator goes through one.
def _unary(op: Op, a: Value) -> Value:
    data = a._data
    check, forward = op.check, op.forward  # attribute reads: op.forward(...) is a slower lookup
    if check is not None:
        check(data)
    out = forward(data)
    if type(out) is not float:
        out = _as_float(op, out)
    mode = MODE.get()
    if not mode.grad_enabled:
        return _make(out, LEAF, None, None, mode.scope)
    return _make(out, op, a, None, mode.scope)


def _binary(op: Op, a: Operand, b: Operand) -> Value:
    """op(a, b) as a node; NotImplemented when an operand is not a number (for dunders)."""
    # An operand that is a number becomes a constant leaf once the op has succeeded.
    av = a if isinstance(a, Value) else None
    bv = b if isinstance(b, Value) else None
    ad = av._data if av is not None else a if type(a) is float else _number(a, op)
    bd = bv._data if bv is not None else b if type(b) is float else _number(b, op)
    if ad is None or bd is None:
        return _NOT_IMPLEMENTED
    check, forward = op.check, op.forward
    if check is not None:
        check(ad, bd)
    out = forward(ad, bd)
    if type(out) is not float:
        out = _as_float(op, out)
    mode = MODE.get()
    scope = mode.scope
    if not mode.grad_enabled:
        return _make(out, LEAF, None, None, scope)
    if av is None:
        av = _make(ad, CONSTANT, None, None, scope)
    if bv is None:
        bv = _make(bd, CONSTANT, None, None, scope)
    # _make, written out: this runs for every two-operand op, and a call costs about 3% of a
    # training step.
    node: Value = _new(Value)
    node._data = out
    node._grad = 0.0
    node._label = None
    node._op = op
    node._a = av
    node._b = bv
    node._scope = scope
    node._stamp = CLOCK[0]
    return node


_new = object.__new__
# What an operator returns for an operand type it does not know, so that Python asks the other
# operand's type; typed as a Value because the operators pass it on unchanged.
_NOT_IMPLEMENTED = cast(Value, NotImplemented)


def _make(data: float, op: Op, a: Any, b: Node | None, scope: tuple[ScopeBlock, ...]) -> Value:
    """A node without the public constructor's checks (ops have validated everything)."""
    node: Value = _new(Value)
    node._data = data
    node._grad = 0.0
    node._label = None
    node._op = op
    node._a, node._b = a, b
    node._scope = scope
    node._stamp = CLOCK[0]
    return node


def _power(self: Value, other: Operand) -> Value:
    """self ** other: a number exponent is the op's parameter, a Value one an operand."""
    if isinstance(other, Value):
        return _binary(_ops.pow_value, self, other)
    if is_real(other):
        return _unary(_ops.pow_number(real(other, "**")), self)
    return _NOT_IMPLEMENTED


install(Value, Methods, Applying(binary=_binary, unary=_unary, power=_power))
