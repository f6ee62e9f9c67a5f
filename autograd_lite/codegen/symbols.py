"""`Sym`: a value of generated code, on which a derivative rule is run to write its source.

A Sym holds the source of an expression (`code`, with its precedence) and an example: the
number or array that expression has at the recorded values, so that rules can read shapes
and the result of every operation on Syms is known. Its arithmetic writes the operation
(parenthesised so that Python reads back the same association: `(a*b)*c` is `a * b * c`, and
`a*(b*c)` keeps its parentheses); an `Op` applied to a Sym writes the op's emit form (Sym is
a `Node`, so `Op.__call__` hands it to `Sym._apply`). What a straight-line program cannot
express, a branch on a value (`if x > 0`) or a conversion to a Python number (`math.cos(x)`),
raises `Untraceable`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from ..engine.node import Node, Op
from .literals import ATOM, BIT_AND, BIT_OR, BIT_XOR, COMPARE, POWER, SUM, TERM, UNARY

__all__ = ["Sym", "Tracer", "Untraceable"]


class Untraceable(TypeError):
    """A derivative rule did something with a value that straight-line code cannot write."""


class Tracer(Protocol):
    """What a Sym asks of the code being written."""

    def source(self, x: object) -> tuple[str, int]:
        """The source of x (a Sym or a constant) and its precedence."""

    def apply(self, op: Op, operands: tuple[Any, ...]) -> Sym:
        """op applied to operands (at least one a Sym), without a domain check."""


def _write(
    tracer: Tracer, a: object, b: object, symbol: str, prec: int, fn: Callable[[Any, Any], Any]
) -> Sym:
    """`a symbol b`, parenthesised so that Python reads back this association."""
    # Left-associative operators need a right operand that binds tighter; ** is the opposite
    # (a ** b ** c is a ** (b ** c)), and its right operand may be unary (a ** -b).
    left_min, right_min = (POWER + 1, UNARY) if symbol == "**" else (prec, prec + 1)
    if prec == COMPARE:  # a < b < c would chain: parenthesise both sides
        left_min = COMPARE + 1
    (ta, pa), (tb, pb) = tracer.source(a), tracer.source(b)
    if pa < left_min:
        ta = f"({ta})"
    if pb < right_min:
        tb = f"({tb})"
    return Sym(tracer, f"{ta} {symbol} {tb}", prec, fn(example_of(a), example_of(b)))


def _binary(
    symbol: str, prec: int, fn: Callable[[Any, Any], Any], reflected: bool = False
) -> Callable[[Sym, object], Sym]:
    """The operator method writing `left symbol right`."""

    def method(self: Sym, other: object) -> Sym:
        a, b = (other, self) if reflected else (self, other)
        return _write(self.tracer, a, b, symbol, prec, fn)

    return method


_BINARY = (
    ("add", "+", SUM, operator.add), ("sub", "-", SUM, operator.sub),
    ("mul", "*", TERM, operator.mul), ("truediv", "/", TERM, operator.truediv),
    ("floordiv", "//", TERM, operator.floordiv), ("mod", "%", TERM, operator.mod),
    ("matmul", "@", TERM, operator.matmul), ("pow", "**", POWER, operator.pow),
    ("and", "&", BIT_AND, operator.and_), ("or", "|", BIT_OR, operator.or_),
    ("xor", "^", BIT_XOR, operator.xor),
)  # fmt: skip
"""Sym's binary operators, each `__name__` and reflected `__rname__`: (name, symbol,
precedence, function)."""
_COMPARISONS = (
    ("lt", "<", operator.lt), ("le", "<=", operator.le), ("gt", ">", operator.gt),
    ("ge", ">=", operator.ge), ("eq", "==", operator.eq), ("ne", "!=", operator.ne),
)  # fmt: skip
"""Sym's comparisons (name, symbol, function), written as code like the other operators."""
_OPERATORS: dict[Callable[[Any, Any], Any], tuple[str, int]] = {
    **{fn: (symbol, prec) for _, symbol, prec, fn in _BINARY},
    **{fn: (symbol, COMPARE) for _, symbol, fn in _COMPARISONS},
}
"""The operator functions with a symbol (operator.mul: "*") and its precedence."""
_UFUNCS = {
    np.add: operator.add, np.subtract: operator.sub, np.multiply: operator.mul,
    np.true_divide: operator.truediv, np.floor_divide: operator.floordiv,
    np.remainder: operator.mod, np.power: operator.pow, np.matmul: operator.matmul,
    np.less: operator.lt, np.less_equal: operator.le, np.greater: operator.gt,
    np.greater_equal: operator.ge, np.equal: operator.eq, np.not_equal: operator.ne,
    np.bitwise_and: operator.and_, np.bitwise_or: operator.or_, np.bitwise_xor: operator.xor,
}  # fmt: skip
"""The ufuncs numpy calls for an array's operators (array * x is np.multiply(array, x))."""


def _unary(symbol: str, fn: Callable[[Any], Any]) -> Callable[[Sym], Sym]:
    def method(self: Sym) -> Sym:
        text = self.code if self.prec >= UNARY else f"({self.code})"
        return Sym(self.tracer, f"{symbol}{text}", UNARY, fn(self.example))

    return method


