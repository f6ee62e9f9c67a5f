"""cross_entropy's op (nn.losses' `cross_entropy` makes one per call, `op_of_call`): the
numpy functions it runs (the range of the labels, the rows kept, the loss from logsumexp,
its derivative softmax - target), which generated code calls too (`compile_grad`'s labels,
given anew at each call, are checked by `_checked_kept`), and its rule on nodes."""

from __future__ import annotations

import functools
from types import MappingProxyType
from typing import Any

import numpy as np

from ..engine import array_ops
from ..engine.array_base import add_reduce, max_reduce, remade
from ..engine.node import Op, trusted
from ..engine.reductions import logsumexp_array
from ..engine.tensor import Tensor

_UNSIGNED = {np.dtype(c): (np.dtype(c.upper()), int(np.iinfo(c).max) + 1) for c in "bhilqp"}
"""Each signed integer dtype of the machine's byte order: the unsigned one of its size, and
the number of its non-negative values (np.iinfo costs more than the rest of a check)."""


def _in_range(labels: Any, classes: int) -> bool:
    """Whether every label is in [0, classes), in one pass: read as unsigned ints of the same
    size (a view), a negative label is at least 2**(bits - 1), above any class count. False
    (the caller's exact path decides) for labels of the other byte order, whose bytes an
    unsigned view of this machine's order would misread."""
    if not labels.size:
        return False
    if labels.dtype.kind == "i":
        found = _UNSIGNED.get(labels.dtype)
        if found is None or classes > found[1]:
            return False  # negatives viewed unsigned start at 2**(bits - 1): not above classes
        labels = labels.view(found[0])
    elif not labels.dtype.isnative:
        return False
    return bool(max_reduce(labels) < classes)


def _check_range(
    labels: Any, classes: int, ignore_index: int, in_range: bool | None = None
) -> None:
    """ValueError unless every label is in [0, classes) or equal to ignore_index (`in_range`:
    `_in_range` of the labels, if known)."""
    if _in_range(labels, classes) if in_range is None else in_range:
        return  # the common case: one reduction, without the mask below
    bad = np.flatnonzero(((labels < 0) | (labels >= classes)) & (labels != ignore_index))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"cross_entropy: labels must be in [0, {classes}) for {classes} classes; {bad.size} "
            f"are not, the first is labels[{i}] = {labels[i]} (only ignore_index={ignore_index} "
            f"may be outside)"
        )


def _check_rows(shape: tuple[int, ...], labels: Any) -> None:
    """ValueError unless logits of this shape have one row of classes per label."""
    if len(shape) != 2 or shape[0] != len(labels):
        raise ValueError(
            f"cross_entropy: logits of shape {shape} for {len(labels)} labels; they need shape "
            f"({len(labels)}, C): a row of C classes per label"
        )


def _check_labels(
    z: Any, labels: Any, reduction: str, ignore_index: int, label_smoothing: float
) -> None:
    """The op's domain check, for logits z: a row per label, each label a class of z's or
    ignore_index."""
    _check_rows(z.shape, labels)
    _check_range(labels, z.shape[1], ignore_index)


Kept = tuple[Any, Any, int]
"""What `_kept` finds: the kept rows (None for all), where each row's pick is in the
flattened logits (`_positions`), the number of kept rows."""


def _kept(labels: Any, ignore_index: int, shape: tuple[int, ...], rows: Any = None) -> Kept:
    """For logits of `shape`, (N, classes): the kept rows (label != ignore_index; None if
    every row is kept), the position of each row's class in the flattened logits (its row's
    first for an ignored row) and the number of kept rows. Labels that do not fit the shape
    are `_check_labels`' errors, raised here: their positions would pick other logits.
    `rows`: 0, 1, ..., N - 1 if the caller has them (`_rows`)."""
    _check_rows(shape, labels)
    classes = shape[1]
    picks = None
    try:  # the range check and the positions in one call (half the cost of the two apart)
        picks = _ravel((np.arange(len(labels)) if rows is None else rows, labels), shape)
    except (ValueError, TypeError):  # a label outside [0, classes): named, or ignore_index
        _check_range(labels, classes, ignore_index, False)
    else:
        if not 0 <= ignore_index < classes:
            return None, picks, len(labels)  # no label can be ignore_index
    kept = labels != ignore_index
    count = int(np.count_nonzero(kept))
    if count == len(labels):
        return None, _positions(labels, classes) if picks is None else picks, count
    return kept, _positions(np.where(kept, labels, 0), classes), count


