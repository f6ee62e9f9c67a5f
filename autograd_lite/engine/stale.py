"""Data changed after a graph used it: the marks and the errors (`StaleDataError`).

Every node carries a write stamp (engine/node.py); a walk finds an operand written after the
op that used it (sweep.count_uses) and raises the error made here. Assigning the data of a
computed node is refused here too, before anything changes.
"""

from __future__ import annotations

from typing import NoReturn

import numpy as np

from .node import Node, StaleDataError
from .release import RELEASED_STAMP, released_error

__all__ = ["check_assignable", "node_name", "stale_error"]


def check_assignable(node: Node, where: str) -> None:
    """Refuse, before anything is changed, to assign the data of an op node (`where` names
    the assignment): its graph and its own derivative rule (sigmoid's uses its result) rely
    on it."""
    if node._a is None:
        return
    raise StaleDataError(
        f"{where}: {node_name(node)} was computed by {node._op.base.display!r} from other "
        f"nodes; its data cannot be assigned (its graph and derivative rule use it). Assign "
        f"a leaf's data, or make a new leaf with .detach()"
    )


def node_name(node: Node) -> str:
    """How an error names a node: its type and label, or its data if small."""
    kind = type(node).__name__
    if node._label is not None:
        return f"{kind} {node._label!r}"
    data = node._data
    if type(data) is float:
        return f"{'the constant' if node.is_constant else kind}({data!r})"
    return f"{'a constant' if node.is_constant else 'a'} {kind} of shape {np.shape(data)}"


def stale_error(user: Node | None, operand: Node) -> NoReturn:
    """The error for an operand whose data changed after `user` used it, or for a node
    (`user` None: the root of a walk) whose graph `backward(retain_graph=False)` let go."""
    if operand._stamp == RELEASED_STAMP:
        released_error(operand, "a walk through the graph (a second backward, grad, ...)")
    assert user is not None  # only a released node is refused as a root
    index = next(i for i, x in enumerate(user.operands) if x is operand) + 1
    made = "" if operand._a is None else f" (the result of {operand._op.base.display!r})"
    what, harm = (
        ("requires_grad", "its derivative rules skipped it or took it")
        if operand._stamp % 2  # odd: requires_grad_ wrote it (node.stamp_write)
        else ("data", "a gradient would mix old and new values")
    )
    raise StaleDataError(
        f"the {what} of {node_name(operand)}{made} was changed after the graph used it "
        f"(operand {index} of {user._op.base.display!r}, which made {node_name(user)}): "
        f"{harm}. Run the forward pass again after changing {what} (an update after "
        f"backward() is fine)"
    )
