"""The methods only array nodes have (Tensor, and Dual, whose primal may be an array): each
reads its arguments as numpy would, checks them, and applies one op of array_ops.py.

They are installed from the method table (methods.py) as they are, so that `t.sum(0)` calls
`sum(t, 0)` here with no layer between.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ..validate import flag, is_real
from . import array_ops, ops
from . import axes as _axes
from .arrays import Array, as_array, index_of
from .node import Node

__all__ = [
    "T", "comparison", "getitem", "log_softmax", "logsumexp", "max", "mean", "power", "reshape",
    "softmax", "sum", "transpose",
]  # fmt: skip

_N = TypeVar("_N", bound=Node)


def power(self: _N, other: object) -> _N:
    """self ** other: a number exponent (or a 0-d array) is the op's parameter, as for a
    Value; an array is a constant exponent, elementwise; a node exponent is an operand (its
    gradient needs log of the base, so the base must be > 0)."""
    if isinstance(other, Node) or is_real(other):
        found: _N = ops.power(self, other)
        return found
    exponent = as_array(other, "**: exponent", self._data.dtype)
    if not exponent.ndim:
        scalar: _N = ops.power(self, float(exponent))
        return scalar
    array: _N = array_ops.pow_array(self, exponent)
    return array


def comparison(compare: Callable[[Any, Any], Any], symbol: str) -> Callable[[Node, object], Any]:
    """The method `self <symbol> other`: the comparison of the data, elementwise, a boolean
    array outside the graph (as numpy; PyTorch gives tensors). Typed Any, not Array: `==`
    and `!=` override object's, which return bool."""

    def method(self: Node, other: object) -> Array:
        found: Array = compare(self._data, _axes.plain(other))
        return found

    method.__doc__ = f"self {symbol} other on the data: a boolean array, no graph."
    return method


# -- shapes and reductions ------------------------------------------------------------------
def sum(self: _N, axis: object = None, keepdims: bool = False) -> _N:
    """The sum over `axis` (None: all; an int or a tuple; negative from the end); over
    no elements it is 0, as in numpy."""
    axes = _axes.normal_axes(axis, len(_axes.array_shape(self, "sum")), "sum")
    found: _N = array_ops.sum(self, axes, flag(keepdims, "sum: keepdims"))
    return found


def mean(self: _N, axis: object = None, keepdims: bool = False) -> _N:
    """The mean over `axis` (as for `sum`); ValueError over an axis of length 0 (0/0:
    numpy and PyTorch give nan)."""
    axes = _axes.nonempty(
        self, axis, "mean", "a mean of no numbers is 0/0 (nan in numpy and PyTorch)"
    )
    found: _N = array_ops.mean(self, axes, flag(keepdims, "mean: keepdims"))
    return found


def max(self: _N, axis: object = None, keepdims: bool = False) -> _N:
    """The largest element over `axis` (as for `sum`); ties share the gradient;
    ValueError over an axis of length 0 (as numpy)."""
    axes = _axes.nonempty(self, axis, "max", "no numbers have no largest")
    found: _N = array_ops.max(self, axes, flag(keepdims, "max: keepdims"))
    return found


def reshape(self: _N, *shape: Any) -> _N:
    """The same elements in a new shape: `t.reshape(2, 3)` or `t.reshape((2, 3))`; one
    size may be -1 (the rest), the others are ints >= 0."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    new = _axes.new_shape(shape, _axes.array_shape(self, "reshape"))
    found: _N = array_ops.reshape(self, new)
    return found


def transpose(self: _N, *axes: Any) -> _N:
    """The axes permuted: reversed by default (as numpy, also for `None`), or in the
    order given, which must name each axis once."""
    if len(axes) == 1 and (isinstance(axes[0], (tuple, list)) or axes[0] is None):
        axes = () if axes[0] is None else tuple(axes[0])
    ndim = len(_axes.array_shape(self, "transpose"))
    order = tuple(range(ndim))[::-1] if not axes else _axes.axis_order(axes, ndim)
    found: _N = array_ops.transpose(self, order)
    return found


def T(self: _N) -> _N:
    """The axes reversed (the transpose of a matrix)."""
    return transpose(self)


def getitem(self: _N, index: object) -> _N:
    """self[index]: ints, slices, None, ..., and integer or boolean arrays (numpy's
    rules). With repeated indices the gradient adds up."""
    found = index_of(index)
    _axes.array_shape(self, "getitem")
    try:
        self._data[found]
    except (IndexError, TypeError, ValueError) as e:
        raise IndexError(
            f"getitem: index {index!r} does not fit shape {self._data.shape}: {e}"
        ) from None
    item: _N = array_ops.getitem(self, found)
    return item


def softmax(self: _N, axis: int = -1) -> _N:
    """exp(x) / sum(exp(x)) along `axis`, stable for any inputs."""
    ndim = len(_axes.array_shape(self, "softmax"))
    found: _N = array_ops.softmax(self, _axes.normal_axis(axis, ndim, "softmax"))
    return found


def log_softmax(self: _N, axis: int = -1) -> _N:
    """x - logsumexp(x) along `axis`: log-probabilities, stable for any inputs."""
    ndim = len(_axes.array_shape(self, "log_softmax"))
    found: _N = array_ops.log_softmax(self, _axes.normal_axis(axis, ndim, "log_softmax"))
    return found


def logsumexp(self: _N, axis: int = -1, keepdims: bool = False) -> _N:
    """log(sum(exp(x))) along `axis`, without overflow."""
    found_axis = _axes.normal_axis(axis, len(_axes.array_shape(self, "logsumexp")), "logsumexp")
    found: _N = array_ops.logsumexp(self, found_axis, flag(keepdims, "logsumexp: keepdims"))
    return found
