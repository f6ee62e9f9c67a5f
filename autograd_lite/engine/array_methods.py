"""The methods only array nodes have (Tensor, and Dual, whose primal may be an array): each
reads its arguments as numpy would, checks them, and applies one op of array_ops.py.

They are installed from the method table (methods.py) as they are, so that `t.sum(0)` calls
`sum(t, 0)` here with no layer between.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from ..validate import describe, flag, is_real
from . import array_ops, ops
from . import axes as _axes
from .arrays import Array, as_array, index_of
from .node import Node
from .shape_ops import transpose_op

__all__ = [
    "T", "argmax", "argmin", "comparison", "expand_dims", "flatten", "getitem", "log_softmax",
    "logsumexp", "max", "mean", "min", "norm", "power", "prod", "reshape", "softmax", "squeeze",
    "std", "sum", "transpose", "unsqueeze", "var",
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
    data = self._data
    if axis is None and keepdims is False and type(data) is np.ndarray and data.size:
        # the common case (a loss's mean), whose checks below pass: without their calls
        found_all: _N = array_ops.mean(self, None, False)
        return found_all
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


def min(self: _N, axis: object = None, keepdims: bool = False) -> _N:
    """The smallest element over `axis` (as for `sum`); ties share the gradient;
    ValueError over an axis of length 0 (as numpy)."""
    axes = _axes.nonempty(self, axis, "min", "no numbers have no smallest")
    found: _N = array_ops.min(self, axes, flag(keepdims, "min: keepdims"))
    return found


def prod(self: _N, axis: object = None, keepdims: bool = False) -> _N:
    """The product over `axis` (as for `sum`; over no elements 1, as numpy); the gradient
    is right with zeros among the elements (one or several), to second order."""
    axes = _axes.normal_axes(axis, len(_axes.array_shape(self, "prod")), "prod")
    found: _N = array_ops.prod(self, axes, flag(keepdims, "prod: keepdims"))
    return found


def _ddof(where: str, ddof: object, correction: object) -> int:
    """numpy's ddof or PyTorch's correction (the same number; default 0, numpy's)."""
    if ddof is not None and correction is not None:
        raise TypeError(f"{where}: got both ddof= (numpy's name) and correction= (PyTorch's)")
    given = correction if ddof is None else ddof
    if given is None:
        return 0
    if isinstance(given, (bool, np.bool_)) or not isinstance(given, (int, np.integer)):
        raise TypeError(f"{where}: ddof must be an int, got {describe(given)}")
    return int(given)


def _spread(name: str, doc: str) -> Callable[..., Any]:
    """The method `name`: the variance ("var") or its square root ("std"), its argument
    errors naming it."""

    def method(
        self: _N,
        axis: object = None,
        ddof: object = None,
        keepdims: bool = False,
        *,
        correction: object = None,
    ) -> _N:
        dof = _ddof(name, ddof, correction)
        axes = _axes.nonempty(self, axis, name, "a variance of no numbers is 0/0")
        keep = flag(keepdims, f"{name}: keepdims")
        n = math.prod(self._data.shape[i] for i in (axes or range(self._data.ndim)))
        centred = self - array_ops.mean(self, axes, True)
        total = array_ops.sum(centred * centred, axes, keep)
        found: _N = total / float(n - dof) if n > dof else total * math.inf
        if name == "std":
            found = ops.sqrt(found)
        return found

    method.__name__ = method.__qualname__ = name
    method.__doc__ = doc
    return method


var = _spread(
    "var",
    """The variance over `axis`: sum((x - mean)**2) / (n - ddof), ddof 0 by default (numpy's;
    PyTorch's `correction=` is the same number). Where n - ddof <= 0 it is inf or nan, as
    numpy (a division by 0).""",
)
std = _spread(
    "std",
    """The standard deviation over `axis`: sqrt of `var` (same arguments); its derivative
    where all elements are equal is nan (0/0, as PyTorch).""",
)


def norm(self: _N, ord: object = None, axis: object = None, keepdims: bool = False) -> _N:
    """The L2 norm over `axis` (all elements by default: the Frobenius norm of a matrix);
    `ord` may be None, 2 (over one axis) or "fro". Its gradient at 0 is 0 (as PyTorch)."""
    axes = _axes.normal_axes(axis, len(_axes.array_shape(self, "norm")), "norm")
    over = self._data.ndim if axes is None else len(axes)
    if not (ord is None or ord == "fro" or (is_real(ord) and ord == 2 and over <= 1)):
        raise ValueError(
            f"norm: only the L2 norm is supported (ord None, 'fro', or 2 over one axis), "
            f"got ord={ord!r}"
        )
    found: _N = array_ops.norm(self, axes, flag(keepdims, "norm: keepdims"))
    return found


def _arg(name: str, pick: Any) -> Any:
    def method(self: Node, axis: object = None, keepdims: bool = False) -> Array:
        ndim = len(_axes.array_shape(self, name))
        if axis is not None:
            axis = _axes.normal_axis(axis, ndim, name)
        _axes.nonempty(self, axis, name, f"an empty sequence has no {name}")
        found: Array = pick(self._data, axis=axis, keepdims=flag(keepdims, f"{name}: keepdims"))
        return found

    method.__name__ = method.__qualname__ = name
    method.__doc__ = (
        f"The index of the {'largest' if name == 'argmax' else 'smallest'} element over "
        f"`axis` (None: of the flattened array) as a plain integer array: no graph, no "
        f"gradient (the first of equal ones, as numpy and PyTorch)."
    )
    return method


argmax = _arg("argmax", np.argmax)
argmin = _arg("argmin", np.argmin)


def flatten(self: _N, start_dim: int = 0, end_dim: int = -1) -> _N:
    """The axes start_dim..end_dim (inclusive, negative from the end) joined into one, as
    PyTorch; a 0-d array becomes 1-d."""
    shape = _axes.array_shape(self, "flatten")
    ndim = builtins.max(len(shape), 1)
    start = _axes.normal_axis(start_dim, ndim, "flatten")
    end = _axes.normal_axis(end_dim, ndim, "flatten")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    padded = shape or (1,)
    new = (*padded[:start], math.prod(padded[start : end + 1]), *padded[end + 1 :])
    found: _N = array_ops.reshape(self, new)
    return found


def squeeze(self: _N, axis: object = None) -> _N:
    """The axes of length 1 left out: all of them, or those of `axis` (an int or a tuple)
    that have length 1 (others stay, as PyTorch)."""
    shape = _axes.array_shape(self, "squeeze")
    axes = _axes.normal_axes(axis, len(shape), "squeeze")
    gone = {i for i, n in enumerate(shape) if n == 1 and (axes is None or i in axes)}
    found: _N = array_ops.reshape(self, tuple(n for i, n in enumerate(shape) if i not in gone))
    return found


def expand_dims(self: _N, axis: object) -> _N:
    """New axes of length 1 at `axis` (an int or a tuple; positions in the result, negative
    from its end), as np.expand_dims."""
    shape = _axes.array_shape(self, "expand_dims")
    many = axis if isinstance(axis, (tuple, list)) else (axis,)
    new = set(_axes.normal_axes(tuple(many), len(shape) + len(many), "expand_dims") or ())
    rest = iter(shape)
    out = tuple(1 if i in new else next(rest) for i in range(len(shape) + len(many)))
    found: _N = array_ops.reshape(self, out)
    return found


def unsqueeze(self: _N, dim: int) -> _N:
    """A new axis of length 1 at `dim` (in the result: -1 is the last), as PyTorch."""
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"unsqueeze: dim must be an int, got {dim!r} (expand_dims takes tuples)")
    return expand_dims(self, dim)


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
    data = self._data
    if type(data) is np.ndarray and data.ndim == 2:  # a matrix, the common case: its op
        apply: Any = self._apply  # applied without the op's call (and typed Any: not Node)
        matrix: _N = apply(_MATRIX_T, (self,))
        return matrix
    ndim = len(_axes.array_shape(self, "transpose"))  # (transpose's checks: none to make)
    found: _N = array_ops.transpose(self, tuple(range(ndim - 1, -1, -1)))
    return found


