"""`Tensor`, the array node type: a numpy array `data`, an array `grad`, and the `Node` fields.

Every op a `Value` has is the same `Op` here, with the same derivative rule running on
arrays; ops only arrays have (matmul, reductions, indexing ...) are in array_ops.py. Two
things are a Tensor's own, and each has one place, `_adapted`:
- an operand that was broadcast gets its gradient summed back to its shape;
- an operand that needs no gradient (a constant, or `requires_grad=False`) gets none: its
  share is not computed when the op gives one rule per operand (`Op.parts`), so a model's
  input batch costs no gradient matmul.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from ..validate import describe, flag, is_real, real, reals, text
from . import array_ops as _aops
from . import axes as _axes
from . import backward as _backward
from . import ops as _ops
from .conversions import Conversions
from .grad_mode import MODE
from .node import CLOCK, CONSTANT, LEAF, Node, Op, stamp_write

__all__ = ["Arithmetic", "Tensor", "concatenate", "maximum", "stack", "where"]

Array = np.ndarray[Any, Any]
_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def _dtype(dtype: object, where: str) -> np.dtype[Any]:
    found: np.dtype[Any] | None
    try:
        found = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError:
        found = None
    if found is None or found not in _DTYPES:
        raise TypeError(f"{where}: dtype must be np.float64 or np.float32, got {dtype!r}")
    return found


def _as_array(
    data: object, where: str, dtype: np.dtype[Any] | None = None, copy: bool = True
) -> Array:
    """data as a float array (a new one if `copy`), or TypeError saying what is accepted."""
    accepted = "real numbers: bool, int or float, as numbers, numpy arrays or nested lists"
    if isinstance(data, Node):
        raise TypeError(
            f"{where}: got a {type(data).__name__}; a Tensor is made from numbers, not nodes "
            f"(use .data for the number(s), or .detach())"
        )
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


def _infix(op: Op | Callable[..., Any], reflected: bool = False) -> Callable[..., Any]:
    """The operator method for op: self op other, or other op self when reflected."""
    if reflected:

        def method(self: Any, other: object) -> Any:
            return op(other, self)
    else:

        def method(self: Any, other: object) -> Any:
            return op(self, other)

    name = getattr(op, "name", "**")
    method.__doc__ = (
        f"{'other' if reflected else 'self'} {name} {'self' if reflected else 'other'}."
    )
    return method


def _method(op: Op, doc: str) -> Callable[[Any], Any]:
    """The method applying a one-operand op to self."""

    def method(self: Any) -> Any:
        return op(self)

    method.__doc__ = doc
    return method


_Self = TypeVar("_Self", bound="Arithmetic")


class Arithmetic(Conversions):
    """The operators and methods of array nodes, each one recorded op (ops.py,
    array_ops.py): shared by `Tensor` and forward mode's `Dual`, which both hold their
    numbers in `_data` and apply ops whose results are nodes of their own type."""

    __slots__ = ()
    _data: Any

    __add__ = _infix(_ops.add)
    __radd__ = _infix(_ops.add, reflected=True)
    __sub__ = _infix(_ops.sub)
    __rsub__ = _infix(_ops.sub, reflected=True)
    __mul__ = _infix(_ops.mul)
    __rmul__ = _infix(_ops.mul, reflected=True)
    __truediv__ = _infix(_ops.div)
    __rtruediv__ = _infix(_ops.div, reflected=True)

    def __pow__(self: _Self, other: object) -> _Self:
        """self ** other: a number exponent (or a 0-d array) is the op's parameter, as for a
        Value; an array is a constant exponent, elementwise; a Tensor exponent is an operand
        (its gradient needs log of the base, so the base must be > 0)."""
        if isinstance(other, Node) or is_real(other):
            return _ops.power(self, other)  # type: ignore[no-any-return]
        exponent = _as_array(other, "**: exponent", self._data.dtype)
        if not exponent.ndim:
            return _ops.power(self, float(exponent))  # type: ignore[no-any-return]
        return _aops.pow_array(self, exponent)  # type: ignore[no-any-return]

    __rpow__ = _infix(_ops.pow_value, reflected=True)
    __matmul__ = _infix(_aops.matmul_op)
    __rmatmul__ = _infix(_aops.matmul_op, reflected=True)
    __neg__ = _method(_ops.neg, "-self, elementwise.")
    __abs__ = _method(_ops.abs, "|self|, elementwise.")
    exp = _method(_ops.exp, "e ** self, elementwise (overflow gives inf).")
    log = _method(_ops.log, "Natural logarithm, elementwise; DomainError if an element is <= 0.")
    tanh = _method(_ops.tanh, "Hyperbolic tangent, elementwise.")
    sigmoid = _method(_ops.sigmoid, "1 / (1 + e**-x), elementwise, stable for every finite x.")
    relu = _method(_ops.relu, "max(x, 0), elementwise; derivative 0 at exactly 0 (as PyTorch).")
    abs = _method(_ops.abs, "|x|, elementwise; derivative sign(x), 0 at 0.")
    sqrt = _method(_ops.sqrt, "Square root, elementwise; DomainError if an element is < 0.")

    # comparisons give boolean arrays and record nothing (as numpy; PyTorch gives tensors)
    def __lt__(self, other: object) -> Array:
        return self._data < _axes.plain(other)  # type: ignore[no-any-return]

    def __le__(self, other: object) -> Array:
        return self._data <= _axes.plain(other)  # type: ignore[no-any-return]

    def __gt__(self, other: object) -> Array:
        return self._data > _axes.plain(other)  # type: ignore[no-any-return]

    def __ge__(self, other: object) -> Array:
        return self._data >= _axes.plain(other)  # type: ignore[no-any-return]

    def __eq__(self, other: object) -> Array:  # type: ignore[override]
        return self._data == _axes.plain(other)  # type: ignore[no-any-return]

    def __ne__(self, other: object) -> Array:  # type: ignore[override]
        return self._data != _axes.plain(other)  # type: ignore[no-any-return]

    __hash__ = Node.__hash__  # by identity: nodes are dict keys in the walk

    # -- shapes and reductions --------------------------------------------------------------
    def sum(self: _Self, axis: object = None, keepdims: bool = False) -> _Self:
        """The sum over `axis` (None: all; an int or a tuple; negative from the end); over
        no elements it is 0, as in numpy."""
        axes = _axes.normal_axes(axis, len(_axes.array_shape(self, "sum")), "sum")
        return _aops.sum(self, axes, flag(keepdims, "sum: keepdims"))  # type: ignore[no-any-return]

    def mean(self: _Self, axis: object = None, keepdims: bool = False) -> _Self:
        """The mean over `axis` (as for `sum`); ValueError over an axis of length 0 (0/0:
        numpy and PyTorch give nan)."""
        axes = _axes.nonempty(
            self, axis, "mean", "a mean of no numbers is 0/0 (nan in numpy and PyTorch)"
        )
        return _aops.mean(self, axes, flag(keepdims, "mean: keepdims"))  # type: ignore[no-any-return]

    def max(self: _Self, axis: object = None, keepdims: bool = False) -> _Self:
        """The largest element over `axis` (as for `sum`); ties share the gradient;
        ValueError over an axis of length 0 (as numpy)."""
        axes = _axes.nonempty(self, axis, "max", "no numbers have no largest")
        return _aops.max(self, axes, flag(keepdims, "max: keepdims"))  # type: ignore[no-any-return]

    def reshape(self: _Self, *shape: Any) -> _Self:
        """The same elements in a new shape: `t.reshape(2, 3)` or `t.reshape((2, 3))`; one
        size may be -1 (the rest), the others are ints >= 0."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _aops.reshape(self, _axes.new_shape(shape, _axes.array_shape(self, "reshape")))  # type: ignore[no-any-return]

    def transpose(self: _Self, *axes: Any) -> _Self:
        """The axes permuted: reversed by default (as numpy, also for `None`), or in the
        order given, which must name each axis once."""
        if len(axes) == 1 and (isinstance(axes[0], (tuple, list)) or axes[0] is None):
            axes = () if axes[0] is None else tuple(axes[0])
        ndim = len(_axes.array_shape(self, "transpose"))
        order = tuple(range(ndim))[::-1] if not axes else _axes.axis_order(axes, ndim)
        return _aops.transpose(self, order)  # type: ignore[no-any-return]

    @property
    def T(self: _Self) -> _Self:
        """The axes reversed (the transpose of a matrix)."""
        return self.transpose()

    def __getitem__(self: _Self, index: object) -> _Self:
        """self[index]: ints, slices, None, ..., and integer or boolean arrays (numpy's
        rules). With repeated indices the gradient adds up."""
        found = _index(index)
        _axes.array_shape(self, "getitem")
        try:
            self._data[found]
        except (IndexError, TypeError, ValueError) as e:
            raise IndexError(
                f"getitem: index {index!r} does not fit shape {self._data.shape}: {e}"
            ) from None
        return _aops.getitem(self, found)  # type: ignore[no-any-return]

    def softmax(self: _Self, axis: int = -1) -> _Self:
        """exp(x) / sum(exp(x)) along `axis`, stable for any inputs."""
        ndim = len(_axes.array_shape(self, "softmax"))
        return _aops.softmax(self, _axes.normal_axis(axis, ndim, "softmax"))  # type: ignore[no-any-return]

    def log_softmax(self: _Self, axis: int = -1) -> _Self:
        """x - logsumexp(x) along `axis`: log-probabilities, stable for any inputs."""
        ndim = len(_axes.array_shape(self, "log_softmax"))
        return _aops.log_softmax(self, _axes.normal_axis(axis, ndim, "log_softmax"))  # type: ignore[no-any-return]

    def logsumexp(self: _Self, axis: int = -1, keepdims: bool = False) -> _Self:
        """log(sum(exp(x))) along `axis`, without overflow."""
        found = _axes.normal_axis(axis, len(_axes.array_shape(self, "logsumexp")), "logsumexp")
        return _aops.logsumexp(self, found, flag(keepdims, "logsumexp: keepdims"))  # type: ignore[no-any-return]


