"""`Dual`, the forward-mode node type: a primal (a number or an array) and a tangent of its shape.

An op applied to Duals computes the primal with the op's forward function, as Value and Tensor
do, checks the domain, records a node, and carries the tangent forward: the tangent of the
result is the op's Jacobian times the operands' tangents (`tangent_of`). That needs no second
copy of a derivative for an elementwise op: its one rule, vjp, is linear in g and its Jacobian
is diagonal, so the tangent is the sum over operands of vjp(tangent, out, *xs)[i]. An op whose
Jacobian is not diagonal (a matmul, a reduction) has a forward rule of its own, `Op.jvp`.

Because a Dual records its graph like the other node types, a backward pass runs on Duals too:
`grad(..., create_graph=True)` then runs every derivative rule on Duals, and the tangent of
each gradient is the Hessian times the input tangents (forward over reverse).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..validate import describe, is_real, real, text
from . import array_node
from .array_node import ArrayNode, made
from .arrays import adapted, as_array, broadcast, unshared
from .data_view import view_of
from .grad_mode import MODE
from .node import CONSTANT, LEAF, Node, Op, mixing_error

__all__ = ["Dual", "tangent_of"]


class Dual(ArrayNode):
    """A number or an array (the primal) with a tangent of its shape, in a computation graph.

    `Dual(primal, tangent=None, label=None)`: `primal` is a real number (a scalar Dual, like
    a Value) or anything numpy turns into real numbers (an array Dual, like a Tensor: float64,
    or float32 for a float32 array); `tangent` has the primal's shape (None: zero). Every op,
    and the operators and math, shape and reduction methods of Value and Tensor, work on Duals
    and give a Dual whose `tangent` is the derivative of its `data` along the tangents of the
    inputs: one forward pass gives one directional derivative (`jvp` wraps this). Numbers and
    arrays mixed in are constants (tangent 0). Duals record their graph, so `grad` runs on
    them too.

    >>> from autograd_lite import Dual
    >>> x, y = Dual(2.0, tangent=1.0), Dual(3.0)   # d/dx, at x = 2, y = 3
    >>> f = x * x * y + y
    >>> f.data, f.tangent   # x² y + y = 15; d/dx = 2xy = 12
    (15.0, 12.0)
    """

    __slots__ = ()

    _carry: Any  # the tangent: a float or an array of the primal's shape; None for zero

    def __init__(self, primal: object, tangent: object = None, label: str | None = None) -> None:
        if isinstance(primal, Node):
            raise TypeError(
                f"Dual: got a {type(primal).__name__} as primal; a Dual is made from numbers "
                f"(use .data)"
            )
        if is_real(primal) and not isinstance(primal, np.ndarray):
            data: Any = real(primal, "Dual")
        else:
            kind = primal.dtype if isinstance(primal, np.ndarray) else None
            data = as_array(primal, "Dual", kind if kind == np.float32 else None)
        label = label if label is None else text(label, "Dual: label", optional=True)
        carry = _tangent_like(tangent, data, "Dual: tangent")
        array_node.made(type(self), data, LEAF, None, None, carry, MODE.get().scope, label, self)

    # -- what it holds ----------------------------------------------------------------------
    @property
    def data(self) -> Any:
        """The primal: a float, or a read-only view of its array (`DataView`). It cannot
        be assigned, nor written into (its tangent and the tangents computed from it would
        no longer fit it): make a new Dual."""
        data = self._data
        return data if type(data) is float else view_of(self, False)

    @data.setter
    def data(self, value: object) -> None:
        raise TypeError(
            "Dual.data: a Dual's primal cannot be assigned (its tangent would not fit it): "
            "make a new Dual, Dual(new_primal, tangent)"
        )

    @property
    def tangent(self) -> Any:
        """The derivative of `data` along the input tangents (0.0 or zeros when none reach
        it): a float, or an array of the primal's shape, read-only (the tangent of a reshape
        or a slice is a view of its input's: a write into it would change both)."""
        t = self._carry
        if t is None:
            return 0.0 if type(self._data) is float else np.zeros_like(self._data)
        if isinstance(t, np.ndarray):
            t = t.view()
            t.setflags(write=False)
        return t

    @property
    def shape(self) -> tuple[int, ...]:
        """The primal's shape (() for a number)."""
        return np.shape(self._data)

    @property
    def ndim(self) -> int:
        """The primal's number of dimensions (0 for a number)."""
        return np.ndim(self._data)

    @property
    def size(self) -> int:
        """The primal's number of elements (1 for a number)."""
        return int(np.size(self._data))

    @property
    def dtype(self) -> np.dtype[Any]:
        """The primal's dtype (float64 for a number)."""
        return np.result_type(self._data)

    def __repr__(self) -> str:
        def shown(x: Any) -> str:
            if type(x) is float:
                return repr(x)
            if x.size > 12:
                return f"<shape {x.shape}>"
            return np.array2string(x, separator=", ", precision=6)

        label = "" if self._label is None else f", label={self._label!r}"
        return f"Dual({shown(self._data)}, tangent={shown(self.tangent)}{label})"

    # The operators and methods (+, @, exp, sum, reshape, [ ] ...) are ArrayNode's, from the
    # method table, as for a Tensor: they apply ops, whose results on Duals are Duals.

    # -- the Node hooks: what a Dual's gradient is ------------------------------------------

    @classmethod
    def _apply(cls, op: Op, operands: tuple[Any, ...]) -> Dual:
        """op on operands (Duals, numbers, arrays) as a new Dual, checked first."""
        datas, tangents = _operands(op, operands)
        arrays = type(datas[0]) is not float
        check = op.array_check if arrays else op.check
        if check is not None:
            check(*datas)
        try:
            out = (op.array_forward if arrays else op.forward)(*datas)
        except ValueError as e:  # shapes that do not broadcast or multiply
            shapes = " and ".join(str(np.shape(d)) for d in datas)
            raise ValueError(f"{op.name}: operands of shapes {shapes} do not fit: {e}") from None
        if arrays:
            dtype = datas[0].dtype
            if type(out) is not np.ndarray or out.dtype != dtype:
                out = as_array(out, f"{op.name}: the result of forward", dtype, False)
            if not all(type(x) is Dual for x in operands):  # a caller's array returned (or a
                out = unshared(out, datas)  # view of it): a copy, as for a Tensor
        elif type(out) is not float:
            out = real(out, f"{op.name}: the result of forward")
        tangent = tangent_of(op, tangents, out, datas)
        mode = MODE.get()
        if not mode.grad_enabled:
            return made(Dual, out, LEAF, None, None, tangent, mode.scope)
        nodes = [x if type(x) is Dual else Dual._constant_of(x, d) for x, d in zip(operands, datas)]
        needs = tuple(type(x) is Dual and x._op is not CONSTANT for x in operands)
        stretched = arrays and broadcast(op, datas, out.shape)
        if stretched or not all(needs):  # as a Tensor: shares summed back, none for constants
            op = adapted(op, needs, stretched)
        if len(nodes) > 2:
            return made(Dual, out, op, tuple(nodes), None, tangent, mode.scope)
        second = nodes[1] if len(nodes) == 2 else None
        return made(Dual, out, op, nodes[0], second, tangent, mode.scope)


