"""The ops that only arrays have, in one namespace: the elementwise ones with masks, matmul
and linear here; shapes, indexing and joining from shape_ops.py; reductions and the softmax
family from reductions.py.

Like ops.py, each op is a forward function and one derivative rule, and every rule is
written with these ops and ordinary arithmetic, so it runs on numpy arrays (a first-order
backward pass) and on Tensors (`create_graph=True`, higher derivatives). An op with
parameters (an axis, a shape) is made by a cached factory, one `Op` per parameter value, so
that the parameters are data on the op (`sum(axis=1)` in a drawing).

Broadcasting is not handled here: a Tensor node whose operands were broadcast sums each
operand's gradient back to its shape (tensor.py, one place for every op).

Forward mode (dual.py) needs a rule of its own, `jvp`, for each op here whose Jacobian is not
diagonal; it too is written with these ops. `maximum`, `minimum`, `where` and `pow_array` are
elementwise: their tangent comes from their one rule.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from ..validate import plain_array
from .array_base import add_reduce, closed_op, data_of, quiet, summed_jvp
from .node import Node, Op, trusted
from .ops import check_pow_array
from .reductions import log_softmax, logsumexp, max, mean, min, norm, prod, softmax, sum
from .shape_ops import (
    broadcast_to,
    concatenate,
    getitem,
    reshape,
    scatter,
    stack,
    sum_to,
    transpose,
)

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
    "min",
    "minimum",
    "norm",
    "pow_array",
    "prod",
    "reshape",
    "scatter",
    "softmax",
    "stack",
    "sum",
    "sum_to",
    "transpose",
    "where",
]


# -- elementwise, with masks ------------------------------------------------------------------
def _larger_share(a: Any, b: Any) -> Any:
    """a's share of maximum(a, b)'s gradient: 1 unless b is larger, half for a tie (as
    PyTorch; a nan on either side passes the whole gradient to both, as PyTorch's does)."""
    ad, bd = data_of(a), data_of(b)
    return 1.0 - (ad < bd) - 0.5 * (ad == bd)


def _maximum(a: float, b: float) -> float:
    return b if b > a or b != b else a  # nan if either is nan (a nan a fails every test)


def _minimum(a: float, b: float) -> float:
    return b if b < a or b != b else a


def _picking(name: str, pick: Callable[[float, float], float], array_pick: Any, larger: bool) -> Op:
    """The op `name` that picks the larger (or, not `larger`, the smaller) of a and b
    elementwise: minimum's gradient is maximum's mirror, a's share being the one b would get
    in maximum(a, b)."""

    def vjp(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
        big, small = (a, b) if larger else (b, a)
        return g * _larger_share(big, small), g * _larger_share(small, big)

    return trusted(
        Op(name, pick, vjp, array_forward=array_pick, check_returns=False, jvp="elementwise")
    )


maximum_op = _picking("maximum", _maximum, np.maximum, True)
"""The larger of a and b, elementwise (nan if either is nan)."""
minimum_op = _picking("minimum", _minimum, np.minimum, False)
"""The smaller of a and b, elementwise (nan if either is nan)."""


def maximum(a: Any, b: Any) -> Any:
    """The larger of a and b, elementwise (numpy broadcasting); ties share the gradient."""
    return maximum_op(a, b)


def minimum(a: Any, b: Any) -> Any:
    """The smaller of a and b, elementwise (numpy broadcasting); ties share the gradient."""
    return minimum_op(a, b)


def where(condition: Any, a: Any, b: Any) -> Any:
    """a where `condition` (a boolean array) holds, else b (np.where, broadcasting)."""
    cond = np.asarray(plain_array(data_of(condition), "where: condition"))
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a boolean array, got dtype {cond.dtype}")
    cond = cond.copy()  # a parameter of the node: later changes to the caller's array must not
    op = closed_op(
        "where",
        {"condition": cond},
        lambda a, b: np.where(cond, a, b),
        lambda g, out, a, b: (g * cond, g * ~cond),
        display=f"where{cond.shape}",
        jvp="elementwise",
        once=True,
    )
    return op(a, b)


def pow_array(x: Any, exponent: Any, checked: bool = True) -> Any:
    """x ** exponent for a constant array exponent (numpy broadcasting). Like a number
    exponent, it is a parameter of the op, not an operand: it takes no gradient, so a negative
    base is allowed where the exponent is an integer. The rule's x ** (exponent - 1) is
    unchecked, as pow_number's is (inf at 0 for 0 < exponent < 1)."""
    e = np.array(exponent)  # a copy: later changes to the caller's array must not reach the node
    if checked:  # before check_pow_array's masks broadcast them: numpy's error names no op
        shape = np.shape(data_of(x))
        try:
            np.broadcast_shapes(shape, e.shape)
        except ValueError:
            raise ValueError(
                f"**: a base of shape {shape} and an exponent of shape {e.shape} do not broadcast"
            ) from None
    op = closed_op(
        "**",
        {"exponent": e},
        quiet(lambda x: np.power(x, e)),  # inf and nan are results, as for a number exponent
        lambda g, out, x: (g * (e * pow_array(x, e - 1, False)),),
        display="**" + (str(e.tolist()) if e.size <= 4 else f"<array {e.shape}>"),
        jvp="elementwise",
        array_check=(lambda x: check_pow_array(x, e)) if checked else None,
        once=True,
    )
    return op(x)


# -- matmul -----------------------------------------------------------------------------------
def _swap(x: Any) -> Any:
    """x with its last two axes swapped."""
    if type(x) is np.ndarray:  # a rule on arrays: the transpose's view, without the op
        return x.swapaxes(-1, -2)
    axes = list(range(x.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return transpose(x, tuple(axes))


def _transposed(x: Any) -> bool:
    """Whether x is a matrix stored transposed (W.T's view of W): its gradient is then made
    in that layout too, as PyTorch's matmul does, so that the transpose's rule hands W an
    array in W's own order (else the leaf's `.grad` would need a copy, see `Tensor`)."""
    if type(x) is not np.ndarray or x.ndim != 2:
        return False
    flags = x.flags  # (read once: each read makes a new object)
    return not flags.c_contiguous and bool(flags.f_contiguous)


def _matmul_a(g: Any, out: Any, a: Any, b: Any) -> Any:
    # arrays (a first-order walk; a rule check may mix in nodes), matrices: numpy itself
    if type(g) is type(a) is type(b) is np.ndarray and a.ndim == 2 == b.ndim:
        flags = a.flags  # (read once: each read makes an object; `_transposed` inlined)
        return g @ b.T if flags.c_contiguous or not flags.f_contiguous else (b @ g.T).T
    if b.ndim == 1:  # out[..., i] = a[..., i, :] . b
        return reshape(g, (*g.shape, 1)) * b
    if a.ndim == 1:  # out[..., j] = a . b[..., :, j]; summed over the batch by the caller
        return reshape(
            matmul(reshape(g, (*g.shape[:-1], 1, g.shape[-1])), _swap(b)),
            (*g.shape[:-1], a.shape[0]),
        )
    if _transposed(a) and b.ndim == 2:
        return _swap(matmul(b, _swap(g)))
    return matmul(g, _swap(b))


def _matmul_b(g: Any, out: Any, a: Any, b: Any) -> Any:
    if type(g) is type(a) is type(b) is np.ndarray and a.ndim == 2 == b.ndim:  # as _matmul_a's
        flags = b.flags
        return a.T @ g if flags.c_contiguous or not flags.f_contiguous else (g.T @ a).T
    if a.ndim == 1 and b.ndim == 1:
        return g * a
    if a.ndim == 1:  # the outer product of a and g, per batch
        return reshape(a, (a.shape[0], 1)) * reshape(g, (*g.shape[:-1], 1, g.shape[-1]))
    if b.ndim == 1:  # sum over i of a[..., i, :] g[..., i]
        return reshape(
            matmul(reshape(g, (*g.shape[:-1], 1, g.shape[-1])), a), (*g.shape[:-1], a.shape[-1])
        )
    if _transposed(b) and a.ndim == 2:
        return _swap(matmul(_swap(g), a))
    return matmul(_swap(a), g)


def _matmul_forward(a: Any, b: Any) -> Any:
    return a @ b if not isinstance(a, float) else a * b


matmul_op = Op(
    "@",
    _matmul_forward,
    None,
    parts=(_matmul_a, _matmul_b),
    check_returns=False,  # (the built-in parts: one per operand, no count to check)
    array_forward=operator.matmul,
    fresh=True,  # each share a product (or a view of one) of its own
    jvp=summed_jvp(lambda t, out, a, b: matmul(t, b), lambda t, out, a, b: matmul(a, t)),
)
"""a @ b with np.matmul's rules: 1-D operands, 2-D, and batches of matrices."""
trusted(matmul_op)


def matmul(a: Any, b: Any) -> Any:
    """a @ b (np.matmul semantics)."""
    if (
        type(a) is np.ndarray and type(b) is np.ndarray
    ):  # a rule on arrays: the op's forward, without the op's call
        return a @ b
    return matmul_op(a, b)


def _linear_forward(x: Any, w: Any, b: Any) -> Any:
    out = x @ w.T
    out += b  # in place: a fresh array, and one pass fewer
    return out


def _linear_x(g: Any, out: Any, x: Any, w: Any, b: Any) -> Any:
    return g @ w  # the operator: numpy's on arrays, matmul's node on Tensors (no op call)


def _linear_w(g: Any, out: Any, x: Any, w: Any, b: Any) -> Any:
    if type(g) is np.ndarray and x.ndim == 2:  # arrays (a first-order walk): numpy itself
        return g.T @ x
    if x.ndim == 1:
        return reshape(g, (g.shape[0], 1)) * x
    if x.ndim > 2:  # a batch of any shape: one matrix of rows
        n = int(np.prod(x.shape[:-1]))
        g, x = reshape(g, (n, g.shape[-1])), reshape(x, (n, x.shape[-1]))
    return matmul(transpose(g, (1, 0)), x)


def _linear_b(g: Any, out: Any, x: Any, w: Any, b: Any) -> Any:
    if type(g) is np.ndarray and g.ndim == 2 and b.shape == g.shape[1:]:  # arrays, rows
        return add_reduce(g, 0)  # numpy's sum itself, its axis by position (as below)
    if b.shape != g.shape[-1:]:  # a bias broadcast otherwise (a number, a column): summed back
        s = sum_to(g, b.shape)  # (a view of g where nothing is summed: copied, Op's `fresh`)
        return s.copy() if type(s) is np.ndarray and np.may_share_memory(s, g) else s
    if g.ndim > 1:
        axes = (0,) if g.ndim == 2 else tuple(range(g.ndim - 1))
        # arrays (a first-order walk): numpy's sum itself, its axes by position (numpy
        # parses keywords slowly); nodes: the sum op
        return add_reduce(g, axes) if type(g) is np.ndarray else sum(g, axes)
    return g.copy() if type(g) is np.ndarray else g  # an array of its own (Op's `fresh`)


linear_op = Op(
    "linear",
    _linear_forward,
    None,
    parts=(_linear_x, _linear_w, _linear_b),
    check_returns=False,  # (the built-in parts: one per operand, no count to check)
    fresh=True,  # each share a product or a sum of its own
    jvp=summed_jvp(
        lambda t, out, x, w, b: matmul(t, transpose(w, (1, 0))),
        lambda t, out, x, w, b: matmul(x, transpose(t, (1, 0))),
        lambda t, out, x, w, b: broadcast_to(t, out.shape),
    ),
)
"""x @ w.T + b for x of shape (..., in), w (out, in), b (out,): PyTorch's `F.linear`, one
node instead of three, whose weight gradient g.T @ x is made in w's layout."""
trusted(linear_op)


def linear(x: Any, w: Any, b: Any) -> Any:
    """x @ w.T + b (PyTorch's `F.linear`): a fully connected layer in one op."""
    data = w._data if isinstance(w, Node) else w
    shape = data.shape if type(data) is np.ndarray else np.shape(data)  # np.shape: a Python call
    if len(shape) != 2:  # a vector w: x @ w.T runs, but the rules are a matrix's (wrong x.grad)
        raise ValueError(f"linear: the weight must be a matrix (out, in), got shape {shape}")
    # A node x: its type applies the op, as the op's call would (it looks at x first).
    return x._apply(linear_op, (x, w, b)) if isinstance(x, Node) else linear_op(x, w, b)
