"""Losses on `Tensor`s, as PyTorch defines them: `cross_entropy` and the tensor form of
`mse_loss`.

`cross_entropy(logits, labels)` takes logits of shape (N, C) and integer class labels of
shape (N,), and gives the mean over the batch of -log softmax(logits)[i, labels[i]],
computed as logsumexp(logits[i]) - logits[i, labels[i]], stable for any logits. It is one
op, whose derivative is (softmax(logits) - one_hot(labels)) / N: cheaper than log_softmax,
indexing and a mean as three nodes, and written with ops, so it has higher derivatives too.

>>> import numpy as np
>>> from autograd_lite import Tensor
>>> from autograd_lite.nn import cross_entropy
>>> logits = Tensor([[0.0, 0.0], [0.0, 0.0]])
>>> loss = cross_entropy(logits, np.array([0, 1]))   # log 2 for each sample
>>> round(loss.item(), 6), loss.shape
(0.693147, ())
>>> loss.backward()
>>> logits.grad.tolist()   # (softmax - one_hot) / N
[[-0.25, 0.25], [0.25, -0.25]]
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from ..engine import array_ops
from ..engine.node import Node, Op
from ..engine.tensor import Tensor
from ..validate import choice

__all__ = ["TensorReduction", "cross_entropy", "tensor_mse_loss"]

TensorReduction = Literal["mean", "sum", "none"]
"""How a tensor loss combines its per-element losses: their mean, their sum, or not at all
(`"none"`: one loss per element, or per sample for cross_entropy), as PyTorch's `reduction`."""

_REDUCTIONS = ("mean", "sum", "none")


def _as_tensor(x: object) -> Tensor:
    """x if it is a Tensor, else a constant Tensor of it (it takes no gradient)."""
    return x if isinstance(x, Tensor) else Tensor(x, requires_grad=False)


def _labels(labels: object, n: int, classes: int) -> np.ndarray[Any, Any]:
    """labels as an int array of shape (n,) in [0, classes), or a clear error."""
    if isinstance(labels, Node):
        raise TypeError(
            "cross_entropy: labels must be an integer numpy array (class indices), got a "
            f"{type(labels).__name__}, which holds floats; pass the labels' numpy array"
        )
    try:
        found = np.array(labels)  # a copy: the op keeps it
    except (TypeError, ValueError) as e:  # ragged nested lists
        raise TypeError(f"cross_entropy: labels must be an integer array: {e}") from None
    if found.dtype.kind not in "iu":
        raise TypeError(
            f"cross_entropy: labels must be integers (class indices 0 to {classes - 1}), got "
            f"dtype {found.dtype}; class probabilities are not supported (convert "
            f"whole-number labels with labels.astype(int))"
        )
    if found.shape != (n,):
        raise ValueError(
            f"cross_entropy: labels have shape {found.shape}; logits of shape (N, C) = "
            f"({n}, {classes}) need labels of shape ({n},)"
        )
    bad = np.flatnonzero((found < 0) | (found >= classes))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"cross_entropy: labels must be in [0, {classes}) for {classes} classes; "
            f"{bad.size} are not, the first is labels[{i}] = {found[i]}"
        )
    return found


def cross_entropy(logits: object, labels: object, reduction: TensorReduction = "mean") -> Tensor:
    """PyTorch's `cross_entropy(input, target)` for logits of shape (N, C) and integer
    labels of shape (N,): -log softmax(logits)[i, labels[i]], averaged over the batch
    (`reduction="sum"` adds them, `"none"` gives the N losses).

    `logits` is a Tensor (an array becomes a constant); `labels` a numpy array (or list) of
    ints in [0, C). Float labels, labels of another shape or out of range are errors that
    say what is needed, raised before any node is made.
    """
    choice(reduction, "cross_entropy: reduction", _REDUCTIONS)
    x = _as_tensor(logits)
    if x.ndim != 2 or 0 in x.shape:
        raise ValueError(
            f"cross_entropy: logits must have shape (N, C), N >= 1 samples by C classes, "
            f"got shape {x.shape}"
        )
    n, classes = x.shape
    found = _labels(labels, n, classes)
    rows = np.arange(n)
    saved: list[Any] = []  # (logits, their logsumexp) from the forward

    def forward(z: Any) -> Any:
        lse = array_ops.logsumexp(z, 1, True)
        saved[:] = [z, lse]
        losses = lse[:, 0] - z[rows, found]
        if reduction == "none":
            return losses
        return np.add.reduce(losses) / n if reduction == "mean" else np.add.reduce(losses)

    def vjp(g: Any, out: Any, z: Any) -> tuple[Any]:
        # d(loss_i)/d(z_i) = softmax(z_i) - one_hot_i. With create_graph it is written with
        # the softmax op, whose own derivative the higher orders need.
        if isinstance(z, Node):
            one_hot = np.zeros(z.data.shape, dtype=z.data.dtype)
            one_hot[rows, found] = 1.0
            error = array_ops.softmax(z, 1) - one_hot
        else:  # on arrays: exp(z - lse) with the forward's lse when z is its logits
            lse = saved[1] if saved and saved[0] is z else array_ops.logsumexp(z, 1, True)
            error = np.exp(z - lse)
            error[rows, found] -= 1.0
        if reduction == "none":
            return (error * array_ops.reshape(g, (n, 1)),)
        return (error * (g / n) if reduction == "mean" else error * g,)

    op = Op(
        "cross_entropy",
        forward,
        vjp,
        check_returns=False,
        display=f"cross_entropy(reduction={reduction!r})",
    )
    # the parameters as data (as array_ops' ops keep theirs), without passing them as keywords
    op.params = MappingProxyType({"labels": found, "reduction": reduction})
    out: Tensor = op(x)
    return out


def tensor_mse_loss(preds: object, targets: object, reduction: str = "mean") -> Tensor:
    """`mse_loss` on tensors: the mean of (pred - target)² over every element (PyTorch's
    `mse_loss`). Both must have the same shape (PyTorch would broadcast (N, 1) against (N,)
    to (N, N), with only a warning); either may be a Tensor or an array (a constant)."""
    choice(reduction, "mse_loss: reduction", _REDUCTIONS)
    p, t = _as_tensor(preds), _as_tensor(targets)
    if p.shape != t.shape:
        raise ValueError(
            f"mse_loss: predictions have shape {p.shape} and targets {t.shape}; the shapes "
            f"must be equal (reshape one: a (N, 1) output against (N,) targets would "
            f"broadcast to (N, N))"
        )
    d = p - t
    squared: Tensor = d * d
    if reduction == "none":
        return squared
    return squared.mean() if reduction == "mean" else squared.sum()
