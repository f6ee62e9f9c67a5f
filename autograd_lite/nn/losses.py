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
from types import MappingProxyType
from typing import Any, Literal, overload

import numpy as np

from ..engine import array_ops
from ..engine.array_base import max_reduce
from ..engine.node import Node, Op
from ..engine.reductions import logsumexp_array
from ..engine.tensor import Tensor
from ..engine.value import Operand, Value
from ..validate import array_of, choice, describe, is_real, real
from .arguments import SEQUENCE, operand, operands

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


_UNSIGNED = {np.dtype(c): np.dtype(c.upper()) for c in "bhilqp"}
"""Each signed integer dtype of the machine's byte order, and the unsigned one of its size."""


def _in_range(labels: Any, classes: int) -> bool:
    """Whether every label is in [0, classes), in one pass: read as unsigned ints of the same
    size (a view), a negative label is at least 2**(bits - 1), above any class count. False
    (the caller's exact path decides) for labels of the other byte order, whose bytes an
    unsigned view of this machine's order would misread."""
    if not labels.size:
        return False
    if labels.dtype.kind == "i":
        unsigned = _UNSIGNED.get(labels.dtype)
        if unsigned is None:
            return False
        labels = labels.view(unsigned)
    elif not labels.dtype.isnative:
        return False
    return bool(max_reduce(labels) < classes)


def _check_range(labels: Any, classes: int, ignore_index: int) -> None:
    """ValueError unless every label is in [0, classes) or equal to ignore_index."""
    if _in_range(labels, classes):
        return  # the common case: one reduction, without the mask below
    bad = np.flatnonzero(((labels < 0) | (labels >= classes)) & (labels != ignore_index))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"cross_entropy: labels must be in [0, {classes}) for {classes} classes; {bad.size} "
            f"are not, the first is labels[{i}] = {labels[i]} (only ignore_index={ignore_index} "
            f"may be outside)"
        )


def _check_labels(
    z: Any, labels: Any, reduction: str, ignore_index: int, label_smoothing: float
) -> None:
    """The op's domain check: generated code runs it on labels given anew at each call
    (compile_grad's args)."""
    _check_range(labels, z.shape[1], ignore_index)


Kept = tuple[Any, Any, int]
"""What `_kept` finds: the kept rows (None for all), the class each row picks, their count."""


def _kept(labels: Any, ignore_index: int, classes: int, in_range: bool | None = None) -> Kept:
    """The kept rows (label != ignore_index; None if every row is kept), the class each row
    picks (any for an ignored row) and the number of kept rows, for `classes` classes
    (`in_range`: `_in_range` of the labels, if known)."""
    if in_range is None and not 0 <= ignore_index < classes:
        in_range = _in_range(labels, classes)
    if not 0 <= ignore_index < classes and in_range:
        return None, labels, len(labels)  # the common case: no label can be ignore_index
    kept = labels != ignore_index
    count = int(np.count_nonzero(kept))
    if count == len(labels):
        return None, labels, count
    return kept, np.where(kept, labels, 0), count


def _targets(z: Any, labels: Any, ignore_index: int, label_smoothing: float) -> tuple[Any, Any]:
    """For logits z: the target distribution q (rows of 0 where ignored; the derivative is
    softmax - q) and the weights (1 for a counted sample, 0 if ignored), as a column."""
    n, classes = z.shape
    kept, picked, _ = _kept(labels, ignore_index, z.shape[1])
    target = np.zeros(z.shape, dtype=z.dtype)
    target[np.arange(n), picked] = 1.0 - label_smoothing
    target += label_smoothing / classes
    if kept is None:
        return target, np.ones((n, 1), dtype=z.dtype)
    target[~kept] = 0.0
    return target, kept.astype(z.dtype).reshape(n, 1)


