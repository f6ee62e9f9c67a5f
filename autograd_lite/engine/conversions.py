"""How a node's number may leave the graph: one definition for every node type.

A node's number is in the graph; what Python or numpy computes from a plain copy of it is
not, and gets no gradient. So the conversions that would hand the number over without a word
(`float()`, which every `math.*` function, `'%f' %`, `np.float64()` and `struct` call, and
`int()`, `complex()`, `round()`, `math.floor()` ...) are refused with a TypeError that says
what to write instead, as JAX refuses `float()` of a traced value. What stays allowed is
asked for by name: `x.item()` and `x.data` for the number, `format(x, ".4f")` for text, and
`bool()` / `len()` / iteration, which follow numpy's rules for one element and for shapes.

`Conversions` holds these methods; `Value`, `Tensor` and `Dual` all inherit it. Its
`__array_ufunc__` and `__array_function__` hand numpy calls to numpy_protocol.py's table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import numpy as np

from . import numpy_protocol
from .array_ops import getitem
from .methods import suggested

__all__ = ["Conversions"]


def _refusal(what: str) -> Callable[..., NoReturn]:
    """A conversion method that refuses: `what` is how the user wrote it (`float()`)."""

    def refuse(self: Any, *args: Any) -> NoReturn:
        kind = type(self).__name__
        raise TypeError(
            f"{what} of a {kind} would take its number out of the graph, and nothing computed "
            f"from it would get a gradient (math.* functions and '%f' % x call float() too). "
            f"Stay in the graph with the node's methods ({suggested()}) or an Op "
            f"of your own (docs/engine.md); for the number itself, outside the graph, write "
            f"x.item() or x.data; for text, f'{{x:.4f}}'"
        )

    refuse.__doc__ = f"Refused: {what} would take the number out of the graph (a TypeError)."
    return refuse


def _one(node: Any, what: str) -> float:
    """The number of a one-element node, or ValueError: `what` needs one, as numpy's rule."""
    data = node._data
    if type(data) is float:
        return data
    if data.size != 1:
        raise ValueError(
            f"{what} of a {type(node).__name__} of {data.size} elements (shape {data.shape}) "
            f"is ambiguous: it needs exactly one; x.data holds the numbers (x.data.any() and "
            f"x.data.all() give a truth value)"
        )
    return float(data.reshape(()))


class Conversions:
    """The ways out of the graph of every node type: refused, or explicit (see the module)."""

    __slots__ = ()
    _data: Any

    __float__ = _refusal("float()")
    __int__ = _refusal("int()")
    __index__ = _refusal("using it as an int (an index, range(), operator.index)")
    __complex__ = _refusal("complex()")
    __round__ = _refusal("round()")
    __trunc__ = _refusal("math.trunc()")
    __floor__ = _refusal("math.floor()")
    __ceil__ = _refusal("math.ceil()")

    __array_ufunc__ = numpy_protocol.array_ufunc
    __array_function__ = numpy_protocol.array_function

    def item(self) -> float:
        """The number of a one-element node, as a Python float, outside the graph
        (ValueError for more elements)."""
        return _one(self, "item()")

    def __bool__(self) -> bool:
        """Truth of the number of a one-element node (as numpy and PyTorch); ValueError for
        more elements or none."""
        return bool(_one(self, "the truth value"))

    def __format__(self, spec: str) -> str:
        """format(x, ".4f") and f"{x:.4f}": the number of a one-element node as text; an
        empty spec gives str(x)."""
        if not spec:
            return str(self)
        where = f"format(x, {spec!r})"
        number = _one(self, where)
        try:
            return format(number, spec)
        except ValueError as error:  # float's message names float, not the node's type
            raise ValueError(
                f"{where} of a {type(self).__name__}: {error}; its number is a float, so the "
                f"spec must be a float's (e.g. '.4f', 'g', 'e')"
            ) from None

    def __len__(self) -> int:
        """The length of the first axis; TypeError for a node of one number (0-d)."""
        shape = np.shape(self._data)
        if not shape:
            raise TypeError(
                f"len() of a 0-d {type(self).__name__}: it holds one number and has no length"
            )
        return int(shape[0])

    def __iter__(self) -> Iterator[Any]:
        """The elements along the first axis, each a node in the graph; TypeError for 0-d."""
        shape = np.shape(self._data)
        if not shape:  # else iter() would fall back on x[0], x[1] ... and stop at the error
            raise TypeError(f"iteration over a 0-d {type(self).__name__}")
        return (getitem(self, (i,)) for i in range(shape[0]))
