"""`Value`, a scalar node of the computation graph, and `Op`, how a node is made.

A node holds its float `data`, its accumulated `grad`, the `Op` that made it and the operand
nodes it was made from. What each op computes and what its derivative is lives in `ops.py`;
how the graph is walked for gradients lives in `autodiff.py`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Union

import numpy as np

from .context import _MODE, ScopeBlock

Number = int | float | np.integer[Any] | np.floating[Any]
"""A plain real number: Python int or float, or a numpy real scalar."""

Operand = Union["Value", Number]
"""What an op accepts: a `Value`, or a number that becomes a constant leaf."""

_REAL_TYPES = (int, float, np.integer, np.floating)


class DomainError(ValueError):
    """An op was applied outside its domain (log of x <= 0, division by zero, ...).

    Raised before any node is created; the message names the op and the offending values.
    """


def to_float(x: object, where: str) -> float:
    """`x` as a Python float, or TypeError naming `where`, the type, and what is accepted."""
    if type(x) is float:
        return x
    if isinstance(x, _REAL_TYPES):
        try:
            return float(x)
        except OverflowError:
            raise OverflowError(f"{where}: {x!r} is too large for a float") from None
    raise TypeError(
        f"{where}: expected a Value or a real number (int, float, numpy real scalar), "
        f"got {type(x).__name__}: {x!r}"
    )


class Op:
    """A differentiable operation: a forward function on floats and its derivative rule.

    - `forward(*xs) -> float` computes the result from the operands' floats; it is total and
      IEEE-style (overflow gives inf, like numpy), because domain errors are `check`'s job.
    - `vjp(g, out, *xs) -> tuple` gives, for each operand, g * d(out)/d(operand). It is written
      with ordinary arithmetic and ops, so the same rule runs on floats (a first-order
      backward pass) and on `Value`s (`create_graph=True`, which gives higher derivatives).
    - `check(*xs)`, optional, raises `DomainError` for operands outside the domain.

    An op takes one or two operands. Calling it on `Value`s (numbers mixed in become constant
    leaves) checks the domain and records a node. Calling it on plain numbers only returns
    `forward`'s float: derivative rules rely on this so that one rule serves both cases.

    >>> import math
    >>> from autograd_lite import Op, Value
    >>> sin = Op("sin", math.sin, lambda g, out, x: (g * cos(x),))
    >>> cos = Op("cos", math.cos, lambda g, out, x: (-g * sin(x),))
    >>> x = Value(0.0)
    >>> y = sin(x)
    >>> y.backward()
    >>> x.grad  # cos(0)
    1.0
    """

    __slots__ = ("check", "forward", "name", "vjp")

    def __init__(
        self,
        name: str,
        forward: Callable[..., float],
        vjp: Callable[..., tuple[Any, ...]],
        check: Callable[..., None] | None = None,
    ) -> None:
        self.name = name
        self.forward = forward
        self.vjp = vjp
        self.check = check

    def __repr__(self) -> str:
        return f"Op({self.name!r})"

    def __call__(self, *operands: Operand) -> Any:
        """Apply the op: a new `Value` if any operand is a Value, else a float."""
        if not 1 <= len(operands) <= 2:
            raise TypeError(f"{self.name}: ops take one or two operands, got {len(operands)}")
        if not any(isinstance(x, Value) for x in operands):
            return self.forward(*[to_float(x, self.name) for x in operands])
        if len(operands) == 1:
            return _unary(self, operands[0])  # type: ignore[arg-type]
        out = _binary(self, *operands)
        if out is NotImplemented:
            for x in operands:
                if not isinstance(x, Value):
                    to_float(x, self.name)  # raises the TypeError that names it
        return out


CONSTANT = Op("const", lambda: math.nan, lambda g, out: ())
"""Marks leaves made from numbers mixed into an expression (they read `.op is None`)."""


class Value:
    """A scalar in a computation graph: its `data`, its `grad`, and how it was made.

    `Value(data, label=None)`: `data` is a Python int or float or a numpy real scalar, stored
    as a float. Arithmetic with `+ - * / **` and unary `-`, and the methods `exp`, `log`,
    `tanh`, `sigmoid`, `relu`, record a node each; numbers mixed in become constant leaves.
    `backward()` then fills `.grad` of every node below with d(this)/d(node).

    Values hash and compare by identity, so they can be dict keys and set members; `==` is
    not elementwise comparison of data.

    >>> from autograd_lite import Value
    >>> a, b = Value(2.0, label="a"), Value(3.0, label="b")
    >>> c = a * b + a
    >>> c.backward()
    >>> (c.data, a.grad, b.grad)
    (8.0, 4.0, 2.0)
    """

    # Operands live in two slots, not a tuple: one object less per node, which is 56 bytes
    # less memory and half the work for the cyclic garbage collector. Ops take 1 or 2 operands.
    __slots__ = ("_a", "_b", "_op", "_scope", "data", "grad", "label")
    __array_ufunc__ = None  # numpy scalars defer to our reflected operators

    data: float
    grad: float
    label: str | None

    def __init__(self, data: Number, label: str | None = None) -> None:
        self.data = to_float(data, "Value")
        self.grad = 0.0
        if label is not None and not isinstance(label, str):
            raise TypeError(f"Value: label must be a str or None, got {type(label).__name__}")
        self.label = label
        self._op: Op | None = None
        self._a: Value | None = None
        self._b: Value | None = None
        self._scope: tuple[ScopeBlock, ...] = _MODE.get().scope

    # -- what made this node (read-only) ---------------------------------------------------
    @property
    def op(self) -> Op | None:
        """The `Op` that made this node (`.op.name` is e.g. "*" or "sigmoid"); None for leaves."""
        return None if self._op is CONSTANT else self._op

    @property
    def operands(self) -> tuple[Value, ...]:
        """The nodes this one was computed from, in operand order; () for leaves."""
        a, b = self._a, self._b
        return () if a is None else (a,) if b is None else (a, b)

    @property
    def is_leaf(self) -> bool:
        """True for inputs, parameters and constants: nodes not computed from others."""
        return self._a is None

    @property
    def is_constant(self) -> bool:
        """True for a leaf made from a number mixed into an expression, such as the 2 in x*2."""
        return self._op is CONSTANT

    @property
    def scope(self) -> tuple[str, ...]:
        """The names of the `scope()` blocks this node was created in, outermost first."""
        return tuple(block.name for block in self._scope)

    @property
    def scope_blocks(self) -> tuple[ScopeBlock, ...]:
        """The `scope()` blocks themselves, outermost first: equal only for the same block."""
        return self._scope

    def __repr__(self) -> str:
        label = "" if self.label is None else f", label={self.label!r}"
        return f"Value({self.data!r}, grad={self.grad!r}{label})"

    def __float__(self) -> float:
        return self.data

    # -- arithmetic: each operator is one recorded op (see ops.py) -------------------------
    def __add__(self, other: Operand) -> Value:
        return _binary(_ops.add, self, other)  # type: ignore[no-any-return]

    def __radd__(self, other: Operand) -> Value:
        return _binary(_ops.add, other, self)  # type: ignore[no-any-return]

    def __sub__(self, other: Operand) -> Value:
        return _binary(_ops.sub, self, other)  # type: ignore[no-any-return]

    def __rsub__(self, other: Operand) -> Value:
        return _binary(_ops.sub, other, self)  # type: ignore[no-any-return]

    def __mul__(self, other: Operand) -> Value:
        return _binary(_ops.mul, self, other)  # type: ignore[no-any-return]

    def __rmul__(self, other: Operand) -> Value:
        return _binary(_ops.mul, other, self)  # type: ignore[no-any-return]

    def __truediv__(self, other: Operand) -> Value:
        return _binary(_ops.div, self, other)  # type: ignore[no-any-return]

    def __rtruediv__(self, other: Operand) -> Value:
        return _binary(_ops.div, other, self)  # type: ignore[no-any-return]

    def __pow__(self, other: Operand) -> Value:
        if isinstance(other, Value):
            return _binary(_ops.pow_value, self, other)  # type: ignore[no-any-return]
        if isinstance(other, _REAL_TYPES):
            return _unary(_ops.pow_number(to_float(other, "**")), self)
        return NotImplemented

    def __rpow__(self, other: Operand) -> Value:
        return _binary(_ops.pow_value, other, self)  # type: ignore[no-any-return]

    def __neg__(self) -> Value:
        return _unary(_ops.neg, self)

    def exp(self) -> Value:
        """e ** self. Overflow gives inf (as IEEE and numpy do), not an exception."""
        return _unary(_ops.exp, self)

    def log(self) -> Value:
        """Natural logarithm; DomainError for data <= 0."""
        return _unary(_ops.log, self)

    def tanh(self) -> Value:
        """Hyperbolic tangent; derivative 1 - tanh**2."""
        return _unary(_ops.tanh, self)

    def sigmoid(self) -> Value:
        """1 / (1 + e**-x), without overflow for any finite x; derivative s * (1 - s)."""
        return _unary(_ops.sigmoid, self)

    def relu(self) -> Value:
        """max(x, 0); its derivative at exactly 0 is taken as 0 (PyTorch's convention)."""
        return _unary(_ops.relu, self)

    # -- gradients (see autodiff.py) --------------------------------------------------------
    def backward(self, gradient: float = 1.0) -> None:
        """Add d(self)/d(node) * gradient to `.grad` of every node below this one.

        Intermediate nodes get their gradient too. Calling it again adds the same amount again
        (gradients accumulate, as in PyTorch); use `zero_grad()` to reset them.
        """
        _autodiff.backward(self, gradient)

    def zero_grad(self) -> None:
        """Set `.grad` to 0.0 on this node and every node below it."""
        _autodiff.zero_grad(self)

    def detach(self) -> Value:
        """A new leaf with the same data and label and no history."""
        return Value(self.data, self.label)


# The two functions below are the hot path of graph building: every operator goes through one.
def _unary(op: Op, a: Value) -> Value:
    data = a.data
    if op.check is not None:
        op.check(data)
    out = op.forward(data)
    if type(out) is not float:
        out = _as_float(out, op)
    mode = _MODE.get()
    if not mode.grad_enabled:
        return _make(out, None, None, None, mode.scope)
    return _make(out, op, a, None, mode.scope)


def _binary(op: Op, a: Operand, b: Operand) -> Any:
    """op(a, b) as a node; NotImplemented when an operand is not a number (for dunders)."""
    av: Value | None  # None: a number, to become a constant leaf once the op has succeeded
    bv: Value | None
    if isinstance(a, Value):
        av, ad = a, a.data
    elif isinstance(a, _REAL_TYPES):
        av, ad = None, a if type(a) is float else to_float(a, op.name)
    else:
        return NotImplemented
    if isinstance(b, Value):
        bv, bd = b, b.data
    elif isinstance(b, _REAL_TYPES):
        bv, bd = None, b if type(b) is float else to_float(b, op.name)
    else:
        return NotImplemented
    if op.check is not None:
        op.check(ad, bd)
    out = op.forward(ad, bd)
    if type(out) is not float:
        out = _as_float(out, op)
    mode = _MODE.get()
    scope = mode.scope
    if not mode.grad_enabled:
        return _make(out, None, None, None, scope)
    if av is None:
        av = _make(ad, CONSTANT, None, None, scope)
    if bv is None:
        bv = _make(bd, CONSTANT, None, None, scope)
    node: Value = _new(Value)  # _make, inlined: this line runs for every binary op
    node.data = out
    node.grad = 0.0
    node.label = None
    node._op = op
    node._a = av
    node._b = bv
    node._scope = scope
    return node


def _as_float(x: object, op: Op) -> float:
    try:
        return float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"{op.name}: forward must return a real number, got {x!r}") from None


_new = object.__new__


def _make(
    data: float, op: Op | None, a: Value | None, b: Value | None, scope: tuple[ScopeBlock, ...]
) -> Value:
    """A node without the public constructor's checks (ops have validated everything)."""
    node: Value = _new(Value)
    node.data = data
    node.grad = 0.0
    node.label = None
    node._op = op
    node._a = a
    node._b = b
    node._scope = scope
    return node


from . import autodiff as _autodiff  # noqa: E402  (these modules use Value)
from . import ops as _ops  # noqa: E402
