"""The method table: every operator and method of the node types, one row each.

`Methods` is the table's body for every node type (Value, Tensor, Dual), `ArrayMethods`
adds the rows only array nodes have. A row names what the method applies and how:

- `Infix(op)`: `self op other`; `Reflected(op)`: `other op self` (`2 * x`);
- `Unary(op)`: `op(self)` (`x.exp()`, `-x`);
- `Power()`: `self ** other`, whose exponent decides the op (each node type's own);
- a plain function of the node (`sum`, `reshape`, `__getitem__`, the comparisons of the data:
  array_methods.py), installed as it is.

`install(cls, applying)` is the one loop that turns the rows into plain functions on a node
type, each calling that type's way of applying an op (`Applying`): Value passes its fast
two-operand path, so `a * b` costs no call more than a method written by hand. The rows
are also what the type checker reads (each row is a typed descriptor). Adding a method is
one row here, or at run time `add(name, row)` (docs/engine.md, "Adding an op").
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from types import FunctionType
from typing import Any, TypeVar, overload

from . import array_methods, array_ops, ops
from .axes import torch_names
from .node import Op

__all__ = [
    "Applying", "ArrayMethods", "Infix", "Made", "Methods", "Power", "Reflected", "Row",
    "Unary", "add", "install", "remove", "rows", "suggested",
]  # fmt: skip

_N = TypeVar("_N")


@dataclass(frozen=True)
class Applying:
    """How a node type applies an op: `binary(op, a, b)`, `unary(op, x)` and its `**`. With
    `direct`, `binary(op, self, other)` and `unary(op, self)` are `self._apply(op, operands)`,
    which the methods then call themselves (a call fewer per op)."""

    binary: Callable[[Op, Any, Any], Any]
    unary: Callable[[Op, Any], Any]
    power: Callable[[Any, Any], Any]
    direct: bool = False


class Row:
    """A row of the table: what a method applies (`target`) and its docstring."""

    def __init__(self, target: Any, doc: str) -> None:
        self.target = target
        self.doc = doc
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def bind(self, applying: Applying) -> Callable[..., Any]:
        """The method for a node type that applies ops so."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class Infix(Row):
    """`self op other` (NotImplemented for an operand the node type does not take)."""

    reflected = False

    def bind(self, applying: Applying) -> Callable[..., Any]:
        """The method: applying.binary(op, self, other), or (op, other, self) reflected."""
        op, binary = self.target, applying.binary
        if self.reflected:

            def method(self: Any, other: Any) -> Any:
                return binary(op, other, self)
        elif applying.direct:

            def method(self: Any, other: Any) -> Any:
                return self._apply(op, (self, other))
        else:

            def method(self: Any, other: Any) -> Any:
                return binary(op, self, other)

        return method

    @overload
    def __get__(self, obj: None, owner: type[_N]) -> Callable[[_N, Any], _N]: ...
    @overload
    def __get__(self, obj: _N, owner: type) -> Callable[[Any], _N]: ...
    def __get__(self, obj: Any, owner: type) -> Any:
        return _uninstalled(self, obj, owner)


class Reflected(Infix):
    """`other op self`: the operator Python calls when the node is on the right."""

    reflected = True


class Unary(Row):
    """`op(self)`: a one-operand op as a method (`x.exp()`) or operator (`-x`, `abs(x)`)."""

    def bind(self, applying: Applying) -> Callable[..., Any]:
        """The method: applying.unary(op, self)."""
        op, unary = self.target, applying.unary
        if applying.direct:

            def direct(self: Any) -> Any:
                return self._apply(op, (self,))

            return direct

        def method(self: Any) -> Any:
            return unary(op, self)

        return method

    @overload
    def __get__(self, obj: None, owner: type[_N]) -> Callable[[_N], _N]: ...
    @overload
    def __get__(self, obj: _N, owner: type) -> Callable[[], _N]: ...
    def __get__(self, obj: Any, owner: type) -> Any:
        return _uninstalled(self, obj, owner)


