"""The chain-rule steps of a backward pass, one by one, in the order `backward()` applies them.

`backward()` (backward.py) is tuned for speed and records nothing; this module walks the same
graph in the same order and keeps every step: which result hands which operand what share,
and the operand's gradient after it. The step table and the stepping page show these steps;
the generated backward code (issue 12) emits one statement per step in this order, so that it
adds the same floats in the same order as `backward()`. A test checks that the gradients
accumulated here equal `backward()`'s bit for bit.

The order, as in backward.py's sweep: a node's rule runs once every result that uses it has
handed its share down (Kahn's order, last completed first); a two-operand node hands the
second operand its share before the first; a node of three or more operands hands operands
2, 3, ... in order and the first last.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..validate import describe
from .node import Node
from .sweep import count_uses

__all__ = ["BackwardStep", "backward_order"]


@dataclass(frozen=True)
class BackwardStep:
    """One chain-rule step: `result` hands `operand` (its operand number `index`) a share.

    - `upstream`: the result's complete gradient, d(output)/d(result) * seed;
    - `share`: what the result's rule gives the operand, upstream * d(result)/d(operand)
      (for a Tensor, summed back to the operand's shape if it was broadcast);
    - `gradient`: the operand's gradient after this share is added (partial until its last
      user has handed its share);
    - `first`: True if this is the operand's first share (the gradient is the share itself);
    - `complete`: True if this is the operand's last share (the gradient is now final).
    `share` is None for an operand that takes no gradient (a Tensor constant).
    """

    result: Node
    operand: Node
    index: int
    upstream: Any
    share: Any
    gradient: Any
    first: bool
    complete: bool


def backward_order(root: Node, seed: Any) -> Iterator[BackwardStep]:
    """The steps of backward from `root` with gradient `seed` (root._seed(...)'s value), in
    backward()'s order, computed with first-order rules (on data, not nodes).

    The graph is checked now, not at the first step: `StaleDataError` if a node's data
    changed after the graph used it (see `check_unchanged`)."""
    if not isinstance(root, Node):
        raise TypeError(f"backward_order: root must be a Value or a Tensor, got {describe(root)}")
    return _steps(root, seed, count_uses(root))  # the walk's own count, and its check


def _steps(root: Node, seed: Any, uses: dict[Node, int]) -> Iterator[BackwardStep]:
    """backward_order's steps, given the walk's count of each node's users."""
    pending: dict[Node, Any] = {}
    stack: list[tuple[Node, Any]] = [(root, seed)]
    while stack:
        node, g = stack.pop()
        operands = node.operands
        if not operands:
            continue
        shares = node._op.vjp(g, node._data, *[x._data for x in operands])
        order = [*range(1, len(operands)), 0]  # the second (and later) operands first
        for i in order:
            x, share = operands[i], shares[i]
            first = x not in pending
            total = share if first or share is None else pending[x] + share
            pending[x] = total
            uses[x] -= 1
            complete = uses[x] == 0
            yield BackwardStep(node, x, i, g, share, total, first, complete)
            if complete:
                stack.append((x, pending.pop(x)))
