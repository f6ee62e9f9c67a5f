"""Array ops that move elements: shapes, indexing and joining.

Each op is a forward function and one derivative rule written with these ops (array_ops.py
says more); an op with parameters is made by a cached factory, one `Op` per value.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from .array_base import UNKEPT, add_reduce, closed_op, data_of
from .node import Node, Op

__all__ = [
    "broadcast_to", "concatenate", "getitem", "reshape", "scatter", "stack", "sum_to", "transpose",
    "transpose_op",
]  # fmt: skip


# -- shapes ---------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1024)
def _reshape(shape: tuple[int, ...]) -> Op:
    return closed_op(
        "reshape",
        {"shape": shape},
        lambda x: np.reshape(x, shape),
        lambda g, out, x: (reshape(g, x.shape),),
        display=f"reshape{shape if len(shape) != 1 else f'({shape[0]})'}",
        jvp=lambda ts, out, x: reshape(ts[0], shape),
    )


def reshape(x: Any, shape: tuple[int, ...]) -> Any:
    """x with a new shape of the same size (no -1 here: Tensor.reshape resolves it)."""
    if type(x) is np.ndarray:  # a rule on arrays: the op's forward, without the op's call
        return x.reshape(shape)  # (what np.reshape calls)
    return _reshape(tuple(shape))(x)


@functools.lru_cache(maxsize=1024)
def _transpose(axes: tuple[int, ...]) -> Op:
    inverse = tuple(int(i) for i in np.argsort(axes))
    return closed_op(
        "transpose",
        {"axes": axes},
        lambda x: x.transpose(axes),  # (what np.transpose calls, without its wrapper)
        lambda g, out, x: (transpose(g, inverse),),
        jvp=lambda ts, out, x: transpose(ts[0], axes),
    )


def transpose_op(axes: tuple[int, ...]) -> Op:
    """The op that permutes the axes so (one per order, kept)."""
    return _transpose(tuple(axes))


def transpose(x: Any, axes: tuple[int, ...]) -> Any:
    """x with its axes permuted (np.transpose)."""
    if type(x) is np.ndarray:  # a rule on arrays: the op's forward, without the op's call
        return x.transpose(axes)  # (what np.transpose calls)
    return _transpose(tuple(axes))(x)


@functools.lru_cache(maxsize=1024)
def _broadcast_to(shape: tuple[int, ...]) -> Op:
    return closed_op(
        "broadcast_to",
        {"shape": shape},
        lambda x: np.broadcast_to(x, shape),
        lambda g, out, x: (sum_to(g, x.shape),),
        jvp=lambda ts, out, x: broadcast_to(ts[0], shape),
    )


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    """x repeated along new leading axes and axes of length 1 (np.broadcast_to)."""
    if type(x) is np.ndarray:  # a rule on arrays: the op's forward, without the op's call
        return np.broadcast_to(x, shape)
    return _broadcast_to(tuple(shape))(x)


def _sum_to_array(x: Any, shape: tuple[int, ...]) -> Any:
    lead = x.ndim - len(shape)
    if lead and shape and x.shape[lead:] == shape:  # only leading axes (a bias): no search
        # (the same sums; the axes by position: numpy parses keywords slowly)
        return add_reduce(x, 0 if lead == 1 else tuple(range(lead)))
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1
    )
    summed = add_reduce(x, axes, None, None, True) if axes else x  # (keepdims=True)
    return summed.reshape(shape)


@functools.lru_cache(maxsize=1024)
def _sum_to(shape: tuple[int, ...]) -> Op:
    return closed_op(
        "sum_to",
        {"shape": shape},
        lambda x: _sum_to_array(x, shape),
        lambda g, out, x: (broadcast_to(g, x.shape),),
        jvp=lambda ts, out, x: sum_to(ts[0], shape),
    )


def sum_to(x: Any, shape: tuple[int, ...]) -> Any:
    """x summed over the axes that broadcasting added or stretched, back to `shape`: the
    gradient of an operand that was broadcast (broadcast_to's derivative)."""
    if type(x) is np.ndarray:  # a rule on arrays: the op's forward, without the op's call
        return _sum_to_array(x, tuple(shape))
    return _sum_to(tuple(shape))(x)


# -- indexing ---------------------------------------------------------------------------------
def _is_basic(index: tuple[Any, ...]) -> bool:
    """Only ints, slices, None and Ellipsis: each element is picked at most once."""
    for i in index:  # a loop, not all() over a generator: a getitem's every call
        if type(i) is np.ndarray or not (
            i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice))
        ):
            return False
    return True


@functools.lru_cache(maxsize=64)
def _dtype_text(dtype: np.dtype[Any]) -> str:
    """str(dtype), kept: numpy formats a dtype in Python, a few µs for each getitem made."""
    return str(dtype)


def _show_index(index: tuple[Any, ...]) -> str:
    def one(i: Any) -> str:
        if isinstance(i, slice):
            parts = ["" if v is None else str(v) for v in (i.start, i.stop, i.step)]
            return ":".join(parts[:2] if i.step is None else parts)
        if i is Ellipsis:
            return "..."
        if isinstance(i, np.ndarray):
            return f"<{_dtype_text(i.dtype)} array {i.shape}>" if i.size > 4 else str(i.tolist())
        return repr(i)

    return "[" + ", ".join(one(i) for i in index) + "]"


