"""What every array node type (Tensor, Dual) shares below its methods: data in, gradients
shaped.

- `as_array`, `dtype_of`, `gradient_array`: user data as a float array, or a TypeError that
  says what is accepted;
- `broadcast` and `adapted`: an operand that numpy's broadcasting stretched gets its gradient
  summed back to its shape, and one that needs no gradient (a constant, `requires_grad=False`)
  gets none -- one place for every op and both node types;
- `unshared` and `index_of`: a leaf's data of its own, an index as arrays of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..validate import describe, masked_error, reals
from . import array_ops
from .node import Node, Op
from .op_rules import joined

__all__ = [
    "Array", "adapted", "as_array", "broadcast", "dtype_of", "gradient_array", "index_of",
    "masked_error", "setflags", "unshared",
]  # fmt: skip

Array = np.ndarray[Any, Any]
"""A numpy array of any shape and dtype."""
setflags: Any = np.ndarray.setflags
"""ndarray.setflags, called with write= by position: numpy parses keywords slowly (a third of
the call), and numpy's stubs take them by keyword only."""
_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def dtype_of(dtype: object, where: str) -> np.dtype[Any]:
    """dtype as float64 or float32, or TypeError naming `where`."""
    found: np.dtype[Any] | None
    try:
        like: Any = dtype  # numpy's stubs take DTypeLike; np.dtype itself checks (TypeError)
        found = np.dtype(like)
    except TypeError:
        found = None
    if found is None or found not in _DTYPES:
        raise TypeError(f"{where}: dtype must be np.float64 or np.float32, got {dtype!r}")
    return found


def as_array(
    data: object, where: str, dtype: np.dtype[Any] | None = None, copy: bool = True
) -> Array:
    """data as a float array (a new one if `copy`), or TypeError saying what is accepted."""
    accepted = "real numbers: bool, int or float, as numbers, numpy arrays or nested lists"
    if isinstance(data, Node):
        raise TypeError(
            f"{where}: got a {type(data).__name__}; a Tensor is made from numbers, not nodes "
            f"(use .data for the number(s), or .detach())"
        )
    if isinstance(data, np.ma.MaskedArray):
        masked_error(where, data)
    try:
        array = np.array(data, copy=copy or None)
    except (ValueError, TypeError) as e:  # ragged nested lists
        raise TypeError(f"{where}: data must be {accepted} of one shape; {e}") from None
    if array.dtype == object:  # ints beyond int64, Fractions: as a Value takes them
        try:
            array = reals(array, f"{where}: data")
        except TypeError as e:
            raise TypeError(f"{where}: data must be {accepted}; {e}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{where}: data must be {accepted}, got {describe(data)} (dtype {array.dtype})"
        )
    return array.astype(dtype or np.float64, copy=False)


def unshared(out: Array, datas: Sequence[Array]) -> Array:
    """out, or a copy of it if it shares memory with an operand's array (a transpose or a
    slice made under no_grad(), or an operand returned as it is): a leaf's data must not
    change when another node's does."""
    owner = out if out.base is None else out.base  # numpy's base is the array owning memory
    for d in datas:
        if owner is d or owner is d.base:
            return out.copy()
    return out


def gradient_array(gradient: object, data: Array) -> Array:
    """backward's `gradient` for an output holding `data`: an array of its shape and dtype."""
    g = as_array(gradient, "backward: gradient", data.dtype)
    if g.shape != data.shape:
        raise ValueError(
            f"backward: gradient has shape {g.shape}; it needs the output's shape {data.shape}"
        )
    return g


def broadcast(op: Op, datas: Sequence[Array], shape: tuple[int, ...]) -> bool:
    """Whether numpy's broadcasting stretched an operand, so that its gradient must be summed
    back: an elementwise op whose operands all broadcast to the result's shape and do not all
    have it, or a matmul (whose batch axes broadcast). Other ops' rules give each operand a
    gradient of its own shape (and were the guess wrong, summing back would change nothing)."""
    if op.base is array_ops.matmul_op:
        for d in datas:  # a loop, not any(): once per op made
            if d.ndim > 2:
                return True
        return False
    n = len(shape)
    stretched = False
    for d in datas:
        s = d.shape
        if s == shape:
            continue
        k = len(s)
        if k > n:
            return False  # not elementwise: the rule shapes each gradient itself
        if s != shape[n - k :]:  # (the last axes of the result, a bias's: stretched as it is)
            for a, b in zip(s, shape[n - k :]):  # a loop, not any(): once per op made
                if a != 1 and a != b:
                    return False
        stretched = True
    return stretched


