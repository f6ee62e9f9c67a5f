"""`Module`: a container of named parameters that can be listed, zeroed, saved and restored.

A parameter is a `Value` (a scalar) or a `Tensor` (an array) held by a module. Parameters are
found by looking at the module's attributes, in the order they were assigned: a `Value` or
`Tensor` attribute that is a leaf is a parameter (a computed one, such as an activation that
forward keeps, `self.last = h`, is not: an optimizer cannot step it, and a state dict that held
it would not load into a model before its first forward pass), a `Module` attribute is a child
whose parameters are named under it, and a list, tuple or dict of these is named by position or
key. So a subclass only assigns attributes; it registers nothing.

Names join the path with dots: `w.0` and `b` in a `Neuron`, `neurons.2.w.0` in a `Layer`,
`layers.1.neurons.2.w.0` in an `MLP`; `weight` and `bias` in a `Linear`, `0.weight` in a
`Sequential`, as in PyTorch, so that a state dict loads into the same torch model.

A module may also hold buffers: arrays that are state but not parameters (BatchNorm1d's
running statistics). A class names them in `_buffer_names`; they get no gradient, are not in
`parameters()`, and are in `state_dict()` after the parameters, under PyTorch's keys.

Every module has PyTorch's `training` flag: `train(mode=True)` and `eval()` set it on the
module and all its sub-modules (Dropout and BatchNorm1d behave differently in each).

Modules copy (`copy.deepcopy`) and pickle with their parameters, which are leaves; saving
to a file is `nn.save(model.state_dict(), path)` (saving.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

import numpy as np
from numpy.typing import DTypeLike

from ..engine.data_view import assign
from ..engine.node import Node
from ..engine.tensor import Tensor
from ..engine.value import Value
from ..validate import array_of, flag, real

Parameter = Value | Tensor
"""What a module holds as a parameter: a scalar `Value` or an array `Tensor`."""

Array = np.ndarray[Any, Any]
_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))
_M = TypeVar("_M", bound="Module")


class Module:
    """Base class of everything that holds parameters (`Neuron`, `MLP`, `Linear`, yours).

    Subclasses assign their parameters (`Value`s or `Tensor`s) and sub-modules as
    attributes, possibly in lists, tuples or dicts, and define `forward` (called by
    `module(x)`, as in PyTorch) or `__call__`. Restoring parameters (`load_state_dict`,
    `set_parameter`) writes into the existing parameters' `.data`, so an optimizer that
    holds them keeps working.
    """

    training: bool = True
    """True in training mode (the default), False after `eval()`, as PyTorch's flag."""

    _buffer_names: tuple[str, ...] = ()
    """The attributes that hold buffers (arrays saved in the state dict, not trained); an
    attribute that is None holds none (BatchNorm1d without running statistics)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """The module's output: `self.forward(*args, **kwargs)`."""
        return self.forward(*args, **kwargs)

    def __setattr__(self, name: str, value: Any) -> None:
        """Set an attribute; replacing a parameter by a computed Value or Tensor (`self.w =
        self.w * 2`) is a TypeError, as in PyTorch: the result would not be a parameter, so
        the model would silently lose it, and an optimizer would go on stepping the old one."""
        old = self.__dict__.get(name)
        if isinstance(value, (Value, Tensor)) and not value.is_leaf and _is_parameter(old):
            raise TypeError(
                f"{type(self).__name__}.{name}: cannot replace the parameter by a "
                f"{type(value).__name__} computed by {value._op.base.display!r}: assign a "
                f"leaf (a new Tensor, or x.detach()), or change its data in place "
                f"(`with no_grad(): ...`, or assign `.data`)"
            )
        object.__setattr__(self, name, value)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """What calling the module computes; a subclass defines it."""
        raise NotImplementedError(
            f"{type(self).__name__} does not define forward(); a Module subclass defines "
            f"forward(self, x) (or __call__) to compute its output"
        )

    # -- what it holds ------------------------------------------------------------------------
    def _items(self) -> Iterable[tuple[str, Any]]:
        """The (name, item) pairs parameters and children are looked for in: the public
        attributes, in assignment order (Sequential names its items by position instead)."""
        return [(attr, item) for attr, item in vars(self).items() if not attr.startswith("_")]

    def _walk(self, prefix: str) -> Iterator[tuple[str, Parameter]]:
        for name, item in self._items():
            yield from _walk_item(prefix + name, item)

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """(name, parameter) pairs in a fixed order; a parameter held twice is listed once."""
        out: list[tuple[str, Parameter]] = []
        seen: set[Parameter] = set()
        for name, p in self._walk(""):
            if p not in seen:
                seen.add(p)
                out.append((name, p))
        return out

    def parameters(self) -> list[Parameter]:
        """The parameters, in the order of `named_parameters()`."""
        return [p for _, p in self.named_parameters()]

    def named_children(self) -> list[tuple[str, Module]]:
        """The sub-modules held directly (also in lists, tuples, dicts), with their names."""
        out: list[tuple[str, Module]] = []
        for name, item in self._items():
            out.extend(_children(name, item))
        return out

    def _buffer_slots(self, prefix: str) -> Iterator[tuple[str, Module, str]]:
        """(name, owner, attribute) of every buffer, this module's first, then its children's."""
        for name, item in self._items():
            if name in self._buffer_names:
                if item is not None:
                    yield prefix + name, self, name
            else:
                for child_name, child in _children(prefix + name, item):
                    yield from child._buffer_slots(child_name + ".")

    def named_buffers(self) -> list[tuple[str, Array]]:
        """(name, array) of every buffer (BatchNorm1d's `running_mean` ...), as PyTorch's."""
        return [(name, getattr(owner, attr)) for name, owner, attr in self._buffer_slots("")]

    # -- training and evaluation ----------------------------------------------------------------
    def train(self: _M, mode: bool = True) -> _M:
        """Set `training` to `mode` on this module and every sub-module; returns the module
        (PyTorch's `Module.train`). Dropout drops and BatchNorm1d uses batch statistics only
        in training mode."""
        found = flag(mode, f"{type(self).__name__}.train: mode")
        self.training = found
        for _, child in self.named_children():
            child.train(found)
        return self

    def eval(self: _M) -> _M:
        """Evaluation mode: `train(False)`; returns the module."""
        return self.train(False)

    # -- gradients and dtypes -------------------------------------------------------------------
    def zero_grad(self) -> None:
        """Reset every parameter's gradient, which otherwise adds up over backward calls: a
        Value's `.grad` becomes 0.0; a Tensor's is dropped (it reads as zeros, and an
        optimizer skips a tensor without a gradient, as PyTorch's does)."""
        zero_grads(self.parameters())

    def to(self: _M, dtype: DTypeLike) -> _M:
        """Convert every Tensor parameter (and its gradient) to `dtype`, np.float32 or
        np.float64, in place: the same Tensor objects, so convert before making an
        optimizer (Adam's running averages keep the dtype they started with). Float buffers
        are converted too, integer ones kept (as PyTorch). Returns the module, as PyTorch's
        `Module.to`."""
        try:
            kind = np.dtype(dtype)
        except TypeError:
            kind = None
        if kind not in _FLOATS:
            raise TypeError(
                f"{type(self).__name__}.to: dtype must be np.float32 or np.float64, got {dtype!r}"
            )
        for p in self.parameters():
            if isinstance(p, Tensor) and p.dtype != kind:
                grad = p._grad
                # The data setter keeps a tensor's dtype, so the array is swapped directly.
                assign(p, p._data.astype(kind))  # stamped: graphs that used the old one are stale
                p.grad = None if grad is None else grad.astype(kind)
        for _, owner, attr in self._buffer_slots(""):
            buffer = getattr(owner, attr)
            if buffer.dtype.kind == "f":
                setattr(owner, attr, buffer.astype(kind))
        return self

    # -- saving and restoring -------------------------------------------------------------------
    def state_dict(self) -> dict[str, float | Array]:
        """The parameter values by name: a float for a Value, a copy of the array for a
        Tensor (so later training does not change it); then a copy of every buffer. For
        Values only, it is a plain dict of floats (JSON-friendly); for Tensors, the names
        and shapes are PyTorch's."""
        out: dict[str, float | Array] = {
            name: p.data.copy() if isinstance(p, Tensor) else p.data
            for name, p in self.named_parameters()
        }
        out.update((name, buffer.copy()) for name, buffer in self.named_buffers())
        return out

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        """Set every parameter and buffer from `state` (as made by `state_dict()`).

        The keys must be exactly the parameter and buffer names: ValueError lists the
        missing and the unexpected ones. A Value's entry must be a real number (anything
        `numbers.Real` accepts; a bool counts as 0 or 1) or a 0-d array (what `nn.load`
        gives): TypeError otherwise, OverflowError for an int too large for a float. A
        Tensor's entry is an array of real numbers (numpy, nested lists, or anything with
        `__array__`, such as a CPU torch tensor) of the parameter's shape, copied. No
        number may change on the way: an array of floats must have the parameter's dtype
        (float64 for a Value; a TypeError says to convert the model or the array), and
        numbers, lists and integer arrays must convert exactly (ValueError naming the first
        that would round). A buffer's entry is checked as a Tensor's, against the buffer's
        shape and dtype (int64 for `num_batches_tracked`), and replaces it. Errors name the
        key; everything is checked before anything is changed.
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"load_state_dict: expected a mapping of name -> value, got {type(state).__name__}"
            )
        params = dict(self.named_parameters())
        slots = {name: (owner, attr) for name, owner, attr in self._buffer_slots("")}
        names = [*params, *slots]
        missing = [k for k in names if k not in state]
        unexpected = [k for k in state if k not in params and k not in slots]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing keys: {', '.join(map(repr, missing))}")
            if unexpected:
                parts.append(f"unexpected keys: {', '.join(map(repr, unexpected))}")
            raise ValueError(f"load_state_dict: {'; '.join(parts)}")
        values = {
            name: _new_data(p, state[name], f"load_state_dict[{name!r}]")
            for name, p in params.items()
        }
        buffers = {
            name: np.array(
                _new_data(getattr(owner, attr), state[name], f"load_state_dict[{name!r}]")
            )
            for name, (owner, attr) in slots.items()
        }
        for name, p in params.items():
            p.data = values[name]
        for name, (owner, attr) in slots.items():
            setattr(owner, attr, buffers[name])

    def get_parameter(self, name: str) -> Parameter:
        """The parameter called `name`; KeyError listing a few valid names if there is none."""
        for n, p in self.named_parameters():
            if n == name:
                return p
        names = [n for n, _ in self.named_parameters()]
        shown = ", ".join(map(repr, names[:4])) + (", ..." if len(names) > 4 else "")
        raise KeyError(f"{type(self).__name__} has no parameter {name!r} (names: {shown})")

    def set_parameter(self, name: str, value: object) -> None:
        """Set the parameter called `name` to `value` (its `.data`): a real number for a
        Value, an array of the parameter's shape for a Tensor, as in `load_state_dict`."""
        p = self.get_parameter(name)
        p.data = _new_data(p, value, f"set_parameter({name!r})")

    # -- how it prints --------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """What the printout shows inside the parentheses, before the sub-modules (PyTorch's
        hook): by default the parameter count, unless all the parameters are in sub-modules."""
        own = any(_holds_parameter(item) for _, item in self._items())
        if self.named_children() and not own:
            return ""
        return f"{len(self.parameters())} parameters"

    def __repr__(self) -> str:
        """PyTorch's layout: `Name(extra)`, and one indented `(name): child` line per
        sub-module."""
        extra = self.extra_repr()
        children = self.named_children()
        if not children:
            return f"{type(self).__name__}({extra})"
        lines = ([extra] if extra else []) + [
            f"({name}): {repr(child).replace(chr(10), chr(10) + '  ')}" for name, child in children
        ]
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


def zero_grads(params: Iterable[Parameter]) -> None:
    """Reset each parameter's gradient: 0.0 for a Value, none (reads as zeros) for a Tensor,
    which costs no allocation."""
    for p in params:
        if isinstance(p, Tensor):
            p._grad = None  # what the public setter does for None, without its checks
        else:
            p.grad = 0.0


def _new_data(p: Parameter | Array, value: object, where: str) -> Any:
    """`value` checked as new data for p: a float for a Value, an array of p's shape and
    dtype for a Tensor or a buffer (TypeError or ValueError naming `where` otherwise)."""
    if isinstance(value, Node):
        raise TypeError(f"{where}: expected an array, got a {type(value).__name__} (use .data)")
    if isinstance(p, (Tensor, np.ndarray)):
        return _exact_array(value, p.shape, p.dtype, where)
    if isinstance(value, (np.ndarray, np.generic)):  # a 0-d array, as nn.load gives
        return float(_exact_array(value, (), np.dtype(np.float64), where))
    return real(value, where)


# Numbers and nested lists have no dtype of their own: they are converted if that is exact.
_NO_DTYPE = (list, tuple, int, float, bool)


def _exact_array(value: object, shape: tuple[int, ...], dtype: np.dtype[Any], where: str) -> Array:
    """value as an array of `shape` and `dtype`, whose numbers are exactly value's: an array
    of floats must have `dtype` already (TypeError), and a number, list or integer array
    that would round is a ValueError naming the first element that changes."""
    array = array_of(value, f"{where}: expected an array of real numbers", "biuf")
    if array.shape != shape:
        raise ValueError(f"{where}: shape {array.shape} does not match the parameter's {shape}")
    if array.dtype.kind == "f" and array.dtype != dtype and type(value) not in _NO_DTYPE:
        raise TypeError(
            f"{where}: dtype {array.dtype} does not match the parameter's {dtype}; convert "
            f"the model (module.to(np.{array.dtype})) or the array (.astype(np.{dtype})) first"
        )
    if array.dtype == dtype:
        return array  # the parameter's setter copies it
    converted = array.astype(dtype)
    with np.errstate(all="ignore"):
        back = converted.astype(array.dtype)
    changed = (back != array) & ~(np.isnan(converted) & (back != back))
    if changed.any():
        index = tuple(int(i) for i in np.unravel_index(int(np.argmax(changed)), shape))
        raise ValueError(
            f"{where}: {int(np.count_nonzero(changed))} value(s) would change in {dtype}: "
            f"{array[index].item()!r} at index {index} becomes {converted[index].item()!r}"
        )
    return converted


def _is_parameter(item: Any) -> bool:
    """True for a Value or Tensor that is a leaf: not computed from other nodes."""
    return isinstance(item, (Value, Tensor)) and item.is_leaf


def _walk_item(name: str, item: Any) -> Iterator[tuple[str, Parameter]]:
    if _is_parameter(item):
        yield name, item
    elif isinstance(item, Module):
        yield from item._walk(name + ".")
    elif isinstance(item, (list, tuple)):
        for i, sub in enumerate(item):
            yield from _walk_item(f"{name}.{i}", sub)
    elif isinstance(item, Mapping):  # in insertion order, named by key, as torch's ModuleDict
        for key, sub in item.items():
            yield from _walk_item(f"{name}.{key}", sub)


def _children(name: str, item: Any) -> Iterator[tuple[str, Module]]:
    if isinstance(item, Module):
        yield name, item
    elif isinstance(item, (list, tuple)):
        for i, sub in enumerate(item):
            yield from _children(f"{name}.{i}", sub)
    elif isinstance(item, Mapping):
        for key, sub in item.items():
            yield from _children(f"{name}.{key}", sub)


def _holds_parameter(item: Any) -> bool:
    """True if item is a parameter, or a list, tuple or dict holding one outside any
    sub-module."""
    if _is_parameter(item):
        return True
    if isinstance(item, (list, tuple)):
        return any(_holds_parameter(sub) for sub in item)
    if isinstance(item, Mapping):
        return any(_holds_parameter(sub) for sub in item.values())
    return False
