"""Where a Tensor graph broadcast an operand: the edges whose gradient backward sums back.

A Tensor op whose operand was broadcast (numpy's rules: new leading axes, axes of length 1
stretched) gets, for that operand, a gradient of the broadcast shape, which the engine sums
back to the operand's shape (`_adapted` in engine/tensor.py). The drawing marks those
edges. This module works that out from the shapes and the op alone, without running any
derivative rule, so marking costs nothing on large graphs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..engine.array_ops import linear_op, matmul_op
from ..engine.tensor import Tensor

__all__ = ["Summed", "summed_operands"]

Shape = tuple[int, ...]

SAME_SHAPE_GRADIENT = frozenset(
    {
        "concatenate", "getitem", "log_softmax", "logsumexp", "max", "mean", "reshape",
        "scatter", "softmax", "stack", "sum", "sum_to", "transpose",
    }
)  # fmt: skip
"""Names of the array ops whose rule gives each operand a gradient of its own shape: they
change shapes on purpose (a reshape's operand is not broadcast), so nothing is summed."""


class Summed(NamedTuple):
    """An operand whose gradient backward sums over `axes` (of the broadcast shape) back to
    the operand's `shape`."""

    axes: tuple[int, ...]
    shape: Shape


def _summed_axes(broadcast: Shape, shape: Shape) -> tuple[int, ...]:
    """The axes of `broadcast` summed to get back `shape`: the leading axes broadcasting
    added and the axes of length 1 it stretched (as `array_ops.sum_to`)."""
    lead = len(broadcast) - len(shape)
    stretched = (lead + i for i, n in enumerate(shape) if n == 1 and broadcast[lead + i] != 1)
    return (*range(lead), *stretched)


def _fits(shape: Shape, target: Shape) -> bool:
    """Whether numpy broadcasts `shape` to `target` (and not to something larger)."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def _matmul_batch(shape: Shape) -> Shape:
    """The batch axes of a matmul operand: all but the matrix axes (none for a vector)."""
    return shape[:-2] if len(shape) >= 2 else ()


def _gradient_shapes(node: Tensor, shapes: list[Shape]) -> list[Shape]:
    """The shape of each operand's share before any summing back, from the shapes alone."""
    out = node.shape
    op = node.op
    if op is None:
        return shapes
    if op is matmul_op:  # matrices (or vectors) over broadcast batch axes
        batch = np.broadcast_shapes(*(_matmul_batch(s) for s in shapes))
        return [(*batch, *(s[-2:] if len(s) >= 2 else s)) for s in shapes]
    if op is linear_op:  # x @ w.T + b: only the bias is broadcast, over the batch axes
        return [*shapes[:2], out]
    if op.name in SAME_SHAPE_GRADIENT:
        return shapes
    # Elementwise (+, *, exp, maximum, where, broadcast_to, an Op of your own ...): each
    # operand's share has the result's shape.
    return [out if _fits(s, out) else s for s in shapes]


def summed_operands(node: Tensor) -> list[Summed | None]:
    """For each operand of a Tensor node, where backward sums its gradient back to its
    shape (it was broadcast), or None where it does not: the gradient has its shape, or the
    operand gets none (a constant or a `requires_grad=False` tensor)."""
    operands = node.operands
    shapes = [np.shape(x.data) for x in operands]
    return [
        Summed(_summed_axes(g, s), s) if g != s and getattr(x, "requires_grad", True) else None
        for x, g, s in zip(operands, _gradient_shapes(node, shapes), shapes)
    ]
