"""The ops that only arrays have: shapes, reductions, matmul, indexing, softmax.

Like ops.py, each op is a forward function and one derivative rule, and every rule is
written with these ops and ordinary arithmetic, so it runs on numpy arrays (a first-order
backward pass) and on Tensors (`create_graph=True`, higher derivatives). An op with
parameters (an axis, a shape) is made by a cached factory, one `Op` per parameter value, so
that the parameters are data on the op (`sum(axis=1)` in a drawing).

Broadcasting is not handled here: a Tensor node whose operands were broadcast sums each
operand's gradient back to its shape (tensor.py, one place for every op).

Forward mode (dual.py) needs a rule of its own, `jvp`, for each op here whose Jacobian is not
diagonal; it too is written with these ops. `maximum`, `where` and `pow_array` are
elementwise: their tangent comes from their one rule.
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from . import ops
from .node import Node, Op
from .ops import check_pow_array, quiet

__all__ = [
    "broadcast_to",
    "concatenate",
    "getitem",
    "linear",
    "log_softmax",
    "logsumexp",
    "matmul",
    "max",
    "maximum",
    "mean",
    "pow_array",
    "reshape",
    "scatter",
    "softmax",
    "stack",
    "sum",
    "sum_to",
    "transpose",
    "where",
]

# The ufuncs' reduce, not np.sum / np.max: those add a Python wrapper (2 us a call).
_add_reduce: Any = np.add.reduce
_max_reduce: Any = np.maximum.reduce

Axis = tuple[int, ...] | None
"""Axes as non-negative ints, or None for all."""


def _op(
    name: str,
    params: dict[str, Any],
    forward: Callable[..., Any],
    vjp: Callable[..., tuple[Any, ...]] | None = None,
    *,
    parts: Sequence[Callable[..., Any]] | None = None,
    display: str | None = None,
    jvp: Callable[..., Any] | str | None = None,
    emit: Callable[..., str] | None = None,
    array_check: Callable[..., None] | None = None,
) -> Op:
    """An op whose functions close over its parameters (faster than Op's params=, which
    passes them as keywords on every call), with the parameters kept as data."""
    if display is None:
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items() if v is not None)
        display = f"{name}({shown})" if shown else name
    op = Op(
        name, forward, vjp, parts=parts, check_returns=False, display=display, jvp=jvp,
        emit=emit, array_check=array_check,
    )  # fmt: skip
    op.params = MappingProxyType(params)
    return op


def _data(x: Any) -> Any:
    """The array of a Tensor (rules read data for masks, which are constants), or x."""
    return x._data if isinstance(x, Node) else x


def _summed(*terms: Callable[..., Any]) -> Callable[..., Any]:
    """A jvp rule from one linear term per operand: the sum of `term(t, out, *xs)` over the
    operands whose tangent t is not None (is not zero)."""

    def jvp(tangents: tuple[Any, ...], out: Any, *xs: Any) -> Any:
        total = None
        for term, t in zip(terms, tangents):
            if t is not None:
                total = term(t, out, *xs) if total is None else total + term(t, out, *xs)
        return total

    return jvp


def _kept(shape: tuple[int, ...], axis: Axis) -> tuple[int, ...]:
    """shape with each reduced axis kept as 1 (what keepdims=True gives)."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


# -- shapes ---------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1024)
def _reshape(shape: tuple[int, ...]) -> Op:
    return _op(
        "reshape",
        {"shape": shape},
        lambda x: np.reshape(x, shape),
        lambda g, out, x: (reshape(g, x.shape),),
        display=f"reshape{shape if len(shape) != 1 else f'({shape[0]})'}",
        jvp=lambda ts, out, x: reshape(ts[0], shape),
    )


def reshape(x: Any, shape: tuple[int, ...]) -> Any:
    """x with a new shape of the same size (no -1 here: Tensor.reshape resolves it)."""
    return _reshape(tuple(shape))(x)


@functools.lru_cache(maxsize=1024)
def _transpose(axes: tuple[int, ...]) -> Op:
    inverse = tuple(int(i) for i in np.argsort(axes))
    return _op(
        "transpose",
        {"axes": axes},
        lambda x: np.transpose(x, axes),
        lambda g, out, x: (transpose(g, inverse),),
        jvp=lambda ts, out, x: transpose(ts[0], axes),
    )


def transpose(x: Any, axes: tuple[int, ...]) -> Any:
    """x with its axes permuted (np.transpose)."""
    return _transpose(tuple(axes))(x)


