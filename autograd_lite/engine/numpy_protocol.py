"""numpy functions on nodes: the table of those the engine records into the graph.

numpy hands a call that has a node among its arguments to the node's `__array_ufunc__`
(np.exp(t), np.add(a, t), and an ndarray's or numpy scalar's operator with a node on the
right: `array + t`) or `__array_function__` (np.sum(t), np.reshape(t, ...)). Each table entry
says what the call becomes: an operator or method of the node, or one of the engine's
functions, so that the graph records the same op as the node's own method would. Any other
numpy function on a node is a TypeError that names it: computed on plain numbers, its result
would leave the graph without a gradient, as would a ufunc method (np.add.reduce), a keyword
the entry does not take (out=, where=, dtype=: `_KEYWORDS` says what to write instead).
`np.asarray(t)` and `np.array(t)` are not such calls but the conversion (a Tensor's
`__array__`), which numpy also makes for Tensors inside a list (np.sum([t1, t2])): so it
refuses a Tensor that requires a gradient (tensor.py), as PyTorch does.

A one-operand op of the method table whose array forward is a numpy ufunc (np.exp for
`exp`) takes that ufunc with no entry here. To support another numpy function, add an entry
to `UFUNCS`, or a function to `FUNCTIONS` whose parameters have numpy's names.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from . import array_ops
from .axes import joined, plain
from .methods import Unary, rows, suggested
from .node import Node, Op

__all__ = [
    "FUNCTIONS",
    "UFUNCS",
    "array_function",
    "array_ufunc",
    "positional_parameters",
    "supported",
]


def _operator(name: str, reflected: str) -> Callable[[Any, Any], Any]:
    """A two-operand ufunc as the node's operator: a.name(b), or b.reflected(a) when the
    node is on the right (NotImplemented when its type has no such operator)."""

    def call(a: Any, b: Any) -> Any:
        node, method, other = (a, name, b) if isinstance(a, Node) else (b, reflected, a)
        found = getattr(type(node), method, None)
        return NotImplemented if found is None else found(node, other)

    return call


def _identity(equal: bool) -> Callable[[Any, Any], Any]:
    """np.equal / np.not_equal: the node's == (elementwise for arrays), or, as Python's
    fallback for ==, whether the operands are the same object (a Value compares so)."""
    compare = _operator("__eq__" if equal else "__ne__", "__eq__" if equal else "__ne__")

    def call(a: Any, b: Any) -> Any:
        found = compare(a, b)
        if found is NotImplemented:
            return (a is b) == equal
        return found

    return call


def _method(name: str) -> Callable[[Any], Any]:
    """A one-operand ufunc as the node's method `name` (NotImplemented if it has none)."""

    def call(x: Any) -> Any:
        found = getattr(type(x), name, None)
        return NotImplemented if found is None else found(x)

    return call


UFUNCS: dict[np.ufunc, Callable[..., Any]] = {
    np.add: _operator("__add__", "__radd__"),
    np.subtract: _operator("__sub__", "__rsub__"),
    np.multiply: _operator("__mul__", "__rmul__"),
    np.true_divide: _operator("__truediv__", "__rtruediv__"),  # np.divide is this one
    np.power: _operator("__pow__", "__rpow__"),
    np.matmul: _operator("__matmul__", "__rmatmul__"),
    np.less: _operator("__lt__", "__gt__"),
    np.less_equal: _operator("__le__", "__ge__"),
    np.greater: _operator("__gt__", "__lt__"),
    np.greater_equal: _operator("__ge__", "__le__"),
    np.equal: _identity(True),
    np.not_equal: _identity(False),
    np.negative: _method("__neg__"),
    np.maximum: array_ops.maximum,
    np.minimum: array_ops.minimum,
}
"""numpy ufunc -> what it is on nodes (operands as given; NotImplemented: not for these).
The one-operand ufuncs of the method table's ops (np.exp, np.sin ...) are added below from
the table itself."""


