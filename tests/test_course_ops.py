"""Issue 21's elementwise ops (sin ... clamp, minimum) on Value, Tensor and Dual: values, first
and second derivatives, tangents, generated code and domain edges.

Reference: the closed forms written out below in numpy float64 (each derivative worked out by
hand), checked themselves against central finite differences; PyTorch's definitions for the
edges (torch's derivatives.yaml: clamp passes the gradient where min <= x <= max,
leaky_relu's derivative at 0 is negative_slope, softplus's is 1 above the threshold,
maximum/minimum split a tie and pass the whole gradient to both operands at a nan).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from autograd_lite import (
    DomainError,
    Dual,
    Tensor,
    Value,
    backward_code,
    compile_grad,
    concatenate,
    draw_graph,
    format_backward_steps,
    grad,
    maximum,
    minimum,
    stack,
)
from tests.codegen_helpers import run_module, same
from tests.reference import central_difference

F = Callable[[Any], Any]
K, C = np.sqrt(2 / np.pi), 0.044715  # GELU's tanh form: 0.5 x (1 + tanh(K (x + C x**3)))


def _sig(x: Any) -> Any:
    return 1 / (1 + np.exp(-x))


def _gelu(x: Any) -> Any:
    return 0.5 * x * (1 + np.tanh(K * (x + C * x**3)))


def _gelu_d(x: Any) -> Any:
    t, du = np.tanh(K * (x + C * x**3)), K * (1 + 3 * C * x**2)
    return 0.5 * (1 + t) + 0.5 * x * (1 - t**2) * du


def _gelu_d2(x: Any) -> Any:
    t, du, ddu = np.tanh(K * (x + C * x**3)), K * (1 + 3 * C * x**2), 6 * K * C * x
    return (1 - t**2) * du + 0.5 * x * (1 - t**2) * (ddu - 2 * t * du**2)


# name -> (apply to a node, value, first derivative, second derivative, points in the domain)
OPS: dict[str, tuple[F, F, F, F, list[float]]] = {
    "sin": (lambda v: v.sin(), np.sin, np.cos, lambda x: -np.sin(x), [-2.5, -0.3, 0.7, 3.0]),
    "cos": (lambda v: v.cos(), np.cos, lambda x: -np.sin(x), lambda x: -np.cos(x), [-2.0, 0.4]),
    "tan": (
        lambda v: v.tan(),
        np.tan,
        lambda x: 1 / np.cos(x) ** 2,
        lambda x: 2 * np.sin(x) / np.cos(x) ** 3,
        [-1.2, -0.2, 0.4, 1.3],
    ),
    "log1p": (
        lambda v: v.log1p(),
        np.log1p,
        lambda x: 1 / (1 + x),
        lambda x: -1 / (1 + x) ** 2,
        [-0.9, -1e-8, 0.5, 30.0],
    ),
    "expm1": (lambda v: v.expm1(), np.expm1, np.exp, np.exp, [-5.0, -1e-9, 0.3, 4.0]),
    "softplus": (
        lambda v: v.softplus(),
        lambda x: np.log1p(np.exp(x)),
        _sig,
        lambda x: _sig(x) * (1 - _sig(x)),
        [-30.0, -1.5, 0.25, 2.0, 19.5],
    ),
    "softplus_beta": (  # beta=2, threshold=5: log(1 + e**2x) / 2 while 2x <= 5
        lambda v: v.softplus(beta=2, threshold=5),
        lambda x: np.log1p(np.exp(2 * x)) / 2,
        lambda x: _sig(2 * x),
        lambda x: 2 * _sig(2 * x) * (1 - _sig(2 * x)),
        [-3.0, 0.5, 2.4],
    ),
    "softplus_linear": (  # above the threshold: x itself, derivative 1 (PyTorch)
        lambda v: v.softplus(),
        lambda x: x,
        lambda x: 1.0,
        lambda x: 0.0,
        [20.5, 300.0],
    ),
    "leaky_relu": (
        lambda v: v.leaky_relu(0.2),
        lambda x: x if x > 0 else 0.2 * x,
        lambda x: 1.0 if x > 0 else 0.2,
        lambda x: 0.0,
        [-2.0, -0.1, 0.3, 4.0],
    ),
    "gelu": (lambda v: v.gelu(), _gelu, _gelu_d, _gelu_d2, [-4.0, -0.7, 0.2, 1.5, 6.0]),
    "clamp": (
        lambda v: v.clamp(-0.5, 0.8),
        lambda x: min(max(x, -0.5), 0.8),
        lambda x: 1.0 if -0.5 <= x <= 0.8 else 0.0,
        lambda x: 0.0,
        [-2.0, 0.1, 0.79, 3.0],
    ),
    "clip": (
        lambda v: v.clip(min=0.1),
        lambda x: max(x, 0.1),
        lambda x: 1.0 if x >= 0.1 else 0.0,
        lambda x: 0.0,
        [-2.0, 0.5],
    ),
    "minimum": (
        lambda v: v.minimum(0.25),
        lambda x: min(x, 0.25),
        lambda x: 1.0 if x < 0.25 else 0.0,
        lambda x: 0.0,
        [-1.0, 2.0],
    ),
}
CASES = [(name, x) for name, entry in OPS.items() for x in entry[4]]


def _close(found: float, expected: float) -> None:
    assert math.isclose(found, expected, rel_tol=1e-10, abs_tol=1e-300), (found, expected)


@pytest.mark.parametrize(("name", "x"), CASES)
def test_value_and_two_derivatives_against_closed_forms(name: str, x: float) -> None:
    apply, f, df, d2f, _ = OPS[name]
    v = Value(x)
    y = apply(v)
    _close(y.data, float(f(np.float64(x))))
    (d1,) = grad(y, [v], create_graph=True)
    _close(d1.data, float(df(np.float64(x))))
    (d2,) = grad(d1, [v])
    _close(d2, float(d2f(np.float64(x))))
    # the closed form itself against central differences of numpy's value
    fd = central_difference(lambda z: float(f(np.float64(z))), x, 1e-6 * min(1.0, abs(x) or 1))
    assert math.isclose(fd, float(df(np.float64(x))), rel_tol=1e-5, abs_tol=1e-8)


@pytest.mark.parametrize("name", list(OPS))
def test_tensor_dual_and_second_order_elementwise(name: str) -> None:
    apply, f, df, d2f, points = OPS[name]
    xs = np.array(points)
    t = Tensor(xs.copy())
    y = apply(t)
    expected = [float(f(np.float64(x))) for x in points]
    np.testing.assert_allclose(y.data, expected, rtol=1e-10)
    (g,) = grad(y.sum(), [t], create_graph=True)
    np.testing.assert_allclose(g.data, [float(df(np.float64(x))) for x in points], rtol=1e-10)
    (h,) = grad(g.sum(), [t])
    np.testing.assert_allclose(h, [float(d2f(np.float64(x))) for x in points], rtol=1e-10)
    tangent = np.linspace(0.5, 2.0, len(points))
    d = apply(Dual(xs.copy(), tangent=tangent))
    np.testing.assert_allclose(
        d.tangent, tangent * [float(df(np.float64(x))) for x in points], rtol=1e-10
    )
    for x in points:  # a scalar Dual's tangent
        _close(apply(Dual(x, tangent=1.0)).tangent, float(df(np.float64(x))))


@pytest.mark.parametrize("name", list(OPS))
def test_generated_code_bit_for_bit(name: str) -> None:
    apply, *_, points = OPS[name]
    for x in points:
        v = Value(x)
        out = apply(v) * v
        value, grads = run_module(backward_code(out, [v]))(x)
        assert same(value, out.data)
        assert same(list(grads), grad(out, [v]))
    t = Tensor(np.array(points))
    out_t = (apply(t) * t).sum()
    value, grads = run_module(backward_code(out_t, [t]))(t.data)
    assert same(value, out_t.data)
    assert same(list(grads), grad(out_t, [t]))
    value, grads = compile_grad(out_t, [t])(t.data)
    assert same(list(grads), grad(out_t, [t]))


INF, NAN = math.inf, math.nan
# (op, x, value, derivative) at the edges, as PyTorch gives them (IEEE: sin(inf) is nan ...).
EDGES: list[tuple[str, Callable[[Any], Any], float, float, float]] = [
    ("sin", lambda v: v.sin(), 0.0, 0.0, 1.0),
    ("sin", lambda v: v.sin(), INF, NAN, NAN),
    ("sin", lambda v: v.sin(), -INF, NAN, NAN),
    ("cos", lambda v: v.cos(), INF, NAN, NAN),
    ("tan", lambda v: v.tan(), -INF, NAN, NAN),
    ("tan", lambda v: v.tan(), math.pi / 2, math.tan(math.pi / 2), 1 + math.tan(math.pi / 2) ** 2),
    ("log1p", lambda v: v.log1p(), 0.0, 0.0, 1.0),
    ("log1p", lambda v: v.log1p(), INF, INF, 0.0),
    ("log1p", lambda v: v.log1p(), NAN, NAN, NAN),
    ("expm1", lambda v: v.expm1(), INF, INF, INF),
    ("expm1", lambda v: v.expm1(), -INF, -1.0, 0.0),
    ("expm1", lambda v: v.expm1(), 710.0, INF, INF),
    ("softplus", lambda v: v.softplus(), 0.0, math.log(2), 0.5),
    ("softplus", lambda v: v.softplus(), INF, INF, 1.0),
    ("softplus", lambda v: v.softplus(), -INF, 0.0, 0.0),
    ("softplus", lambda v: v.softplus(), -800.0, 0.0, 0.0),
    ("softplus", lambda v: v.softplus(), NAN, NAN, NAN),
    ("leaky_relu", lambda v: v.leaky_relu(), 0.0, 0.0, 0.01),  # the slope at the kink
    ("leaky_relu", lambda v: v.leaky_relu(), -INF, -INF, 0.01),
    ("leaky_relu", lambda v: v.leaky_relu(), INF, INF, 1.0),
    ("leaky_relu", lambda v: v.leaky_relu(), NAN, NAN, 0.01),  # nan > 0 is false
    ("gelu", lambda v: v.gelu(), 0.0, 0.0, 0.5),
    ("gelu", lambda v: v.gelu(), NAN, NAN, NAN),
    ("clamp", lambda v: v.clamp(-1, 1), -1.0, -1.0, 1.0),  # the bounds pass the gradient
    ("clamp", lambda v: v.clamp(-1, 1), 1.0, 1.0, 1.0),
    ("clamp", lambda v: v.clamp(-1, 1), INF, 1.0, 0.0),
    ("clamp", lambda v: v.clamp(-1, 1), NAN, NAN, 0.0),
    ("clamp", lambda v: v.clamp(2, 1), 0.0, 1.0, 0.0),  # min > max: max everywhere
    ("clamp", lambda v: v.clamp(max=0), -INF, -INF, 1.0),
]


@pytest.mark.parametrize(("name", "apply", "x", "value", "slope"), EDGES)
def test_edges_as_pytorch(name: str, apply: F, x: float, value: float, slope: float) -> None:
    for node in (Value(x), Tensor(np.array([x]))):
        y = apply(node)
        (d,) = grad(y if isinstance(y, Value) else y.sum(), [node])
        found, derivative = float(np.ravel(y.data)[0]), float(np.ravel(d)[0])
        assert same(found, value) or found == value, (name, x, found)
        assert same(derivative, slope) or derivative == slope, (name, x, derivative)


@pytest.mark.parametrize("make", [lambda a, b: a.minimum(b), minimum])
def test_minimum_ties_and_nan_as_maximum_and_pytorch(make: Callable[[Any, Any], Any]) -> None:
    a, b = Tensor(np.array([1.0, 2.0, NAN, 0.0])), Tensor(np.array([1.0, 0.5, 1.0, NAN]))
    y = make(a, b)
    assert same(y.data, np.array([1.0, 0.5, NAN, NAN]))
    y.sum().backward()
    # PyTorch: a tie splits the gradient; at a nan both operands get all of it
    assert a.grad.tolist() == [0.5, 0.0, 1.0, 1.0]
    assert b.grad.tolist() == [0.5, 1.0, 1.0, 1.0]
    for first, second in ((NAN, 1.0), (1.0, NAN)):  # on floats too: nan whichever is nan
        assert math.isnan(Value(first).minimum(second).data)
        assert math.isnan(Value(first).maximum(second).data)
    m = maximum(Tensor(np.array([NAN])), Tensor(np.array([1.0])))
    assert math.isnan(m.data[0])


def test_domain_errors_and_bad_arguments() -> None:
    with pytest.raises(DomainError, match=r"log1p: argument must be > -1, got -1.0"):
        Value(-1.0).log1p()
    with pytest.raises(DomainError, match=r"log1p: 1 of 2 elements are <= -1.*-3.0"):
        Tensor(np.array([0.0, -3.0])).log1p()
    with pytest.raises(DomainError, match="log1p"):
        Value(-INF).log1p()
    with pytest.raises(ValueError, match="erf, which numpy lacks"):
        Value(1.0).gelu(approximate="none")
    with pytest.raises(ValueError, match="approximate must be 'tanh'"):
        Value(1.0).gelu(approximate="tan")
    with pytest.raises(ValueError, match="clamp: give min or max"):
        Tensor(np.zeros(2)).clamp()
    with pytest.raises(ValueError, match="clamp: min must not be nan"):
        Value(0.0).clamp(min=NAN)
    with pytest.raises(ValueError, match="softplus: beta must be > 0"):
        Value(0.0).softplus(beta=0)
    with pytest.raises(ValueError, match="leaky_relu: negative_slope must be finite"):
        Value(0.0).leaky_relu(INF)


def test_numpy_functions_record_the_ops() -> None:
    """Reference: the closed forms' derivatives at 0.5 (cos, 1 + tan**2, 1/(1+x), e**x)."""
    for ufunc, derivative in (
        (np.sin, math.cos(0.5)),
        (np.cos, -math.sin(0.5)),
        (np.tan, 1 / math.cos(0.5) ** 2),
        (np.log1p, 1 / 1.5),
        (np.expm1, math.exp(0.5)),
    ):
        t = Tensor(np.array([0.5]))
        ufunc(t).sum().backward()
        _close(float(t.grad[0]), derivative)
    t = Tensor(np.array([-2.0, 0.5, 3.0]))
    (np.clip(t, -1, 1) + np.minimum(t, 0.0)).sum().backward()
    assert t.grad.tolist() == [1.0, 1.0, 0.0]


