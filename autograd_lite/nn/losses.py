"""Loss functions built from engine ops, so `backward()` differentiates them like anything else.

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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Literal, overload

from ..engine.tensor import Tensor
from ..engine.value import Operand, Value
from ..validate import choice, is_real
from .arguments import SEQUENCE, operand, operands
from .tensor_losses import TensorReduction, tensor_mse_loss

Reduction = Literal["mean", "sum"]
"""How per-element losses are combined: their mean or their sum."""

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
    preds: OperandOrSeq,
    targets: OperandOrSeq,
    reduction: str,
    term: Callable[[Value, Operand], Value],
    check_target: Callable[[float], bool] | None = None,
    target_rule: str = "",
) -> Value:
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
        return tensor_mse_loss(preds, targets, reduction)

    def term(p: Value, t: Operand) -> Value:
        return (p - t) ** 2

    return _elementwise("mse_loss", preds, targets, reduction, term)  # type: ignore[arg-type]


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
