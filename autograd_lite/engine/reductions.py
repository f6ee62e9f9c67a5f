"""Array ops that reduce along axes: sum, mean, max, and the softmax family (stable for
inputs of any size).

Each op is a forward function and one derivative rule written with these ops (array_ops.py
says more); an op with parameters is made by a cached factory, one `Op` per value.
"""

from __future__ import annotations

import builtins
import functools
import math
from typing import Any

import numpy as np

from . import ops
from .array_base import (
    Axis,
    add_reduce,
    closed_op,
    data_of,
    kept_shape,
    max_reduce,
    min_reduce,
    mul_reduce,
)  # fmt: skip
from .node import Node, Op
from .shape_ops import broadcast_to, reshape

__all__ = [
    "log_softmax", "logsumexp", "logsumexp_array", "max", "mean", "min", "norm", "prod", "softmax",
    "sum",
]  # fmt: skip


# -- reductions -----------------------------------------------------------------------------
def _spread(g: Any, x: Any, axis: Axis, keepdims: bool) -> Any:
    """g, the gradient of a reduction's result, spread back over x's shape."""
    if not keepdims:
        g = reshape(g, kept_shape(x.shape, axis))
    return broadcast_to(g, x.shape)


def _reduction(
    name: str, reduce: Any, axis: Axis, keepdims: bool, vjp: Any, jvp: Any, emit: Any = None
) -> Op:
    """The op `reduce(x, axis=axis, keepdims=keepdims)` with its rules (generated code writes
    the call, unless `emit` says otherwise)."""
    return closed_op(
        name,
        {"axis": axis, "keepdims": keepdims or None},
        lambda x: reduce(x, axis=axis, keepdims=keepdims),
        vjp,
        jvp=jvp,
        emit=emit,
    )


@functools.lru_cache(maxsize=1024)
def _sum(axis: Axis, keepdims: bool) -> Op:
    return _reduction(
        "sum",
        add_reduce,
        axis,
        keepdims,
        lambda g, out, x: (_spread(g, x, axis, keepdims),),
        lambda ts, out, x: sum(ts[0], axis, keepdims),
    )


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """The sum over `axis` (normalised: a tuple of non-negative ints, or None for all)."""
    if type(x) is np.ndarray:  # a rule on arrays: the op's forward, without the op's call
        return add_reduce(x, axis=axis, keepdims=keepdims)
    return _sum(axis, keepdims)(x)


def _count(shape: tuple[int, ...], axis: Axis) -> int:
    """How many elements of an array of `shape` each result of a reduction over `axis` holds."""
    return math.prod(shape) if axis is None else math.prod([shape[i] for i in axis])


def _mean_array(x: Any, axis: Axis, keepdims: bool) -> Any:
    """np.mean(x, axis, keepdims=keepdims) without its Python layer, the same numbers (a 0-d
    result a 0-d array, not a scalar). numpy divides its sum by the count as an intp, in
    float64, and rounds the quotient to x's dtype; dividing by the count in x's dtype gives
    the same bits when the count is exact in it (<= 2**24 for float32): a float64 quotient
    of float32 numbers rounds to the float32 quotient (53 >= 2 * 24 + 2 bits)."""
    n = x.size if axis is None else _count(x.shape, axis)
    if not 0 < n <= _EXACT_COUNT or x.dtype.char not in "fd":  # (no elements: its warning)
        return np.mean(x, axis=axis, keepdims=keepdims)
    # (reduce's arguments by position: axis, dtype, out, keepdims; numpy parses keywords slowly)
    quotient = add_reduce(x, axis, None, None, keepdims) / x.dtype.type(n)
    return quotient if type(quotient) is np.ndarray else np.asarray(quotient)


_EXACT_COUNT = 2**24
"""Up to this count a float32 holds every count exactly (a float64 more)."""