def test_dim_and_keepdim_as_pytorch() -> None:
    """Reference: numpy's sums and maxima of the same array, by numpy's argument names."""
    data = np.arange(24.0).reshape(2, 3, 4)
    t = Tensor(data)
    assert t.sum(dim=1).data.tolist() == data.sum(axis=1).tolist()
    assert t.mean(dim=(0, 2), keepdim=True).data.shape == (1, 3, 1)
    assert t.max(dim=-1, keepdim=True).data.tolist() == data.max(-1, keepdims=True).tolist()
    assert t.logsumexp(dim=0).data.shape == (3, 4)
    assert t.softmax(dim=1).data.shape == t.log_softmax(dim=1).data.shape == (2, 3, 4)
    assert concatenate([t, t], dim=2).data.shape == (2, 3, 8)
    assert stack([t, t], dim=-1).data.shape == (2, 3, 4, 2)
    d = Dual(data, tangent=np.ones_like(data))
    assert d.sum(dim=2).tangent.tolist() == np.full((2, 3), 4.0).tolist()
    with pytest.raises(TypeError, match=r"sum: got both axis= .* and dim="):
        t.sum(axis=0, dim=0)
    with pytest.raises(TypeError, match=r"mean: got both keepdims= .* and keepdim="):
        t.mean(keepdims=True, keepdim=True)
    with pytest.raises(TypeError, match=r"stack: got both axis= .* and dim="):
        stack([t, t], axis=0, dim=0)


def test_step_table_and_drawing_show_the_ops() -> None:
    x = Value(0.5, label="x")
    y = x.leaky_relu(0.2).softplus().clamp(max=2.0).gelu().sin()
    table = format_backward_steps(y)
    for shown in (
        "t1 = leaky_relu(x, negative_slope=0.2)",
        "t2 = softplus(t1, beta=1.0, threshold=20.0)",
        "t3 = clamp(t2, min=None, max=2.0)",
        "t4 = gelu(t3, approximate='tanh')",
        "t5 = sin(t4)",
    ):
        assert shown in table, shown
    source = draw_graph(y).source
    for shown in ("leaky_relu(negative_slope=0.2)", "clamp(min=None, max=2.0)", "sin>"):
        assert shown in source, shown