def _cross_entropy_loss(
    z: Any,
    lse: Any,
    labels: Any,
    reduction: str,
    ignore_index: int,
    label_smoothing: float,
    known: Kept | None = None,
) -> Any:
    """The losses logsumexp(z[i]) - z[i, labels[i]] (with label smoothing, PyTorch's
    (1 - e) * that + e * (logsumexp(z[i]) - mean(z[i]))), 0 for an ignored sample, reduced
    (the mean over the counted samples: 0/0, nan, if every one is ignored, as PyTorch), from
    lse = logsumexp(z) along the classes (a column), which the rule reuses (so does
    generated code); `known`: what `_kept` finds, if known."""
    kept, picked, count = known or _kept(labels, ignore_index, z.shape[1])
    losses = lse[:, 0] - z[np.arange(z.shape[0]), picked]
    if label_smoothing:
        losses = (1.0 - label_smoothing) * losses + label_smoothing * (lse[:, 0] - z.mean(axis=1))
    if kept is not None:
        losses = np.where(kept, losses, 0.0).astype(z.dtype)
    if reduction == "none":
        return losses
    total = np.add.reduce(losses)
    if reduction == "sum":
        return total
    if not count:
        with np.errstate(invalid="ignore", divide="ignore"):  # all ignored: 0/0 = nan
            return total / count
    return total / count


def _cross_entropy_error(
    z: Any, g: Any, labels: Any, reduction: str, ignore_index: int, label_smoothing: float
) -> Any:
    """d(loss)/d(z) for an output gradient g (a column of n for reduction "none"), row by
    row: softmax(z_i) - q_i, exp(z - logsumexp(z)) - q, for a counted sample, 0 for an
    ignored one; divided by the number of counted samples for the mean (counted from the
    labels here, so that generated code counts the labels it is given); times g."""
    return _softmax_error(
        z, logsumexp_array(z, 1, True), g, labels, reduction, ignore_index, label_smoothing
    )


def _softmax_error(
    z: Any,
    lse: Any,
    g: Any,
    labels: Any,
    reduction: str,
    ignore_index: int,
    label_smoothing: float,
    known: Kept | None = None,
) -> Any:
    """`_cross_entropy_error` from lse = logsumexp(z) along the classes (a column); `known`:
    what `_kept` finds, if known."""
    error = z - lse
    np.exp(error, out=error)  # into the difference's array: the same numbers, one array
    kept, picked, count = known or _kept(labels, ignore_index, z.shape[1])
    if kept is None and not label_smoothing:  # q is one-hot: subtract its ones, not q
        error[np.arange(len(labels)), picked] -= 1.0
    else:
        target, weights = _targets(z, labels, ignore_index, label_smoothing)
        error -= target
        error *= weights
    if reduction == "mean":  # all ignored: every row is 0, a zero gradient (as PyTorch)
        error /= max(count, 1)
    if type(g) is np.ndarray and g.dtype == error.dtype:
        # error is this call's own array: the product written into it, the same numbers
        return np.multiply(error, g, out=error)
    return error * g


def _cross_entropy_vjp(
    g: Any, out: Any, z: Any, labels: Any, reduction: str, ignore_index: int, label_smoothing: float
) -> tuple[Any]:
    scale = g if reduction != "none" else array_ops.reshape(g, (len(labels), 1))
    if isinstance(z, Tensor):  # with create_graph: the softmax op, whose derivative is known
        target, weights = _targets(z.data, labels, ignore_index, label_smoothing)
        error = (array_ops.softmax(z, 1) - target) * weights
        if reduction == "mean":
            error = error / max(_kept(labels, ignore_index, z.shape[1])[2], 1)
        return (error * scale,)
    if type(z) is np.ndarray:  # on arrays: the function itself (an op would cost more)
        return (_cross_entropy_error(z, scale, labels, reduction, ignore_index, label_smoothing),)
    # on the symbolic values of generated code: one op, the product with g inside it
    error_op = Op(
        "cross_entropy_error",
        _cross_entropy_error,
        _no_rule,
        params=dict(zip(_PARAMS, (labels, reduction, ignore_index, label_smoothing))),
        # logsumexp written out: generated code computes it once for the loss too
        emit="_softmax_error({0}, logsumexp_array({0}, 1, True), {1}, " + _KEYWORDS + ")",
    )
    return (error_op(z, scale),)


