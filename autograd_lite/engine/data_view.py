"""`DataView`, what `Tensor.data` hands out: a read-only numpy view of a tensor's array that
refuses writes with an error saying what to write instead, and keeps `t.data -= step` working.

A Tensor's array is read-only (`array_node.fill` sets every node's array so): a write into it
that bypassed an assignment to `.data` would go unseen by the write stamps, and a backward
pass would mix old and new values. So the engine's only ways to change a leaf are:

- assigning `.data` (the setter copies what it is given and stamps the tensor), including
  in-place arithmetic through the attribute: `t.data -= step` is `t.data = t.data.__isub__(
  step)`, and `DataView.__isub__` on a read-only view returns a *new* array with numpy's
  in-place semantics (same numbers, self's shape and dtype, casting rule "same_kind"), which
  the setter then takes without a copy (`taken`): nobody else can write it.
- `update_in_place`, the optimizers' step: in place for speed, then stamped.

Every other write (`t.data[0] = 5`, `.fill`, `np.copyto`, ufuncs with `out=`, `.sort()` ...)
raises ValueError before anything changes, naming the operation, the tensor and the fix. As
JAX's arrays, a kept array is a value: after `a = t.data; a -= 1`, `a` is a new array and `t`
is unchanged until it is assigned (`t.data = a`). Results computed from a view (`t.data + 1`,
`.copy()`, `.astype()`, reductions) are plain numpy arrays; views of it (`t.data[0]`, `.T`)
stay read-only DataViews. A writeable DataView (`np.empty_like(t.data)`, fancy indexing)
behaves as an ndarray.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .node import Node, stamp_write
from .stale import node_name

__all__ = ["DataView", "assign", "taken", "update_in_place", "view_of"]

_FIX = (
    "assign a new array instead, which the engine sees: d = t.data.copy(); d[0] = 5; "
    "t.data = d (or t.data = np.where(...), t.data -= step)"
)


def view_of(node: Node[Any]) -> DataView:
    """A read-only DataView of `node`'s array (what `Tensor.data` returns)."""
    view: DataView = node._data.view(DataView)
    view._node = node
    return view


def taken(value: object) -> np.ndarray[Any, Any] | None:
    """The array behind `value` if it is a new array that an in-place operator on a DataView
    made (`t.data -= step`), claimed once: no one else can write it, so the setter keeps it
    without a copy. None for anything else (the setter copies it)."""
    if type(value) is not DataView or not getattr(value, "_fresh", False):
        return None
    value._fresh = False  # a second tensor given it would share the first one's memory
    owner: np.ndarray[Any, Any] = value.base
    return owner


def assign(node: Node[Any], array: np.ndarray[Any, Any]) -> None:
    """Make `array` (new, of the node's shape and dtype, held by no one else) the leaf
    `node`'s data, read-only, and stamp the node: graphs that used the old data are stale."""
    array.setflags(False)
    node._data = array
    stamp_write(node)


def update_in_place(node: Node[Any], step: np.ndarray[Any, Any]) -> None:
    """`node.data -= step` in place in the leaf's own array, then stamp the node (graphs that
    used it become stale): the optimizers' update, with no new array per step. The array is
    writeable only for the subtraction. One that does not own its memory (a leaf made under
    no_grad() from a view) is replaced by a new array instead."""
    data = node._data
    if data.base is not None:
        assign(node, data - step)
        return
    data.setflags(True)
    try:
        data -= step
    finally:
        data.setflags(False)
    stamp_write(node)