class Made(Row):
    """`op(self)` for the op `target(*args, **kwargs)` makes from the method's arguments
    (`x.leaky_relu(0.2)`, `x.clamp(min=0)`): an op with parameters."""

    def bind(self, applying: Applying) -> Callable[..., Any]:
        """The method: applying.unary(target(*args, **kwargs), self)."""
        make, unary = self.target, applying.unary

        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            return unary(make(*args, **kwargs), self)

        return method

    @overload
    def __get__(self, obj: None, owner: type[_N]) -> Callable[..., _N]: ...
    @overload
    def __get__(self, obj: _N, owner: type) -> Callable[..., _N]: ...
    def __get__(self, obj: Any, owner: type) -> Any:
        return _uninstalled(self, obj, owner)


class Power(Infix):
    """`self ** other`: the node type's own, since the exponent decides the op (a number is
    the parameter of `ops.pow_number`, a node an operand of `ops.pow_value`)."""

    def bind(self, applying: Applying) -> Callable[..., Any]:
        """The node type's `**` itself."""
        return applying.power


def _uninstalled(row: Row, obj: object, owner: type) -> Any:
    """A row read from a class that `install` did not fill in: the row itself on the table
    (a node type's own is a plain function), else an error (every node type installs the
    table when it is defined)."""
    if obj is None:
        return row
    raise TypeError(f"{owner.__name__}.{row.name}: the method table was not installed on it")


class Methods:
    """The table's rows for every node type: operators and elementwise ops (ops.py)."""

    __slots__ = ()

    __add__ = Infix(ops.add, "self + other.")
    __radd__ = Reflected(ops.add, "other + self.")
    __sub__ = Infix(ops.sub, "self - other.")
    __rsub__ = Reflected(ops.sub, "other - self.")
    __mul__ = Infix(ops.mul, "self * other.")
    __rmul__ = Reflected(ops.mul, "other * self.")
    __truediv__ = Infix(ops.div, "self / other; DomainError where other is 0.")
    __rtruediv__ = Reflected(ops.div, "other / self; DomainError where self is 0.")
    __pow__ = Power(ops.power, "self ** other.")
    __rpow__ = Reflected(ops.pow_value, "other ** self (other must be > 0).")
    __neg__ = Unary(ops.neg, "-self.")
    __abs__ = Unary(ops.abs, "|self|; the derivative sign(x) is 0 at 0 (as PyTorch).")
    abs = Unary(ops.abs, "|x|; the derivative sign(x) is 0 at 0 (as PyTorch).")
    exp = Unary(ops.exp, "e ** x. Overflow gives inf (as IEEE and numpy do), not an exception.")
    log = Unary(ops.log, "Natural logarithm; DomainError for x <= 0.")
    tanh = Unary(ops.tanh, "Hyperbolic tangent; derivative 1 - tanh**2.")
    sigmoid = Unary(
        ops.sigmoid, "1 / (1 + e**-x), without overflow for any finite x; derivative s * (1 - s)."
    )
    relu = Unary(ops.relu, "max(x, 0); its derivative at exactly 0 is 0 (PyTorch's convention).")
    sqrt = Unary(ops.sqrt, "Square root; DomainError for x < 0; derivative inf at 0.")
    sin = Unary(ops.sin, "Sine; derivative cos x.")
    cos = Unary(ops.cos, "Cosine; derivative -sin x.")
    tan = Unary(ops.tan, "Tangent; derivative 1 + tan**2 (large near odd multiples of pi/2).")
    log1p = Unary(ops.log1p, "log(1 + x), exact for small x; DomainError for x <= -1.")
    expm1 = Unary(ops.expm1, "e**x - 1, exact for small x; derivative e**x.")
    softplus = Made(
        ops.softplus,
        "softplus(beta=1, threshold=20): log(1 + e**(beta x)) / beta, x where beta x > "
        "threshold (PyTorch's); derivative sigmoid(beta x).",
    )
    leaky_relu = Made(
        ops.leaky_relu,
        "leaky_relu(negative_slope=0.01): x for x > 0, else negative_slope * x; derivative "
        "negative_slope at 0 (as PyTorch).",
    )
    gelu = Made(
        ops.gelu,
        'gelu(approximate="tanh"): PyTorch\'s tanh form; "none" (erf) is a ValueError.',
    )
    clamp = Made(
        ops.clamp,
        "clamp(min=None, max=None): x limited to [min, max]; the gradient passes where "
        "min <= x <= max (as PyTorch).",
    )
    clip = Made(
        ops.clip, "clip(a_min=None, a_max=None): clamp's other name (numpy's or PyTorch's limits)."
    )
    maximum = Infix(array_ops.maximum_op, "The larger of self and other; ties share the gradient.")
    minimum = Infix(array_ops.minimum_op, "The smaller of self and other; ties share the gradient.")


