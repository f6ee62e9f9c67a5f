"""Higher derivatives: `grad(..., create_graph=True)` applied again, and `hessian`.

References, never the engine itself: closed forms worked out in each test, and central
second differences of the same function written with numpy in float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_lite import Value, grad, graph_nodes, hessian
from autograd_lite.walkthrough import build_network, hand_derivation
from tests.conftest import FUZZ
from tests.reference import numpy_hessian, numpy_hessian_extrapolated, second_difference

F64 = np.float64


def d2(fn: Callable[[Value], Value], x0: float) -> float:
    """The engine's second derivative of a one-variable function at x0."""
    x = Value(x0)
    (first,) = grad(fn(x), [x], create_graph=True)
    (second,) = grad(first, [x])
    return float(second)


def nth(fn: Callable[[Value], Value], x0: float, n: int) -> float:
    """The engine's n-th derivative at x0, by applying grad n times."""
    x = Value(x0)
    y: Any = fn(x)
    for _ in range(n):
        (y,) = grad(y, [x], create_graph=True)
    return float(y.data)


def sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# -- second derivatives of every op: closed forms --------------------------------------------
# (name, engine function, numpy function, closed-form second derivative, points)
Case = tuple[str, Callable[[Any], Any], Callable[[Any], Any], Callable[[float], float], list[float]]
UNARY: list[Case] = [
    ("sigmoid", lambda x: x.sigmoid(), lambda x: 1 / (1 + np.exp(-x)),
     lambda x: sig(x) * (1 - sig(x)) * (1 - 2 * sig(x)), [-2.0, -0.3, 0.0, 0.7, 3.0]),
    ("tanh", lambda x: x.tanh(), np.tanh,
     lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2), [-1.5, 0.0, 0.4, 2.0]),
    ("exp", lambda x: x.exp(), np.exp, math.exp, [-1.0, 0.0, 0.5, 2.0]),
    ("log", lambda x: x.log(), np.log, lambda x: -1 / x**2, [0.2, 1.0, 3.5]),
    ("reciprocal 1/x", lambda x: 1 / x, lambda x: 1 / x, lambda x: 2 / x**3, [-1.5, 0.4, 2.0]),
    ("3/x", lambda x: 3.0 / x, lambda x: 3.0 / x, lambda x: 6 / x**3, [-0.8, 1.2]),
    ("neg", lambda x: -x, lambda x: -x, lambda x: 0.0, [0.3]),
    ("x + 2", lambda x: x + 2, lambda x: x + 2, lambda x: 0.0, [0.3]),
    ("5 - x", lambda x: 5 - x, lambda x: 5 - x, lambda x: 0.0, [0.3]),
    ("x * 4", lambda x: x * 4, lambda x: x * 4, lambda x: 0.0, [0.3]),
    ("x * x", lambda x: x * x, lambda x: x * x, lambda x: 2.0, [-0.7, 0.3]),
    ("2 ** x", lambda x: 2.0**x, lambda x: 2.0**x,
     lambda x: 2.0**x * math.log(2) ** 2, [-1.0, 0.6]),
]  # fmt: skip

UNARY_CASES = [(name, f, g, d, x) for name, f, g, d, xs in UNARY for x in xs]


@pytest.mark.parametrize(
    ("name", "fn", "np_fn", "closed", "x0"),
    UNARY_CASES,
    ids=[f"{c[0]}@{c[4]}" for c in UNARY_CASES],
)
def test_second_derivative_of_unary_ops(
    name: str, fn: Any, np_fn: Any, closed: Callable[[float], float], x0: float
) -> None:
    engine = d2(fn, x0)
    assert engine == pytest.approx(closed(x0), rel=1e-12, abs=1e-14)
    assert engine == pytest.approx(second_difference(np_fn, x0), rel=1e-5, abs=1e-6)


POWERS = [2, 3, 5, 1, 0, -1, -2, -3, 0.5, 1.5, 2.5, -0.5, 1 / 3]