@functools.lru_cache(maxsize=1024)
def _mean(axis: Axis, keepdims: bool) -> Op:
    def vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
        scale = 1.0 / builtins.max(_count(x.shape, axis), 1)  # (a Python float: g's dtype)
        if type(x) is np.ndarray and isinstance(g, (np.ndarray, np.generic)):
            # on arrays: g * scale written into a new array of x's shape, the broadcast
            # below without its calls (the same products)
            kept = g if keepdims or axis is None else g.reshape(kept_shape(x.shape, axis))
            return (np.multiply(kept, scale, np.empty(x.shape, g.dtype)),)  # (out positional)
        return (_spread(g, x, axis, keepdims) * scale,)

    return _reduction(
        "mean",
        _mean_array,
        axis,
        keepdims,
        vjp,
        lambda ts, out, x: mean(ts[0], axis, keepdims),
        lambda x: f"np.mean({x}, axis={axis!r}, keepdims={keepdims!r})",  # the same numbers
    )


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """The mean over `axis` (normalised, as for `sum`)."""
    op = _mean(axis, keepdims)
    return x._apply(op, (x,)) if isinstance(x, Node) else op(x)  # a node applies it: no search


def _extreme_share(x: Any, out: Any, axis: Axis) -> Any:
    """Each element's share of max's (or min's) derivative: 1 for the extreme one, 1/k for
    k equal extremes, nan counted equal to nan (a constant array of x's shape)."""
    xd = data_of(x)
    od = np.reshape(data_of(out), kept_shape(xd.shape, axis))
    # a nan extreme is matched by the nan elements, which share the gradient, as in PyTorch
    hit = (xd == od) | (np.isnan(xd) & np.isnan(od))
    with np.errstate(all="ignore"):  # ties share the gradient equally, as in PyTorch
        share = hit / add_reduce(hit, axis=axis, keepdims=True)
    return share.astype(xd.dtype)


@functools.lru_cache(maxsize=1024)
def _extreme(name: str, axis: Axis, keepdims: bool) -> Op:
    return _reduction(
        name,
        max_reduce if name == "max" else min_reduce,
        axis,
        keepdims,
        lambda g, out, x: (_spread(g, x, axis, keepdims) * _extreme_share(x, out, axis),),
        lambda ts, out, x: sum(ts[0] * _extreme_share(x, out, axis), axis, keepdims),
    )


def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """The largest element over `axis`; equal largest elements share its gradient."""
    return _extreme("max", axis, keepdims)(x)