def _scatter_array(
    g: Any, index: tuple[Any, ...], shape: tuple[int, ...], basic: bool | None = None
) -> Any:
    """scatter on an array g (`basic`: whether the index is, found here if not given)."""
    out = np.zeros(shape, dtype=g.dtype)
    if _is_basic(index) if basic is None else basic:
        out[index] = g
    else:  # repeated indices add up
        np.add.at(out, index, g)
    return out


class _IndexOp(Op):
    """The op of one index (getitem's or scatter's), made at each call: without Op's checks
    (its functions are the ones below), its display written only when something reads it (a
    drawing, an error message), as closed_op would have written it."""

    __slots__ = ("_shown",)
    _shown: str | None

    @property
    def display(self) -> str:
        """`[index]` for getitem, `scatter[index]` for scatter."""
        if self._shown is None:
            shown = _show_index(self.params["index"])
            self._shown = shown if self.name == "getitem" else f"{self.name}{shown}"
        return self._shown

    @display.setter
    def display(self, text: str) -> None:
        self._shown = text


def _index_op(name: str, params: dict[str, Any], forward: Any, vjp: Any, jvp: Any) -> Op:
    """The _IndexOp `name` with these parameters and functions (their rules close over them)."""
    op = object.__new__(_IndexOp)
    op.name, op.adaptations, op.params = name, UNKEPT, MappingProxyType(params)
    op.forward = op.array_forward = forward
    op.vjp, op.jvp, op.fresh, op._shown = vjp, jvp, False, None
    op.parts = op.check = op.array_check = op.emit = op.vjp_into = None
    op.trusted = True  # the engine's own rules (node.trusted)
    return op


def _picked(x: Any, index: tuple[Any, ...]) -> Any:
    """x[index], any error numpy raises for the index an IndexError (a slice step of 0 is a
    ValueError in numpy), which Tensor.__getitem__ words with the index and the shape."""
    try:
        return x[index]
    except (TypeError, ValueError) as e:
        raise IndexError(str(e)) from None


def getitem(x: Any, index: tuple[Any, ...]) -> Any:
    """x[index] for basic and integer-array (or boolean) indexing; `index` is a tuple whose
    arrays are numpy arrays the node keeps as a parameter."""
    basic = _is_basic(index)
    op = _index_op(
        "getitem",
        {"index": index},
        lambda x: _picked(x, index),
        lambda g, out, x: (_scatter(g, index, x.shape, basic),),
        lambda ts, out, x: getitem(ts[0], index),
    )
    return x._apply(op, (x,)) if isinstance(x, Node) else op(x)  # a node applies it: no search


def scatter(g: Any, index: tuple[Any, ...], shape: tuple[int, ...]) -> Any:
    """An array of `shape`, zero but for g added at `index` (repeated indices add): the
    derivative of `getitem`."""
    return _scatter(g, index, shape, _is_basic(index))


def _scatter(g: Any, index: tuple[Any, ...], shape: tuple[int, ...], basic: bool) -> Any:
    """scatter, told whether the index is basic (each element picked at most once)."""
    if type(g) is np.ndarray:  # on arrays: the function itself (an op per call costs more)
        return _scatter_array(g, index, shape, basic)
    op = _index_op(
        "scatter",
        {"index": index, "shape": shape},
        lambda g: _scatter_array(g, index, shape),  # (generated code writes this call)
        lambda gg, out, g: (getitem(gg, index),),
        lambda ts, out, g: _scatter(ts[0], index, shape, basic),
    )
    return op(g)


# -- joining ----------------------------------------------------------------------------------
def _filled(tangents: tuple[Any, ...], xs: tuple[Any, ...]) -> list[Any]:
    """The tangents, with zeros of its operand's shape for each None (a constant)."""
    return [
        np.zeros(np.shape(data_of(x)), np.result_type(data_of(x))) if t is None else t
        for t, x in zip(tangents, xs)
    ]


def _shares(kind: str, axis: int, g: Any, xs: tuple[Any, ...]) -> tuple[Any, ...]:
    """Each operand's share of g, the gradient of the joined array: its slice of the axis
    (concatenate), or its index along the new axis (stack)."""
    lead = (slice(None),) * axis
    if kind == "stack":
        return tuple(getitem(g, (*lead, i)) for i in range(len(xs)))
    shares, start = [], 0
    for x in xs:
        stop = start + x.shape[axis]
        shares.append(getitem(g, (*lead, slice(start, stop))))
        start = stop
    return tuple(shares)


@functools.lru_cache(maxsize=1024)
def _joining(kind: str, axis: int) -> Op:
    join = np.stack if kind == "stack" else np.concatenate
    return closed_op(
        kind,
        {"axis": axis},
        lambda *xs: join(xs, axis=axis),
        lambda g, out, *xs: _shares(kind, axis, g, xs),
        jvp=lambda ts, out, *xs: _joining(kind, axis)(*_filled(ts, xs)),
        emit=lambda *xs: f"np.{kind}(({', '.join(xs)},), axis={axis!r})",
    )


def concatenate(xs: Sequence[Any], axis: int) -> Any:
    """The arrays joined along an existing axis (np.concatenate; `axis` non-negative)."""
    return _joining("concatenate", axis)(*xs)


def stack(xs: Sequence[Any], axis: int) -> Any:
    """The arrays joined along a new axis (np.stack; `axis` non-negative)."""
    return _joining("stack", axis)(*xs)
