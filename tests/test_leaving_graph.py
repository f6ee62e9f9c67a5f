"""No way out of the graph without being told (issue 19, items 1 and 7).

float(), int(), math.* and numpy on a node either record into the graph or raise a TypeError
that names the fix; bool(), len() and iteration follow one rule for every node type.

References: derivatives worked out by hand in each test (d/dx (x*y + sin x) = y + cos x,
d/dt sum(exp t) = exp t ...), evaluated with math / numpy on plain floats; numpy's own
results on the same plain arrays (shapes, values, bool() and len() of arrays).
"""

from __future__ import annotations

import math
import operator
import struct
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from autograd_lite import Dual, Op, Tensor, Value, grad
from autograd_lite.engine.numpy_protocol import FUNCTIONS, UFUNCS, supported

NODES: list[tuple[str, Callable[[float], Any]]] = [
    ("Value", Value),
    ("Tensor", lambda x: Tensor([x])),
    ("0-d Tensor", lambda x: Tensor(x)),
    ("scalar Dual", lambda x: Dual(x, tangent=1.0)),
    ("array Dual", lambda x: Dual(np.array([x]), tangent=np.ones(1))),
]
"""Each node type holding one number."""

LEAVING: list[tuple[str, Callable[[Any], object]]] = [
    ("float", float),
    ("int", int),
    ("complex", complex),
    ("index", operator.index),
    ("round", round),
    ("math.trunc", math.trunc),
    ("math.floor", math.floor),
    ("math.ceil", math.ceil),
    ("math.sin", math.sin),
    ("math.exp", math.exp),
    ("math.fsum", lambda x: math.fsum([x, x])),
    ("math.isfinite", math.isfinite),
    ("%f", lambda x: "%f" % x),  # noqa: UP031 (the old formatting calls float())
    ("list index", lambda x: [1, 2][x]),
    ("range", range),
]
"""Ways Python takes a number out of an object (each calls one of the refused methods)."""


@pytest.mark.parametrize("how", LEAVING, ids=[c[0] for c in LEAVING])
@pytest.mark.parametrize("node", NODES, ids=[n[0] for n in NODES])
def test_every_way_out_of_the_graph_is_a_type_error_naming_the_fix(
    node: tuple[str, Callable[[float], Any]], how: tuple[str, Callable[[Any], object]]
) -> None:
    x = node[1](1.0)
    with pytest.raises(TypeError) as info:
        how[1](x)
    message = str(info.value)
    for word in (type(x).__name__, "graph", "x.exp()", "x.item()", "x.data"):
        assert word in message, (word, message)


@pytest.mark.parametrize("node", NODES, ids=[n[0] for n in NODES])
def test_percent_d_and_struct_are_refused_too(node: tuple[str, Callable[[float], Any]]) -> None:
    """They call int() / float() but put an error of their own in its place."""
    with pytest.raises(TypeError, match=type(node[1](1.0)).__name__):
        "%d" % node[1](1.0)  # noqa: UP031
    with pytest.raises(struct.error, match="not a float"):
        struct.pack("d", node[1](1.0))


def test_a_numpy_scalar_of_a_value_is_refused() -> None:
    """np.float64(v) calls float(); np.float64(t) of a Tensor is np.asarray's conversion."""
    with pytest.raises(TypeError, match=r"float\(\) of a Value .* x\.item\(\)"):
        np.float64(Value(1.0))


def test_math_sin_of_a_value_no_longer_gives_a_wrong_gradient_and_an_op_gives_the_right_one() -> (
    None
):
    """Reference: d/dx (x*y + sin x) = y + cos x = 2 + cos 1 at x = 1, y = 2 (by hand);
    before, math.sin took the number and x.grad was 2.0."""
    x, y = Value(1.0), Value(2.0)
    with pytest.raises(TypeError, match="float"):
        x * y + math.sin(x)  # type: ignore[arg-type]
    sin = Op("sin", math.sin, lambda g, out, x: (g * cos(x),))
    cos = Op("cos", math.cos, lambda g, out, x: (-g * sin(x),))
    f = x * y + sin(x)
    f.backward()
    assert x.grad == pytest.approx(2.0 + math.cos(1.0), rel=1e-15)
    assert y.grad == 1.0


