"""`Tensor`, the array node type: a numpy array `data`, an array `grad`, and the `Node` fields.

Every op a `Value` has is the same `Op` here, with the same derivative rule running on
arrays; ops only arrays have (matmul, reductions, indexing ...) are in array_ops.py. The
operators and methods come from the method table (methods.py) through `ArrayNode`, which
Tensor shares with forward mode's `Dual`; broadcasting and operands that need no gradient
are handled once for both (arrays.py, `adapted`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..validate import flag, text
from . import array_node
from . import array_ops as _aops
from . import axes as _axes
from . import backward as _backward
from .array_node import ArrayNode, in_dtype_of, made
from .arrays import Array, adapted, as_array, broadcast, dtype_of, unshared
from .data_view import DataView, assign, view_of, write_in_place
from .grad_args import backward_modes
from .grad_mode import MODE
from .in_place import InPlace, imatmul
from .node import LEAF, Node, Op, mixing_error, stamp_write
from .release import RELEASED, released_gradient
from .stale import check_assignable

__all__ = ["Tensor", "concatenate", "maximum", "minimum", "stack", "where"]


class Tensor(InPlace, ArrayNode):
    """An array in a computation graph: its `data` (a numpy array), its `grad`, and how it
    was made.

    `Tensor(data, label=None, requires_grad=True, dtype=None)`: `data` is anything
    `np.asarray` turns into real numbers, copied and stored as float64 (or float32 with
    `dtype=np.float32`; results keep the dtype). Numbers and arrays mixed into an
    expression become constants. `requires_grad=False` makes an input that gets no
    gradient, such as a batch of data. Ops follow numpy: broadcasting, `@` as np.matmul,
    reductions with `axis` and `keepdims`, basic and integer-array indexing.

    >>> import numpy as np
    >>> from autograd_lite import Tensor
    >>> w = Tensor([[1.0, 2.0], [3.0, -4.0]], label="w")
    >>> x = Tensor([1.0, 2.0], requires_grad=False)   # data: it gets no gradient
    >>> loss = (w @ x).relu().sum()                   # relu([5, -5]) = [5, 0]
    >>> loss.backward()
    >>> loss.item(), w.grad.tolist()
    (5.0, [[1.0, 2.0], [0.0, 0.0]])
    >>> (w * x).sum().backward()   # x broadcast over w's rows; w.grad adds up
    >>> w.grad.tolist()
    [[2.0, 4.0], [1.0, 2.0]]
    """

    __slots__ = ()

    _data: Array
    _carry: bool  # requires_grad
    _constant_carry = False
    _scalar_fills = False  # a number as `gradient` only for a one-element output
    __imatmul__ = imatmul  # (in_place.py: an update of a leaf, or an error, as `-=`)

    def __init__(
        self,
        data: object,
        label: str | None = None,
        requires_grad: bool = True,
        dtype: object = None,
    ) -> None:
        kind = None if dtype is None else dtype_of(dtype, "Tensor")
        requires = flag(requires_grad, "Tensor: requires_grad")
        label = label if label is None else text(label, "Tensor: label", optional=True)
        array = as_array(data, "Tensor", kind)
        array_node.made(
            type(self), array, LEAF, None, None, requires, MODE.get().scope, label, self
        )

    # -- what it holds ----------------------------------------------------------------------
    @property
    def data(self) -> Array:
        """The numbers this tensor holds: a read-only view of its array (`DataView`), so
        that no change goes unseen. Assigning copies the new array, converted to the tensor's
        dtype (same shape); only a leaf's can be assigned, and graphs made before that which
        used it are then stale (a walk through them raises `StaleDataError`). The in-place
        operators, `t.data -= step`, change a leaf's array in place with numpy's semantics
        and are seen the same way; any other write into the view (`t.data[0] = 5`, `.fill`,
        `np.copyto`, `out=`) is a ValueError that says to assign a new array
        (docs/tensors.md)."""
        return view_of(self, self._a is None)

    @data.setter
    def data(self, value: object) -> None:
        if type(value) is DataView and getattr(value, "_of", None) is self._data:
            return  # `t.data -= step`: the operator changed this array and stamped it
        array = as_array(value, "Tensor.data", self._data.dtype)  # a copy of its own
        if array.shape != self._data.shape:
            raise ValueError(
                f"Tensor.data: new data has shape {array.shape}, the tensor {self._data.shape}"
            )
        check_assignable(self, "Tensor.data")
        assign(self, array)

    def _update(self, compute: Callable[[Any, Any], Any], symbol: str, other: Any) -> None:
        write_in_place(self, compute, other)  # numpy's in-place operator, then stamped

    @property
    def grad(self) -> Array:
        """d(output)/d(this tensor), an array of its shape (zeros until a backward pass);
        `ReleasedGradientError` for an op's result after `backward(retain_grads=False)`."""
        g: Any = self._grad  # an array, None (not set yet) or RELEASED
        if g is None:  # kept, so that writing into it in place is not lost
            g = self._grad = np.zeros_like(self._data)
        elif g is RELEASED:
            raise released_gradient(self)
        array: Array = g
        return array

    @grad.setter
    def grad(self, value: object) -> None:
        if value is None:  # `p.grad = None`, a training loop's reset: what _as_gradient gives
            self._grad = None
            return
        self._grad = self._as_gradient(value, None, False, "Tensor.grad")

    @property
    def requires_grad(self) -> bool:
        """Whether backward computes a gradient for this tensor. A leaf's can be assigned
        (True or False); a computed tensor's follows its inputs, and assigning it is an
        error (make a new leaf with .detach()). Graphs made before a change are stale, as
        after an assignment of `data` (their derivative rules skipped or took this tensor)."""
        return self._carry

    @requires_grad.setter
    def requires_grad(self, value: object) -> None:
        self._set_requires_grad(value, "Tensor.requires_grad")

    def requires_grad_(self, requires_grad: object = True) -> Tensor:
        """Set `requires_grad` of this leaf in place and return it (PyTorch's habit:
        `w = Tensor(data).requires_grad_()`). On a computed tensor only `True` where it
        is true already is accepted; else RuntimeError (make a new leaf with .detach())."""
        if self._a is not None and requires_grad is True and self._carry:
            return self  # as PyTorch: asking a computed tensor for what it does is fine
        self._set_requires_grad(requires_grad, "Tensor.requires_grad_")
        return self

    def _set_requires_grad(self, value: object, where: str) -> None:
        requires = flag(value, where)
        if self._a is not None:
            raise RuntimeError(
                f"{where}: only a leaf's requires_grad can be changed; this tensor was "
                f"computed by {self._op.base.display!r} and requires a gradient exactly when "
                f"its inputs do. For a copy outside the graph write t.detach() (then "
                f".requires_grad_() on it for a new leaf)"
            )
        if requires != self._carry:
            self._carry = requires
            stamp_write(self, requires_grad=True)  # graphs made before skipped (or took) it

    def tolist(self) -> Any:
        """The numbers as nested Python lists (a number for a 0-d tensor), outside the
        graph: `t.data.tolist()`."""
        return self._data.tolist()

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of `data`."""
        shape: tuple[int, ...] = self._data.shape
        return shape

    @property
    def ndim(self) -> int:
        """The number of dimensions of `data`."""
        return self._data.ndim

    @property
    def size(self) -> int:
        """The number of elements of `data`."""
        return self._data.size

    @property
    def dtype(self) -> np.dtype[Any]:
        """float64 or float32."""
        dtype: np.dtype[Any] = self._data.dtype
        return dtype

    def numpy(self) -> Array:
        """A copy of `data`."""
        return self._data.copy()

    def __array__(self, dtype: object = None, copy: object = None) -> Array:
        """np.asarray(t): the data (a copy if asked), as numpy does for its own arrays; a
        TypeError for a tensor that requires a gradient, as PyTorch refuses (numpy calls
        this too for a Tensor inside a list, np.sum([t1, t2]), whose result would silently
        get no gradient)."""
        if self._carry:
            raise TypeError(
                "numpy converting a Tensor that requires a gradient to a plain array (np.asarray"
                "(t), np.array(t), or a numpy function given Tensors inside a list or tuple, "
                "np.sum([t1, t2])): its result would get no gradient. In the graph: stack "
                "first, np.stack([t1, t2]).sum(axis=0), or use the node's methods; for the "
                "numbers outside the graph: t.data, t.numpy() or t.detach()"
            )
        like: Any = dtype  # numpy checks it (numpy's stubs take DTypeLike, not object)
        if dtype is not None:
            return self._data.astype(like)
        # A copy unless told not to: numpy's ufunc.at writes even into a read-only view.
        return self._data.view() if copy is False else self._data.copy()

    def __repr__(self) -> str:
        data = self._data
        shown = (
            np.array2string(data, separator=", ", threshold=12, precision=6, prefix="Tensor(")
            if data.size <= 12
            else f"<shape {data.shape}>"
        )
        extra = "" if data.dtype == np.float64 else f", dtype={data.dtype}"
        if self._label is not None:
            extra += f", label={self._label!r}"
        if not self._carry:
            extra += ", requires_grad=False"
        return f"Tensor({shown}{extra})"

    # -- gradients (see backward.py) ----------------------------------------------------------
    def backward(
        self,
        gradient: object = None,
        *,
        retain_grads: bool | None = None,
        retain_graph: bool = True,
    ) -> None:
        """Add d(self)/d(node) * gradient to `.grad` of every tensor below this one that
        requires a gradient. A one-element tensor needs no `gradient`; otherwise pass an
        array of this tensor's shape. Calling it again adds the same amount again.

        For training loops (docs/tensors.md, "What a backward pass keeps"):
        `retain_graph=False` lets the graph go once the gradients are in, as PyTorch does
        by default: the leaves get their gradients, every tensor keeps its data (what only
        the graph held is freed), an op result's `.grad` raises `ReleasedGradientError`,
        and a second backward, a drawing or any other walk of the graph raises
        `ReleasedGraphError`. `retain_grads=False` releases only the op results' gradients
        (the graph can be walked again); it is the default with `retain_graph=False`, and
        `retain_grads=True` with it is a ValueError (it would keep what the other lets go)."""
        keep, graph = backward_modes("Tensor.backward", retain_grads, retain_graph)
        _backward.backward(self, gradient, keep, graph)

    def zero_grad(self) -> None:
        """Reset `.grad` of this tensor and every tensor below it."""
        _backward.zero_grad(self)

    def detach(self) -> Tensor:
        """A new leaf holding a copy of this tensor's data, with no history and no gradient.

        A copy, not the array itself: an optimizer's step changes a leaf's array in place,
        which would change the other behind its write stamp (see `StaleDataError`)."""
        return made(
            Tensor, self._data.copy(), LEAF, None, None, False, MODE.get().scope, self._label
        )

    # -- the Node hooks: what an array's gradient is ------------------------------------------
    def _seed(self, gradient: object, create_graph: bool) -> Any:
        if not self._carry:
            raise RuntimeError(
                "backward: this tensor does not depend on any tensor that requires a gradient "
                "(it was computed from constants or requires_grad=False tensors only, or "
                "under no_grad())"
            )
        return super()._seed(gradient, create_graph)

    @staticmethod
    def _finish_gradients(
        nodes: list[Any], grads: list[Any], create_graph: bool, owned: set[Any] | None = None
    ) -> tuple[list[Any], list[Any]]:
        if create_graph:  # Tensors: never changed in place
            return nodes, grads
        # Who owns each array: one array's memory may reach several nodes (a + b hands g
        # to both; W.T's rule hands W a transposed view of the gradient W.T keeps; reshape's
        # rule hands its operand a view of its own). Every .grad kept, a leaf's or (with
        # retain_grads) an op result's, must be its own, so that changing it in place changes
        # no other .grad: a node whose memory another gradient being stored also holds gets
        # a copy (the last of the holders keeps it), and a read-only array (broadcast_to's
        # view, an op's data) is copied so that every .grad can be changed. A view of memory
        # that nothing else stores (the walk's temporary) is the node's as it is, if it has
        # the layout of the node's data (PyTorch's layout rule for .grad too: W.T's transposed
        # gradient, not copied, made `p.data -= lr * p.grad` three times slower in W5's
        # step). The leaves' data count as holders too: a rule may hand on an operand's array.
        # The holders are counted only if a node not in `owned` needs them: in a training
        # pass, only leaves are stored, each often a fresh product or sum the walk made.
        holders: dict[int, int] | None = None
        kept = []
        for node, g in zip(nodes, grads):
            dtype = node._data.dtype
            if type(g) is not np.ndarray:  # a numpy scalar: the sum of two 0-d arrays
                g = in_dtype_of(node, np.asarray(g))
            elif g.dtype is not dtype and g.dtype != dtype:  # summed in another float dtype
                g = g.astype(dtype)  # (a new array)
            elif not (flags := g.flags).writeable:
                g = g.copy()
            else:
                n = 1  # in `owned`: the walk's own array, whose memory no other node holds
                if owned is None or node not in owned:
                    if holders is None:
                        holders = _holders(nodes, grads)
                    key = id(g if g.base is None else g.base)
                    n = holders[key]
                    holders[key] = n - 1  # (the last of the holders keeps it)
                if not flags.c_contiguous and node._data.flags.c_contiguous:
                    g = g.copy()  # C order, as the data: an update mixing orders is slow
                elif n > 1:
                    g = g.copy("K")  # in its layout (W.T's gradient, as W.T's data: F order)
            kept.append(g)
        return nodes, kept

    def _takes_gradient(self) -> bool:
        return self._carry

    @classmethod
    def _apply(cls, op: Op, operands: tuple[Any, ...]) -> Tensor:
        """op on operands (Tensors, numbers, arrays) as a new node, checked first."""
        # The common case without a loop or a list: one, two or three Tensors of one dtype
        # (every op of a training step); anything else is gathered by `_gathered`.
        n = len(operands)
        a = operands[0] if n else None
        nodes: tuple[Any, ...] | None = operands
        if n == 1 and type(a) is Tensor:
            datas: tuple[Any, ...] = (a._data,)
            needs: tuple[bool, ...] = (a._carry,)
            dtype = a._data.dtype
        elif (
            n == 2
            and type(a) is Tensor
            and type(b := operands[1]) is Tensor
            and b._data.dtype is (dtype := a._data.dtype)
        ):
            datas, needs = (a._data, b._data), (a._carry, b._carry)
        elif (  # a linear layer's x, w and b
            n == 3
            and type(a) is Tensor
            and type(b := operands[1]) is Tensor
            and type(c := operands[2]) is Tensor
            and b._data.dtype is (dtype := a._data.dtype)
            and c._data.dtype is dtype
        ):
            datas, needs = (a._data, b._data, c._data), (a._carry, b._carry, c._carry)
        else:
            datas, needs, dtype, nodes = _gathered(op, operands)
        if op.array_check is not None:
            op.array_check(*datas)
        try:
            out = op.array_forward(*datas)
        except ValueError as e:  # shapes that do not broadcast or multiply
            shapes = " and ".join(str(d.shape) for d in datas)
            raise ValueError(f"{op.name}: operands of shapes {shapes} do not fit: {e}") from None
        if type(out) is not np.ndarray or (out.dtype is not dtype and out.dtype != dtype):
            out = as_array(out, f"{op.name}: the result of forward", dtype, False)
        mode = MODE.get()
        if not mode.grad_enabled or True not in needs:
            # A leaf's data can be changed in place: it must not be another node's array.
            return made(Tensor, unshared(out, datas), LEAF, None, None, False, mode.scope)
        shape = out.shape
        stretched = False
        for d in datas:
            if out is d:  # forward returned an operand's array itself: flag a view of it
                out = out.view()
            if d.shape != shape:  # operands of the result's shape (relu, neg): no call
                stretched = True
        if stretched:
            stretched = broadcast(op, datas, shape)
        if stretched or False in needs:
            op = adapted(op, needs, stretched)
        if nodes is None:  # numbers and arrays mixed in: constants, made only now
            out = unshared(out, datas)  # (a caller's array returned, or a view of it: copied)
            nodes = tuple(
                [
                    x if type(x) is Tensor else Tensor._constant_of(x, d)
                    for x, d in zip(operands, datas)
                ]
            )
        if n > 2:
            return made(Tensor, out, op, nodes, None, True, mode.scope)
        return made(Tensor, out, op, nodes[0], nodes[1] if n == 2 else None, True, mode.scope)


def _gathered(
    op: Op, operands: tuple[Any, ...]
) -> tuple[tuple[Any, ...], tuple[bool, ...], Any, tuple[Any, ...] | None]:
    """`Tensor._apply`'s operands of any kind: their arrays (numbers and arrays mixed in as
    arrays of the tensors' dtype, Tensors of several dtypes in their common one), whether
    each needs a gradient, that dtype, and the operands themselves if all are Tensors (None:
    the caller makes the others constants, once the op is checked)."""
    datas: list[Any] = []
    needs: list[bool] = []
    constants = False
    dtype = None
    mixed = False
    for x in operands:
        if type(x) is Tensor:
            d = x._data
            if dtype is None:
                dtype = d.dtype
            elif d.dtype is not dtype:
                mixed = True
            datas.append(d)
            needs.append(x._carry)
        elif isinstance(x, Node):
            raise mixing_error(op, "Tensor", x)
        else:
            datas.append(None)
            needs.append(False)
            constants = True
    if mixed:
        dtype = np.result_type(*[d for d in datas if d is not None])
    if not constants:
        return tuple(datas), tuple(needs), dtype, operands
    # numbers and arrays mixed in take the tensors' dtype
    datas = [
        as_array(x, f"{op.name}: operand", dtype, False) if d is None else d
        for x, d in zip(operands, datas)
    ]
    return tuple(datas), tuple(needs), dtype, None


def _holders(nodes: list[Any], grads: list[Any]) -> dict[int, int]:
    """For each block of memory (an array's base, or the array), how many of the gradients
    being stored and of the leaves' data hold it (`Tensor._finish_gradients`)."""
    holders = {id(n._data): 1 for n in nodes if n._a is None}
    for g in grads:
        if type(g) is np.ndarray:
            key = id(g if g.base is None else g.base)
            holders[key] = holders.get(key, 0) + 1
    return holders


# -- functions of several tensors ---------------------------------------------------------------
def maximum(a: object, b: object) -> Tensor:
    """The larger of a and b, elementwise, with numpy broadcasting; ties share the gradient."""
    out: Tensor = _aops.maximum(a, b)
    return out


def minimum(a: object, b: object) -> Tensor:
    """The smaller of a and b, elementwise, with numpy broadcasting; ties share the gradient."""
    out: Tensor = _aops.minimum(a, b)
    return out


def where(condition: object, a: object, b: object) -> Tensor:
    """a where `condition` (a boolean array, e.g. `t > 0`) holds, else b; broadcasting."""
    out: Tensor = _aops.where(condition, a, b)
    return out


@_axes.torch_names
def concatenate(tensors: Sequence[object], axis: int = 0) -> Tensor:
    """The tensors joined along an existing axis (np.concatenate)."""
    items, found = _axes.joined("concatenate", tensors, axis, False)
    out: Tensor = _aops.concatenate(items, found)
    return out


@_axes.torch_names
def stack(tensors: Sequence[object], axis: int = 0) -> Tensor:
    """The tensors joined along a new axis (np.stack)."""
    items, found = _axes.joined("stack", tensors, axis, True)
    out: Tensor = _aops.stack(items, found)
    return out
