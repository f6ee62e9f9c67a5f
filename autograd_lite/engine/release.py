"""What a backward pass may release for memory, and the errors for using it afterwards.

`Tensor.backward(retain_grads=False)` drops the gradient of every op result (`RELEASED` in
its `_grad` slot). `Tensor.backward(retain_graph=False)` also lets the graph go, as PyTorch
frees a graph's saved tensors: every op node of the walk loses its links to its operands, so
whatever only the graph held (intermediate results, constants, a copied batch) is freed,
while a tensor the caller holds keeps its data (`out.data` to compute an accuracy). No walk
may go through such a node again (its links are gone): it carries the write stamp
`RELEASED_STAMP`, which every walk's stale-data check (stale.py) and `graph_nodes` refuse
with `ReleasedGraphError` (docs/tensors.md, "What a backward pass keeps"). Each op node is let
go as soon as the walk has run its rule, so an intermediate result is freed before the walk
reaches the layers below it, as PyTorch frees saved tensors during its backward pass.
"""

from __future__ import annotations

from typing import NoReturn

from .node import Node

__all__ = [
    "RELEASED",
    "RELEASED_STAMP",
    "LetGo",
    "ReleasedGradientError",
    "ReleasedGraphError",
    "released_error",
]


class ReleasedGradientError(RuntimeError):
    """Reading the `.grad` of an intermediate node (an op's result) whose gradient
    `backward(retain_grads=False)` did not keep (docs/tensors.md, "Memory")."""


class ReleasedGraphError(RuntimeError):
    """Walking a graph again (a second backward, grad, a drawing, compile_grad ...) after
    `backward(retain_graph=False)` let it go (docs/tensors.md, "Memory")."""


class _Released:
    """The `.grad` slot of an op node whose gradient a backward pass did not keep.

    A later backward adds to it (`old + g`) and gets it back: a gradient that missed one
    pass stays released rather than showing a partial sum."""

    __slots__ = ()

    def __add__(self, other: object) -> _Released:
        return self

    def __repr__(self) -> str:
        return "RELEASED"


RELEASED = _Released()
"""What `_grad` holds once a backward pass released the node's gradient."""

RELEASED_STAMP = 1 << 62
"""The write stamp of an op node whose graph was let go: later than any write (the clock
never gets there), so every walk that reaches it stops at the stale-data check, which tells
it from a changed node by this value."""


def released_error(node: Node, doing: str) -> NoReturn:
    """The error for a walk (`doing`) that reached `node`, whose graph was let go."""
    kind = type(node).__name__
    name = f"{kind} {node._label!r}" if node._label is not None else f"a {kind}"
    raise ReleasedGraphError(
        f"{doing}: the graph of {name} (the result of {node._op.base.display!r}) was let go "
        f"by backward(retain_graph=False), which keeps each tensor's data but not the links "
        f"between them: run the forward pass again (or call backward(), which keeps the graph, "
        f"where it is walked again)"
    )


class LetGo:
    """Where backward's sweep with `cut` (retain_graph=False) puts each op node as it
    reaches it: the node is let go and its use count forgotten, so that once its rule has
    run, nothing of the sweep holds it. (A node in the sweep's ownership set is held until
    its one-operand rule reads it; any other until the sweep ends.)"""

    __slots__ = ("uses",)

    def __init__(self, uses: dict[Node, int]) -> None:
        self.uses = uses

    def append(self, node: Node) -> None:
        """Let op node `node`'s part of the graph go (its rule is about to run on the
        operands the sweep has read): it loses its gradient and its links to its operands
        (so what only the graph held is freed as the walk goes) and is stamped, so that
        every later walk that reaches it is refused; it keeps its data."""
        del self.uses[node]
        node._stamp = RELEASED_STAMP
        node._grad = RELEASED
        node._a, node._b = (), None  # the form of an op of three or more operands: none