def leaf(data: Any, tangent: object, label: str | None = None) -> Dual:
    """A Dual leaf holding `data` as it is (a float, or an array whose dtype is kept) with
    `tangent` (checked: the data's shape; None for zero)."""
    carry = _tangent_like(tangent, data, "Dual: tangent")
    return made(Dual, data, LEAF, None, None, carry, MODE.get().scope, label)


def _tangent_like(tangent: object, data: Any, where: str) -> Any:
    """tangent as a float (for a number) or an array of data's shape and dtype; None stays."""
    if tangent is None:
        return None
    if isinstance(tangent, Node):
        raise TypeError(f"{where}: must be numbers or an array, got a {type(tangent).__name__}")
    if type(data) is float:
        return real(tangent, where)
    found = as_array(tangent, where, data.dtype)
    if found.shape != data.shape:
        raise ValueError(
            f"{where}: has shape {found.shape}; it needs the primal's shape {data.shape}"
        )
    return found


def _operands(op: Op, operands: tuple[Any, ...]) -> tuple[list[Any], tuple[Any, ...]]:
    """The operands' data (floats, or arrays of one dtype) and tangents (None for constants),
    or TypeError for operands that do not go together."""
    duals = []
    for x in operands:
        if type(x) is Dual:
            duals.append(x)
        elif isinstance(x, Node):
            raise mixing_error(op, "Dual", x)
    scalar = [type(d._data) is float for d in duals]
    if all(scalar) and not any(isinstance(x, np.ndarray) for x in operands):
        datas = [x._data if type(x) is Dual else real(x, op.name) for x in operands]
        return datas, tuple(x._carry if type(x) is Dual else None for x in operands)
    if any(scalar):
        raise TypeError(
            f"{op.name}: cannot mix a scalar Dual with arrays; make it an array Dual: "
            f"Dual(np.array(x), tangent)"
        )
    dtype = np.result_type(*[d._data for d in duals])
    datas = [
        x._data.astype(dtype, copy=False)
        if type(x) is Dual
        else as_array(x, f"{op.name}: operand", dtype, False)
        for x in operands
    ]
    tangents = tuple(
        None if type(x) is not Dual or x._carry is None else x._carry.astype(dtype, copy=False)
        for x in operands
    )
    return datas, tangents