@functools.lru_cache(maxsize=1024)
def _broadcast_to(shape: tuple[int, ...]) -> Op:
    return _op(
        "broadcast_to",
        {"shape": shape},
        lambda x: np.broadcast_to(x, shape),
        lambda g, out, x: (sum_to(g, x.shape),),
        jvp=lambda ts, out, x: broadcast_to(ts[0], shape),
    )


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    """x repeated along new leading axes and axes of length 1 (np.broadcast_to)."""
    return _broadcast_to(tuple(shape))(x)


def _sum_to_array(x: Any, shape: tuple[int, ...]) -> Any:
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1
    )
    summed = _add_reduce(x, axis=axes, keepdims=True) if axes else x
    return summed.reshape(shape)


@functools.lru_cache(maxsize=1024)
def _sum_to(shape: tuple[int, ...]) -> Op:
    return _op(
        "sum_to",
        {"shape": shape},
        lambda x: _sum_to_array(x, shape),
        lambda g, out, x: (broadcast_to(g, x.shape),),
        jvp=lambda ts, out, x: sum_to(ts[0], shape),
    )


def sum_to(x: Any, shape: tuple[int, ...]) -> Any:
    """x summed over the axes that broadcasting added or stretched, back to `shape`: the
    gradient of an operand that was broadcast (broadcast_to's derivative)."""
    return _sum_to(tuple(shape))(x)


# -- reductions -----------------------------------------------------------------------------
def _spread(g: Any, x: Any, axis: Axis, keepdims: bool) -> Any:
    """g, the gradient of a reduction's result, spread back over x's shape."""
    if not keepdims:
        g = reshape(g, _kept(x.shape, axis))
    return broadcast_to(g, x.shape)


@functools.lru_cache(maxsize=1024)
def _sum(axis: Axis, keepdims: bool) -> Op:
    return _op(
        "sum",
        {"axis": axis, "keepdims": keepdims or None},
        lambda x: _add_reduce(x, axis=axis, keepdims=keepdims),
        lambda g, out, x: (_spread(g, x, axis, keepdims),),
        jvp=lambda ts, out, x: sum(ts[0], axis, keepdims),
    )


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """The sum over `axis` (normalised: a tuple of non-negative ints, or None for all)."""
    return _sum(axis, keepdims)(x)


@functools.lru_cache(maxsize=1024)
def _mean(axis: Axis, keepdims: bool) -> Op:
    def vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
        n = np.prod([x.shape[i] for i in axis]) if axis is not None else x.size
        return (_spread(g, x, axis, keepdims) * (1.0 / builtins.max(int(n), 1)),)

    return _op(
        "mean",
        {"axis": axis, "keepdims": keepdims or None},
        lambda x: np.mean(x, axis=axis, keepdims=keepdims),
        vjp,
        jvp=lambda ts, out, x: mean(ts[0], axis, keepdims),
    )


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """The mean over `axis` (normalised, as for `sum`)."""
    return _mean(axis, keepdims)(x)


def _max_share(x: Any, out: Any, axis: Axis) -> Any:
    """Each element's share of max's derivative: 1 for the largest, 1/k for k equal largest
    (a constant array of x's shape)."""
    xd = _data(x)
    hit = xd == np.reshape(_data(out), _kept(xd.shape, axis))
    with np.errstate(all="ignore"):  # ties share the gradient equally, as in PyTorch
        share = hit / _add_reduce(hit, axis=axis, keepdims=True)
    return share.astype(xd.dtype)


@functools.lru_cache(maxsize=1024)
def _max(axis: Axis, keepdims: bool) -> Op:
    return _op(
        "max",
        {"axis": axis, "keepdims": keepdims or None},
        lambda x: _max_reduce(x, axis=axis, keepdims=keepdims),
        lambda g, out, x: (_spread(g, x, axis, keepdims) * _max_share(x, out, axis),),
        jvp=lambda ts, out, x: sum(ts[0] * _max_share(x, out, axis), axis, keepdims),
    )


def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """The largest element over `axis`; equal largest elements share its gradient."""
    return _max(axis, keepdims)(x)


# -- elementwise, with masks ------------------------------------------------------------------
def _maximum_mask(a: Any, b: Any) -> Any:
    ad, bd = _data(a), _data(b)
    return (ad > bd) + 0.5 * (ad == bd)  # ties split the gradient, as in PyTorch


