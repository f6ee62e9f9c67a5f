"""Loss functions built from engine ops, so `backward()` differentiates them like anything else:
`half_squared_error`, `mse_loss`, `bce_with_logits` and `hinge_loss` on Values, and
`cross_entropy` and `mse_loss` on Tensors, as PyTorch defines them.

## On Values

Each takes predictions and targets, either one of each (a Value or a number) or two
sequences of the same non-zero length, and returns one `Value`. `reduction` is "mean" or
"sum" over the elements; the defaults follow each loss's usual convention.

A NaN prediction gives a NaN loss and a NaN gradient for that prediction, in every loss
(as in PyTorch); nothing inside a loss raises about it. An infinite prediction gives the
loss's limit: inf, or 0 where it is right without bound (`hinge_loss(inf, 1)`,
`bce_with_logits(inf, 1)` with a number target). Targets outside a loss's range (bce's
[0, 1], hinge's ±1; NaN included) are a ValueError naming the loss and the index; mse and
half_squared_error take any target, and a NaN one gives a NaN loss.

>>> from autograd_lite import Value
>>> from autograd_lite.nn import half_squared_error
>>> y_hat = Value(0.5)
>>> loss = half_squared_error(y_hat, 1.0)
>>> loss.backward()
>>> loss.data, y_hat.grad
(0.125, -0.5)

## On Tensors

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

import math
from collections.abc import Callable, Iterable
from typing import Any, Literal, overload

import numpy as np

from ..engine.node import Node
from ..engine.tensor import Tensor
from ..engine.value import Operand, Value
from ..validate import array_of, choice, describe, is_real, real
from .arguments import SEQUENCE, operand, operands
from .cross_entropy_op import op_of_call

Reduction = Literal["mean", "sum"]
"""How per-element losses are combined: their mean or their sum."""

TensorReduction = Literal["mean", "sum", "none"]
"""How a tensor loss combines its per-element losses: their mean, their sum, or not at all
(`"none"`: one loss per element, or per sample for cross_entropy), as PyTorch's `reduction`."""

_REDUCTIONS = ("mean", "sum", "none")

OperandOrSeq = Operand | Iterable[Operand]
"""One prediction (or target), or a sequence of them."""


def _as_list(x: object, what: str, fn: str) -> list[Value | float]:
    """One operand as a list of one, or the items of a sequence; each checked by `operand`."""
    if isinstance(x, Value) or is_real(x):
        return [operand(x, f"{fn}: {what}")]
    return operands(x, fn, what, f"a Value, a number or {SEQUENCE}")


def _nan_term(p: Value, t: Operand) -> Value:
    """NaN, with NaN gradients for p (and a Value t): every loss's answer to a NaN prediction.

    A loss's own formula may not get there: log refuses NaN, and relu's slope at NaN is 0.
    """
    return (p - t) * math.nan


def _elementwise(
    fn: str,
    preds: object,
    targets: object,
    reduction: str,
    term: Callable[[Value, Operand], Value],
    check_target: Callable[[float], bool] | None = None,
    target_rule: str = "",
) -> Value:
    """The loss `term` per (prediction, target) pair, combined by `reduction`; preds and
    targets are whatever the caller was given, checked here by `_as_list`."""
    choice(reduction, f"{fn}: reduction", ("mean", "sum"))
    ps = _as_list(preds, "predictions", fn)
    ts = _as_list(targets, "targets", fn)
    if len(ps) != len(ts):
        raise ValueError(
            f"{fn}: got {len(ps)} predictions and {len(ts)} targets; the counts must match"
        )
    if not ps:
        raise ValueError(f"{fn}: needs at least one prediction, got none")
    if check_target is not None:
        for i, t in enumerate(ts):
            td = t.data if isinstance(t, Value) else t
            if not check_target(td):
                raise ValueError(f"{fn}: targets must be {target_rule}; targets[{i}] is {td!r}")
    # a number prediction becomes a leaf, so the result is always a Value
    total: Value | None = None
    for p, t in zip(ps, ts):
        pv = p if isinstance(p, Value) else Value(p)
        e = _nan_term(pv, t) if math.isnan(pv.data) else term(pv, t)
        total = e if total is None else total + e
    assert total is not None
    return total / len(ps) if reduction == "mean" and len(ps) > 1 else total


