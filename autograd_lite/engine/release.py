"""What a backward pass may release for memory, and the errors for using it afterwards.

`Tensor.backward(retain_grads=False)` drops the gradient of every op result (`RELEASED` in
its `_grad` slot). `Tensor.backward(retain_graph=False)` also lets the graph go, as PyTorch
frees a graph's saved tensors: every op node of the walk loses its links to its operands, so
whatever only the graph held (intermediate results, constants, a copied batch) is freed,
while a tensor the caller holds keeps its data (`out.data` to compute an accuracy). No walk
may go through such a node again (its links are gone): it carries the write stamp
`RELEASED_STAMP`, which every walk's stale-data check (stale.py) and `graph_nodes` refuse
with `ReleasedGraphError` (docs/tensors.md, "What a backward pass keeps"). Each op node is let
go as the walk reaches it (sweep.py's `sweep`, which has read its operands for its rule:
it loses its gradient, `RELEASED`, and its links, and is stamped), so an intermediate result
is freed before the walk reaches the layers below it, as PyTorch frees saved tensors during
its backward pass.
`ReleasedGraphError`, `released_error` and `RELEASED_STAMP` are node.py's (imported here),
so that `Node.operands` refuses a let-go node too.
"""

from __future__ import annotations

from .node import RELEASED_STAMP, Node, ReleasedGraphError, released_error

__all__ = [
    "RELEASED",
    "RELEASED_STAMP",
    "ReleasedGradientError",
    "ReleasedGraphError",
    "released_error",
    "released_gradient",
]


class ReleasedGradientError(RuntimeError):
    """Reading the `.grad` of an intermediate node (an op's result) whose gradient
    `backward(retain_grads=False)` did not keep (docs/tensors.md, "Memory")."""


def released_gradient(node: Node) -> ReleasedGradientError:
    """The error for reading the `.grad` of op result `node`, which a backward pass released."""
    kind = type(node).__name__
    label = "" if node._label is None else f" {node._label!r}"
    return ReleasedGradientError(
        f"{kind}.grad: the gradient of this intermediate {kind.lower()}{label} was released "
        f"by backward(retain_grads=False) or backward(retain_graph=False) (later passes do "
        f"not bring it back): build the graph again and call backward(), which keeps every "
        f"gradient, to read it"
    )


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