def index_of(index: object) -> tuple[Any, ...]:
    """index as a tuple whose arrays are numpy arrays of their own (kept by the node)."""
    many = index if isinstance(index, tuple) else (index,)
    out: list[Any] = []
    for i in many:
        if type(i) is np.ndarray:  # the common case first: a plain array (no masked array)
            i = i.copy()
        else:
            if isinstance(i, Node):
                i = i._data
            if isinstance(i, (list, tuple, np.ndarray)):  # (a tuple within: a sequence)
                if isinstance(i, np.ma.MaskedArray):  # numpy would index by its masked numbers
                    masked_error("getitem: an index", i)
                sequence = not isinstance(i, np.ndarray)
                i = np.array(i)
                if sequence and not i.size:  # [] and [[]]: numpy's empty integer index
                    i = i.astype(np.intp)
            elif isinstance(i, np.bool_):  # numpy's True indexes as Python's (a new axis)
                i = bool(i)
            elif not (i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice))):
                raise IndexError(f"getitem: cannot index with {describe(i)}")
        if type(i) is np.ndarray:
            if i.dtype.kind not in "biu":
                raise IndexError(
                    f"getitem: array indices must be integers or booleans, got dtype {i.dtype}"
                )
            setflags(i, False)  # the node's own copy, read-only as Op's params are
        out.append(i)
    return tuple(out)


def adapted(op: Op, needs: tuple[bool, ...], broadcast: bool) -> Op:
    """op's rule for one node: shares only for operands that need them (None for others),
    each summed back to its operand's shape if broadcasting stretched it.

    Made once per op and kind of node, and kept on the op itself (`op.adaptations`); an op
    made for one call (where's mask, an index array) keeps none (`array_base.UNKEPT`): a
    copy naming it as `base` would make the two a reference cycle.
    """
    try:  # (a subscript, not .get: no method call on the path taken at every node after one)
        return op.adaptations[needs, broadcast]
    except KeyError:
        found = op.adaptations[needs, broadcast] = _adapt(op, needs, broadcast)
        return found


def _no_share(g: Any, out: Any, *xs: Any) -> None:
    """The part of an operand that needs no share: none."""


def _specialised(op: Op, rule: Callable[..., tuple[Any, ...]]) -> Op:
    """op with `rule`, the engine's adaptation of op's own rule: trusted if op is."""
    new = op.specialised(rule)
    new.trusted = op.trusted
    return new


def _adapt(op: Op, needs: tuple[bool, ...], broadcast: bool) -> Op:
    """What _adapted returns, made anew. The rules of two operands, the common case, are
    written out (and of three, with parts: `joined`): a comprehension costs a call and an
    iterator more at every rule run."""
    rule: Callable[..., tuple[Any, ...]] = op.vjp
    parts = op.parts
    if not all(needs):
        if parts is not None:  # only the parts of the operands that need a share run
            rule = joined([p if n else _no_share for p, n in zip(parts, needs)])
        else:
            whole = op.vjp

            def some_shares(g: Any, out: Any, *xs: Any) -> tuple[Any, ...]:
                return tuple([s if n else None for s, n in zip(whole(g, out, *xs), needs)])

            rule = some_shares

    if not broadcast:
        return _specialised(op, rule)
    inner = rule
    if len(needs) == 2:

        def summed_two(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
            sa, sb = inner(g, out, a, b)
            # each operand's shape read once (an array's .shape makes a new tuple)
            if sa is not None and getattr(sa, "shape", shape := a.shape) != shape:
                sa = array_ops.sum_to(sa, shape)
            if sb is not None and getattr(sb, "shape", shape := b.shape) != shape:
                sb = array_ops.sum_to(sb, shape)
            return sa, sb

        return _specialised(op, summed_two)

    def summed(g: Any, out: Any, *xs: Any) -> tuple[Any, ...]:
        return tuple(
            [
                s
                if s is None or getattr(s, "shape", x.shape) == x.shape
                else array_ops.sum_to(s, x.shape)
                for s, x in zip(inner(g, out, *xs), xs)
            ]
        )

    return _specialised(op, summed)