def _maximum(a: float, b: float) -> float:
    return a if a > b or b != b else b


maximum_op = Op(
    "maximum",
    _maximum,
    lambda g, out, a, b: (g * _maximum_mask(a, b), g * (1.0 - _maximum_mask(a, b))),
    array_forward=np.maximum,
    check_returns=False,
    jvp="elementwise",
)
"""The larger of a and b, elementwise (nan if either is nan)."""


def maximum(a: Any, b: Any) -> Any:
    """The larger of a and b, elementwise (numpy broadcasting); ties share the gradient."""
    return maximum_op(a, b)


def where(condition: Any, a: Any, b: Any) -> Any:
    """a where `condition` (a boolean array) holds, else b (np.where, broadcasting)."""
    cond = np.asarray(_data(condition))
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a boolean array, got dtype {cond.dtype}")
    cond = cond.copy()  # a parameter of the node: later changes to the caller's array must not
    op = _op(
        "where",
        {"condition": cond},
        lambda a, b: np.where(cond, a, b),
        lambda g, out, a, b: (g * cond, g * ~cond),
        display=f"where{cond.shape}",
        jvp="elementwise",
    )
    return op(a, b)


def pow_array(x: Any, exponent: Any, checked: bool = True) -> Any:
    """x ** exponent for a constant array exponent (numpy broadcasting). Like a number
    exponent, it is a parameter of the op, not an operand: it takes no gradient, so a negative
    base is allowed where the exponent is an integer. The rule's x ** (exponent - 1) is
    unchecked, as pow_number's is (inf at 0 for 0 < exponent < 1)."""
    e = np.array(exponent)  # a copy: later changes to the caller's array must not reach the node
    op = _op(
        "**",
        {"exponent": e},
        quiet(lambda x: np.power(x, e)),  # inf and nan are results, as for a number exponent
        lambda g, out, x: (g * (e * pow_array(x, e - 1, False)),),
        display="**" + (str(e.tolist()) if e.size <= 4 else f"<array {e.shape}>"),
        jvp="elementwise",
        array_check=(lambda x: check_pow_array(x, e)) if checked else None,
    )
    return op(x)


