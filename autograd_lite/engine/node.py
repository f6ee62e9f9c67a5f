"""What every node of a graph offers, and `Op`, the one way a node is made.

`Node` holds the fields the walk (backward.py) and the drawings read: the data, the
accumulated `grad`, the `Op` that made the node and its operands, a label and the `scope`
blocks it was made in. A node type (`Value` for scalars) builds on it and says what its data
and gradients are. `Op` is an operation: a forward function per kind of data, one derivative
rule, a domain check and its parameters as data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, NoReturn, SupportsIndex, TypeVar

import numpy as np

from ..validate import describe, plain_array, real, text
from . import copying as _copying
from .grad_mode import ScopeBlock
from .op_params import bind, frozen
from .op_rules import checked, counted, joined

__all__ = ["DomainError", "Node", "Op", "ReleasedGraphError", "StaleDataError"]

if TYPE_CHECKING:  # a default (PEP 696) for type checkers: a bare `Node` is `Node[Any]`
    from typing_extensions import TypeVar as DefaultingTypeVar

    D = DefaultingTypeVar("D", default=Any)
else:  # at run time typing's TypeVar is enough (typing_extensions is not a dependency)
    D = TypeVar("D")
"""The kind of data a node holds: float for a Value, a numpy array for a Tensor."""

_N = TypeVar("_N", bound="Node")


class DomainError(ValueError):
    """An op was applied outside its domain (log of x <= 0, division by zero, ...).

    Raised before any node is created; the message names the op and the offending values.
    """


class StaleDataError(RuntimeError):
    """A node's data was changed after the graph used it (see `Node` on write stamps).

    Raised by every walk that would use the recorded values (backward, grad, hessian, the
    forward-mode replay, the step table and page, generated code) before it computes
    anything; the message names the node and the op that used it.
    """


class ReleasedGraphError(RuntimeError):
    """Walking a graph again (a second backward, grad, a drawing, compile_grad ...) or
    reading an op node's `.operands` after `backward(retain_graph=False)` let it go
    (release.py; docs/tensors.md, "Memory")."""


RELEASED_STAMP = 1 << 62
"""The write stamp of an op node whose graph was let go (release.py): later than any write
(the clock never gets there), so every walk that reaches it stops at the stale-data check,
which tells it from a changed node by this value."""


def released_error(node: Node, doing: str) -> NoReturn:
    """The error for `doing` (a walk, or reading `.operands`) at `node`, which
    `backward(retain_graph=False)` let go: its links to its operands are gone."""
    kind = type(node).__name__
    name = f"{kind} {node._label!r}" if node._label is not None else f"a {kind}"
    raise ReleasedGraphError(
        f"{doing}: the graph of {name} (the result of {node._op.base.display!r}) was let go "
        f"by backward(retain_graph=False), which keeps each {kind}'s data but not the links "
        f"between them: run the forward pass again (or call backward(), which keeps the graph, "
        f"where it is walked again)"
    )


CLOCK = [0]
"""The write clock: it ticks at every assignment to a node's data (the one list cell, so
that the hot paths read it without a function call)."""


def stamp_write(node: Node, requires_grad: bool = False) -> None:
    """Record that `node`'s data (`requires_grad`: its requires_grad, an odd stamp) was just
    written: tick the clock and stamp the node, so ops made before that used it are stale."""
    now = CLOCK[0] + 1
    CLOCK[0] = now = now + (now % 2 != requires_grad)
    node._stamp = now


class Node(Generic[D]):
    """A node of a computation graph: what the walk, the drawings and every node type share.

    Node types subclass it and fill in the hooks at the bottom (what a gradient seed, a zero
    gradient and a valid gradient are for their data, and how an op makes a node of theirs).
    Node is generic in its data, so that type checkers see it: `Value(Node[float])`,
    `Tensor(Node[Array])`; a bare `Node` is a node of any data.
    Operands are kept in two slots, not a tuple: one GC-tracked object per node instead of
    two, which is 56 bytes less memory and much less garbage-collector work on large graphs.
    One and two operands fill `_a` and `_b`; an op of three or more puts the tuple of all its
    operands in `_a` (and None in `_b`), so that two-operand nodes, the most common, are told
    apart by `_b` alone.

    Write stamps: `_stamp` is the write clock's value (`CLOCK`) when the node's data was
    written: when it was made (by an op, or as a leaf), or, for a leaf, when its `.data` was
    last assigned (`stamp_write` ticks the clock first). So an op node is stale exactly when
    one of its operands has a later stamp than itself: that operand's data changed after the
    op used it, and a walk would mix old and new values. `backward.check_unchanged` raises
    `StaleDataError` then. Making a node costs one store; the walks compare stamps on the
    pass over the graph they already make.
    """

    __slots__ = ("_a", "_b", "_data", "_grad", "_label", "_op", "_scope", "_stamp")

    _a: Any  # the first operand (a Node); None for leaves; a tuple of all of three or more
    _b: Node | None  # the second operand of a two-operand op, else None
    _op: Op  # LEAF for inputs and parameters; CONSTANT for numbers mixed into an expression
    _data: D
    _label: str | None
    _scope: tuple[ScopeBlock, ...]
    _grad: Any
    _stamp: int  # the write clock when the data was written (see above)

    @property
    def data(self) -> D:
        """What this node holds (a float for a Value)."""
        return self._data

    # -- what made this node (read-only) ---------------------------------------------------
    @property
    def op(self) -> Op | None:
        """The `Op` that made this node (`.op.name` is e.g. "*" or "sigmoid"); None for leaves."""
        op = self._op
        return None if op is LEAF or op is CONSTANT else op.base

    @property
    def operands(self) -> tuple[Node, ...]:
        """The nodes this one was computed from, in operand order; () for leaves;
        `ReleasedGraphError` once `backward(retain_graph=False)` let this op node go."""
        a, b = self._a, self._b
        if a is None:
            return ()
        if b is not None:
            return (a, b)
        if type(a) is tuple:
            many: tuple[Node, ...] = a
            if not many:  # an op has operands: () is a let-go node's (release.py)
                released_error(self, f"{type(self).__name__}.operands")
            return many
        return (a,)

    @property
    def rule(self) -> Callable[..., tuple[Any, ...]]:
        """The derivative rule backward() runs at this node, `rule(g, out, *operands' data)`:
        its op's `vjp` as the node type adapted it to this node (a Tensor's skips operands
        that take no gradient and sums broadcast shares back); it gives `()` for leaves."""
        return self._op.vjp

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

    @property
    def grad(self) -> Any:
        """The accumulated gradient d(output)/d(this node) (0 until a backward pass)."""
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        self._grad = self._as_gradient(value, None, False, f"{type(self).__name__}.grad")

    def backward_seed(self, gradient: object = 1.0) -> Any:
        """The gradient `backward(gradient)` starts from at this node, checked and converted
        as backward() does it (a float for a Value; for a Tensor an array of its shape and
        dtype): where the step table and generated code start too."""
        return self._seed(gradient, False)

    @property
    def label(self) -> str | None:
        """A name for drawings and tables (`"w1"`, `"y_hat"`), or None."""
        return self._label

    @label.setter
    def label(self, value: str | None) -> None:
        self._label = text(value, f"{type(self).__name__}: label", optional=True)

    # -- copies and pickles (copying.py): a leaf whole, a graph refused ----------------------
    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        """What pickle and copy.deepcopy rebuild a leaf from (TypeError for a graph)."""
        return (_copying.new_node, (type(self),), _copying.leaf_state(self, "copy or pickle"))

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Set the fields of a leaf being unpickled or deep-copied."""
        _copying.restore(self, state)

    def __copy__(self: _N) -> _N:
        """A new leaf with the same fields and its own copies of the arrays."""
        return _copying.shallow_copy(self)

    def _renew(self) -> None:
        """Called on a copied or unpickled leaf once its fields are set: a field whose value
        holds only in the process or at the time it was set (a clock reading) is renewed
        here. The write stamp: a copy is a new leaf, written now by this process's clock
        (another process's reading could be later than every op made here)."""
        self._stamp = CLOCK[0]

    # -- hooks a node type fills in ----------------------------------------------------------
    def _seed(self, gradient: object, create_graph: bool) -> Any:
        """The gradient backward starts from at this node: d(self)/d(self) * gradient."""
        raise NotImplementedError

    def _zero(self, create_graph: bool) -> Any:
        """The gradient of a node the output does not depend on."""
        raise NotImplementedError

    @staticmethod
    def _plain_gradient(create_graph: bool) -> type | None:
        """The type of a rule's share that is a gradient of this node type as it stands (a
        float for a Value's first-order walk): the walk takes such a share without calling
        `_as_gradient`. None: every share is checked by `_as_gradient`."""
        return None

    @staticmethod
    def _finish_gradients(
        nodes: list[Any], grads: list[Any], create_graph: bool, owned: set[Any] | None = None
    ) -> tuple[list[Any], list[Any]]:
        """The walk's gradients (each share checked by `_as_gradient`) as `.grad` and
        `grad()` take them, with a copy of an array a node must own (`owned`: nodes whose
        array the walk made, held nowhere else; see backward.py). Here: as they are."""
        return nodes, grads

    def _as_gradient(
        self, share: object, op: Op | None, create_graph: bool, where: str | None = None
    ) -> Any:
        """A rule's share for this operand (from `op`), checked and converted, or TypeError
        (naming `where` when given, else the op's rule)."""
        raise NotImplementedError

    @classmethod
    def _apply(cls, op: Op, operands: tuple[Any, ...]) -> Node:
        """op applied to operands (nodes of this type and numbers) as a new node."""
        raise NotImplementedError