def _is_number(y: Operand, v: float) -> bool:
    return not isinstance(y, Value) and y == v


def half_squared_error(
    pred: OperandOrSeq, target: OperandOrSeq, reduction: Reduction = "sum"
) -> Value:
    """1/2 (target - pred)^2, summed by default: the worked example's loss L.

    Its gradient with respect to pred is simply pred - target. With reduction="mean" the
    sum is divided by the number of elements.
    """

    def term(p: Value, t: Operand) -> Value:
        return 0.5 * (p - t) ** 2

    return _elementwise("half_squared_error", pred, target, reduction, term)


@overload
def mse_loss(preds: Tensor, targets: object, reduction: TensorReduction = "mean") -> Tensor: ...


@overload
def mse_loss(preds: object, targets: Tensor, reduction: TensorReduction = "mean") -> Tensor: ...


@overload
def mse_loss(
    preds: OperandOrSeq, targets: OperandOrSeq, reduction: Reduction = "mean"
) -> Value: ...


def mse_loss(preds: object, targets: object, reduction: str = "mean") -> Value | Tensor:
    """Mean squared error: mean of (pred - target)^2 (PyTorch's `mse_loss`); no 1/2 factor.

    On Values and numbers it gives a Value. If either argument is a Tensor it gives a
    Tensor: the mean over every element of two arrays of the same shape (an array beside a
    Tensor is a constant), and `reduction` may also be "none" (the squared errors).
    """
    if isinstance(preds, Tensor) or isinstance(targets, Tensor):
        return _tensor_mse_loss(preds, targets, reduction)

    def term(p: Value, t: Operand) -> Value:
        return (p - t) ** 2

    return _elementwise("mse_loss", preds, targets, reduction, term)


def bce_with_logits(
    logits: OperandOrSeq, targets: OperandOrSeq, reduction: Reduction = "mean"
) -> Value:
    """Binary cross-entropy of sigmoid(logit) against targets in [0, 1], computed stably.

    Per element, -[y log s(z) + (1 - y) log(1 - s(z))] = max(z, 0) - z y + log(1 + e^-|z|).
    It is built as z (1 - y) + log(1 + e^-z) for z >= 0 and as log(1 + e^z) - z y for
    z < 0: both are exact formulas for the same smooth function, and the branch keeps the
    exponential from overflowing, so the value and the gradient (sigmoid(z) - y) stay
    finite for any finite z.
    (Writing max(z, 0) and |z| with relu would give the wrong gradient -y at exactly z = 0,
    where relu's derivative is taken as 0.)
    """

    def term(z: Value, y: Operand) -> Value:
        # A number target of exactly 1 (z >= 0) or 0 (z < 0) makes the product 0: it is left
        # out, so that an infinite logit on the right side gives the limit 0, not 0 * inf.
        if z.data >= 0:
            tail = ((-z).exp() + 1.0).log()
            return tail if _is_number(y, 1.0) else z * (1.0 - y) + tail
        head = (z.exp() + 1.0).log()
        return head if _is_number(y, 0.0) else head - z * y

    return _elementwise(
        "bce_with_logits", logits, targets, reduction, term, lambda y: 0.0 <= y <= 1.0, "in [0, 1]"
    )