def tangent_of(op: Op, tangents: Sequence[Any], out: Any, xs: Sequence[Any]) -> Any:
    """The tangent of op's result `out` at operands `xs` (floats or arrays) whose tangents
    are `tangents` (None for zero): the op's Jacobian times the tangents. None if every
    tangent is None.

    From the op's `jvp` rule if it has one; else from its `vjp`, which is right for an
    elementwise op (on numbers every op is one); else a TypeError saying what to add.
    """
    if all(t is None for t in tangents):
        return None
    base = op.base
    rule = base.jvp
    scalar = type(out) is float
    if callable(rule):
        found = rule(tuple(tangents), out, *xs)
    elif scalar or rule == "elementwise":
        found = _from_vjp(base, tangents, out, xs)
    else:
        raise TypeError(
            f"{base.name}: forward mode on arrays needs this op's forward rule: give "
            f"Op({base.name!r}, ..., jvp=rule), rule(tangents, out, *xs) returning the "
            f"tangent of the result, or jvp='elementwise' if each element of the result "
            f"depends only on the same element of each operand (docs/forward.md)"
        )
    where = f"the forward rule of {base!r}"
    if found is None or isinstance(found, Node):
        raise TypeError(f"{where} returned {describe(found)}; it must return numbers or an array")
    if scalar:
        return real(found, where)
    found = as_array(found, where, out.dtype, copy=False)
    if found.shape != out.shape:
        raise ValueError(
            f"{where} gave a tangent of shape {found.shape} for a result of shape {out.shape}"
        )
    return found if found.flags.writeable else found.copy()  # not a view of a broadcast


def _from_vjp(op: Op, tangents: Sequence[Any], out: Any, xs: Sequence[Any]) -> Any:
    """sum over operands i of vjp(t_i, out, *xs)[i]: the tangent of an elementwise op. Its
    Jacobian is diagonal (after broadcasting), so J t = Jᵀ t, and vjp is linear in g. Each
    tangent is broadcast as the forward broadcast its operand, and so is each share (a
    rule may return a constant)."""
    shape = None if type(out) is float else out.shape
    parts = op.parts
    total: Any = None
    for i, t in enumerate(tangents):
        if t is None:
            continue
        if shape is not None:
            t = np.broadcast_to(t, shape)
        share = parts[i](t, out, *xs) if parts is not None else op.vjp(t, out, *xs)[i]
        if shape is not None:
            share = np.broadcast_to(share, shape)
        total = share if total is None else total + share
    return total