class Tensor(Arithmetic, Node[Array]):
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

    __slots__ = ("_requires",)

    _requires: bool

    def __init__(
        self,
        data: object,
        label: str | None = None,
        requires_grad: bool = True,
        dtype: object = None,
    ) -> None:
        kind = None if dtype is None else _dtype(dtype, "Tensor")
        requires = flag(requires_grad, "Tensor: requires_grad")
        self._data = _as_array(data, "Tensor", kind)
        self._grad = None
        self._label = label if label is None else text(label, "Tensor: label", optional=True)
        self._op = LEAF
        self._a = self._b = None
        self._scope = MODE.get().scope
        self._requires = requires
        self._stamp = CLOCK[0]

    # -- what it holds ----------------------------------------------------------------------
    @property
    def data(self) -> Array:
        """The array this node holds. Assigning converts to the node's dtype (same shape);
        only a leaf's can be assigned, and graphs made before that which used it are then
        stale (a walk through them raises `StaleDataError`). `t.data -= step` counts as an
        assignment; writes into the array that bypass it (`t.data[0] = 5`) are not seen
        (docs/tensors.md)."""
        return self._data  # type: ignore[no-any-return]

    @data.setter
    def data(self, value: object) -> None:
        if value is self._data:  # `t.data -= step` changed it in place: nothing to copy
            _backward.check_assignable(self, "Tensor.data", changed=True)
            stamp_write(self)
            return
        array = _as_array(value, "Tensor.data", self._data.dtype)
        if array.shape != self._data.shape:
            raise ValueError(
                f"Tensor.data: new data has shape {array.shape}, the tensor {self._data.shape}"
            )
        _backward.check_assignable(self, "Tensor.data")
        self._data = array
        stamp_write(self)

    @property
    def grad(self) -> Array:
        """d(output)/d(this tensor), an array of its shape (zeros until a backward pass)."""
        g: Array | None = self._grad
        if g is None:  # kept, so that writing into it in place is not lost
            g = self._grad = np.zeros_like(self._data)
        return g

    @grad.setter
    def grad(self, value: object) -> None:
        self._grad = self._as_gradient(value, None, False, "Tensor.grad")

    @property
    def requires_grad(self) -> bool:
        """Whether backward computes a gradient for this tensor."""
        return self._requires

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of `data`."""
        return self._data.shape  # type: ignore[no-any-return]

    @property
    def ndim(self) -> int:
        """The number of dimensions of `data`."""
        return self._data.ndim  # type: ignore[no-any-return]

    @property
    def size(self) -> int:
        """The number of elements of `data`."""
        return self._data.size  # type: ignore[no-any-return]

    @property
    def dtype(self) -> np.dtype[Any]:
        """float64 or float32."""
        return self._data.dtype  # type: ignore[no-any-return]

    def numpy(self) -> Array:
        """A copy of `data`."""
        return self._data.copy()  # type: ignore[no-any-return]

    def __array__(self, dtype: object = None, copy: object = None) -> Array:
        """np.asarray(t): the data (a copy if asked), as numpy does for its own arrays."""
        data = self._data if dtype is None else self._data.astype(dtype)
        return data.copy() if copy else data  # type: ignore[no-any-return]

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
        if not self._requires:
            extra += ", requires_grad=False"
        return f"Tensor({shown}{extra})"

    # -- gradients (see backward.py) ----------------------------------------------------------
    def backward(self, gradient: object = None) -> None:
        """Add d(self)/d(node) * gradient to `.grad` of every tensor below this one that
        requires a gradient. A one-element tensor needs no `gradient`; otherwise pass an
        array of this tensor's shape. Calling it again adds the same amount again."""
        _backward.backward(self, gradient)

    def zero_grad(self) -> None:
        """Reset `.grad` of this tensor and every tensor below it."""
        _backward.zero_grad(self)

    def detach(self) -> Tensor:
        """A new leaf holding a copy of this tensor's data, with no history and no gradient.

        A copy, not the array itself: an in-place change to one of them (`t.data -= 1`)
        would change the other behind its write stamp (see `StaleDataError`)."""
        out: Tensor = object.__new__(Tensor)
        _fill(out, self._data.copy(), LEAF, None, None, False)
        out._label = self._label
        out._scope = MODE.get().scope
        return out

    # -- the Node hooks: what an array's gradient is ------------------------------------------
    def _seed(self, gradient: object, create_graph: bool) -> Any:
        if not self._requires:
            raise RuntimeError(
                "backward: this tensor does not depend on any tensor that requires a gradient "
                "(it was computed from constants or requires_grad=False tensors only, or "
                "under no_grad())"
            )
        data = self._data
        if gradient is None or (is_real(gradient) and not isinstance(gradient, np.ndarray)):
            if data.size != 1:
                raise ValueError(
                    f"backward: the output has shape {data.shape}, not one element: pass "
                    f"gradient=, an array of shape {data.shape}, or reduce it first (.sum())"
                )
            g = np.full(
                data.shape,
                1.0 if gradient is None else real(gradient, "backward"),
                dtype=data.dtype,
            )
        else:
            g = _gradient_array(gradient, data)
        return _constant(g) if create_graph else g

    def _zero(self, create_graph: bool) -> Any:
        zeros = np.zeros_like(self._data)
        return _constant(zeros) if create_graph else zeros

    @staticmethod
    def _finish_gradients(
        nodes: list[Any], grads: list[Any], create_graph: bool
    ) -> tuple[list[Any], list[Any]]:
        if create_graph:  # Tensors: never changed in place
            return nodes, grads
        owned = []
        seen: set[int] = set()
        for node, g in zip(nodes, grads):
            # One array may reach several nodes (a + b hands g to both, reshape a view of
            # it): a leaf gets a copy of its own, so changing its .grad in place cannot
            # change another's; a read-only view (broadcast_to's) is copied, so that every
            # .grad can be changed.
            if type(g) is not np.ndarray:  # a numpy scalar: the sum of two 0-d arrays
                g = np.asarray(g)
            elif not g.flags.writeable or (
                node._a is None and (id(g) in seen or g.base is not None)
            ):
                g = g.copy()
            seen.add(id(g))
            owned.append(g)
        return nodes, owned

    def _as_gradient(
        self, share: object, op: Op | None, create_graph: bool, where: str | None = None
    ) -> Any:
        data = self._data
        if (  # the common case, first: an array of the operand's shape and dtype
            type(share) is np.ndarray
            and not create_graph
            and share.shape == data.shape
            and share.dtype == data.dtype
        ):
            return share
        rule = where or f"the derivative rule of {op!r}"
        if share is None:
            if where is not None or not self._requires:
                return None  # .grad = None resets it; constants get no share
            raise TypeError(f"{rule} returned None for an operand that needs a gradient")
        g: Any
        if isinstance(share, Tensor):
            if not create_graph:
                raise TypeError(f"{rule} returned a Tensor; it must return arrays")
            g = share
        else:
            if isinstance(share, Node):
                raise TypeError(f"{rule} returned a {type(share).__name__} for a Tensor operand")
            array = _as_array(share, rule, self._data.dtype, copy=False)
            if array.shape != self._data.shape and where is None and array.ndim == 0:
                array = np.full(self._data.shape, array)  # a constant derivative
            g = _constant(array) if create_graph else array
        shape = g.shape
        if shape != self._data.shape:
            raise ValueError(
                f"{rule} gave a gradient of shape {shape} for a tensor of shape {self._data.shape}"
            )
        return g

    @classmethod
    def _apply(cls, op: Op, operands: tuple[Any, ...]) -> Tensor:
        """op on operands (Tensors, numbers, arrays) as a new node, checked first."""
        datas: list[Any] = []
        constants = False
        for x in operands:
            if type(x) is Tensor:
                datas.append(x._data)
            elif isinstance(x, Node):
                raise TypeError(
                    f"{op.name}: cannot mix a Tensor with a {type(x).__name__}; convert one: "
                    f"Tensor(v.data) makes a Tensor of a Value, t.item() a number of a Tensor"
                )
            else:
                datas.append(None)
                constants = True
        arrays = [d for d in datas if d is not None]
        dtype = arrays[0].dtype if len(arrays) == 1 else np.result_type(*arrays)
        if constants:  # numbers and arrays mixed in take the tensors' dtype
            datas = [
                _as_array(x, f"{op.name}: operand", dtype, False) if d is None else d
                for x, d in zip(operands, datas)
            ]
        if op.array_check is not None:
            op.array_check(*datas)
        try:
            out = op.array_forward(*datas)
        except ValueError as e:  # shapes that do not broadcast or multiply
            shapes = " and ".join(str(d.shape) for d in datas)
            raise ValueError(f"{op.name}: operands of shapes {shapes} do not fit: {e}") from None
        if type(out) is not np.ndarray or out.dtype != dtype:
            out = _as_array(out, f"{op.name}: the result of forward", dtype, False)
        node: Tensor = object.__new__(Tensor)
        mode = MODE.get()
        needs = tuple(type(x) is Tensor and x._requires for x in operands)
        if not mode.grad_enabled or not any(needs):
            # A leaf's data can be changed in place: it must not be another node's array.
            _fill(node, _unshared(out, datas), LEAF, None, None, False)
            node._scope = mode.scope
            return node
        for d in datas:
            if out is d:  # forward returned an operand's array itself: flag a view of it
                out = out.view()
                break
        out.setflags(False)  # read-only: the graph's (positional: the quickest way to set it)
        nodes = [x if type(x) is Tensor else _constant(d) for x, d in zip(operands, datas)]
        broadcast = _broadcast(op, datas, out.shape)
        if broadcast or not all(needs):
            op = _adapted(op, needs, broadcast)
        if len(nodes) > 2:
            _fill(node, out, op, tuple(nodes), None, True)
        else:
            _fill(node, out, op, nodes[0], nodes[1] if len(nodes) == 2 else None, True)
        node._scope = mode.scope
        return node