class ArrayMethods(Methods):
    """The table's rows only array nodes have (Tensor, Dual): matmul, comparisons of the
    data, and the shape and reduction methods of array_methods.py, installed as they are."""

    __slots__ = ()

    __matmul__ = Infix(array_ops.matmul_op, "self @ other (np.matmul's rules).")
    __rmatmul__ = Reflected(array_ops.matmul_op, "other @ self (np.matmul's rules).")
    __lt__ = array_methods.comparison(operator.lt, "<")
    __le__ = array_methods.comparison(operator.le, "<=")
    __gt__ = array_methods.comparison(operator.gt, ">")
    __ge__ = array_methods.comparison(operator.ge, ">=")
    __eq__ = array_methods.comparison(operator.eq, "==")
    __ne__ = array_methods.comparison(operator.ne, "!=")
    sum = array_methods.sum
    mean = array_methods.mean
    max = array_methods.max
    min = array_methods.min
    prod = array_methods.prod
    var = array_methods.var
    std = array_methods.std
    norm = array_methods.norm
    argmax = array_methods.argmax
    argmin = array_methods.argmin
    flatten = array_methods.flatten
    squeeze = array_methods.squeeze
    unsqueeze = array_methods.unsqueeze
    expand_dims = array_methods.expand_dims
    reshape = array_methods.reshape
    transpose = array_methods.transpose
    T = property(array_methods.T)
    __getitem__ = array_methods.getitem
    softmax = array_methods.softmax
    log_softmax = array_methods.log_softmax
    logsumexp = array_methods.logsumexp


_INSTALLED: list[tuple[type, type, Applying]] = []
"""Each node type installed so far, with its part of the table and how it applies ops."""
_ADDED: set[str] = set()
"""The names `add` put in the table (only those can be removed)."""


def rows(table: type = ArrayMethods) -> dict[str, Any]:
    """The table as {name: row or function}, base rows first (`rows(Methods)`: every node
    type's only)."""
    found: dict[str, Any] = {}
    for klass in reversed(table.__mro__):
        if klass is Methods or issubclass(klass, Methods):
            found.update(
                (name, v)
                for name, v in vars(klass).items()
                if isinstance(v, (Row, property, FunctionType))
            )
    return found


def suggested() -> str:
    """The methods every node type has, as an error message suggests them: `x.exp(), ...`."""
    named = [f"x.{name}()" for name, row in rows(Methods).items() if not name.startswith("__")]
    return ", ".join([*named, "x ** n"])


def install(cls: type, table: type, applying: Applying) -> None:
    """Put every row of `table` (Methods or ArrayMethods) on `cls` as a plain function."""
    for name, row in rows(table).items():
        setattr(cls, name, _method(row, applying))
    _INSTALLED.append((cls, table, applying))


def _method(row: Any, applying: Applying) -> Any:
    if isinstance(row, FunctionType):
        return torch_names(row)  # with dim= and keepdim= for axis= and keepdims=
    if not isinstance(row, Row):
        return row  # a property: installed as it is
    method = row.bind(applying)
    if method is not applying.power:
        method.__name__ = method.__qualname__ = row.name
        method.__doc__ = row.doc
    return method


def add(name: str, row: Row, arrays_only: bool = False) -> None:
    """Add a row to the table and its method to every node type (Tensor and Dual only if
    `arrays_only`). A name the table has already is a ValueError."""
    if name in rows():
        raise ValueError(f"the method table has {name!r} already")
    table = ArrayMethods if arrays_only else Methods
    row.__set_name__(table, name)
    setattr(table, name, row)
    _ADDED.add(name)
    for cls, installed, applying in _INSTALLED:
        if issubclass(installed, table):
            setattr(cls, name, _method(row, applying))


def remove(name: str) -> None:
    """Take a row that `add` added out of the table and off every node type (ValueError
    for another name: the built-in rows stay)."""
    if name not in _ADDED:
        raise ValueError(f"{name!r} is not a row added by methods.add")
    _ADDED.discard(name)
    for table in (Methods, ArrayMethods):
        if name in vars(table):
            delattr(table, name)
    for cls, _, _ in _INSTALLED:
        if name in vars(cls):
            delattr(cls, name)