def example_of(x: object) -> Any:
    """The number or array x stands for: a Sym's example, or x itself (a constant)."""
    return x.example if isinstance(x, Sym) else x


def _refuse(what: str) -> Callable[..., Any]:
    def method(self: Sym, *args: Any) -> Any:
        raise Untraceable(f"it {what}, which straight-line code cannot do")

    return method


_REFUSED = {
    "bool": "branches on a value (if, and, or, min, max on values)",
    "float": "turns a value into a Python number (float(), math.* on a value)",
    "int": "turns a value into a Python int", "index": "uses a value as an index",
    "complex": "turns a value into a complex number", "iter": "iterates over a value",
    "len": "takes the length of a value", "round": "rounds a value",
    "array": "turns a value into a numpy array (a numpy function that is no ufunc)",
}  # fmt: skip
"""What straight-line code cannot do with a value: each `__name__` raises Untraceable."""


class Sym(Node):
    """A value of generated code: its source, precedence and example (see the module)."""

    __slots__ = ("code", "example", "prec", "tracer")
    __array_priority__ = 1000

    def __init__(self, tracer: Tracer, code: str, prec: int, example: Any) -> None:
        self.tracer = tracer
        self.code = code
        self.prec = prec
        self.example = example
        self._data = self  # array_ops' _data(x) reads this: a mask stays an expression
        self._a = self._b = None

    def __repr__(self) -> str:
        return f"Sym({self.code!r})"

    @classmethod
    def _apply(cls, op: Op, operands: tuple[Any, ...]) -> Node:
        tracer = next(x.tracer for x in operands if isinstance(x, Sym))
        return tracer.apply(op, operands)

    # -- what a rule reads of an array: from the example ---------------------------------
    shape = property(lambda self: np.shape(self.example), doc="The example's shape.")
    ndim = property(lambda self: np.ndim(self.example), doc="The example's dimensions.")
    size = property(lambda self: int(np.size(self.example)), doc="The example's size.")
    dtype = property(lambda self: np.asarray(self.example).dtype, doc="The example's dtype.")

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Sym:
        """A numpy ufunc meeting a Sym: an array's operator (array * x, written so) or a call
        such as np.add.reduce(mask, axis=1) (written as that call)."""
        if kwargs.get("out") is not None:
            raise Untraceable("it writes into out=")
        fn = _UFUNCS.get(ufunc)
        if method == "__call__" and fn is not None and len(inputs) == 2 and not kwargs:
            return _write(self.tracer, *inputs, *_OPERATORS[fn], fn)
        if getattr(np, ufunc.__name__, None) is not ufunc:
            raise Untraceable(f"it calls numpy's {ufunc.__name__}, which has no name in np")
        source = self.tracer.source
        args = [source(x)[0] for x in inputs] + [f"{k}={source(v)[0]}" for k, v in kwargs.items()]
        name = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        example = getattr(ufunc, method)(*[example_of(x) for x in inputs], **kwargs)
        return Sym(self.tracer, f"{name}({', '.join(args)})", ATOM, example)

    # -- numpy functions that call methods (np.reshape, np.sum on a Sym) -----------------
    def reshape(self, shape: Any, order: str = "C", **copy: Any) -> Sym:
        """np.reshape(self, shape), as numpy's function calls it."""
        if order != "C" or copy:
            raise Untraceable("it reshapes with order= or copy=")
        return self._call("np.reshape", np.reshape, (shape,), {})

    def sum(self, axis: Any = None, out: Any = None, **kwargs: Any) -> Sym:
        """np.sum(self, axis=..., keepdims=...), as numpy's function calls it."""
        if out is not None:
            raise Untraceable("it sums into out=")
        return self._call("np.sum", np.sum, (), {"axis": axis, **kwargs})

    def astype(self, dtype: Any) -> Sym:
        """self.astype(dtype)."""
        code, _ = self.tracer.source(np.dtype(dtype))
        text = self.code if self.prec >= ATOM else f"({self.code})"
        return Sym(self.tracer, f"{text}.astype({code})", ATOM, self.example.astype(dtype))

    def _call(
        self, name: str, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Sym:
        source = self.tracer.source
        texts = [self.code] + [source(a)[0] for a in args]
        texts += [f"{k}={source(v)[0]}" for k, v in kwargs.items()]
        example = fn(self.example, *args, **kwargs)
        return Sym(self.tracer, f"{name}({', '.join(texts)})", ATOM, example)

    # -- arithmetic (and what cannot be written): installed from the tables above -------
    __hash__ = Node.__hash__  # by identity, as every node: its == writes code, compares nothing
    __neg__ = _unary("-", operator.neg)
    __pos__ = _unary("+", operator.pos)
    __invert__ = _unary("~", operator.invert)

    def __abs__(self) -> Sym:
        return Sym(self.tracer, f"abs({self.code})", ATOM, abs(self.example))


for _name, _symbol, _prec, _fn in _BINARY:
    setattr(Sym, f"__{_name}__", _binary(_symbol, _prec, _fn))
    setattr(Sym, f"__r{_name}__", _binary(_symbol, _prec, _fn, reflected=True))
for _name, _symbol, _fn in _COMPARISONS:
    setattr(Sym, f"__{_name}__", _binary(_symbol, COMPARE, _fn))
for _name, _what in _REFUSED.items():
    setattr(Sym, f"__{_name}__", _refuse(_what))