def _refusal(view: np.ndarray[Any, Any], doing: str) -> ValueError:
    """The error for a write (`doing`) into a read-only DataView."""
    node = getattr(view, "_node", None)
    if node is None:  # a view numpy made of a view: the tensor is not known
        return ValueError(f"{doing}: this array is a read-only view of a tensor's data; {_FIX}")
    name = node_name(node)
    if type(node).__name__ == "Dual":
        return ValueError(
            f"{doing}: the primal of {name} is read-only (its tangent, and the tangents "
            f"computed from it, would no longer fit it): make a new Dual"
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


def _in_place(name: str, ufunc: np.ufunc) -> Callable[[DataView, Any], Any]:
    """The in-place operator `name` (`__isub__`): in place on a writeable view, as numpy;
    on a read-only one a new read-only array with numpy's in-place result."""
    inherited = getattr(np.ndarray, name)
    symbol = {
        "__iadd__": "+=", "__isub__": "-=", "__imul__": "*=", "__itruediv__": "/=",
        "__ifloordiv__": "//=", "__imod__": "%=", "__ipow__": "**=", "__imatmul__": "@=",
        "__iand__": "&=", "__ior__": "|=", "__ixor__": "^=", "__ilshift__": "<<=",
        "__irshift__": ">>=",
    }[name]  # fmt: skip

    def operator(self: DataView, other: Any) -> Any:
        if self.flags.writeable:
            return inherited(self, other)
        mine = self.view(np.ndarray)
        owner = np.empty_like(mine)
        # numpy's `a -= b` is np.subtract(a, b, out=a): the same call into a new array
        ufunc(mine, _plain(other), out=owner, casting="same_kind")
        owner.setflags(False)
        out = owner.view(DataView)
        out._node = getattr(self, "_node", None)
        out._fresh = True
        return out

    operator.__name__ = name
    operator.__doc__ = f"`{symbol}`: a new array with numpy's in-place result (see the module)."
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
    """A view of a tensor's array: read-only (writes refused with a clear error), in-place
    operators giving a new array that the tensor's `.data` setter takes (see the module)."""

    __slots__ = ("_fresh", "_node")

    _node: Node[Any] | None  # the tensor viewed (None: unknown)
    _fresh: bool  # a new array an in-place operator made, not yet given to a tensor

    def __array_finalize__(self, obj: Any) -> None:
        """A view numpy makes of a view (`t.data[0]`, `.T`) names the same tensor."""
        self._node = getattr(obj, "_node", None)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """Ufuncs on plain arrays, so results are plain; `out=` a read-only view refused."""
        out = kwargs.get("out")
        if out is not None:
            for o in out if isinstance(out, tuple) else (out,):
                if _read_only(o):
                    raise _refusal(o, f"np.{ufunc.__name__}(..., out=t.data)")
            kwargs["out"] = _plain(out)
        return getattr(ufunc, method)(*_plain(inputs), **kwargs)

    def __array_function__(
        self, func: Any, types: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        """numpy functions on plain arrays; those that write into a read-only view refused."""
        where = _WRITERS.get(func)
        if where is not None:
            target = args[where[0]] if len(args) > where[0] else kwargs.get(where[1])
            if _read_only(target):
                raise _refusal(target, f"np.{func.__name__}(t.data, ...)")
        out = kwargs.get("out")
        if _read_only(out):
            raise _refusal(out, f"np.{func.__name__}(..., out=t.data)")
        plain_types = tuple(np.ndarray if t is DataView else t for t in types)
        return super().__array_function__(func, plain_types, _plain(args), _plain(kwargs))

    def __array_wrap__(
        self, array: Any, context: Any = None, return_scalar: bool = False
    ) -> Any:
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
        np.ndarray.setflags(self, write, align, uic)

    def copy(self, order: Any = "C") -> np.ndarray[Any, Any]:
        """A plain, writeable copy."""
        return self.view(np.ndarray).copy(order)

    def __copy__(self) -> np.ndarray[Any, Any]:
        """copy.copy: a plain, writeable copy."""
        return self.view(np.ndarray).copy()

    def __deepcopy__(self, memo: Any) -> np.ndarray[Any, Any]:
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

    __iadd__ = _in_place("__iadd__", np.add)
    __isub__ = _in_place("__isub__", np.subtract)
    __imul__ = _in_place("__imul__", np.multiply)
    __itruediv__ = _in_place("__itruediv__", np.true_divide)
    __ifloordiv__ = _in_place("__ifloordiv__", np.floor_divide)
    __imod__ = _in_place("__imod__", np.remainder)
    __ipow__ = _in_place("__ipow__", np.power)
    __imatmul__ = _in_place("__imatmul__", np.matmul)
    __iand__ = _in_place("__iand__", np.bitwise_and)
    __ior__ = _in_place("__ior__", np.bitwise_or)
    __ixor__ = _in_place("__ixor__", np.bitwise_xor)
    __ilshift__ = _in_place("__ilshift__", np.left_shift)
    __irshift__ = _in_place("__irshift__", np.right_shift)