def _no_rule(g: Any, out: Any, z: Any, **params: Any) -> tuple[Any]:
    raise TypeError("cross_entropy_error is the derivative of cross_entropy on arrays only")


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
    choice(reduction, "cross_entropy: reduction", _REDUCTIONS)
    if not isinstance(ignore_index, (int, np.integer)) or isinstance(ignore_index, bool):
        raise TypeError(f"cross_entropy: ignore_index must be an int, got {describe(ignore_index)}")
    ignore = int(ignore_index)
    smoothing = real(label_smoothing, "cross_entropy: label_smoothing")
    if not 0.0 <= smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {smoothing!r}")
    x = _as_tensor(logits)
    if x.ndim != 2 or 0 in x.shape:
        raise ValueError(
            f"cross_entropy: logits must have shape (N, C), N >= 1 samples by C classes, "
            f"got shape {x.shape}"
        )
    n, classes = x.shape
    found = _labels(labels, n, classes)
    out: Tensor = _cross_entropy_op(found, classes, reduction, ignore, smoothing)(x)
    return out


_PARAMS = ("labels", "reduction", "ignore_index", "label_smoothing")
_KEYWORDS = ", ".join(f"{k}={{{k}}}" for k in _PARAMS)  # "labels={labels}, ..."
_EMIT = {
    "array": "_cross_entropy_loss({0}, logsumexp_array({0}, 1, True), " + _KEYWORDS + ")",
    "array_check": "_check_labels({0}, " + _KEYWORDS + ")",
}
"""How generated code writes cross_entropy: the module's functions, given the params."""


def _cross_entropy_op(
    labels: Any, classes: int, reduction: str, ignore_index: int, label_smoothing: float
) -> Op:
    """The op of one cross_entropy call, for logits of `classes` classes. Its labels (a
    read-only array of their own) and options are its params, which its functions close over
    (params= would pass them as keywords at every call), and the rule reuses the forward's
    logsumexp for the logits it was computed from (the same numbers; other logits, a second
    backward, compute theirs). The labels are read once here: whether all are in range (the
    domain check then has nothing to do) and which rows are kept, for the forward and the
    rule; logits of another class count (the op applied anew) are checked and read anew."""
    options = (reduction, ignore_index, label_smoothing)
    saved: list[tuple[Any, Any]] = []  # (logits, their logsumexp) until the rule reads it
    in_range = _in_range(labels, classes)
    rows = _kept(labels, ignore_index, classes, in_range)

    def known(z: Any) -> Kept | None:
        return rows if z.shape[1] == classes else None

    def check(z: Any) -> None:
        if not (in_range and z.shape[1] == classes):
            _check_labels(z, labels, *options)

    def forward(z: Any) -> Any:
        saved[:] = [(z, logsumexp_array(z, 1, True))]
        return np.asarray(_cross_entropy_loss(z, saved[0][1], labels, *options, known(z)))

    def vjp(g: Any, out: Any, z: Any) -> tuple[Any]:
        if type(z) is not np.ndarray:  # nodes, generated code's symbols: the general rule
            return _cross_entropy_vjp(g, out, z, labels, *options)
        lse = saved.pop()[1] if saved and saved[0][0] is z else logsumexp_array(z, 1, True)
        scale = g if reduction != "none" else array_ops.reshape(g, (len(labels), 1))
        return (_softmax_error(z, lse, scale, labels, *options, known(z)),)

    return _CROSS_ENTROPY[reduction].remade(
        forward=forward,
        array_forward=forward,
        vjp=vjp,
        array_check=check,
        params=MappingProxyType(dict(zip(_PARAMS, (labels, *options)))),
    )


def _unset(*args: Any) -> Any:
    raise AssertionError("cross_entropy's op template is never applied")


_CROSS_ENTROPY = {
    reduction: Op(
        "cross_entropy",
        _unset,
        _unset,
        check_returns=False,
        display=f"cross_entropy(reduction={reduction!r})",
        array_check=_unset,
        emit=_EMIT,
    )
    for reduction in _REDUCTIONS
}
"""cross_entropy's op for each reduction, checked once: each call's op is one of them
`remade` with that call's functions and params (Op.__init__'s checks were half its cost)."""


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
