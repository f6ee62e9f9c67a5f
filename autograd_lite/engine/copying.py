"""What `copy.copy`, `copy.deepcopy` and `pickle` do with nodes and ops.

- An `Op` is kept by reference: a copy is the op itself, and a pickle names the module and
  the variable that hold it (`autograd_lite.engine.ops.add`), so that an unpickled op *is*
  the built-in one (drawings and generated code test `op is ops.add`). An op that no module
  holds (one made inside a function, or a node type's specialised copy) cannot be pickled:
  the error names it and says to define it at module level.
- A leaf (an input, a parameter, a constant) is copied whole: every slot of its class and
  of the classes above it, found from the classes' `__slots__` so that a slot added later
  is copied without an edit here, and the attributes of a subclass that has a `__dict__`.
  Arrays are copied too, even by `copy.copy` (as numpy's own), so a copy is independent.
- A node computed from others (part of a graph) is refused with a TypeError that says what
  to copy instead: its data as a new leaf (`detach()`), or the leaves. What users keep and
  send to other processes are leaves (parameters, data); a graph would bring every node
  below it, and ops made on the fly (`pow_number(n)`, a Tensor's specialised ops) that no
  module holds, so it could not be pickled by reference. The refusal looks at the node
  itself only, so a graph of any depth is refused at once, without recursion.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, TypeVar

import numpy as np

_T = TypeVar("_T")
_SLOTS: dict[type, tuple[str, ...]] = {}


def slot_names(cls: type) -> tuple[str, ...]:
    """The slots of cls and of every class above it, base classes first."""
    names = _SLOTS.get(cls)
    if names is None:
        found: list[str] = []
        for klass in reversed(cls.__mro__):
            slots = klass.__dict__.get("__slots__", ())
            for name in (slots,) if isinstance(slots, str) else slots:
                if name not in ("__dict__", "__weakref__") and name not in found:
                    found.append(name)
        names = _SLOTS[cls] = tuple(found)
    return names


def new_node(cls: type) -> Any:
    """An empty node of type cls, whose fields unpickling (or deepcopy) then sets."""
    return object.__new__(cls)


def leaf_state(node: Any, doing: str) -> dict[str, Any]:
    """Every field of the leaf `node` by name (slots, then a subclass's attributes); a
    TypeError saying what to do instead if `node` was computed from other nodes."""
    if node._a is not None:
        kind = type(node).__name__
        raise TypeError(
            f"cannot {doing} a {kind} computed by {node._op.base!r}: it is part of a graph, and "
            f"only leaves (inputs, parameters, constants) are copied and pickled. Copy its "
            f"data as a new leaf with .detach(), or copy the leaves and build the graph again"
        )
    state = {name: getattr(node, name) for name in slot_names(type(node)) if hasattr(node, name)}
    state.update(getattr(node, "__dict__", {}))
    return state


def restore(node: Any, state: dict[str, Any]) -> None:
    """Set `node`'s fields from `state` (as `leaf_state` gave them), then let its type renew
    what holds only where it was made (`Node._renew`)."""
    for name, value in state.items():
        object.__setattr__(node, name, value)
    node._renew()


def shallow_copy(node: _T) -> _T:
    """`copy.copy` of a leaf: a new node of the same type sharing every field but arrays,
    which are copied (as numpy's copy.copy does), so that the copy is independent."""
    state = leaf_state(node, "copy")
    new: _T = object.__new__(type(node))
    restore(new, {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in state.items()})
    return new


_REFERENCES: dict[int, tuple[str, str]] = {}
"""Where each op pickled so far was found, by id (checked on each use: ids are reused)."""


def op_reference(op: object) -> tuple[str, str]:
    """(module, name) of a module variable holding `op`, autograd_lite's modules first;
    TypeError naming the op if none does."""
    known = _REFERENCES.get(id(op))
    if known is not None and getattr(sys.modules.get(known[0]), known[1], None) is op:
        return known
    modules = list(sys.modules.items())
    ours = [item for item in modules if item[0].startswith("autograd_lite")]
    for module_name, module in ours + modules:
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for name, value in list(namespace.items()):
            if value is op:
                _REFERENCES[id(op)] = (module_name, name)
                return module_name, name
    raise TypeError(
        f"cannot pickle {op!r}: an op is pickled by reference, as the module variable that "
        f"holds it (the built-in ones are in autograd_lite.ops), and no module holds this one "
        f"(made inside a function, or a specialised copy of another op). Define it at module "
        f"level, in a module the unpickling process can import"
    )


def op_named(module: str, name: str, kind: type) -> Any:
    """The op that `module.name` holds (what unpickling an op calls), checked to be a `kind`
    (Op, passed in: this module is below node.py)."""
    op = getattr(importlib.import_module(module), name, None)
    if not isinstance(op, kind):
        raise TypeError(
            f"unpickling an op: {module}.{name} is not an {kind.__name__} any more, but "
            f"{type(op).__name__}"
        )
    return op