# -- matmul -----------------------------------------------------------------------------------
def _swap(x: Any) -> Any:
    """x with its last two axes swapped."""
    axes = list(range(x.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return transpose(x, tuple(axes))


def _matmul_a(g: Any, out: Any, a: Any, b: Any) -> Any:
    if b.ndim == 1:  # out[..., i] = a[..., i, :] . b
        return reshape(g, (*g.shape, 1)) * b
    if a.ndim == 1:  # out[..., j] = a . b[..., :, j]; summed over the batch by the caller
        return reshape(
            matmul(reshape(g, (*g.shape[:-1], 1, g.shape[-1])), _swap(b)),
            (*g.shape[:-1], a.shape[0]),
        )
    return matmul(g, _swap(b))


def _matmul_b(g: Any, out: Any, a: Any, b: Any) -> Any:
    if a.ndim == 1 and b.ndim == 1:
        return g * a
    if a.ndim == 1:  # the outer product of a and g, per batch
        return reshape(a, (a.shape[0], 1)) * reshape(g, (*g.shape[:-1], 1, g.shape[-1]))
    if b.ndim == 1:  # sum over i of a[..., i, :] g[..., i]
        return reshape(
            matmul(reshape(g, (*g.shape[:-1], 1, g.shape[-1])), a), (*g.shape[:-1], a.shape[-1])
        )
    return matmul(_swap(a), g)


def _matmul_forward(a: Any, b: Any) -> Any:
    return a @ b if not isinstance(a, float) else a * b


matmul_op = Op(
    "@",
    _matmul_forward,
    None,
    parts=(_matmul_a, _matmul_b),
    array_forward=np.matmul,
    jvp=_summed(lambda t, out, a, b: matmul(t, b), lambda t, out, a, b: matmul(a, t)),
)
"""a @ b with np.matmul's rules: 1-D operands, 2-D, and batches of matrices."""


def matmul(a: Any, b: Any) -> Any:
    """a @ b (np.matmul semantics)."""
    return matmul_op(a, b)


def _linear_forward(x: Any, w: Any, b: Any) -> Any:
    out = x @ w.T
    out += b  # in place: a fresh array, and one pass fewer
    return out


def _linear_w(g: Any, out: Any, x: Any, w: Any, b: Any) -> Any:
    if x.ndim == 1:
        return reshape(g, (g.shape[0], 1)) * x
    if x.ndim > 2:  # a batch of any shape: one matrix of rows
        n = int(np.prod(x.shape[:-1]))
        g, x = reshape(g, (n, g.shape[-1])), reshape(x, (n, x.shape[-1]))
    return matmul(transpose(g, (1, 0)), x)


linear_op = Op(
    "linear",
    _linear_forward,
    None,
    parts=(
        lambda g, out, x, w, b: matmul(g, w),
        _linear_w,
        lambda g, out, x, w, b: sum(g, tuple(range(g.ndim - 1))) if g.ndim > 1 else g,
    ),
    jvp=_summed(
        lambda t, out, x, w, b: matmul(t, transpose(w, (1, 0))),
        lambda t, out, x, w, b: matmul(x, transpose(t, (1, 0))),
        lambda t, out, x, w, b: broadcast_to(t, out.shape),
    ),
)
"""x @ w.T + b for x of shape (..., in), w (out, in), b (out,): PyTorch's `F.linear`, one
node instead of three, whose weight gradient g.T @ x is made in w's layout."""


def linear(x: Any, w: Any, b: Any) -> Any:
    """x @ w.T + b (PyTorch's `F.linear`): a fully connected layer in one op."""
    return linear_op(x, w, b)


# -- indexing ---------------------------------------------------------------------------------
def _is_basic(index: tuple[Any, ...]) -> bool:
    """Only ints, slices, None and Ellipsis: each element is picked at most once."""
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in index)


def _show_index(index: tuple[Any, ...]) -> str:
    def one(i: Any) -> str:
        if isinstance(i, slice):
            parts = ["" if v is None else str(v) for v in (i.start, i.stop, i.step)]
            return ":".join(parts[:2] if i.step is None else parts)
        if i is Ellipsis:
            return "..."
        if isinstance(i, np.ndarray):
            return f"<{i.dtype} array {i.shape}>" if i.size > 4 else str(i.tolist())
        return repr(i)

    return "[" + ", ".join(one(i) for i in index) + "]"


def _scatter_array(g: Any, index: tuple[Any, ...], shape: tuple[int, ...]) -> Any:
    out = np.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        out[index] = g
    else:  # repeated indices add up
        np.add.at(out, index, g)
    return out


def getitem(x: Any, index: tuple[Any, ...]) -> Any:
    """x[index] for basic and integer-array (or boolean) indexing; `index` is a tuple whose
    arrays are numpy arrays the node keeps as a parameter."""
    op = _op(
        "getitem",
        {"index": index},
        lambda x: x[index],
        lambda g, out, x: (scatter(g, index, x.shape),),
        display=_show_index(index),
        jvp=lambda ts, out, x: getitem(ts[0], index),
    )
    return op(x)


def scatter(g: Any, index: tuple[Any, ...], shape: tuple[int, ...]) -> Any:
    """An array of `shape`, zero but for g added at `index` (repeated indices add): the
    derivative of `getitem`."""
    op = _op(
        "scatter",
        {"index": index, "shape": shape},
        lambda g: _scatter_array(g, index, shape),
        lambda gg, out, g: (getitem(gg, index),),
        display=f"scatter{_show_index(index)}",
        jvp=lambda ts, out, g: scatter(ts[0], index, shape),
    )
    return op(g)


# -- joining ----------------------------------------------------------------------------------
def _filled(tangents: tuple[Any, ...], xs: tuple[Any, ...]) -> list[Any]:
    """The tangents, with zeros of its operand's shape for each None (a constant)."""
    return [
        np.zeros(np.shape(_data(x)), np.result_type(_data(x))) if t is None else t
        for t, x in zip(tangents, xs)
    ]


@functools.lru_cache(maxsize=1024)
def _concatenate(axis: int) -> Op:
    def vjp(g: Any, out: Any, *xs: Any) -> tuple[Any, ...]:
        shares, start = [], 0
        for x in xs:
            stop = start + x.shape[axis]
            shares.append(getitem(g, (slice(None),) * axis + (slice(start, stop),)))
            start = stop
        return tuple(shares)

    return _op(
        "concatenate",
        {"axis": axis},
        lambda *xs: np.concatenate(xs, axis=axis),
        vjp,
        jvp=lambda ts, out, *xs: concatenate(_filled(ts, xs), axis),
        emit=lambda *xs: f"np.concatenate(({', '.join(xs)},), axis={axis!r})",
    )


def concatenate(xs: Sequence[Any], axis: int) -> Any:
    """The arrays joined along an existing axis (np.concatenate; `axis` non-negative)."""
    return _concatenate(axis)(*xs)


@functools.lru_cache(maxsize=1024)
def _stack(axis: int) -> Op:
    def vjp(g: Any, out: Any, *xs: Any) -> tuple[Any, ...]:
        return tuple(getitem(g, (slice(None),) * axis + (i,)) for i in range(len(xs)))

    return _op(
        "stack",
        {"axis": axis},
        lambda *xs: np.stack(xs, axis=axis),
        vjp,
        jvp=lambda ts, out, *xs: stack(_filled(ts, xs), axis),
        emit=lambda *xs: f"np.stack(({', '.join(xs)},), axis={axis!r})",
    )


def stack(xs: Sequence[Any], axis: int) -> Any:
    """The arrays joined along a new axis (np.stack; `axis` non-negative)."""
    return _stack(axis)(*xs)


# -- softmax and friends: stable for inputs of any size ---------------------------------------
def _reduced(shape: tuple[int, ...], axis: int, keepdims: bool) -> tuple[int, ...]:
    """shape reduced along axis: kept as 1 with keepdims, else left out."""
    return _kept(shape, (axis,)) if keepdims else shape[:axis] + shape[axis + 1 :]


def _logsumexp_array(x: Any, axis: int, keepdims: bool) -> Any:
    if not x.shape[axis]:  # log of an empty sum: -inf (as PyTorch), where max has no start
        return np.full(_reduced(x.shape, axis, keepdims), -np.inf, x.dtype)
    m = _max_reduce(x, axis=axis, keepdims=True)
    if not np.isfinite(m).all():
        m = np.where(np.isfinite(m), m, 0)  # all -inf (or inf) along the axis: no shift
    with np.errstate(divide="ignore"):  # log 0 = -inf for an axis of -inf only
        out = np.log(_add_reduce(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


@functools.lru_cache(maxsize=1024)
def _logsumexp(axis: int, keepdims: bool) -> Op:
    kept = (axis,)

    def weights(out: Any, x: Any) -> Any:
        """softmax(x) along the axis, from the result: d(out)/dx."""
        return ops.exp(x - (out if keepdims else reshape(out, _kept(x.shape, kept))))

    def vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
        if not keepdims:
            g = reshape(g, _kept(x.shape, kept))
        return (g * weights(out, x),)

    return _op(
        "logsumexp",
        {"axis": axis, "keepdims": keepdims or None},
        lambda x: _logsumexp_array(x, axis, keepdims),
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
    m = _max_reduce(x, axis=axis, keepdims=True)
    shifted = x - np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore", invalid="ignore"):  # an axis of -inf only: nan, as before
        return shifted - np.log(_add_reduce(np.exp(shifted), axis=axis, keepdims=True))


@functools.lru_cache(maxsize=1024)
def _log_softmax(axis: int) -> Op:
    return _op(
        "log_softmax",
        {"axis": axis},
        lambda x: _log_softmax_array(x, axis),
        lambda g, out, x: (g - ops.exp(out) * sum(g, (axis,), True),),
        jvp=lambda ts, out, x: ts[0] - sum(ops.exp(out) * ts[0], (axis,), True),
    )


def log_softmax(x: Any, axis: int) -> Any:
    """x - logsumexp(x) along `axis`: log-probabilities, stable for any inputs."""
    return _log_softmax(axis)(x)


def _softmax_array(x: Any, axis: int) -> Any:
    if not x.shape[axis]:  # an empty axis: an empty result (as PyTorch)
        return x.copy()
    m = _max_reduce(x, axis=axis, keepdims=True)
    e = np.exp(x - np.where(np.isfinite(m), m, 0))
    return e / _add_reduce(e, axis=axis, keepdims=True)


@functools.lru_cache(maxsize=1024)
def _softmax(axis: int) -> Op:
    def vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
        return (out * (g - sum(g * out, (axis,), True)),)

    return _op(
        "softmax",
        {"axis": axis},
        lambda x: _softmax_array(x, axis),
        vjp,
        jvp=lambda ts, out, x: vjp(ts[0], out, x)[0],  # its Jacobian is symmetric
    )


def softmax(x: Any, axis: int) -> Any:
    """exp(x) / sum(exp(x)) along `axis`, stable for any inputs."""
    return _softmax(axis)(x)