def test_the_numbers_are_there_when_asked_for_by_name() -> None:
    """Reference: the numbers the nodes were made from."""
    assert Value(2.5).item() == 2.5 and Value(2.5).data == 2.5
    assert Tensor([[2.5]]).item() == 2.5 and type(Tensor([[2.5]]).item()) is float
    assert Dual(2.5).item() == 2.5 and Dual(np.array([2.5])).item() == 2.5
    assert Tensor([1.0, 2.0]).numpy().tolist() == [1.0, 2.0]  # the explicit conversion
    assert np.asarray(Tensor([1.0, 2.0], requires_grad=False)).tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match=r"item\(\) of a Tensor of 2 elements"):
        Tensor([1.0, 2.0]).item()


@pytest.mark.parametrize("node", NODES, ids=[n[0] for n in NODES])
def test_format_with_a_spec_formats_the_number_and_without_one_the_repr(
    node: tuple[str, Callable[[float], Any]],
) -> None:
    """Reference: Python's own format() of the float 2/3."""
    x = node[1](2 / 3)
    assert f"{x:.4f}" == format(2 / 3, ".4f") == "0.6667"
    assert format(x, ".3e") == format(2 / 3, ".3e")
    assert f"{x}" == str(x) == repr(x)


def test_format_of_several_elements_is_refused() -> None:
    with pytest.raises(ValueError, match=r"format\(x, '\.2f'\) of a Tensor of 2 elements"):
        format(Tensor([1.0, 2.0]), ".2f")


# -- numpy functions on nodes --------------------------------------------------------------------
X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
"""Plain data the tensors below are made from (numpy computes the references on it)."""


def _tensor_grad(f: Callable[[Tensor], Tensor]) -> tuple[np.ndarray[Any, Any], Any]:
    t = Tensor(X)
    out = f(t)
    assert isinstance(out, Tensor), f"{out!r} left the graph"
    (g,) = grad(out.sum(), [t])
    return out.data, g


RECORDED: list[tuple[str, Callable[[Tensor], Any], Any, Any]] = [
    ("np.exp", np.exp, np.exp(X), np.exp(X)),
    ("np.log of |x|", lambda t: np.log(np.abs(t)), np.log(np.abs(X)), 1 / X),
    ("np.sqrt", lambda t: np.sqrt(t * t), np.abs(X), np.sign(X)),
    ("np.tanh", np.tanh, np.tanh(X), 1 - np.tanh(X) ** 2),
    ("np.negative", np.negative, -X, -np.ones_like(X)),
    ("ndarray + t", lambda t: X + t, 2 * X, np.ones_like(X)),
    ("ndarray - t", lambda t: 1.0 - t, 1.0 - X, -np.ones_like(X)),
    ("ndarray * t", lambda t: X * t, X * X, X),
    ("float64 / t", lambda t: np.float64(2.0) / t, 2.0 / X, -2.0 / X**2),
    ("ndarray ** t", lambda t: np.full_like(X, 3.0) ** t, 3.0**X, 3.0**X * math.log(3.0)),
    ("np.power(t, 2)", lambda t: np.power(t, 2), X**2, 2 * X),
    ("ndarray @ t", lambda t: np.eye(2) @ t, X, np.ones_like(X)),
    ("np.matmul", lambda t: np.matmul(t, np.ones(3)), X.sum(axis=1), np.ones_like(X)),
    ("np.maximum", lambda t: np.maximum(t, 0.3), np.maximum(X, 0.3), (X > 0.3) * 1.0),
    ("np.add", lambda t: np.add(t, 1), X + 1, np.ones_like(X)),
    ("np.sum axis 0", lambda t: np.sum(t, axis=0), X.sum(axis=0), np.ones_like(X)),
    ("np.sum positional", lambda t: np.sum(t, 1, keepdims=True), X.sum(1, keepdims=True), 1.0),
    ("np.mean", lambda t: np.mean(t), np.array(X.mean()), np.full_like(X, 1 / 6)),
    ("np.max", lambda t: np.max(t, axis=1), X.max(axis=1), (X == X.max(1, keepdims=True)) * 1.0),
    ("np.reshape", lambda t: np.reshape(t, (3, 2)), X.reshape(3, 2), np.ones_like(X)),
    ("np.transpose", np.transpose, X.T, np.ones_like(X)),
    ("np.concatenate", lambda t: np.concatenate([t, X]), np.concatenate([X, X]), 1.0),
    ("np.stack", lambda t: np.stack([t, t], axis=1), np.stack([X, X], axis=1), 2.0),
    ("np.where", lambda t: np.where(X > 0, t, 0.0), np.where(X > 0, X, 0.0), (X > 0) * 1.0),
]
"""numpy calls on a Tensor: what the result must be (numpy on the data) and d sum(result)/dt
(worked out by hand)."""