_MATRIX_T = transpose_op((1, 0))
"""The op of a matrix's transpose (the one array_ops.transpose applies to a matrix)."""


def getitem(self: _N, index: object) -> _N:
    """self[index]: ints, slices, None, ..., and integer or boolean arrays (numpy's
    rules). With repeated indices the gradient adds up."""
    found = index_of(index)
    shape = _axes.array_shape(self, "getitem")
    try:  # the op's forward raises numpy's indexing errors as IndexError, before any node
        item: _N = array_ops.getitem(self, found)
    except IndexError as e:
        raise IndexError(f"getitem: index {index!r} does not fit shape {shape}: {e}") from None
    return item


def softmax(self: _N, axis: int = -1) -> _N:
    """exp(x) / sum(exp(x)) along `axis`, stable for any inputs."""
    ndim = len(_axes.array_shape(self, "softmax"))
    found: _N = array_ops.softmax(self, _axes.normal_axis(axis, ndim, "softmax"))
    return found


def log_softmax(self: _N, axis: int = -1) -> _N:
    """x - logsumexp(x) along `axis`: log-probabilities, stable for any inputs."""
    data = self._data
    if type(axis) is int and type(data) is np.ndarray and -data.ndim <= axis < data.ndim:
        # the common case (a classifier's), whose checks below pass: without their calls
        found_now: _N = array_ops.log_softmax(self, axis % data.ndim)
        return found_now
    ndim = len(_axes.array_shape(self, "log_softmax"))
    found: _N = array_ops.log_softmax(self, _axes.normal_axis(axis, ndim, "log_softmax"))
    return found


def logsumexp(self: _N, axis: int = -1, keepdims: bool = False) -> _N:
    """log(sum(exp(x))) along `axis`, without overflow."""
    found_axis = _axes.normal_axis(axis, len(_axes.array_shape(self, "logsumexp")), "logsumexp")
    found: _N = array_ops.logsumexp(self, found_axis, flag(keepdims, "logsumexp: keepdims"))
    return found