def _unshared(out: Array, datas: list[Array]) -> Array:
    """out, or a copy of it if it shares memory with an operand's array (a transpose or a
    slice made under no_grad(), or an operand returned as it is): a leaf's data must not
    change when another node's does."""
    owner = out if out.base is None else out.base  # numpy's base is the array owning memory
    for d in datas:
        if owner is d or owner is d.base:
            return out.copy()
    return out


def _gradient_array(gradient: object, data: Array) -> Array:
    """backward's `gradient` for an output holding `data`: an array of its shape and dtype."""
    g = _as_array(gradient, "backward: gradient", data.dtype)
    if g.shape != data.shape:
        raise ValueError(
            f"backward: gradient has shape {g.shape}; it needs the output's shape {data.shape}"
        )
    return g


def _broadcast(op: Op, datas: list[Array], shape: tuple[int, ...]) -> bool:
    """Whether numpy's broadcasting stretched an operand, so that its gradient must be summed
    back: an elementwise op whose operands all broadcast to the result's shape and do not all
    have it, or a matmul (whose batch axes broadcast). Other ops' rules give each operand a
    gradient of its own shape (and were the guess wrong, summing back would change nothing)."""
    if op.base is _aops.matmul_op:
        return any(d.ndim > 2 for d in datas)
    n = len(shape)
    stretched = False
    for d in datas:
        s = d.shape
        if s == shape:
            continue
        k = len(s)
        if k > n or any(a != 1 and a != b for a, b in zip(s, shape[n - k :])):
            return False  # not elementwise: the rule shapes each gradient itself
        stretched = True
    return stretched