_ravel: Any = np.ravel_multi_index


@functools.lru_cache(maxsize=16)
def _rows(n: int) -> Any:
    """0, 1, ..., n - 1, read-only: each label's row, made once per batch size for the ops
    of cross_entropy's calls (generated code, which copies `_kept`, makes its own)."""
    rows = np.arange(n)
    rows.setflags(write=False)
    return rows[:]  # a view of a read-only array: numpy refuses to make it writeable again


def _positions(picked: Any, classes: int) -> Any:
    """row * classes + picked[row] for each row: where each row's class is in the flattened
    (N, classes) logits, for `take` and `put`, which cost half a 2-D fancy index."""
    if picked.dtype.kind == "u" and picked.dtype.itemsize >= 8:  # numpy: + int64 is a float
        picked = picked.astype(np.intp)  # (an exact copy: every label is below classes)
    return np.arange(0, len(picked) * classes, classes) + picked


def _checked_kept(z: Any, labels: Any, ignore_index: int) -> Kept:
    """`_kept` for logits z, which checks the labels (a row each, in range), reading their
    range once: generated code computes it once per call (a shared call) for the loss and
    its derivative."""
    return _kept(labels, ignore_index, z.shape)


def _targets(z: Any, labels: Any, ignore_index: int, label_smoothing: float) -> tuple[Any, Any]:
    """For logits z: the target distribution q (rows of 0 where ignored; the derivative is
    softmax - q) and the weights (1 for a counted sample, 0 if ignored), as a column."""
    n, classes = z.shape
    kept, picks, _ = _kept(labels, ignore_index, z.shape)
    target = np.zeros(z.shape, dtype=z.dtype)
    target.put(picks, 1.0 - label_smoothing)
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
    kept, picks, count = known or _kept(labels, ignore_index, z.shape)
    losses = lse[:, 0] - z.take(picks)
    if label_smoothing:
        losses = (1.0 - label_smoothing) * losses + label_smoothing * (lse[:, 0] - z.mean(axis=1))
    if kept is not None:
        losses = np.where(kept, losses, 0.0).astype(z.dtype)
    if reduction == "none":
        return losses
    total = add_reduce(losses)
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
    np.exp(error, error)  # into the difference's array (out positional: a keyword costs)
    kept, picks, count = known or _kept(labels, ignore_index, z.shape)
    if kept is None and not label_smoothing:  # q is one-hot: subtract its ones, not q
        error.put(picks, error.take(picks) - 1.0)
    else:
        target, weights = _targets(z, labels, ignore_index, label_smoothing)
        error -= target
        error *= weights
    if reduction == "mean":  # all ignored: every row is 0, a zero gradient (as PyTorch)
        error /= max(count, 1)
    if type(g) is np.ndarray and g.dtype == error.dtype:
        if not g.ndim and g.item() == 1.0:  # backward's seed (exact in any dtype): x * 1 is x
            return error
        # error is this call's own array: the product written into it, the same numbers
        return np.multiply(error, g, error)
    return error * g


def _cross_entropy_vjp(
    g: Any, out: Any, z: Any, labels: Any, reduction: str, ignore_index: int, label_smoothing: float
) -> tuple[Any]:
    scale = g if reduction != "none" else array_ops.reshape(g, (len(labels), 1))
    if isinstance(z, Tensor):  # with create_graph: the softmax op, whose derivative is known
        target, weights = _targets(z.data, labels, ignore_index, label_smoothing)
        error = (array_ops.softmax(z, 1) - target) * weights
        if reduction == "mean":
            error = error / max(_kept(labels, ignore_index, z.shape)[2], 1)
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
        emit="_softmax_error({0}, logsumexp_array({0}, 1, True), {1}, " + _KEYWORDS + _KNOWN,
    )
    return (error_op(z, scale),)