def hinge_loss(scores: OperandOrSeq, targets: OperandOrSeq, reduction: Reduction = "mean") -> Value:
    """Hinge loss: mean of max(0, 1 - y s), for targets y of -1 or +1 (not 0/1 labels)."""

    def term(s: Value, y: Operand) -> Value:
        if isinstance(y, Value):
            return (1.0 - y * s).relu()
        # y is exactly +-1, so 1 - y*s is 1 - s or 1 + s: one node fewer, same bits
        return (1.0 - s).relu() if y > 0 else (s + 1.0).relu()

    return _elementwise(
        "hinge_loss", scores, targets, reduction, term, lambda y: y in (-1.0, 1.0), "-1 or +1"
    )


def _as_tensor(x: object) -> Tensor:
    """x if it is a Tensor, else a constant Tensor of it (it takes no gradient)."""
    return x if isinstance(x, Tensor) else Tensor(x, requires_grad=False)


def _labels(labels: object, n: int, classes: int) -> np.ndarray[Any, Any]:
    """labels as an int array of shape (n,), or a clear error (their range is the op's
    domain check, `_check_labels`)."""
    if isinstance(labels, Node):
        raise TypeError(
            "cross_entropy: labels must be an integer numpy array (class indices), got a "
            f"{type(labels).__name__}, which holds floats; pass the labels' numpy array"
        )
    # a copy: the op keeps it (read-only, as Op keeps an array param)
    found = array_of(labels, "cross_entropy: labels must be an integer array", copy=True)
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
    found.setflags(write=False)
    return found  # their range: the op's array_check, `_check_labels`


def cross_entropy(
    logits: object,
    labels: object,
    reduction: TensorReduction = "mean",
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
) -> Tensor:
    """PyTorch's `cross_entropy(input, target)` for logits of shape (N, C) and integer
    labels of shape (N,): -log softmax(logits)[i, labels[i]], averaged over the batch
    (`reduction="sum"` adds them, `"none"` gives the N losses).

    A sample whose label is `ignore_index` (default -100) counts for nothing: its loss is
    0, and the mean is over the other samples (0/0, nan, if every one is ignored, as in
    PyTorch). With `label_smoothing` = e in [0, 1], the target of sample i is (1 - e) on
    its class and e / C on every class, so its loss is (1 - e) * (lse_i - z_i,label) +
    e * (lse_i - mean_c z_ic), lse_i being logsumexp(z_i): PyTorch's definition.

    `logits` is a Tensor (an array becomes a constant); `labels` a numpy array (or list) of
    ints in [0, C) or equal to ignore_index. Float labels, labels of another shape or out
    of range, an ignore_index that is not an int and a label_smoothing outside [0, 1] are
    errors that say what is needed, raised before any node is made. The labels, reduction,
    ignore_index and label_smoothing are the op's params (`compile_grad` can take new
    labels as args).
    """
    # Each check's common case first, without a call (a training step makes one loss).
    if type(reduction) is not str or reduction not in _REDUCTIONS:
        choice(reduction, "cross_entropy: reduction", _REDUCTIONS)
    ignore = ignore_index
    if type(ignore) is not int:
        if not isinstance(ignore, (int, np.integer)) or isinstance(ignore, bool):
            raise TypeError(f"cross_entropy: ignore_index must be an int, got {describe(ignore)}")
        ignore = int(ignore)
    smoothing = label_smoothing
    if type(smoothing) is not float:
        smoothing = real(smoothing, "cross_entropy: label_smoothing")
    if not 0.0 <= smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {smoothing!r}")
    x = logits if type(logits) is Tensor else _as_tensor(logits)
    shape = x._data.shape
    if len(shape) != 2 or 0 in shape:
        raise ValueError(
            f"cross_entropy: logits must have shape (N, C), N >= 1 samples by C classes, "
            f"got shape {shape}"
        )
    n, classes = shape
    found = _labels(labels, n, classes)
    # x's type applies the op, as the op's call would (a call fewer)
    return x._apply(op_of_call(found, classes, reduction, ignore, smoothing), (x,))


def _tensor_mse_loss(preds: object, targets: object, reduction: str = "mean") -> Tensor:
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
