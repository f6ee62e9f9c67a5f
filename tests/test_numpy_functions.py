"""Every numpy function of the table records into the graph; every other one is refused
(issue 21: numpy functions on Tensors).

References: numpy on the plain array X for the values; derivatives of sum(f(X)) worked out
by hand for each entry (d/dx sin x = cos x, d/dx var = 2 (x - mean) / N ...), evaluated
with numpy on plain float64 arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from autograd_lite import Tensor, Value, grad
from autograd_lite.engine.numpy_protocol import FUNCTIONS, UFUNCS

X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
"""Plain data (no ties, no kinks, no zeros) the tensors are made from."""
N = X.size
ONE = np.ones_like(X)
MEAN = X.mean()
STD = X.std()

Case = tuple[Callable[[Tensor], Any], Any, Any]
"""f on the tensor of X, numpy's result on X, and d sum(f)/dX by hand (None: f gives plain
numbers, no graph: comparisons and shapes)."""

CASES: dict[Any, Case] = {
    np.add: (lambda t: np.add(t, 1), X + 1, ONE),
    np.subtract: (lambda t: np.subtract(1.0, t), 1.0 - X, -ONE),
    np.multiply: (lambda t: np.multiply(X, t), X * X, X),
    np.true_divide: (lambda t: np.divide(2.0, t), 2.0 / X, -2.0 / X**2),
    np.power: (lambda t: np.power(t, 3), X**3, 3 * X**2),
    np.matmul: (lambda t: np.matmul(t, np.arange(3.0)), X @ np.arange(3.0), ONE * [0, 1, 2]),
    np.negative: (np.negative, -X, -ONE),
    np.absolute: (np.abs, np.abs(X), np.sign(X)),
    np.exp: (np.exp, np.exp(X), np.exp(X)),
    np.log: (lambda t: np.log(t * t), np.log(X * X), 2 / X),
    np.tanh: (np.tanh, np.tanh(X), 1 - np.tanh(X) ** 2),
    np.sqrt: (lambda t: np.sqrt(t * t), np.abs(X), np.sign(X)),
    np.maximum: (lambda t: np.maximum(t, 0.3), np.maximum(X, 0.3), (X > 0.3) * 1.0),
    np.less: (lambda t: np.less(t, 0.3), X < 0.3, None),
    np.less_equal: (lambda t: np.less_equal(t, 0.5), X <= 0.5, None),
    np.greater: (lambda t: np.greater(t, 0.3), X > 0.3, None),
    np.greater_equal: (lambda t: np.greater_equal(t, 0.5), X >= 0.5, None),
    np.equal: (lambda t: np.equal(t, 0.5), X == 0.5, None),
    np.not_equal: (lambda t: np.not_equal(t, 0.5), X != 0.5, None),
    np.sum: (lambda t: np.sum(t, axis=0), X.sum(axis=0), ONE),
    np.mean: (lambda t: np.mean(t, 1, keepdims=True), X.mean(1, keepdims=True), ONE / 3),
    np.max: (lambda t: np.max(t, axis=1), X.max(axis=1), (X == X.max(1, keepdims=True)) * 1.0),
    np.amax: (np.amax, X.max(), (X == X.max()) * 1.0),
    np.reshape: (lambda t: np.reshape(t, (3, 2)), X.reshape(3, 2), ONE),
    np.transpose: (lambda t: np.transpose(t) * X.T, X.T * X.T, X),
    np.concatenate: (lambda t: np.concatenate([t, X], axis=1), np.concatenate([X, X], 1), ONE),
    np.stack: (lambda t: np.stack([t, 2 * t]), np.stack([X, 2 * X]), 3 * ONE),
    np.where: (lambda t: np.where(X > 0, t, -t), np.abs(X), np.sign(X)),
    np.shape: (np.shape, X.shape, None),
    np.ndim: (np.ndim, X.ndim, None),
    np.size: (np.size, X.size, None),
    # The entries issue 21's new ops bring (their table rows are added with the ops):
    np.sin: (np.sin, np.sin(X), np.cos(X)),
    np.cos: (np.cos, np.cos(X), -np.sin(X)),
    np.tan: (np.tan, np.tan(X), 1 / np.cos(X) ** 2),
    np.log1p: (lambda t: np.log1p(t * t), np.log1p(X * X), 2 * X / (1 + X * X)),
    np.expm1: (np.expm1, np.expm1(X), np.exp(X)),
    np.minimum: (lambda t: np.minimum(t, 0.3), np.minimum(X, 0.3), (X < 0.3) * 1.0),
    np.clip: (lambda t: np.clip(t, -0.9, 1.0), np.clip(X, -0.9, 1.0), (abs(X - 0.05) < 0.95) * 1.0),
    np.min: (lambda t: np.min(t, axis=0), X.min(0), (X == X.min(0)) * 1.0),
    np.amin: (np.amin, X.min(), (X == X.min()) * 1.0),
    np.prod: (np.prod, X.prod(), X.prod() / X),
    np.var: (np.var, X.var(), 2 * (X - MEAN) / N),
    np.std: (np.std, STD, (X - MEAN) / (N * STD)),
    np.squeeze: (lambda t: np.squeeze(np.reshape(t, (1, 2, 3))), X, ONE),
    np.expand_dims: (lambda t: np.expand_dims(t, 1), X[:, None], ONE),
    np.ravel: (np.ravel, X.ravel(), ONE),
    np.linalg.norm: (np.linalg.norm, np.linalg.norm(X), X / np.linalg.norm(X)),
    np.argmax: (np.argmax, X.argmax(), None),
    np.argmin: (np.argmin, X.argmin(), None),
}
"""Each numpy function the engine takes; every entry of the table must have a case here, and
every case an entry."""


def test_every_entry_of_the_tables_has_a_case() -> None:
    missing = [f.__name__ for f in [*UFUNCS, *FUNCTIONS] if f not in CASES]
    assert not missing, f"add a case (value and gradient by hand) for: {missing}"


@pytest.mark.parametrize("func", list(CASES), ids=[f.__name__ for f in CASES])
def test_each_numpy_function_of_the_table_records_into_the_graph(func: Any) -> None:
    assert func in UFUNCS or func in FUNCTIONS, f"np.{func.__name__} is not in the table"
    f, want, want_grad = CASES[func]
    t = Tensor(X)
    out = f(t)
    if want_grad is None:  # comparisons and shapes: plain numbers, as numpy gives them
        assert not isinstance(out, Tensor)
        assert np.array_equal(out, want) and np.shape(out) == np.shape(want)
        return
    assert isinstance(out, Tensor), f"np.{func.__name__} left the graph: {out!r}"
    np.testing.assert_allclose(out.data, want, rtol=1e-13, atol=0)
    (g,) = grad(out.sum(), [t])
    np.testing.assert_allclose(g, np.broadcast_to(want_grad, X.shape), rtol=1e-12, atol=1e-15)


def test_a_ufunc_of_the_table_records_for_a_value_too() -> None:
    """Reference: d/dx (x ** 3 - exp x) = 3 x ** 2 - exp x, by hand."""
    x = Value(0.7)
    y = np.subtract(np.power(x, 3), np.exp(x))
    assert isinstance(y, Value)
    y.backward()
    assert x.grad == pytest.approx(3 * 0.7**2 - np.exp(0.7), rel=1e-14)


OTHERS: list[Any] = [
    np.sinh,
    np.arctan2,
    np.hypot,
    np.floor,
    np.sign,
    np.fmax,
    np.logaddexp,
    np.cumsum,
    np.dot,
    np.sort,
    np.tile,
    np.median,
    np.round,
    np.average,
    np.einsum,
]
"""numpy functions with no entry (one that gets an entry moves to CASES)."""


@pytest.mark.parametrize("func", OTHERS, ids=[f.__name__ for f in OTHERS])
def test_a_numpy_function_not_in_the_table_is_refused_naming_it(func: Any) -> None:
    assert func not in UFUNCS and func not in FUNCTIONS, f"np.{func.__name__} has an entry"
    t = Tensor(X)
    args: tuple[Any, ...] = (t,)
    if func is np.einsum:
        args = ("ij->", t)
    elif func is np.tile:
        args = (t, 2)
    elif func is np.dot or (isinstance(func, np.ufunc) and func.nin == 2):
        args = (t, 2.0)
    with pytest.raises(TypeError) as info:
        func(*args)
    message = str(info.value)
    assert f"np.{func.__name__} on a Tensor" in message and "x.data" in message, message


def test_some_numpy_functions_really_are_outside_the_table() -> None:
    assert sum(f not in UFUNCS and f not in FUNCTIONS for f in OTHERS) >= 10


# -- arguments and call forms numpy has and the engine does not take -------------------------
REFUSED: list[tuple[str, Callable[[Tensor], object], list[str]]] = [
    ("reduce", lambda t: np.add.reduce(t), ["np.add.reduce", "np.sum(x, axis)"]),
    ("accumulate", lambda t: np.add.accumulate(t), ["np.add.accumulate", "no op"]),
    ("reduceat", lambda t: np.add.reduceat(t, [0]), ["np.add.reduceat", "np.stack"]),
    ("outer", lambda t: np.multiply.outer(t, t), ["np.multiply.outer", "a[:, None] * b"]),
    ("at on a Tensor", lambda t: np.add.at(t, [0], 1.0), ["np.add.at", "np.where"]),
    ("at into an array", lambda t: np.add.at(np.zeros(3), [0], t), ["np.add.at", "in place"]),
    ("ufunc out=", lambda t: np.exp(t, out=np.zeros_like(X)), ["np.exp", "out=", "a = a + x"]),
    ("ufunc where=", lambda t: np.exp(t, where=X > 0), ["np.exp", "where=", "np.where(mask"]),
    ("ufunc dtype=", lambda t: np.add(t, 1, dtype=np.float32), ["np.add", "dtype=", "float32"]),
    ("matmul axes=", lambda t: np.matmul(t, t.T, axes=[(0, 1)] * 3), ["axes=", "transpose"]),
    ("np.sum dtype=", lambda t: np.sum(t, dtype=float), ["np.sum", "dtype=", "axis="]),
    ("np.sum out=", lambda t: np.sum(t, out=np.zeros(())), ["np.sum", "out=", "new node"]),
    ("np.sum initial=", lambda t: np.sum(t, initial=1.0), ["np.sum", "initial="]),
    ("np.reshape order=", lambda t: np.reshape(t, 6, order="F"), ["order=", "transpose()"]),
    ("np.sum of a list", lambda t: np.sum([t, t]), ["np.sum([t1, t2])", "np.stack"]),
    ("np.mean of a list", lambda t: np.mean([t, 2 * t]), ["requires a gradient", "t.data"]),
    ("ufunc of a list", lambda t: np.exp([t]), ["inside a list", "t.numpy()"]),
    ("np.array of a list", lambda t: np.array([t, t]), ["np.array(t)", "t.detach()"]),
    ("np.asarray", lambda t: np.asarray(t), ["np.asarray", "t.data"]),
]
"""Each call, and words its TypeError must hold (the function and what to write)."""


@pytest.mark.parametrize("case", REFUSED, ids=[c[0] for c in REFUSED])
def test_each_kind_of_unsupported_call_is_a_type_error_saying_what_to_write(
    case: tuple[str, Callable[[Tensor], object], list[str]],
) -> None:
    _, call, words = case
    with pytest.raises(TypeError) as info:
        call(Tensor(X))
    message = str(info.value)
    for word in words:
        assert word in message, (word, message)


def test_tensors_that_need_no_gradient_convert_to_arrays_as_numpy_does() -> None:
    """Reference: numpy's results on the plain arrays (nothing is lost: no gradient)."""
    t = Tensor(X, requires_grad=False)
    assert np.array_equal(np.sum([t, t]), np.sum([X, X]))
    assert np.array_equal(np.asarray(t), X) and np.asarray(t, dtype=np.float32).dtype == np.float32
    assert np.array_equal(Tensor(X).numpy(), X) and Tensor(X).detach().numpy().shape == X.shape