def _table_ufuncs() -> dict[np.ufunc, Callable[..., Any]]:
    """The one-operand ufuncs the method table has a row for: a `Unary` row whose op
    computes arrays with that ufunc (np.exp for `exp`), rows `methods.add` put in included."""
    found: dict[np.ufunc, Callable[..., Any]] = {}
    for name, row in rows().items():
        if isinstance(row, Unary) and isinstance(row.target, Op):
            forward = inspect.unwrap(row.target.array_forward)
            if isinstance(forward, np.ufunc) and forward.nin == 1:
                found.setdefault(forward, _method(name))
    return found


UFUNCS.update({k: v for k, v in _table_ufuncs().items() if k not in UFUNCS})


def _node_method(x: Any, name: str, where: str) -> Any:
    """x's bound method `name`, or TypeError naming the numpy function `where`."""
    if not isinstance(x, Node) or not hasattr(type(x), name):
        raise TypeError(
            f"{where}: not recorded for {_kind(x)} (Tensors and array Duals have "
            f"x.{name}(); a Value is one number)"
        )
    return getattr(x, name)


def _reduction(name: str) -> Callable[..., Any]:
    """np.<name>(a, axis, keepdims) as the node's method `name` (sum, max, argmax ...)."""

    def call(a: Any, axis: Any = None, keepdims: Any = False) -> Any:
        return _node_method(a, name, f"np.{name}")(axis, keepdims)

    return call


def _spread(name: str) -> Callable[..., Any]:
    """np.<name>(a, axis, ddof, keepdims) as the node's method `name` (var, std)."""

    def call(a: Any, axis: Any = None, ddof: Any = 0, keepdims: Any = False) -> Any:
        return _node_method(a, name, f"np.{name}")(axis, ddof, keepdims)

    return call


_sum, _mean, _max, _min, _prod, _argmax, _argmin = map(
    _reduction, ["sum", "mean", "max", "min", "prod", "argmax", "argmin"]
)
_var, _std = _spread("var"), _spread("std")


def _reshape(a: Any, shape: Any) -> Any:
    return _node_method(a, "reshape", "np.reshape")(shape)


def _transpose(a: Any, axes: Any = None) -> Any:
    method = _node_method(a, "transpose", "np.transpose")
    return method() if axes is None else method(axes)


def _concatenate(arrays: Any, axis: Any = 0) -> Any:
    return array_ops.concatenate(*joined("np.concatenate", arrays, axis, False))


def _stack(arrays: Any, axis: Any = 0) -> Any:
    return array_ops.stack(*joined("np.stack", arrays, axis, True))


def _where(condition: Any, x: Any, y: Any) -> Any:
    return array_ops.where(condition, x, y)


def _shape(a: Any) -> tuple[int, ...]:
    return np.shape(plain(a))


def _ndim(a: Any) -> int:
    return np.ndim(plain(a))


def _size(a: Any, axis: Any = None) -> int:
    return int(np.size(plain(a), axis))


def _clip(a: Any, a_min: Any = None, a_max: Any = None) -> Any:
    return _node_method(a, "clip", "np.clip")(a_min, a_max)


def _squeeze(a: Any, axis: Any = None) -> Any:
    method = _node_method(a, "squeeze", "np.squeeze")
    many = () if axis is None else axis if isinstance(axis, (tuple, list)) else (axis,)
    shape = np.shape(plain(a))
    if any(isinstance(i, int) and -len(shape) <= i < len(shape) and shape[i] != 1 for i in many):
        raise ValueError(f"np.squeeze: axis {axis!r} of shape {shape} has a length other than 1")
    return method(axis)


def _expand_dims(a: Any, axis: Any) -> Any:
    return _node_method(a, "expand_dims", "np.expand_dims")(axis)


def _ravel(a: Any) -> Any:
    return _node_method(a, "flatten", "np.ravel")()


def _norm(x: Any, ord: Any = None, axis: Any = None, keepdims: Any = False) -> Any:
    return _node_method(x, "norm", "np.linalg.norm")(ord, axis, keepdims)


FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {
    np.sum: _sum,
    np.mean: _mean,
    np.max: _max,
    np.amax: _max,
    np.reshape: _reshape,
    np.transpose: _transpose,
    np.concatenate: _concatenate,
    np.stack: _stack,
    np.where: _where,
    np.shape: _shape,  # shapes are no numbers of the graph
    np.ndim: _ndim,
    np.size: _size,
    np.clip: _clip,
    np.min: _min,
    np.amin: _min,
    np.prod: _prod,
    np.var: _var,
    np.std: _std,
    np.argmax: _argmax,
    np.argmin: _argmin,
    np.squeeze: _squeeze,
    np.expand_dims: _expand_dims,
    np.linalg.norm: _norm,
    np.ravel: _ravel,
}
"""numpy array function -> the engine's function, whose parameters are the numpy ones it
supports, by numpy's names (any other argument is refused, naming it)."""


def supported() -> list[str]:
    """The names of the numpy functions that work on nodes (`np.add`, `np.sum` ...)."""
    names = {f"np.{f.__name__}" for f in {**_table_ufuncs(), **UFUNCS}} | {
        f"np.{'linalg.' if f.__module__ == 'numpy.linalg' else ''}{f.__name__}" for f in FUNCTIONS
    }
    return sorted(names)


def _kind(x: Any) -> str:
    return f"a {type(x).__name__}"


def _refused(name: str, node: Any) -> TypeError:
    """The error for a numpy function the table does not have."""
    return TypeError(
        f"{name} on {_kind(node)}: not one of the numpy functions the engine records into "
        f"the graph, and computed on the plain numbers its result would get no gradient. "
        f"Use the node's methods ({suggested()}) or an Op of your own (docs/engine.md), or one of "
        f"{', '.join(supported())}; for the numbers outside the graph, pass x.data"
    )


_METHODS = {
    "reduce": "a reduction of a node is its method or numpy function: x.sum(axis), x.max(axis) "
    "or np.sum(x, axis), np.max(x, axis)",
    "accumulate": "running sums and products have no op: write them with indexing and sums, "
    "or an Op of your own (docs/engine.md)",
    "reduceat": "sums over slices are x[i:j].sum(axis) for each slice, stacked with np.stack",
    "outer": "an outer product is broadcasting: a[:, None] * b (np.multiply(a[:, None], b))",
    "at": "it writes into its first operand in place (a node is never changed so, and an "
    "array written so would hold numbers outside the graph): build the new values as a new "
    "node with np.where(mask, new, x) or indexing",
}
"""A ufunc method numpy can call (np.add.reduce ...) -> how to write it on nodes."""

_KEYWORDS = {
    "out": "the result is a new node, never written into an array (a = a + x, not a += x)",
    "where": "write np.where(mask, f(x), x), which records both branches",
    "dtype": "the result has the node's dtype (float64, or float32 for Tensor(..., "
    "dtype=np.float32))",
    "casting": "operands are converted by the engine's rules (numbers and arrays become "
    "constants of the node's dtype)",
    "order": "only numpy's default C order; F order's elements are reversed axes: "
    "x.transpose().reshape(shape[::-1]).transpose()",
    "subok": "the result is always a node",
    "signature": "the loop is chosen by the node's dtype",
    "axes": "move the axes with x.transpose(...) before np.matmul",
    "axis": "move the axes with x.transpose(...) before np.matmul",
    "keepdims": "reshape the result (x.reshape(...)) instead",
    "initial": "add the starting value to the result instead",
}
"""A keyword of numpy ufuncs or functions the engine does not take -> what to write."""


def _keywords(name: str, node: Any, given: list[str], takes: str) -> TypeError:
    """The error for keywords the engine does not take, each with what to write instead."""
    hints = "; ".join(
        f"{k}=: {_KEYWORDS.get(k, 'numpy has it, the engine does not')}" for k in given
    )
    return TypeError(
        f"{name}: {', '.join(f'{k}=' for k in given)} not taken with {_kind(node)}"
        f" ({takes}). {hints}"
    )


