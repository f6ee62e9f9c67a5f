"""`DataView`, what `Tensor.data` hands out: a read-only numpy view of a tensor's array that
refuses writes with an error saying what to write instead, and keeps `t.data -= step` working.

Every node's array is read-only (`array_node.made` sets it so): a write into a leaf's array
that bypassed the engine would go unseen by the write stamps, and a backward pass would mix
old and new values. So a leaf Tensor's numbers change in two ways only, both stamped:

- assigning `.data`: the setter copies what it is given (`assign`);
- in place, through `write_in_place`: the in-place operators (`-=`, `+=`, `*=`, `/=`, `//=`,
  `%=`, `**=`, `@=`, the bitwise ones) on `t.data`, which run numpy's own in-place operator
  on the tensor's array (so: numpy's numbers, casting rule and errors), and the optimizers'
  step. Python then assigns the view back (`t.data = t.data.__isub__(step)`); the setter
  sees its own array and has nothing left to do. No new array per step: a new array for
  each `p.data -= lr * p.grad` made that update about twice as slow.

An in-place operator writes through only on a view of a leaf Tensor's whole current array,
as `t.data` gives (kept in a variable too: after `a = t.data; a -= 1`, t has changed, as
numpy's views do). On a part of it (`t.data[:2] -= 1`), on an array the tensor no longer
holds (its `.data` was assigned since), on an op result's data or a Dual's primal it is
refused, as every other write is (`t.data[0] = 5`, `.fill`, `np.copyto`, ufuncs with `out=`,
`.sort()` ...): a ValueError before anything changes, naming the operation, the tensor and
the fix. Results computed from a view (`t.data + 1`, `.copy()`, `.astype()`, reductions)
are plain numpy arrays; views of it (`t.data[0]`, `.T`) stay read-only DataViews. A
writeable DataView (`np.empty_like(t.data)`, fancy indexing) behaves as an ndarray.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from .arrays import masked_error
from .node import CLOCK, Node, stamp_write
from .numpy_protocol import positional_parameters
from .stale import node_name

__all__ = ["DataView", "assign", "view_of", "write_in_place"]

_FIX = (
    "assign a new array instead, which the engine sees: d = t.data.copy(); d[0] = 5; "
    "t.data = d (or t.data = np.where(...), t.data -= step)"
)


def view_of(node: Node[Any], updatable: bool) -> DataView:
    """A read-only DataView of `node`'s array (what `.data` returns); `updatable`: in-place
    operators on it change the node (a leaf Tensor). The only place a view gets its slots."""
    data = node._data
    view: DataView = data.view(DataView)
    view._node = node
    view._of = data if updatable else None
    return view


def _slots(view: Any) -> tuple[Node[Any] | None, np.ndarray[Any, Any] | None]:
    """A DataView's (node, updatable array): (None, None) for a view numpy made (`t.data[0]`,
    `.T`, an array numpy allocated), whose slots are not set."""
    try:
        return view._node, view._of
    except AttributeError:
        return None, None


def _viewed(view: Any) -> Node[Any] | None:
    """The node whose data `view` shows, for an error message: its own, or, for a view numpy
    made of a view (`t.data[0]`), the one of the view it was made from (its `.base`: numpy
    collapses a chain of views of one type to the first)."""
    while isinstance(view, DataView):
        node = _slots(view)[0]
        if node is not None:
            return node
        view = view.base
    return None


def assign(node: Node[Any], array: np.ndarray[Any, Any]) -> None:
    """Make `array` (new, of the node's shape and dtype, held by no one else) the leaf
    `node`'s data, read-only, and stamp the node: graphs that used the old data are stale."""
    array.setflags(write=False)
    node._data = array
    stamp_write(node)


def write_in_place(node: Node[Any], operator: Callable[[Any, Any], Any], other: Any) -> None:
    """`operator(node's array, other)`, an ndarray in-place operator (`np.ndarray.__isub__`),
    in the leaf's own array, writeable only for it; then stamp the node, so that graphs that
    used it are stale. numpy checks dtypes and shapes before it writes: an error there leaves
    the array and the stamp as they were, and is raised naming the operation (as the user
    wrote it: `t.data -= x`) and the tensor."""
    data = node._data
    if data.base is not None:  # a view of other memory: the leaf's own copy first
        data = node._data = data.copy()
    if type(other) is not np.ndarray:  # (an optimizer's step, `-= lr * g`: nothing to do)
        if isinstance(other, np.ma.MaskedArray):  # numpy would use its masked numbers
            masked_error("an in-place operator on t.data", other)
        # `W.data += x` with x a Tensor: x's numbers; DataViews as plain arrays
        other = _plain(other._data if isinstance(other, Node) else other)
    data.setflags(True)  # write=True, given positionally: numpy parses a keyword slowly
    try:
        operator(data, other)
    except (TypeError, ValueError) as e:  # refused before writing (casting, shapes)
        raise _unwritten(node, operator, other, e) from None
    except BaseException:
        stamp_write(node)  # written, then raised (np.errstate(all="raise"))
        raise
    finally:
        data.setflags(False)
    CLOCK[0] = node._stamp = (CLOCK[0] | 1) + 1  # stamp_write(node), inline: the next even tick


_SYMBOLS = {
    "iadd": "+=", "isub": "-=", "imul": "*=", "itruediv": "/=", "ifloordiv": "//=",
    "imod": "%=", "ipow": "**=", "imatmul": "@=", "iand": "&=", "ior": "|=", "ixor": "^=",
    "ilshift": "<<=", "irshift": ">>=",
}  # fmt: skip
"""The in-place operators' symbols by name (`ndarray.__isub__`, `operator.isub`): read on
an error only, so that an update passes nothing more than its operator."""


def _unwritten(
    node: Node[Any], operator: Callable[..., Any], other: Any, error: Exception
) -> Exception:
    """numpy's refusal of an in-place write (`error`, a TypeError or ValueError) with the
    operation (`t.data -= x` for ndarray's operator, `t -= x` for the tensor's own, under
    no_grad), the tensor and the operand named: nothing was written."""
    name = getattr(operator, "__name__", "")
    on = "t.data" if name.startswith("__") else "t"
    doing = f"{on} {_SYMBOLS[name.strip('_')]} x" if name.strip("_") in _SYMBOLS else name
    kind = getattr(other, "dtype", type(other).__name__)
    try:
        shape = f"of shape {np.shape(other)}"
    except (TypeError, ValueError):  # ragged nested lists: numpy's words below say so
        shape = "of no one shape"
    text = (
        f"{doing} with x {shape}, {kind}: refused, {node_name(node)} "
        f"({node._data.dtype}) is unchanged: {error}"
    )
    return TypeError(text) if isinstance(error, TypeError) else ValueError(text)


def _refusal(view: Any, doing: str) -> ValueError:
    """The error for a write (`doing`) into a read-only DataView."""
    node, of = _viewed(view), _slots(view)[1]
    if node is None:  # an array numpy made otherwise: the tensor is not known
        return ValueError(f"{doing}: this array is a read-only view of a tensor's data; {_FIX}")
    name = node_name(node)
    if type(node).__name__ == "Dual":  # by name: dual.py imports this module
        return ValueError(
            f"{doing}: the primal of {name} is read-only (its tangent, and the tangents "
            f"computed from it, would no longer fit it): make a new Dual"
        )
    if of is not None and of is not node._data:
        return ValueError(
            f"{doing}: this array is no longer the data of {name} (its .data was assigned "
            f"since it was taken), and it is read-only; take t.data again"
        )
    if node._a is not None:
        return ValueError(
            f"{doing}: the data of {name} belongs to its graph (computed by "
            f"{node._op.base.display!r}, whose derivative rule may read it) and is read-only. "
            f"For numbers to change, take a copy (t.data.copy()) or a new leaf (t.detach())"
        )
    return ValueError(
        f"{doing}: the data of {name} is read-only, so that every change is seen by the graphs "
        f"that used it (a write into its array would make a gradient mix old and new "
        f"values); {_FIX}"
    )


def _plain(x: Any) -> Any:
    """x as a plain ndarray if it is a DataView (tuples and lists of them too), else x."""
    if type(x) is np.ndarray:  # the common case (an optimizer's step), first
        return x
    if isinstance(x, DataView):
        return x.view(np.ndarray)
    if type(x) in (tuple, list):
        return type(x)(_plain(i) for i in x)
    if type(x) is dict:
        return {k: _plain(v) for k, v in x.items()}
    return x


def _read_only(x: object) -> bool:
    """Whether x is a DataView that may not be written."""
    return isinstance(x, DataView) and not x.flags.writeable


# numpy functions that write into an argument: its position and keyword
_WRITERS: dict[Callable[..., Any], tuple[int, str]] = {
    np.copyto: (0, "dst"),
    np.put: (0, "a"),
    np.place: (0, "arr"),
    np.putmask: (0, "a"),
    np.fill_diagonal: (0, "a"),
    np.put_along_axis: (0, "arr"),
}


def _in_place(name: str, symbol: str) -> Callable[[DataView, Any], Any]:
    """The in-place operator `name` (`__isub__`, written `symbol`): numpy's on a writeable
    view; on a read-only one, numpy's in the tensor's array (`write_in_place`) if the view
    shows a leaf Tensor's whole current array, else refused."""
    inherited = getattr(np.ndarray, name)

    def operator(self: DataView, other: Any) -> Any:
        try:
            node, of = self._node, self._of
        except AttributeError:  # a view numpy made: not a whole leaf's array
            node = of = None
        if of is not None and node is not None and of is node._data:  # a leaf's, whole
            write_in_place(node, inherited, other)
            return self if node._data is of else view_of(node, True)
        if self.flags.writeable:
            return inherited(self, other)
        part = node is None  # a view numpy made of `t.data`: `t.data[:2]`, `.T`
        raise _refusal(self, f"t.data{'[...]' if part else ''} {symbol} ...")

    operator.__name__ = name
    operator.__doc__ = f"`{symbol}`: in place, in a leaf tensor's array (see the module)."
    return operator


def _refusing(name: str) -> Callable[..., Any]:
    """The ndarray method `name` (one that writes into the array), refused on a read-only
    view."""
    inherited = getattr(np.ndarray, name)

    def method(self: DataView, *args: Any, **kwargs: Any) -> Any:
        if not self.flags.writeable:
            raise _refusal(self, f"t.data.{name}(...)")
        return inherited(self, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"ndarray.{name}; refused on a read-only view (see the module)."
    return method


class DataView(np.ndarray[Any, Any]):
    """A read-only view of a node's array: writes refused with a clear error; in-place
    operators on a leaf Tensor's whole array change it in place, seen (see the module)."""

    # Set by `view_of` only (read through `_slots`): a view numpy makes (`t.data[0]`, `.T`)
    # has neither, so it is not updatable (it shows a part, or another layout), and it names
    # its tensor through its `.base` (`_viewed`). No `__array_finalize__`: numpy would call it
    # in Python for every view, `t.data` included.
    __slots__ = ("_node", "_of")

    _described = "numpy array (a .data view)"
    """How error messages name it (`validate.describe`): the user holds a numpy array."""

    _node: Node[Any] | None  # the node viewed
    _of: np.ndarray[Any, Any] | None  # the leaf's array this view shows whole, if updatable

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """Ufuncs on plain arrays, so results are plain; `out=` a read-only view refused, and
        so is `ufunc.at` into one (numpy's `at` ignores the read-only flag)."""
        if method == "at" and inputs and _read_only(inputs[0]):
            raise _refusal(inputs[0], f"np.{ufunc.__name__}.at(t.data, ...)")
        out = kwargs.get("out")
        if out is not None:
            for o in out if isinstance(out, tuple) else (out,):
                if _read_only(o):
                    raise _refusal(
                        o, f"np.{ufunc.__name__}.{method}(..., out=t.data)".replace(".__call__", "")
                    )
            kwargs["out"] = _plain(out)
        return getattr(ufunc, method)(*_plain(inputs), **kwargs)

    def __array_function__(
        self, func: Any, types: Iterable[Any], args: Iterable[Any], kwargs: Mapping[str, Any]
    ) -> Any:
        """numpy functions on plain arrays; those that write into a read-only view refused."""
        items, named = tuple(args), dict(kwargs)
        where = _WRITERS.get(func)
        if where is not None:
            target = items[where[0]] if len(items) > where[0] else named.get(where[1])
            if _read_only(target):
                raise _refusal(target, f"np.{func.__name__}(t.data, ...)")
        out = named.get("out")
        if out is None and "out" in (names := positional_parameters(func)):
            at = names.index("out")  # out given by position: np.dot(a, b, t.data)
            out = items[at] if len(items) > at else None
        if _read_only(out):
            raise _refusal(out, f"np.{func.__name__}(..., out=t.data)")
        plain_types = tuple(np.ndarray if t is DataView else t for t in types)
        return super().__array_function__(func, plain_types, _plain(items), _plain(named))

    def __array_wrap__(self, array: Any, context: Any = None, return_scalar: bool = False) -> Any:
        """Results numpy wraps (methods computed in C) as plain arrays or scalars."""
        plain = array.view(np.ndarray) if isinstance(array, np.ndarray) else array
        return plain[()] if return_scalar else plain

    def __setitem__(self, key: Any, value: Any) -> None:
        """`t.data[key] = value`: refused on a read-only view."""
        if not self.flags.writeable:
            raise _refusal(self, "t.data[...] = ...")
        np.ndarray.__setitem__(self, key, value)

    def setflags(self, write: Any = None, align: Any = None, uic: Any = None) -> None:
        """ndarray.setflags; making a read-only view writeable is refused."""
        if write and not self.flags.writeable:
            raise _refusal(self, "t.data.setflags(write=True)")
        np.ndarray.setflags(self, write=write, align=align, uic=uic)

    def copy(self, order: Any = "C") -> Any:
        """A plain, writeable copy."""
        return self.view(np.ndarray).copy(order)

    def __copy__(self) -> Any:
        """copy.copy: a plain, writeable copy."""
        return self.view(np.ndarray).copy()

    def __deepcopy__(self, memo: Any) -> Any:
        """copy.deepcopy: a plain, writeable copy."""
        return self.view(np.ndarray).copy()

    def __reduce__(self) -> Any:
        """Pickled as a plain array."""
        return self.view(np.ndarray).__reduce__()

    def astype(self, *args: Any, **kwargs: Any) -> Any:
        """ndarray.astype, as a plain array."""
        return self.view(np.ndarray).astype(*args, **kwargs)

    def __repr__(self) -> str:
        """As the plain array's (`array([1., 2.])`)."""
        return repr(self.view(np.ndarray))

    fill = _refusing("fill")
    sort = _refusing("sort")
    partition = _refusing("partition")
    put = _refusing("put")
    resize = _refusing("resize")
    setfield = _refusing("setfield")

    __iadd__ = _in_place("__iadd__", "+=")
    __isub__ = _in_place("__isub__", "-=")
    __imul__ = _in_place("__imul__", "*=")
    __itruediv__ = _in_place("__itruediv__", "/=")
    __ifloordiv__ = _in_place("__ifloordiv__", "//=")
    __imod__ = _in_place("__imod__", "%=")
    __ipow__ = _in_place("__ipow__", "**=")
    __imatmul__ = _in_place("__imatmul__", "@=")
    __iand__ = _in_place("__iand__", "&=")
    __ior__ = _in_place("__ior__", "|=")
    __ixor__ = _in_place("__ixor__", "^=")
    __ilshift__ = _in_place("__ilshift__", "<<=")
    __irshift__ = _in_place("__irshift__", ">>=")