def test_a_list_of_tensors_stacked_first_records_into_the_graph() -> None:
    """What the refusal of np.sum([t1, t2]) suggests. Reference: d/dt1 sum(t1 + 2 t1) = 3."""
    t = Tensor(X)
    (g,) = grad(np.stack([t, 2 * t]).sum(), [t])
    np.testing.assert_array_equal(g, 3 * ONE)


@pytest.mark.parametrize(
    ("call", "written"),
    [
        (lambda v: v ** np.array(2.0), "Value ** ndarray"),
        (lambda v: np.array(2.0) ** v, "ndarray ** Value"),
        (lambda v: v * np.array([2.0]), "Value * ndarray"),
        (lambda v: np.ones(2) / v, "ndarray / Value"),
        (lambda v: v @ np.ones(1), "Value @ ndarray"),
        (lambda v: v // np.array(2.0), "Value // ndarray"),
        (lambda v: divmod(v, np.array(2.0)), "divmod(Value, ndarray)"),
    ],
    ids=["v ** a", "a ** v", "v * a", "a / v", "v @ a", "v // a", "divmod"],
)
def test_an_operator_between_a_value_and_an_array_names_the_operator(
    call: Callable[[Value], object], written: str
) -> None:
    """Reference: the project's rule for errors -- they name what the user wrote: an
    operator between a Value and an array reaches numpy's ufunc (np.power for **), and
    the TypeError names the operator and the operand types with the ufunc, and for an op
    a Value has, how to make a number of the array (a.item())."""
    with pytest.raises(TypeError) as info:
        call(Value(3.0))
    message = str(info.value)
    assert f"({written})" in message, message
    assert "a.item()" in message or "not one of the numpy functions" in message, message