_SYMBOLS = {
    np.add: "+", np.subtract: "-", np.multiply: "*", np.true_divide: "/", np.power: "**",
    np.matmul: "@", np.floor_divide: "//", np.remainder: "%", np.divmod: "divmod",
    np.less: "<", np.less_equal: "<=", np.greater: ">", np.greater_equal: ">=",
    np.bitwise_and: "&", np.bitwise_or: "|", np.bitwise_xor: "^",
    np.left_shift: "<<", np.right_shift: ">>",
}  # fmt: skip
"""The two-operand ufuncs that numpy's operators call (`array ** v` is np.power(array, v),
and so is `v ** array` once the node's own operator declined the array)."""


def _named(ufunc: np.ufunc, inputs: tuple[Any, ...]) -> str:
    """How an error names a call of `ufunc` on `inputs` (no keywords: `a += t` gives out=):
    `np.exp`, and for one an operator makes, the operator too, `np.power (Value ** ndarray)`,
    since it is what the user wrote."""
    name = f"np.{ufunc.__name__}"
    symbol = _SYMBOLS.get(ufunc)
    if symbol is None or len(inputs) != 2:
        return name
    a, b = (type(x).__name__ for x in inputs)
    return f"{name} ({symbol}({a}, {b}))" if symbol == "divmod" else f"{name} ({a} {symbol} {b})"


def array_ufunc(self: Any, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
    """numpy's ufunc protocol: np.exp(x), np.add(a, x), array + x ... as the node's op."""
    name = f"np.{ufunc.__name__}"
    if method != "__call__":
        hint = _METHODS.get(method, "use the node's methods")
        raise TypeError(f"{name}.{method} on {_kind(self)} is not recorded into the graph: {hint}")
    if kwargs:
        raise _keywords(name, self, list(kwargs), "a ufunc takes only its operands")
    entry = UFUNCS.get(ufunc) or _table_ufuncs().get(ufunc)  # a row added since import
    if entry is None:
        raise _refused(_named(ufunc, inputs), self)
    found = entry(*inputs)
    if found is NotImplemented:
        kinds = " and ".join(type(x).__name__ for x in inputs)
        raise TypeError(
            f"{_named(ufunc, inputs)}: no op of the engine takes operands of types {kinds} (a "
            f"Value goes with numbers, a Tensor with numbers and arrays: Tensor(v.data) makes a "
            f"Tensor of a Value, a.item() a number of a one-element array a)"
        )
    return found


@functools.cache
def positional_parameters(func: Callable[..., Any]) -> tuple[str, ...]:
    """The names of func's parameters that can be passed by position, in order."""
    try:
        found = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # a function without a signature: keywords only
        return ()
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return tuple(p.name for p in found if p.kind in positional)


def array_function(
    self: Any,
    func: Callable[..., Any],
    types: tuple[type, ...],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """numpy's array function protocol: np.sum(t), np.reshape(t, ...) ... as the engine's
    function of the same name, or TypeError naming the function and the fix."""
    name = f"np.{getattr(func, '__name__', repr(func))}"
    entry = FUNCTIONS.get(func)
    if entry is None:
        raise _refused(name, self)
    names = positional_parameters(func)
    if len(args) > len(names):
        raise TypeError(f"{name}: takes at most {len(names)} positional arguments")
    given = dict(zip(names, args))
    given.update(kwargs)
    accepted = positional_parameters(entry)
    extra = [k for k in given if k not in accepted]
    if extra:
        takes = ", ".join(f"{k}=" for k in accepted[1:])
        raise _keywords(name, self, extra, f"it takes {takes or 'no keywords'}")
    try:
        inspect.signature(entry).bind(**given)
    except TypeError as e:  # a required argument left out: np.where(t)
        raise TypeError(f"{name}: {e}") from None
    return entry(**given)