@pytest.mark.parametrize("n", POWERS)
@pytest.mark.parametrize("x0", [0.4, 1.3, 2.7])
def test_second_derivative_of_power_with_number_exponent(n: float, x0: float) -> None:
    closed = n * (n - 1) * x0 ** (n - 2)
    engine = d2(lambda x: x**n, x0)
    assert engine == pytest.approx(closed, rel=1e-12, abs=1e-14)
    assert engine == pytest.approx(second_difference(lambda t: t**n, x0), rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("n", [2, 3, 4, -1, -2])
def test_second_derivative_of_integer_power_at_negative_base(n: int) -> None:
    x0 = -1.3
    assert d2(lambda x: x**n, x0) == pytest.approx(n * (n - 1) * x0 ** (n - 2), rel=1e-12)


@pytest.mark.parametrize("x0", [-0.9, 0.6])
def test_relu_second_derivative_is_zero(x0: float) -> None:
    assert d2(lambda x: x.relu(), x0) == 0.0
    assert d2(lambda x: x.relu() * x.relu(), x0) == (2.0 if x0 > 0 else 0.0)


@pytest.mark.parametrize(("a0", "b0"), [(1.7, 0.6), (0.4, 2.5), (3.0, -1.2)])
def test_hessian_of_power_with_value_exponent(a0: float, b0: float) -> None:
    a, b = Value(a0), Value(b0)
    h = hessian(a**b, [a, b])
    ln = math.log(a0)
    closed = np.array(
        [
            [b0 * (b0 - 1) * a0 ** (b0 - 2), a0 ** (b0 - 1) * (1 + b0 * ln)],
            [a0 ** (b0 - 1) * (1 + b0 * ln), a0**b0 * ln**2],
        ]
    )
    np.testing.assert_allclose(h, closed, rtol=1e-12)
    np.testing.assert_allclose(
        h, numpy_hessian(lambda v: v[0] ** v[1], [a0, b0]), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize(("a0", "b0"), [(0.7, -1.3), (2.0, 0.5)])
def test_hessian_of_product_and_quotient(a0: float, b0: float) -> None:
    a, b = Value(a0), Value(b0)
    np.testing.assert_array_equal(hessian(a * b, [a, b]), [[0.0, 1.0], [1.0, 0.0]])
    closed = np.array([[0.0, -1 / b0**2], [-1 / b0**2, 2 * a0 / b0**3]])
    np.testing.assert_allclose(hessian(a / b, [a, b]), closed, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        hessian(a / b, [a, b]), numpy_hessian(lambda v: v[0] / v[1], [a0, b0]), rtol=1e-5, atol=1e-6
    )


def test_mixed_partial_both_orders_and_third_order() -> None:
    # f = x² y³ + e^(xy): f_xy = 6 x y² + e^(xy) (1 + xy); f_xxy = 6 y² + e^(xy) y (2 + xy).
    x0, y0 = 0.7, -0.4
    x, y = Value(x0), Value(y0)
    f = x**2 * y**3 + (x * y).exp()
    fx, fy = grad(f, [x, y], create_graph=True)
    (fxy,) = grad(fx, [y], create_graph=True)
    (fyx,) = grad(fy, [x])
    e = math.exp(x0 * y0)
    closed = 6 * x0 * y0**2 + e * (1 + x0 * y0)
    assert fxy.data == pytest.approx(closed, rel=1e-12)
    assert fyx == pytest.approx(closed, rel=1e-12)
    (fxyx,) = grad(fxy, [x])
    assert fxyx == pytest.approx(6 * y0**2 + e * y0 * (2 + x0 * y0), rel=1e-12)


@pytest.mark.parametrize("x0", [-1.1, 0.5, 2.0])
def test_third_and_fourth_derivatives_of_x5(x0: float) -> None:
    assert nth(lambda x: x**5, x0, 3) == pytest.approx(60 * x0**2, rel=1e-12)
    assert nth(lambda x: x**5, x0, 4) == pytest.approx(120 * x0, rel=1e-12)
    assert nth(lambda x: x**5, x0, 5) == 120.0
    assert nth(lambda x: x**5, x0, 6) == 0.0


@pytest.mark.parametrize("x0", [-1.0, 0.3, 1.5])
def test_derivatives_of_exp_to_fourth_order(x0: float) -> None:
    for n in range(5):
        assert nth(lambda x: x.exp(), x0, n) == pytest.approx(math.exp(x0), rel=1e-12)
    # e^(2x): the n-th derivative is 2^n e^(2x).
    for n in range(5):
        assert nth(lambda x: (2 * x).exp(), x0, n) == pytest.approx(
            2**n * math.exp(2 * x0), rel=1e-12
        )


def test_fourth_derivative_of_sigmoid_against_differences() -> None:
    # By differencing the closed-form second derivative s(1-s)(1-2s) twice.
    def s2(x: F64) -> F64:
        s = 1 / (1 + np.exp(-x))
        return F64(s * (1 - s) * (1 - 2 * s))

    for x0 in [-1.2, 0.4]:
        expected = second_difference(s2, x0, h=1e-3)
        assert nth(lambda x: x.sigmoid(), x0, 4) == pytest.approx(expected, rel=1e-5, abs=1e-7)


# -- the document's loss ---------------------------------------------------------------------
def test_hessian_of_document_loss_is_symmetric_and_matches_differences() -> None:
    net = build_network()
    params = [net.w1, net.b1, net.w2, net.b2]
    h = hessian(net.L, params)
    assert h.shape == (4, 4) and h.dtype == np.float64
    np.testing.assert_allclose(h, h.T, rtol=0, atol=1e-12)

    # Reference: central differences of the hand derivation's gradient (floats, no Value).
    def hand_gradient(p: list[float]) -> np.ndarray[Any, Any]:
        d = hand_derivation(w1=p[0], b1=p[1], w2=p[2], b2=p[3])
        return np.array([d.dL_dw1, d.dL_db1, d.dL_dw2, d.dL_db2], dtype=np.float64)

    p0 = [0.4, 0.1, 0.3, 0.2]
    eps = 1e-6
    fd = np.empty((4, 4))
    for j in range(4):
        plus, minus = list(p0), list(p0)
        plus[j] += eps
        minus[j] -= eps
        fd[:, j] = (hand_gradient(plus) - hand_gradient(minus)) / (plus[j] - minus[j])
    np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-9)
    # And the loss's second differences directly.
    loss = lambda p: hand_derivation(w1=p[0], b1=p[1], w2=p[2], b2=p[3]).L  # noqa: E731
    np.testing.assert_allclose(h, numpy_hessian(loss, p0), rtol=1e-4, atol=1e-7)


# -- grad's contract ------------------------------------------------------------------------
@pytest.mark.parametrize("create_graph", [False, True])
def test_grad_leaves_grad_fields_untouched(create_graph: bool) -> None:
    x, y = Value(0.5), Value(-1.5)
    x.grad = 7.0
    f = (x * y).tanh() + x**3 / y
    before = {node: node.grad for node in graph_nodes(f)}
    first = grad(f, [x, y], create_graph=create_graph)
    if create_graph:
        grad(first[0], [x, y])
    assert {node: node.grad for node in graph_nodes(f)} == before
    assert x.grad == 7.0 and y.grad == 0.0


def test_unused_inputs_give_zeros() -> None:
    x, y, z = Value(2.0), Value(3.0), Value(4.0)
    f = x * x
    assert grad(f, [x, y, z]) == [4.0, 0.0, 0.0]
    first = grad(f, [y, x, z], create_graph=True)
    assert [g.item() for g in first] == [0.0, 4.0, 0.0]
    assert all(isinstance(g, Value) for g in first)
    # The zero is a constant: its own derivatives are zero too.
    assert grad(first[0], [x, y, z]) == [0.0, 0.0, 0.0]
    np.testing.assert_array_equal(hessian(f, [x, y, z]), np.diag([2.0, 0.0, 0.0]))
    # An input that is not in the graph but whose derivative's derivative is asked for.
    (dx,) = grad(y * 5.0, [x], create_graph=True)
    assert grad(dx, [x, y]) == [0.0, 0.0]


def test_grad_through_reused_nodes() -> None:
    x0 = 0.8
    x = Value(x0)
    # x * x uses one node twice: d = 2x, d² = 2.
    (dx,) = grad(x * x, [x], create_graph=True)
    assert dx.data == 2 * x0
    assert grad(dx, [x]) == [2.0]
    # A diamond: u = 3x feeds both arms; f = e^u * u + tanh(u).
    u = 3 * x
    f = u.exp() * u + u.tanh()
    u0 = 3 * x0
    t = math.tanh(u0)
    f1 = 3 * (math.exp(u0) * (1 + u0) + 1 - t * t)
    f2 = 9 * (math.exp(u0) * (2 + u0) - 2 * t * (1 - t * t))
    (g1,) = grad(f, [x], create_graph=True)
    assert g1.data == pytest.approx(f1, rel=1e-12)
    assert grad(g1, [x])[0] == pytest.approx(f2, rel=1e-12)
    # A chain of 40 diamonds y <- y + y: 2^40 paths, one visit each; f = 2^40 x.
    y: Value = x
    for _ in range(40):
        y = y + y
    assert grad(y, [x]) == [2.0**40]
    assert hessian(y * x, [x])[0, 0] == 2.0**41


def test_grad_with_respect_to_an_intermediate_node() -> None:
    x = Value(0.3)
    u = x.exp()
    f = u * u + x
    # d f / d u holding x's other path fixed: 2u.
    assert grad(f, [u]) == [pytest.approx(2 * math.exp(0.3), rel=1e-15)]
    assert grad(f, [f]) == [1.0]


# -- property: random expressions, second derivatives against second differences -------------

Tree = Any

leaf = st.one_of(
    st.just(("x",)),
    st.just(("y",)),
    st.floats(-2.0, 2.0, allow_nan=False).map(lambda c: ("c", c)),
)
UNARY_KINDS = ["neg", "tanh", "sigmoid", "exp", "log", "pow"]
BINARY_KINDS = ["add", "sub", "mul", "div", "powv"]


def extend(children: st.SearchStrategy[Tree]) -> st.SearchStrategy[Tree]:
    return st.one_of(
        st.tuples(st.sampled_from(UNARY_KINDS), children),
        st.tuples(st.sampled_from(BINARY_KINDS), children, children),
    )


trees = st.recursive(leaf, extend, max_leaves=8)


def evaluate(tree: Tree, x: Any, y: Any, lib: Any) -> Any:
    """The tree's value; every op is kept inside its domain and away from overflow."""
    kind = tree[0]
    if kind == "x":
        return x
    if kind == "y":
        return y
    if kind == "c":
        return lib.const(tree[1])
    a = evaluate(tree[1], x, y, lib)
    if kind == "neg":
        return -a
    if kind == "tanh":
        return lib.tanh(a)
    if kind == "sigmoid":
        return lib.sigmoid(a)
    if kind == "exp":
        return lib.exp(lib.tanh(a))
    if kind == "log":
        return lib.log(1 + a * a)
    if kind == "pow":
        return (1 + a * a) ** 1.5
    b = evaluate(tree[2], x, y, lib)
    if kind == "add":
        return a + b
    if kind == "sub":
        return a - b
    if kind == "mul":
        return a * b
    if kind == "div":
        return a / (1 + b * b)
    assert kind == "powv"
    return (1 + lib.sigmoid(a)) ** lib.tanh(b)


class ValueLib:
    @staticmethod
    def const(c: float) -> Value:
        return Value(c)

    @staticmethod
    def tanh(v: Value) -> Value:
        return v.tanh()

    @staticmethod
    def sigmoid(v: Value) -> Value:
        return v.sigmoid()

    @staticmethod
    def exp(v: Value) -> Value:
        return v.exp()

    @staticmethod
    def log(v: Value) -> Value:
        return v.log()


class NumpyLib:
    @staticmethod
    def const(c: float) -> F64:
        return F64(c)

    tanh = staticmethod(np.tanh)
    exp = staticmethod(np.exp)
    log = staticmethod(np.log)

    @staticmethod
    def sigmoid(v: F64) -> F64:
        return F64(1 / (1 + np.exp(-v)))


coord = st.floats(-1.5, 1.5, allow_nan=False)


@pytest.mark.parametrize("kind", UNARY_KINDS + BINARY_KINDS)
@settings(max_examples=2000 if FUZZ else 25, deadline=None)
@given(left=trees, right=trees, x0=coord, y0=coord)
def test_random_expressions_second_derivatives_match_second_differences(
    kind: str, left: Tree, right: Tree, x0: float, y0: float
) -> None:
    # Every op kind is at the root of its own run, so each rule is tested as often as the
    # others (a random tree alone met pow in about 4 of 60 examples).
    tree = (kind, left) if kind in UNARY_KINDS else (kind, left, right)
    x, y = Value(x0), Value(y0)
    f = evaluate(tree, x, y, ValueLib)
    h = hessian(f, [x, y])
    ref = numpy_hessian_extrapolated(lambda v: evaluate(tree, v[0], v[1], NumpyLib), [x0, y0])
    scale = 1.0 + abs(f.data) + np.abs(ref).max()
    np.testing.assert_allclose(h, h.T, rtol=0, atol=1e-12 * scale)
    # The extrapolated differences are good to about 1e-9, or 1e-6 relative for the steepest
    # trees; a rule off by 1e-4 fails.
    np.testing.assert_allclose(h, ref, rtol=1e-5, atol=1e-7 * scale)


def test_first_derivative_at_a_singular_point_is_the_same_with_create_graph() -> None:
    x = Value(0.0)
    (plain,) = grad(x**0.5, [x])
    assert plain == math.inf  # 0.5 * 0 ** -0.5, as IEEE (and numpy) give it
    (recorded,) = grad(x**0.5, [x], create_graph=True)
    assert recorded.data == math.inf