def _no_rule(g: Any, out: Any, z: Any, **params: Any) -> tuple[Any]:
    raise TypeError("cross_entropy_error is the derivative of cross_entropy on arrays only")


_PARAMS = ("labels", "reduction", "ignore_index", "label_smoothing")
_KEYWORDS = ", ".join(f"{k}={{{k}}}" for k in _PARAMS)  # "labels={labels}, ..."
_KNOWN = ", known=_checked_kept({0}, {labels}, {ignore_index}))"
"""The labels' check and their kept rows, written alike in the loss and its derivative, so
that compile_grad's code reads the labels once per call (its check: no statement before)."""
_EMIT = {
    "array": "_cross_entropy_loss({0}, logsumexp_array({0}, 1, True), " + _KEYWORDS + _KNOWN,
    "array_check": None,
}
"""How generated code writes cross_entropy: the module's functions, given the params."""


def op_of_call(
    labels: Any, classes: int, reduction: str, ignore_index: int, label_smoothing: float
) -> Op:
    """The op of one cross_entropy call, for logits of `classes` classes. Its labels (a
    read-only array of their own) and options are its params, which its functions close over
    (params= would pass them as keywords at every call), and the rule reuses the forward's
    logsumexp for the logits it was computed from (the same numbers; other logits, a second
    backward, compute theirs). The labels are checked and read once here (`_kept`): the
    rows kept and the positions picked, for the forward and the rule, so that the domain
    check has nothing to do; logits of another shape (the op applied anew) are checked and
    read anew."""
    options = (reduction, ignore_index, label_smoothing)
    saved: list[tuple[Any, Any]] = []  # (logits, their logsumexp) until the rule reads it
    shape = (len(labels), classes)
    kept = _kept(labels, ignore_index, shape, _rows(shape[0]))  # (other shapes: read anew)

    def check(z: Any) -> None:
        if z.shape != shape:
            _check_labels(z, labels, *options)

    def forward(z: Any) -> Any:
        lse = logsumexp_array(z, 1, True)
        saved[:] = [(z, lse)]
        known = kept if z.shape == shape else None
        return np.asarray(_cross_entropy_loss(z, lse, labels, *options, known))

    def vjp(g: Any, out: Any, z: Any) -> tuple[Any]:
        if type(z) is not np.ndarray:  # nodes, generated code's symbols: the general rule
            return _cross_entropy_vjp(g, out, z, labels, *options)
        lse = saved.pop()[1] if saved and saved[0][0] is z else logsumexp_array(z, 1, True)
        scale = g if reduction != "none" else array_ops.reshape(g, (len(labels), 1))
        known = kept if z.shape == shape else None
        return (_softmax_error(z, lse, scale, labels, *options, known),)

    params = {
        "labels": labels,
        "reduction": reduction,
        "ignore_index": ignore_index,
        "label_smoothing": label_smoothing,
    }  # _PARAMS's names
    return remade(
        _template(reduction), forward=forward, vjp=vjp, array_check=check,
        params=MappingProxyType(params),
    )  # fmt: skip


def _unset(*args: Any) -> Any:
    raise AssertionError("cross_entropy's op template is never applied")


@functools.cache
def _template(reduction: str) -> Op:
    """cross_entropy's op for `reduction`, checked once: each call's op is it `remade` with
    that call's functions and params (Op's checks were half the cost of making it)."""
    op = Op(
        "cross_entropy",
        _unset,
        _unset,
        check_returns=False,
        display=f"cross_entropy(reduction={reduction!r})",
        array_check=_unset,
        emit=_EMIT,
    )
    return trusted(op)