def _fill(node: Tensor, data: Array, op: Op, a: Any, b: Any, requires: bool) -> None:
    node._data = data
    node._stamp = CLOCK[0]
    node._grad = None
    node._label = None
    node._op = op
    node._a, node._b = a, b
    node._requires = requires


def _constant(data: Array) -> Tensor:
    """A constant leaf: a number or array mixed into an expression."""
    node: Tensor = object.__new__(Tensor)
    _fill(node, data, CONSTANT, None, None, False)
    node._scope = MODE.get().scope
    return node


def _index(index: object) -> tuple[Any, ...]:
    """index as a tuple whose arrays are numpy arrays of their own (kept by the node)."""
    many = index if isinstance(index, tuple) else (index,)
    out: list[Any] = []
    for i in many:
        if isinstance(i, Node):
            i = i._data
        if isinstance(i, (list, np.ndarray)):
            i = np.array(i)
            if i.dtype.kind not in "biu":
                raise IndexError(
                    f"getitem: array indices must be integers or booleans, got dtype {i.dtype}"
                )
        elif not (i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice))):
            raise IndexError(f"getitem: cannot index with {describe(i)}")
        out.append(i)
    return tuple(out)


def _adapted(op: Op, needs: tuple[bool, ...], broadcast: bool) -> Op:
    """op's rule for one node: shares only for operands that need them (None for others),
    each summed back to its operand's shape if broadcasting stretched it.

    Made once per op and kind of node, and kept on the op itself (`op.adaptations`), so that
    an op made for one call (where's mask, an index array) takes its copies, and the arrays
    they hold, with it when it goes.
    """
    key = (needs, broadcast)
    found = op.adaptations.get(key)
    if found is None:
        found = op.adaptations[key] = _adapt(op, needs, broadcast)
    return found


