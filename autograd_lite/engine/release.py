"""What a backward pass may release for memory, and the errors for reading it afterwards.

`Tensor.backward(retain_grads=False)` drops the gradient of every op result (`RELEASED` in
its `_grad` slot); `Tensor.backward(retain_graph=False)` drops their data as well, PyTorch's
default (docs/tensors.md, "What a backward pass keeps"). Released things are never read as
numbers: reading one raises an error that says what released it, and every walk through a
released graph is refused (the write stamp `RELEASED_STAMP`, checked by the walks' stale-data
check, see stale.py).
"""

from __future__ import annotations

from typing import Any, NoReturn

import numpy as np

from .node import Node

__all__ = [
    "RELEASED",
    "RELEASED_STAMP",
    "ReleasedData",
    "ReleasedDataError",
    "ReleasedGradientError",
    "check_kept",
    "is_kept",
    "release_data",
]


class ReleasedGradientError(RuntimeError):
    """Reading the `.grad` of an intermediate node (an op's result) whose gradient
    `backward(retain_grads=False)` did not keep (docs/tensors.md, "Memory")."""


class ReleasedDataError(RuntimeError):
    """Reading the data of an op's result, or walking its graph again, after
    `backward(retain_graph=False)` released the graph's data (docs/tensors.md, "Memory")."""


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
"""The write stamp of a node whose data was released: later than any write (the clock never
gets there), so every walk through it stops at the stale-data check, which tells a released
node from a changed one by this value."""


class ReleasedData:
    """What `_data` holds once the data was released: the shape and dtype (a drawing or an
    error may show them), no numbers. Anything else read from it raises ReleasedDataError,
    so that a path that missed the check gives that error, never a number."""

    __slots__ = ("_of", "dtype", "ndim", "shape", "size")

    def __init__(self, data: np.ndarray[Any, Any], node: Node) -> None:
        self.shape, self.dtype, self.ndim, self.size = data.shape, data.dtype, data.ndim, data.size
        # What `what` names, kept as parts: a backward pass releases every node, and
        # formatting each one's description there cost more than the rest of the release.
        self._of = (type(node).__name__, node._label, node._op.base)

    @property
    def what(self) -> str:
        """The released node, as errors name it."""
        kind, label, op = self._of
        name = f"{kind} {label!r}" if label is not None else f"a {kind}"
        return f"{name} (the result of {op.display!r})"

    def error(self, doing: str = "") -> NoReturn:
        """Raise the error for reading these numbers (`doing` names the operation)."""
        raise ReleasedDataError(
            f"{doing + ': ' if doing else ''}the data of {self.what} was released by "
            f"backward(retain_graph=False), which keeps only the leaves' data and gradients "
            f"and the output's value: run the forward pass again, or call backward() (it keeps "
            f"everything) where the graph is read after the backward pass"
        )

    def __getattr__(self, name: str) -> Any:
        self.error()

    def __array__(self, *args: object, **kwargs: object) -> Any:
        self.error()

    def __getitem__(self, index: object) -> Any:
        self.error("indexing")

    def __repr__(self) -> str:
        return f"<released data of shape {self.shape}>"


def is_kept(data: object) -> bool:
    """False for data a backward pass released."""
    return type(data) is not ReleasedData


def check_kept(data: object, doing: str) -> None:
    """Raise ReleasedDataError (`doing` names the operation) for released data."""
    if type(data) is ReleasedData:
        data.error(doing)


def release_data(nodes: list[Node], keep: Node) -> None:
    """Release every op node in `nodes` but `keep` (the output), as PyTorch frees a graph's
    saved tensors: its data, and its links to its operands, so that what only the graph held
    (the results of ops, constants mixed in such as a copied numpy batch, data that needed no
    gradient) is freed, while whatever the caller holds stays as it is. Each keeps its shape
    and dtype and is stamped, so that every later walk that reaches it is refused; it stays
    an op node (not a leaf) with no operands."""
    for node in nodes:
        if node is keep:
            continue
        node._data = ReleasedData(node._data, node)
        node._stamp = RELEASED_STAMP
        node._a, node._b = (), None  # the form of an op of three or more operands: none