def mixing_error(op: Op, kind: str, other: object) -> TypeError:
    """The error for `op` given a `kind` node (Value, Tensor, Dual) and another node type."""
    pair = f"a {kind} with a {type(other).__name__}"
    advice = "convert one: Tensor(v.data) makes a Tensor of a Value, t.item() a number of a Tensor"
    if "Dual" in pair:  # forward mode meets reverse mode: the advice above does not fit
        advice = "make every input a Dual (Dual(x.data)), or use x.data as a constant"
    return TypeError(f"{op.name}: cannot mix {pair}; {advice}")


class Op:
    """A differentiable operation: its forward functions, its derivative rule, its domain.

    - `forward(*xs)` computes the result from the operands' floats; it is total and IEEE-style
      (overflow gives inf, like numpy), because domain errors are `check`'s job.
      `array_forward(*xs)` does the same on numpy arrays (default: `forward`, right for
      operators such as `operator.add` that work on both).
    - `vjp(g, out, *xs) -> tuple` gives, for each operand, g * d(out)/d(operand). It is written
      with ordinary arithmetic and ops, so the same rule runs on floats (a first-order
      backward pass), on numpy arrays, and on `Value`s (`create_graph=True`, which gives
      higher derivatives).
    - `check(*xs)`, optional, raises `DomainError` for operands outside the domain.
    - `params`, optional: the op's parameters as data (the exponent of `x ** n`), passed to
      forward, vjp and check as keyword arguments and readable as `op.params`.
    - `display`, optional: how drawings show the op, a format string over `params`
      (`"**{exponent:g}"`); by default the name, with the parameters in parentheses.
    - `parts`, optional, instead of `vjp`: one rule per operand, `part(g, out, *xs)` giving
      that operand's share. A node type can then compute only the shares it needs (Tensor
      skips constants: a model's input batch costs no gradient matmul).
    - `array_check(*xs)`, optional: `check` for numpy arrays (a Tensor's data).
    - `jvp`, optional: the forward-mode rule, `jvp(tangents, out, *xs)` giving the tangent
      of the result from the operands' tangents (a tuple, None for an operand whose tangent is
      zero), written with ops like `vjp`. Without one, forward mode derives the tangent from
      `vjp` (sum over operands of vjp(tangent, ...)), which is right when each element of the
      result depends only on the same element of each operand: always for numbers, and for
      arrays when `jvp="elementwise"` says so (the ops of ops.py are). See docs/forward.md.
    - `check_returns`: what `vjp` returns is checked (a tuple or list of one gradient per
      operand, else a TypeError naming the op). The built-in ops, whose rules are known to
      return such tuples, pass False: the check costs a few percent of a backward pass. With
      `parts`, the operands are counted instead, where the op is applied.
    - `emit`, optional: how generated code (`backward_code`, `compile_grad`) writes the op: a
      format string over the operands' source, `"math.sin({0})"`, a function of their
      source texts, or a dict of those per kind of data and domain check (docs/codegen.md).
    - `fresh`, `vjp_into`: `vjp`'s shares on arrays are new arrays, none g, data or another
      share (matmul); `vjp` writing into g (relu), for a g a training pass owns (backward.py).
      A user's op cannot break the promise: each array its rule returns is copied when the
      walk takes it (a writeable one: `_as_gradient`), so a wrong promise costs no number.
    - `trusted` (no option: set by `trusted()` on the engine's own ops only): each share is
      by construction of its operand's shape and kind (a float dtype), or None for one
      taking no gradient, so a first-order walk takes it unchecked. A user's op is always
      checked: a share its rule got wrong would otherwise reach a sum unseen.

    Calling an op on nodes (numbers mixed in become constant leaves) checks the domain and
    records a node. Calling it on plain numbers or arrays only returns `forward`'s result:
    derivative rules rely on this so that one rule serves every case.

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

    __slots__ = (
        "adaptations", "array_check", "array_forward", "check", "display", "emit", "forward",
        "fresh", "jvp", "name", "params", "parts", "trusted", "vjp", "vjp_into",
    )  # fmt: skip

    def __init__(
        self,
        name: str,
        forward: Callable[..., Any],
        vjp: Callable[..., tuple[Any, ...]] | None,
        check: Callable[..., None] | None = None,
        *,
        array_forward: Callable[..., Any] | None = None,
        array_check: Callable[..., None] | None = None,
        parts: Sequence[Callable[..., Any]] | None = None,
        params: Mapping[str, Any] | None = None,
        display: str | None = None,
        check_returns: bool = True,
        jvp: Callable[..., Any] | str | None = None,
        emit: str | Callable[..., str] | Mapping[str, Any] | None = None,
        fresh: bool = False,
        vjp_into: Callable[..., tuple[Any, ...]] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"Op: name must be a non-empty str, got {describe(name)}")
        if not callable(forward):
            raise TypeError(f"Op {name!r}: forward must be callable, got {describe(forward)}")
        if vjp is not None and parts is not None:
            raise TypeError(f"Op {name!r}: give the derivative rule as vjp or as parts, not both")
        if parts is None and not callable(vjp):
            raise TypeError(
                f"Op {name!r}: vjp must be callable, got {describe(vjp)} (or give parts=, "
                f"one rule per operand)"
            )
        if parts is not None and (
            isinstance(parts, (str, bytes)) or not all(callable(p) for p in parts)
        ):
            raise TypeError(f"Op {name!r}: parts must be a sequence of callables, got {parts!r}")
        for what, optional in (
            ("check", check), ("array_forward", array_forward), ("array_check", array_check)
        ):  # fmt: skip
            if optional is not None and not callable(optional):
                raise TypeError(
                    f"Op {name!r}: {what} must be callable or None, got {describe(optional)}"
                )
        if not (jvp is None or callable(jvp) or (isinstance(jvp, str) and jvp == "elementwise")):
            raise TypeError(
                f"Op {name!r}: jvp must be callable, 'elementwise' or None, got {describe(jvp)}"
            )
        if emit is not None and not isinstance(emit, (str, Mapping)) and not callable(emit):
            raise TypeError(
                f"Op {name!r}: emit must be a format string, a function or a dict of them, "
                f"got {describe(emit)}"
            )
        bound = {key: frozen(value) for key, value in (params or {}).items()}
        self.name = name
        self.adaptations: dict[Any, Op] = {}
        """The node types' specialised copies of this op, made once each (they live and die
        with it)."""
        self.params: Mapping[str, Any] = MappingProxyType(bound)
        self.forward: Callable[..., Any] = bind(forward, bound)
        self.array_forward: Callable[..., Any] = (
            self.forward if array_forward is None else bind(array_forward, bound)
        )
        self.parts: tuple[Callable[..., Any], ...] | None = (
            None if parts is None else tuple(bind(p, bound) for p in parts)
        )
        if vjp is None:
            vjp = joined(self.parts or ())
            if check_returns:  # a user's parts: as many operands, or an error where applied
                self.forward = counted(self.forward, name, len(self.parts or ()))
                self.array_forward = counted(self.array_forward, name, len(self.parts or ()))
            check_returns = False
        self.vjp: Callable[..., tuple[Any, ...]] = bind(vjp, bound) if parts is None else vjp
        if check_returns:
            self.vjp = checked(self.vjp, self)
        self.check: Callable[..., None] | None = bind(check, bound)
        self.array_check: Callable[..., None] | None = bind(array_check, bound)
        self.jvp: Callable[..., Any] | str | None = bind(jvp, bound) if callable(jvp) else jvp
        """The forward-mode rule, "elementwise", or None (see the class docstring)."""
        if display is None:
            args = ", ".join(f"{k}={v!r}" for k, v in bound.items())
            display = f"{name}({args})" if bound else name
        else:
            try:
                display = display.format(**bound)
            except (KeyError, IndexError, ValueError) as e:
                raise ValueError(
                    f"Op {name!r}: display {display!r} must be a format string over params "
                    f"{sorted(bound)}: {e!r}"
                ) from None
        self.display = display
        self.fresh, self.vjp_into = bool(fresh), bind(vjp_into, bound)
        self.trusted = False  # (`trusted`: the engine's own ops only)
        self.emit: str | Callable[..., str] | Mapping[str, Any] | None = emit
        """How generated code writes this op (None: it has no emit form)."""

    def specialised(self, vjp: Callable[..., tuple[Any, ...]]) -> Op:
        """This op with another rule (same name, forwards, params, display; `base` is the
        original): how a node type adapts an op's rule to one node. Not trusted (`trusted`)."""
        op = object.__new__(_Specialised)
        for slot in Op.__slots__:
            setattr(op, slot, getattr(self, slot))
        op.base = self.base
        op.vjp, op.vjp_into = vjp, None  # vjp_into would skip the adaptation
        op.adaptations = {}
        op.trusted = False  # a rule given here is no built-in one: its shares are checked
        return op

    @property
    def base(self) -> Op:
        """The op a node type specialised this one from (a Tensor's op that skips constants
        or sums broadcast gradients); itself for an op made here, by a property: an op made
        per call (getitem's, where's) holding itself would be a cycle, for the cyclic GC."""
        return self

    def __repr__(self) -> str:
        return f"Op({self.display!r})"

    # An op is kept by reference (copying.py): a copy is the op itself, and an unpickled
    # built-in op is the very object `ops.add`, which drawings and generated code test for.
    def __reduce__(self) -> tuple[Any, ...]:
        return (_copying.op_named, (*_copying.op_reference(self), Op))

    def __copy__(self) -> Op:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Op:
        return self

    def __str__(self) -> str:
        return self.display

    def __call__(self, *operands: Any) -> Any:
        """Apply the op: a new node if any operand is a node, else the forward result."""
        if len(operands) == 1 and type(operands[0]) is float:  # rules on floats: the common case
            return self.forward(operands[0])
        if not operands:
            raise TypeError(f"{self.name}: an op takes at least one operand")
        arrays = False
        for x in operands:
            if type(x) is np.ndarray:  # rules on arrays: the common case with Tensors
                arrays = True
            elif isinstance(x, Node):
                return x._apply(self, operands)
            elif isinstance(x, np.generic):  # what numpy gives for 0-d results
                arrays = True
            elif isinstance(x, np.ndarray):  # a subclass (t.data's view, a matrix): plain
                return self(*[plain_array(y, self.name) for y in operands])
        if arrays:
            return self.array_forward(*operands)
        return self.forward(*[real(x, self.name) for x in operands])


class _Specialised(Op):
    """An op `Op.specialised` made: its `base` (a slot) is the op it was made from."""

    __slots__ = ("base",)
    base: Op


LEAF = Op("leaf", lambda: float("nan"), lambda g, out: ())
"""Marks inputs and parameters (they read `.op is None`)."""
CONSTANT = Op("const", lambda: float("nan"), lambda g, out: ())
"""Marks leaves made from numbers mixed into an expression (they read `.op is None`)."""


def trusted(op: Op) -> Op:
    """op, marked as one of the engine's own: its rules give each operand a share of the
    operand's shape and a float dtype, or None for one that takes no gradient, by
    construction (tests/test_trusted_shares.py checks every built-in op), so a first-order
    backward takes its shares unchecked. Not for users' ops, whose shares are checked."""
    op.trusted = True
    return op
