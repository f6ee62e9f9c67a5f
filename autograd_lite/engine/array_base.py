"""What the array ops share: an op whose functions close over its parameters, the data of an
operand, and the shape helpers of reductions. The ops themselves are in shape_ops.py,
reductions.py and array_ops.py."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from .node import Node, Op, trusted

__all__ = [
    "UNKEPT",
    "Axis",
    "add_reduce",
    "closed_op",
    "data_of",
    "kept_shape",
    "max_reduce",
    "min_reduce",
    "mul_reduce",
    "quiet",
    "remade",
    "summed_jvp",
]


def quiet(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A numpy forward without warnings: inf and nan are results here, as with floats."""

    @functools.wraps(fn)
    def forward(*xs: Any, **params: Any) -> Any:
        with np.errstate(all="ignore"):
            return fn(*xs, **params)

    return forward


# The ufuncs' reduce, not np.sum / np.max: those add a Python wrapper (2 us a call).
add_reduce: Any = np.add.reduce
max_reduce: Any = np.maximum.reduce
min_reduce: Any = np.minimum.reduce
mul_reduce: Any = np.multiply.reduce

Axis = tuple[int, ...] | None
"""Axes as non-negative ints, or None for all."""


class _Unkept(dict[Any, Op]):
    """Where an op made for one call keeps its adaptations: nowhere (an assignment keeps
    nothing), so that `arrays.adapted` makes one each time the op is applied (once, but for
    a replay). A copy kept would name the op as its `base`: a reference cycle, which only
    the cyclic garbage collector would free, with everything the op's functions hold."""

    def __setitem__(self, key: Any, value: Op) -> None:
        pass

    def setdefault(self, key: Any, default: Op) -> Op:
        return default  # (shared by every such op: nothing may be kept by any route)

    def update(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __getitem__(self, key: Any) -> Op:
        raise KeyError(key)  # whatever a route past the above kept (dict's |=) is never found


UNKEPT: dict[Any, Op] = _Unkept()
"""The `adaptations` of every op made for one call (cross_entropy's, getitem's, where's)."""


def closed_op(
    name: str,
    params: dict[str, Any],
    forward: Callable[..., Any],
    vjp: Callable[..., tuple[Any, ...]] | None = None,
    *,
    parts: Sequence[Callable[..., Any]] | None = None,
    display: str | None = None,
    jvp: Callable[..., Any] | str | None = None,
    emit: Callable[..., str] | None = None,
    array_check: Callable[..., None] | None = None,
    once: bool = False,
) -> Op:
    """An op whose functions close over its parameters (faster than Op's params=, which
    passes them as keywords on every call), with the parameters kept as data; `once`: made
    for one call, its adaptations not kept (`UNKEPT`)."""
    if display is None:
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items() if v is not None)
        display = f"{name}({shown})" if shown else name
    op = Op(
        name, forward, vjp, parts=parts, check_returns=False, display=display, jvp=jvp,
        emit=emit, array_check=array_check,
    )  # fmt: skip
    trusted(op)
    for value in params.values():  # its callers' own copies (where's mask, pow's exponent):
        if type(value) is np.ndarray:  # read-only, as Op's params are (op_params.frozen), so
            value.setflags(write=False)  # that `op.params[...][0] = 1` cannot change a rule
    op.params = MappingProxyType(params)
    if once:
        op.adaptations = UNKEPT
    return op


def remade(
    op: Op,
    *,
    forward: Callable[..., Any],
    vjp: Callable[..., tuple[Any, ...]],
    array_check: Callable[..., None] | None,
    params: Mapping[str, Any],
) -> Op:
    """A new op like `op` (its own `base`, its adaptations `UNKEPT`) whose forward (on numbers and
    arrays alike), whole rule (as `vjp` holds it: no parts, no vjp_into), domain check on
    arrays and params are these, made without Op's checks, which cost more than the rest of
    an op made at every call from one checked once (cross_entropy's, whose functions close
    over a call's labels). Every slot is written out: a loop of getattr and setattr over
    `Op.__slots__` cost twenty times as much (tests/test_nn_cross_entropy.py checks that
    none is left out)."""
    new: Op = object.__new__(Op)
    new.name, new.display, new.emit, new.jvp = op.name, op.display, op.emit, op.jvp
    new.forward = new.array_forward = forward
    new.vjp, new.parts, new.vjp_into, new.fresh = vjp, None, None, op.fresh  # `vjp`: the rule
    new.check, new.array_check, new.params = op.check, array_check, params
    new.trusted = op.trusted
    new.adaptations = UNKEPT
    return new


def data_of(x: Any) -> Any:
    """The array of a Tensor (rules read data for masks, which are constants), or x."""
    return x._data if isinstance(x, Node) else x


def summed_jvp(*terms: Callable[..., Any]) -> Callable[..., Any]:
    """A jvp rule from one linear term per operand: the sum of `term(t, out, *xs)` over the
    operands whose tangent t is not None (is not zero)."""

    def jvp(tangents: tuple[Any, ...], out: Any, *xs: Any) -> Any:
        total = None
        for term, t in zip(terms, tangents):
            if t is not None:
                total = term(t, out, *xs) if total is None else total + term(t, out, *xs)
        return total

    return jvp


def kept_shape(shape: tuple[int, ...], axis: Axis) -> tuple[int, ...]:
    """shape with each reduced axis kept as 1 (what keepdims=True gives)."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))