@pytest.mark.parametrize("case", RECORDED, ids=[c[0] for c in RECORDED])
def test_numpy_functions_that_have_an_op_record_into_the_graph(
    case: tuple[str, Callable[[Tensor], Any], Any, Any],
) -> None:
    _, f, want, want_grad = case
    data, g = _tensor_grad(f)
    np.testing.assert_allclose(data, want, rtol=1e-15)
    np.testing.assert_allclose(g, np.broadcast_to(want_grad, X.shape), rtol=1e-15)


def test_numpy_ufuncs_on_values_and_duals_record_into_the_graph() -> None:
    """Reference: d/dx exp(x) = exp(x); d/dx 2x = 2 (by hand)."""
    x = Value(0.5)
    y = np.exp(x) + np.float64(2.0) * x
    assert isinstance(y, Value)
    y.backward()
    assert x.grad == pytest.approx(math.exp(0.5) + 2.0, rel=1e-15)
    d = np.exp(Dual(0.5, tangent=1.0))
    assert isinstance(d, Dual) and d.tangent == pytest.approx(math.exp(0.5), rel=1e-15)
    assert (np.float64(1.0) == x) is False and (x == x) is True  # == stays identity


REFUSED: list[tuple[str, Callable[[], object], list[str]]] = [
    ("np.cosh Tensor", lambda: np.cosh(Tensor(X)), ["np.cosh", "Tensor", "x.exp()", "x.data"]),
    ("np.cosh Value", lambda: np.cosh(Value(1.0)), ["np.cosh", "Value", "x.exp()"]),
    ("np.cosh Dual", lambda: np.cosh(Dual(1.0)), ["np.cosh", "Dual"]),
    ("np.cumsum", lambda: np.cumsum(Tensor(X)), ["np.cumsum", "Tensor"]),
    ("np.allclose", lambda: np.allclose(Tensor(X), X), ["np.allclose", "Tensor"]),
    ("np.sum dtype", lambda: np.sum(Tensor(X), dtype=float), ["np.sum", "dtype="]),
    ("np.sum out", lambda: np.sum(Tensor(X), out=np.zeros(())), ["np.sum", "out="]),
    ("np.sum Value", lambda: np.sum(Value(1.0)), ["np.sum", "Value"]),
    ("np.add out", lambda: np.add(Tensor(X), 1, out=np.zeros_like(X)), ["np.add", "out="]),
    ("np.add.reduce", lambda: np.add.reduce(Tensor(X)), ["np.add.reduce", "x.sum"]),
    ("ndarray * Value", lambda: X * Value(1.0), ["np.multiply", "ndarray and Value"]),
    ("np.matmul Values", lambda: np.matmul(Value(1.0), Value(2.0)), ["np.matmul", "Value"]),
]
"""numpy calls that must be refused, and words the message must hold."""