def _adapt(op: Op, needs: tuple[bool, ...], broadcast: bool) -> Op:
    """What _adapted returns, made anew."""
    rule: Callable[..., tuple[Any, ...]] = op.vjp
    parts = op.parts
    if not all(needs):
        if parts is not None:

            def rule(g: Any, out: Any, *xs: Any) -> tuple[Any, ...]:
                return tuple(p(g, out, *xs) if n else None for p, n in zip(parts, needs))
        else:
            whole = op.vjp

            def rule(g: Any, out: Any, *xs: Any) -> tuple[Any, ...]:
                return tuple(s if n else None for s, n in zip(whole(g, out, *xs), needs))

    if not broadcast:
        return op.specialised(rule)
    inner = rule

    def summed(g: Any, out: Any, *xs: Any) -> tuple[Any, ...]:
        return tuple(
            s if s is None or getattr(s, "shape", x.shape) == x.shape else _aops.sum_to(s, x.shape)
            for s, x in zip(inner(g, out, *xs), xs)
        )

    return op.specialised(summed)


# -- functions of several tensors ---------------------------------------------------------------
def maximum(a: object, b: object) -> Tensor:
    """The larger of a and b, elementwise, with numpy broadcasting; ties share the gradient."""
    return _aops.maximum(a, b)  # type: ignore[no-any-return]


def where(condition: object, a: object, b: object) -> Tensor:
    """a where `condition` (a boolean array, e.g. `t > 0`) holds, else b; broadcasting."""
    return _aops.where(condition, a, b)  # type: ignore[no-any-return]


def concatenate(tensors: Sequence[object], axis: int = 0) -> Tensor:
    """The tensors joined along an existing axis (np.concatenate)."""
    items, found = _axes.joined("concatenate", tensors, axis, False)
    return _aops.concatenate(items, found)  # type: ignore[no-any-return]


def stack(tensors: Sequence[object], axis: int = 0) -> Tensor:
    """The tensors joined along a new axis (np.stack)."""
    items, found = _axes.joined("stack", tensors, axis, True)
    return _aops.stack(items, found)  # type: ignore[no-any-return]
