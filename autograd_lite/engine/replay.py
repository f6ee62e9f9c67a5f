"""A recorded graph computed again on Duals: forward mode for a graph already built.

`replay` walks the graph below an output in evaluation order and applies each node's op again
(the same `Op` object) to what its operands became, with chosen nodes replaced by Dual leaves
that carry tangents. So forward mode needs no function to call again: `hessian(...,
mode="fwd-over-rev")`, the walkthrough's forward mode and the rule checks start from the
graph that reverse mode uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .backward import check_unchanged, graph_nodes
from .dual import Dual, leaf
from .grad_mode import enable_grad
from .node import Node, StaleDataError

__all__ = ["check_recomputed", "replay"]


def check_recomputed(output: Node) -> None:
    """Raise `StaleDataError` unless every op node below `output` that holds an array gets
    its data again, bit for bit, from its operands' data now. That sees what no write stamp
    can: a write into a leaf's array after the forward pass that forced its read-only flag
    (`t.data.base.setflags(write=True)`; every other write is refused, data_view.py). It
    costs a forward pass, so the consumers that read the recorded values once (compile_grad,
    backward_code) run it, not every backward. Numbers
    (Values) cannot be written in place; their stamps see every change."""
    check_unchanged(output)
    for node in graph_nodes(output):
        data = node._data
        if node._a is None or type(data) is not np.ndarray:
            continue
        with np.errstate(all="ignore"):
            again = node._op.array_forward(*[x._data for x in node.operands])
        if not np.array_equal(np.asarray(again, dtype=data.dtype), data, equal_nan=True):
            raise StaleDataError(
                f"{node._op.base.display!r} gives another result from its operands' data now "
                f"than when the graph was built: an operand's array was written in place "
                f"(its read-only flag forced) after the forward pass, which no stamp "
                f"sees. Run the forward pass again after changing data"
            )


def replay(output: Node, seeds: Mapping[Node, Any]) -> dict[Node, Any]:
    """What each node below `output` becomes when the graph is computed again from Duals.

    Each node in `seeds` becomes a Dual leaf holding its data, with the seed as tangent (a
    number or an array of its shape; None for zero), even if `output` does not depend on it;
    every other leaf stays its data (a constant); every op node is its op applied to what its
    operands became, a Dual with the node's label, or plain data if it depends on no seed. The
    Duals record their graph (even inside `no_grad()`), so `grad` can run on them.

    >>> from autograd_lite import Value
    >>> x, y = Value(3.0), Value(2.0)
    >>> f = x * x * y
    >>> replay(f, {x: 1.0})[f].tangent   # d/dx x²y = 2xy
    12.0
    """
    check_unchanged(output)  # StaleDataError if a node's data changed since it was used
    done: dict[Node, Any] = {node: leaf(node._data, t, node._label) for node, t in seeds.items()}
    with enable_grad():
        for node in graph_nodes(output):
            if node in done:
                continue
            if node._a is None:
                done[node] = node._data
                continue
            new = node._op.base(*[done[x] for x in node.operands])
            if type(new) is Dual:
                new._label = node._label
            done[node] = new
    return done