@pytest.mark.parametrize("case", REFUSED, ids=[c[0] for c in REFUSED])
def test_other_numpy_calls_are_type_errors_naming_the_function(
    case: tuple[str, Callable[[], object], list[str]],
) -> None:
    _, call, words = case
    with pytest.raises(TypeError) as info:
        call()
    message = str(info.value)
    for word in words:
        assert word in message, (word, message)
    assert "Arithmetic" not in message and "unexpected keyword" not in message


def test_in_place_numpy_update_with_a_tensor_is_refused_and_leaves_the_array() -> None:
    a = np.zeros(2)
    with pytest.raises(TypeError, match=r"np\.add: out="):
        a += Tensor([1.0, 2.0])  # type: ignore[misc]
    assert a.tolist() == [0.0, 0.0]


def test_the_refusal_lists_what_is_supported_from_the_tables() -> None:
    names = supported()
    assert len(names) == len(UFUNCS) + len(FUNCTIONS)
    with pytest.raises(TypeError) as info:
        np.cosh(Tensor([1.0]))
    assert ", ".join(names) in str(info.value)


# -- truthiness, len and iteration: one rule for every node type ----------------------------------
@pytest.mark.parametrize("node", NODES, ids=[n[0] for n in NODES])
@pytest.mark.parametrize("x", [0.0, -0.0, 2.0, math.nan])
def test_bool_of_one_element_is_bool_of_its_number(
    node: tuple[str, Callable[[float], Any]], x: float
) -> None:
    """Reference: numpy's bool() of the same one-element array (bool(Value(0.0)) was True)."""
    assert bool(node[1](x)) is bool(np.array([x]))


MANY: list[tuple[str, Callable[[Any], Any]]] = [
    ("Tensor", Tensor),
    ("Dual", lambda a: Dual(np.asarray(a, dtype=float))),
]


@pytest.mark.parametrize("make", MANY, ids=[m[0] for m in MANY])
@pytest.mark.parametrize("data", [[0.0, 1.0], [[1.0], [2.0]], np.zeros((0,))], ids=str)
def test_bool_of_several_or_no_elements_is_ambiguous_as_in_numpy(
    make: tuple[str, Callable[[Any], Any]], data: Any
) -> None:
    """Reference: numpy raises ValueError for bool() of the same array."""
    with pytest.raises(ValueError):
        bool(np.asarray(data))
    with pytest.raises(ValueError, match=r"truth value .* is ambiguous"):
        bool(make[1](data))


ZERO_D = [n for n in NODES if n[0] in ("Value", "0-d Tensor", "scalar Dual")]
ZERO_D.append(("0-d array Dual", lambda x: Dual(np.array(x))))


@pytest.mark.parametrize("node", ZERO_D, ids=[n[0] for n in ZERO_D])
def test_len_and_iteration_of_a_0d_node_are_type_errors(
    node: tuple[str, Callable[[float], Any]],
) -> None:
    """Reference: numpy's len() of a 0-d array is a TypeError too."""
    with pytest.raises(TypeError):
        len(np.array(1.0))
    x = node[1](1.0)
    with pytest.raises(TypeError, match="len"):
        len(x)
    with pytest.raises(TypeError, match="iteration"):
        list(x)


@pytest.mark.parametrize("make", MANY, ids=[m[0] for m in MANY])
def test_len_and_iteration_follow_the_first_axis(make: tuple[str, Callable[[Any], Any]]) -> None:
    """Reference: numpy's len() and rows of the same array."""
    data = np.arange(6.0).reshape(3, 2)
    x = make[1](data)
    assert len(x) == len(data) == 3
    rows = list(x)
    assert [type(r) for r in rows] == [type(x)] * 3
    assert [r.data.tolist() for r in rows] == data.tolist()