def min(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """The smallest element over `axis`; equal smallest elements share its gradient."""
    return _extreme("min", axis, keepdims)(x)


def _others(x: Any, axis: Axis) -> Any:
    """For each element of x, the product of the other elements along `axis`, written with
    ops and right with zeros in x, to second order: P / x over the nonzero elements (P their
    product), times what the zeros contribute: 1 where no other zero is left, the one other
    zero itself (a node, so its derivative is right) where one is, and 0 where two or more
    are (every derivative of that is 0 too, up to the second)."""
    zero = data_of(x) == 0
    left = add_reduce(zero, axis=axis, keepdims=True) - zero  # the other zeros, per element
    safe = x + zero  # the zeros replaced by 1: exact, and P / safe is the nonzeros' rest
    rest = broadcast_to(prod(safe, axis, True), zero.shape) / safe
    zeros_sum = broadcast_to(sum(x * zero, axis, True), zero.shape)  # 0, with derivatives
    return rest * ((left == 0) + (left == 1) * (zeros_sum - x * zero))


@functools.lru_cache(maxsize=1024)
def _prod(axis: Axis, keepdims: bool) -> Op:
    return _reduction(
        "prod",
        mul_reduce,
        axis,
        keepdims,
        lambda g, out, x: (_spread(g, x, axis, keepdims) * _others(x, axis),),
        lambda ts, out, x: sum(ts[0] * _others(x, axis), axis, keepdims),
    )


def prod(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """The product over `axis`; its gradient is right with zeros in x (one or several)."""
    return _prod(axis, keepdims)(x)


def _norm_array(x: Any, axis: Axis, keepdims: bool) -> Any:
    return np.sqrt(add_reduce(x * x, axis=axis, keepdims=keepdims))


@functools.lru_cache(maxsize=1024)
def _norm(axis: Axis, keepdims: bool) -> Op:
    def unit(out: Any, x: Any) -> Any:
        """x / norm, and 0 where the norm is 0 (PyTorch's gradient at the zero vector). There
        the norm has no second derivative (PyTorch's is nan); the mask makes ours 0, as
        relu's at its kink, rather than the 1 of x / 1."""
        kept = out if keepdims else reshape(out, kept_shape(x.shape, axis))
        zero = data_of(kept) == 0
        return x / broadcast_to(kept + zero, x.shape) * (1 - zero)

    return closed_op(
        "norm",
        {"axis": axis, "keepdims": keepdims or None},
        lambda x: _norm_array(x, axis, keepdims),
        lambda g, out, x: (_spread(g, x, axis, keepdims) * unit(out, x),),
        jvp=lambda ts, out, x: sum(ts[0] * unit(out, x), axis, keepdims),
    )


def norm(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """The L2 norm over `axis` (sqrt of the sum of squares); gradient x / norm, 0 at 0."""
    return _norm(axis, keepdims)(x)


# -- softmax and friends: stable for inputs of any size ---------------------------------------
def _reduced(shape: tuple[int, ...], axis: int, keepdims: bool) -> tuple[int, ...]:
    """shape reduced along axis: kept as 1 with keepdims, else left out."""
    return kept_shape(shape, (axis,)) if keepdims else shape[:axis] + shape[axis + 1 :]


def _all_finite(m: Any) -> bool:
    """Whether every element of the array m is finite: no 0 byte among isfinite's bools (a
    tenth of a reduction's cost; ndarray.all and np.count_nonzero add Python layers)."""
    return 0 not in np.isfinite(m).tobytes()


def logsumexp_array(x: Any, axis: int, keepdims: bool) -> Any:
    """log(sum(exp(x))) over `axis` of a plain array, stable for large |x| (the max taken out
    first); -inf over an empty axis. logsumexp's forward, and cross_entropy's."""
    if not x.shape[axis]:  # log of an empty sum: -inf (as PyTorch), where max has no start
        return np.full(_reduced(x.shape, axis, keepdims), -np.inf, x.dtype)
    m = max_reduce(x, axis=axis, keepdims=True)
    if _all_finite(m):  # each sum holds exp(0) = 1: log sees no 0, exp no overflow
        return _log_sum_exp_shifted(x, m, axis, keepdims)
    m = np.where(np.isfinite(m), m, 0)  # all -inf (or inf) along the axis: no shift
    with np.errstate(divide="ignore"):  # log 0 = -inf for an axis of -inf only
        return _log_sum_exp_shifted(x, m, axis, keepdims)


def _log_sum_exp_shifted(x: Any, m: Any, axis: int, keepdims: bool) -> Any:
    """log(sum(exp(x - m))) + m along `axis`, m a kept-dims column; x - m and its exp in one
    array of their own (the same numbers as new arrays for each)."""
    shifted = x - m
    exps = np.exp(shifted, shifted) if shifted.dtype.kind == "f" else np.exp(shifted)
    out = add_reduce(exps, axis=axis, keepdims=True)
    np.log(out, out)  # (out positional: a keyword costs)
    out += m
    return out if keepdims else np.squeeze(out, axis=axis)


@functools.lru_cache(maxsize=1024)
def _logsumexp(axis: int, keepdims: bool) -> Op:
    kept = (axis,)

    def weights(out: Any, x: Any) -> Any:
        """softmax(x) along the axis, from the result: d(out)/dx."""
        return ops.exp(x - (out if keepdims else reshape(out, kept_shape(x.shape, kept))))

    def vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
        if not keepdims:
            g = reshape(g, kept_shape(x.shape, kept))
        return (g * weights(out, x),)

    return closed_op(
        "logsumexp",
        {"axis": axis, "keepdims": keepdims or None},
        lambda x: logsumexp_array(x, axis, keepdims),
        vjp,
        jvp=lambda ts, out, x: sum(ts[0] * weights(out, x), kept, keepdims),
    )


def logsumexp(x: Any, axis: int, keepdims: bool = False) -> Any:
    """log(sum(exp(x))) along `axis`, computed without overflow."""
    return _logsumexp(axis, keepdims)(x)


def _log_softmax_array(x: Any, axis: int) -> Any:
    # (x - m) - log(sum(exp(x - m))), not x - logsumexp(x): logsumexp's m + log(sum) rounds
    # to m's precision, so for large x the difference would lose the digits of log(sum).
    if not x.shape[axis]:  # an empty axis: an empty result (as PyTorch)
        return x.copy()
    m = max_reduce(x, axis, None, None, True)  # keepdims by position (keywords cost)
    if _all_finite(m):  # each sum holds exp(0) = 1: log sees no 0, no warning to silence
        return _log_softmax_shifted(x - m, axis)
    with np.errstate(divide="ignore", invalid="ignore"):  # an axis of -inf only: nan, as before
        return _log_softmax_shifted(x - np.where(np.isfinite(m), m, 0), axis)


def _log_softmax_shifted(shifted: Any, axis: int) -> Any:
    """shifted - log(sum(exp(shifted))) along `axis`."""
    return shifted - np.log(add_reduce(np.exp(shifted), axis, None, None, True))


@functools.lru_cache(maxsize=1024)
def _log_softmax(axis: int) -> Op:
    return closed_op(
        "log_softmax",
        {"axis": axis},
        lambda x: _log_softmax_array(x, axis),
        lambda g, out, x: (_log_softmax_vjp(g, out, axis),),
        jvp=lambda ts, out, x: ts[0] - sum(ops.exp(out) * ts[0], (axis,), True),
    )


def _log_softmax_vjp(g: Any, out: Any, axis: int) -> Any:
    """log_softmax's derivative: g - softmax * (g summed along `axis`), softmax = exp(out)."""
    if type(g) is np.ndarray and type(out) is np.ndarray and g.dtype is out.dtype:
        # on arrays: np.exp itself, not ops.exp's quiet call (its errstate costs more than the
        # rest): out <= 0, so exp can at most underflow, as the forward's own exp does. The
        # reduction's arguments by position (numpy parses keywords slowly); exp's array is
        # the rule's own, so the product and the difference are written into it (one dtype:
        # else a product in g's wider dtype would be rounded to out's)
        shares = np.exp(out)
        shares *= add_reduce(g, axis, None, None, True)
        return np.subtract(g, shares, shares)
    return g - ops.exp(out) * sum(g, (axis,), True)


def log_softmax(x: Any, axis: int) -> Any:
    """x - logsumexp(x) along `axis`: log-probabilities, stable for any inputs."""
    op = _log_softmax(axis)
    return x._apply(op, (x,)) if isinstance(x, Node) else op(x)  # a node applies it: no search


def _softmax_array(x: Any, axis: int) -> Any:
    if not x.shape[axis]:  # an empty axis: an empty result (as PyTorch)
        return x.copy()
    m = max_reduce(x, axis=axis, keepdims=True)
    e = np.exp(x - np.where(np.isfinite(m), m, 0))
    return e / add_reduce(e, axis=axis, keepdims=True)


@functools.lru_cache(maxsize=1024)
def _softmax(axis: int) -> Op:
    def vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
        return (out * (g - sum(g * out, (axis,), True)),)

    return closed_op(
        "softmax",
        {"axis": axis},
        lambda x: _softmax_array(x, axis),
        vjp,
        jvp=lambda ts, out, x: vjp(ts[0], out, x)[0],  # its Jacobian is symmetric
    )


def softmax(x: Any, axis: int) -> Any:
    """exp(x) / sum(exp(x)) along `axis`, stable for any inputs."""
    return _softmax(axis)(x)
