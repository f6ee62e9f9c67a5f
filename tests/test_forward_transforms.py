"""Dual, jvp, vjp, jacobian, hvp and hessian's modes: the forward-mode API.

References: derivatives worked out by hand in each test (closed forms in numpy), central
finite differences in numpy float64, and JAX's documented conventions for jvp, vjp, jacfwd
and jacrev (argument order, what each returns).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from autograd_lite import (
    Dual,
    Op,
    Tensor,
    Value,
    grad,
    hessian,
    hvp,
    jacobian,
    jvp,
    no_grad,
    ops,
    vjp,
)
from autograd_lite.engine.replay import replay

Array = np.ndarray[Any, Any]
RNG = np.random.default_rng(14)
W0 = RNG.normal(size=(3, 4))
X0 = RNG.normal(size=4)


def numeric_jacobian(f: Any, x0: Array, h: float = 1e-6) -> Array:
    """The Jacobian of f (arrays to arrays) by central differences, rows = outputs."""
    columns = []
    for k in range(x0.size):
        e = np.zeros(x0.size)
        e[k] = h
        plus, minus = f(x0 + e.reshape(x0.shape)), f(x0 - e.reshape(x0.shape))
        columns.append(np.ravel((np.asarray(plus) - np.asarray(minus)) / (2 * h)))
    return np.stack(columns, axis=1)


def tanh_layer_hessian(w: Array, x: Array) -> Array:
    """d²/dx² of sum(tanh(W x)), by hand: Wᵀ diag(-2 t (1 - t²)) W with t = tanh(W x)."""
    t = np.tanh(w @ x)
    return w.T @ np.diag(-2 * t * (1 - t * t)) @ w


# -- Dual ---------------------------------------------------------------------------------------
def test_a_dual_holds_a_primal_and_a_tangent_of_its_shape() -> None:
    """Reference: the numbers given; a missing tangent is zero."""
    d = Dual(2, tangent=1, label="x")
    assert (d.data, d.tangent, d.label, d.shape, d.is_leaf) == (2.0, 1.0, "x", (), True)
    assert Dual(2.0).tangent == 0.0
    assert repr(d) == "Dual(2.0, tangent=1.0, label='x')"
    a = Dual([[1, 2], [3, 4]], tangent=np.ones((2, 2)))
    assert (
        a.data.dtype == np.float64 and a.shape == (2, 2) and a.tangent.tolist() == [[1.0] * 2] * 2
    )
    assert Dual(np.ones(3, dtype=np.float32)).dtype == np.float32
    np.testing.assert_array_equal(Dual(np.ones(3)).tangent, np.zeros(3))


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda: Dual(Value(1.0)), TypeError, "a Dual is made from numbers"),
        (lambda: Dual(np.ones(3), np.ones(2)), ValueError, "needs the primal's shape (3,)"),
        (lambda: Dual(1.0, "a"), TypeError, "Dual: tangent"),
        (lambda: Dual(1.0) + Value(2.0), TypeError, "cannot mix a Dual with a Value"),
        (lambda: Dual(np.ones(2)) * Tensor(np.ones(2)), TypeError, "mix a Dual with a Tensor"),
        (lambda: Dual(1.0) * Dual(np.ones(2)), TypeError, "cannot mix a scalar Dual with arrays"),
        (lambda: Dual(np.ones(2)) @ Dual(np.ones(3)), ValueError, "shapes (2,) and (3,)"),
        (lambda: Dual(-1.0, 1.0).log(), Exception, "log: argument must be > 0"),
    ],
)  # fmt: skip
def test_bad_duals_and_operands_are_refused_with_the_op_named(
    make: Any, error: type[Exception], words: str
) -> None:
    with pytest.raises(error) as info:
        make()
    assert words in str(info.value)


def test_duals_record_their_graph_and_carry_tangents_even_under_no_grad() -> None:
    """Reference: d/dx (x * 3) = 3; under no_grad nothing is recorded (as Value)."""
    x = Dual(2.0, 1.0)
    y = x * 3
    assert y.op is not None and y.op.name == "*" and y.operands[0] is x
    with no_grad():
        z = x * 3
    assert z.is_leaf and z.tangent == 3.0


def test_grad_runs_on_duals_forward_over_reverse() -> None:
    """Reference: f = x³ y: df/dx = 3x²y, and its derivative along (1, 0) is 6xy."""
    x, y = Dual(2.0, 1.0), Dual(3.0, 0.0)
    dx, dy = grad(x**3 * y, [x, y], create_graph=True)
    assert (dx.data, dx.tangent) == (36.0, 36.0)  # 3x²y; d/dx of it 6xy
    assert (dy.data, dy.tangent) == (8.0, 12.0)  # x³; d/dx of it 3x²
    assert grad(x**3 * y, [x]) == [36.0]  # first order: plain numbers


def test_a_custom_op_on_arrays_needs_a_forward_rule_and_the_error_says_what_to_add() -> None:
    """Reference: the op's closed forms: cumsum is linear, so its tangent is cumsum(v)."""
    no_rule = Op("cumsum", np.cumsum, lambda g, out, x: (np.cumsum(g[::-1])[::-1],))
    with pytest.raises(TypeError, match=r"cumsum: forward mode on arrays needs .* jvp=") as info:
        no_rule(Dual(np.ones(3), np.ones(3)))
    assert "jvp='elementwise'" in str(info.value)
    assert no_rule(Dual(np.ones(3))).data.tolist() == [1.0, 2.0, 3.0]  # no tangent: no rule needed
    cumsum = Op(
        "cumsum",
        np.cumsum,
        lambda g, out, x: (np.cumsum(g[::-1])[::-1],),
        jvp=lambda ts, out, x: np.cumsum(ts[0]),
    )
    assert cumsum(Dual(np.ones(3), np.array([1.0, 0.0, 2.0]))).tangent.tolist() == [1, 1, 3]
    cube = Op("cube", lambda x: x**3, lambda g, out, x: (g * 3 * x * x,), jvp="elementwise")
    assert cube(Dual(np.array([1.0, 2.0]), np.ones(2))).tangent.tolist() == [3.0, 12.0]
    # On numbers every op is elementwise: no rule needed.
    plain = Op("cube", lambda x: x**3, lambda g, out, x: (g * 3 * x * x,))
    assert plain(Dual(2.0, 1.0)).tangent == 12.0


def test_a_forward_rule_of_the_wrong_shape_or_kind_is_named() -> None:
    with pytest.raises(TypeError, match="jvp must be callable, 'elementwise' or None"):
        Op("f", abs, lambda g, out, x: (g,), jvp="diagonal")
    bad = Op("bad", lambda x: x, lambda g, out, x: (g,), jvp=lambda ts, out, x: ts[0][:1])
    with pytest.raises(
        ValueError, match=r"forward rule of Op\('bad'\) gave a tangent of shape \(1,\)"
    ):
        bad(Dual(np.ones(3), np.ones(3)))
    none = Op("none", lambda x: x, lambda g, out, x: (g,), jvp=lambda ts, out, x: None)
    with pytest.raises(TypeError, match=r"forward rule of Op\('none'\) returned NoneType"):
        none(Dual(1.0, 1.0))


def test_the_ops_table_derives_tangents_from_its_one_rule() -> None:
    """Reference: relu'(x) = step(x), and ops.py has no forward rules of its own (each op is
    marked elementwise: its tangent comes from its one reverse rule)."""
    factories = {"power": None, "pow_number": (3.0,), "clamp": (0.0, 1.0), "clip": (0.0, 1.0),
                 "gelu": (), "leaky_relu": (), "softplus": ()}  # fmt: skip
    assert all(
        getattr(ops, name).jvp == "elementwise" for name in ops.__all__ if name not in factories
    )
    for name, args in factories.items():
        if args is not None:  # each makes an op for its parameters
            assert getattr(ops, name)(*args).jvp == "elementwise", name
    d = Dual(np.array([-1.0, 2.0]), np.array([5.0, 7.0])).relu()
    assert d.tangent.tolist() == [0.0, 7.0]


# -- jvp ------------------------------------------------------------------------------------------
def test_jvp_of_values_by_closed_form() -> None:
    """Reference: f = x² y + sin-free closed forms; JAX's (primals_out, tangents_out)."""
    assert jvp(lambda x, y: x * x * y, [3.0, 2.0], [1.0, 0.0]) == (18.0, 12.0)
    value, tangent = jvp(lambda x, y: (x * y).exp(), [Value(0.5), 2], [1.0, -1.0])
    assert value == pytest.approx(math.e)
    assert tangent == pytest.approx(math.e * (2 * 1.0 + 0.5 * -1.0))  # e^{xy} (y dx + x dy)
    many = jvp(lambda x, y: [x * y, x + y, 3.0], [3.0, 2.0], [1.0, 1.0])
    assert many == ([6.0, 5.0, 3.0], [5.0, 2.0, 0.0])
    assert jvp(lambda x: 7.0, [1.0], [1.0]) == (7.0, 0.0)  # a constant: tangent 0


def test_jvp_of_tensors_is_the_jacobian_times_v() -> None:
    """Reference: d tanh(W x) = (1 - tanh²(W x)) (dW x + W dx), by hand."""
    dw, dx = RNG.normal(size=W0.shape), RNG.normal(size=X0.shape)
    value, tangent = jvp(lambda w, x: (w @ x).tanh(), [Tensor(W0), X0], [dw, dx])
    t = np.tanh(W0 @ X0)
    np.testing.assert_allclose(value, t, rtol=1e-14)
    np.testing.assert_allclose(tangent, (1 - t * t) * (dw @ X0 + W0 @ dx), rtol=1e-12)
    # A Tensor with requires_grad=False is differentiated too: every primal is (as in JAX).
    _, t2 = jvp(lambda x: x * 2, [Tensor(X0, requires_grad=False)], [np.ones(4)])
    np.testing.assert_array_equal(t2, np.full(4, 2.0))


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: jvp(3, [1.0], [1.0]), TypeError, "jvp: f must be callable"),
        (lambda: jvp(lambda x: x, [1.0], [1.0, 2.0]), ValueError, "tangents has 2 entries"),
        (lambda: jvp(lambda x: x, [X0], [np.ones(3)]), ValueError, "the input's shape (4,)"),
        (lambda: jvp(lambda x: x, [1.0], [Value(1.0)]), TypeError, "tangents[0] is a Value"),
        (lambda: jvp(lambda x: Value(1.0), [1.0], [1.0]), TypeError, "f returned a Value"),
        (lambda: jvp(lambda x: [x, x], [X0], [X0]), TypeError, "must return one Tensor"),
        (lambda: jvp(lambda x: "a", [1.0], [1.0]), TypeError, "jvp: f's result"),
        (lambda: jvp(lambda x: x, [], []), ValueError, "jvp: inputs must not be empty"),
    ],
)  # fmt: skip
def test_jvp_argument_errors(call: Any, error: type[Exception], words: str) -> None:
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


# -- vjp ------------------------------------------------------------------------------------------
def test_vjp_pullback_is_u_times_the_jacobian() -> None:
    """Reference: J of (xy, x + y) at (3, 2) is [[2, 3], [1, 1]]; JAX's (value, pullback)."""
    value, pullback = vjp(lambda x, y: [x * y, x + y], [3.0, 2.0])
    assert value == [6.0, 5.0]
    assert pullback([1.0, 0.0]) == [2.0, 3.0]
    assert pullback([2.0, -1.0]) == [3.0, 5.0]  # reusable
    v1, p1 = vjp(lambda x: x.exp(), [0.0])
    assert (v1, p1(), p1(2.0)) == (1.0, [1.0], [2.0])


def test_vjp_of_tensors_by_hand() -> None:
    """Reference: uᵀ d tanh(W x): dW = (u (1 - t²)) xᵀ, dx = Wᵀ (u (1 - t²))."""
    _, pullback = vjp(lambda w, x: (w @ x).tanh(), [W0, X0])
    u = np.array([0.5, -1.0, 2.0])
    s = u * (1 - np.tanh(W0 @ X0) ** 2)
    gw, gx = pullback(u)
    np.testing.assert_allclose(gw, np.outer(s, X0), rtol=1e-13)
    np.testing.assert_allclose(gx, W0.T @ s, rtol=1e-13)
    with pytest.raises(ValueError, match=r"pullback: cotangent: the output has shape \(3,\)"):
        pullback()
    with pytest.raises(ValueError, match=r"output's shape \(3,\)"):
        pullback(np.ones(2))
    _, several = vjp(lambda x: [x, x * 2], [1.0])
    with pytest.raises(ValueError, match="f has 2 outputs"):
        several()


# -- jacobian -------------------------------------------------------------------------------------
def test_jacobian_both_ways_equals_the_closed_form_and_differences() -> None:
    """Reference: J of f(x, y) = (xy, x + y, e^y) by hand; differences for a tensor map."""
    f = lambda x, y: [x * y, x + y, y.exp()]  # noqa: E731
    expected = [[0.5, 3.0], [1.0, 1.0], [0.0, math.exp(0.5)]]
    for mode in ("fwd", "rev"):
        np.testing.assert_allclose(jacobian(f, [3.0, 0.5], mode=mode), expected, rtol=1e-15)
    g = lambda w, x: (w @ x).softmax(axis=0) * x[:3]  # noqa: E731
    flat = np.concatenate([W0.ravel(), X0])

    def g_numpy(z: Array) -> Array:
        w, x = z[:12].reshape(3, 4), z[12:]
        e = np.exp(w @ x)
        return e / e.sum() * x[:3]

    numeric = numeric_jacobian(g_numpy, flat)
    forward = jacobian(g, [W0, Tensor(X0)], mode="fwd")
    reverse = jacobian(g, [W0, Tensor(X0)], mode="rev")
    assert forward.shape == reverse.shape == (3, 16)
    np.testing.assert_allclose(forward, numeric, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(forward, reverse, rtol=1e-12, atol=1e-15)


def test_jacobian_of_a_linear_map_is_its_matrix() -> None:
    """Reference: d(A x)/dx = A, exactly."""
    for mode in ("fwd", "rev"):
        np.testing.assert_array_equal(jacobian(lambda x: W0 @ x, [X0], mode=mode), W0)
        assert jacobian(lambda x: (x * x).sum(), [X0], mode=mode).shape == (1, 4)
    for mode in ("fwd", "rev"):  # one Value: a row; d(xy) = (y, x)
        assert jacobian(lambda x, y: x * y, [3.0, 2.0], mode=mode).tolist() == [[2.0, 3.0]]
    with pytest.raises(ValueError, match="jacobian: mode"):
        jacobian(lambda x: x, [1.0], mode="forward")


# -- hvp and hessian ------------------------------------------------------------------------------
def test_hvp_by_closed_form_for_values() -> None:
    """Reference: f = x² y has H = [[2y, 2x], [2x, 0]]."""
    assert hvp(lambda x, y: x * x * y, [3.0, 2.0], [1.0, 0.0]) == [4.0, 6.0]
    assert hvp(lambda x, y: x * x * y, [3.0, 2.0], [0.5, 2.0]) == [14.0, 3.0]
    assert hvp(lambda x: 2.0, [3.0], [1.0]) == [0.0]


def test_hvp_equals_the_hessian_times_v_for_tensors() -> None:
    """References: the hand-written Hessian of sum(tanh(W x)) by x; the engine's hessian."""
    v = RNG.normal(size=4)
    (hv,) = hvp(lambda x: (x @ W0.T).tanh().sum(), [X0], [v])
    np.testing.assert_allclose(hv, tanh_layer_hessian(W0, X0) @ v, rtol=1e-12)
    x = Tensor(X0)
    engine = hessian((x @ W0.T).tanh().sum(), [x])
    np.testing.assert_allclose(hv, engine @ v, rtol=1e-12)
    with pytest.raises(ValueError, match="hvp: f must return one number"):
        hvp(lambda x: x * 2, [X0], [v])


def test_hvp_through_broadcasting_and_reductions() -> None:
    """Reference: a Hessian-vector product by central differences of the hand-written
    gradient of f(a, b) = sum(softmax(a + b) * c), b broadcast over a's rows."""
    a0, b0 = RNG.normal(size=(2, 3)), RNG.normal(size=3)
    c = np.arange(6.0).reshape(2, 3)
    va, vb = RNG.normal(size=(2, 3)), RNG.normal(size=3)

    def gradient(a: Array, b: Array) -> tuple[Array, Array]:
        s = np.exp(a + b) / np.exp(a + b).sum(axis=1, keepdims=True)
        ga = s * (c - (s * c).sum(axis=1, keepdims=True))
        return ga, ga.sum(axis=0)

    h = 1e-6
    plus, minus = gradient(a0 + h * va, b0 + h * vb), gradient(a0 - h * va, b0 - h * vb)
    ha, hb = hvp(lambda a, b: ((a + b).softmax(axis=1) * c).sum(), [a0, b0], [va, vb])
    np.testing.assert_allclose(ha, (plus[0] - minus[0]) / (2 * h), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(hb, (plus[1] - minus[1]) / (2 * h), rtol=1e-6, atol=1e-9)


def test_hessian_fwd_over_rev_equals_rev_and_the_closed_form() -> None:
    """References: the closed forms; the two modes agree to rounding."""
    x, y = Value(1.0), Value(2.0)
    f = x * x * y
    assert hessian(f, [x, y], mode="fwd-over-rev").tolist() == [[4.0, 2.0], [2.0, 0.0]]
    assert hessian(f, [x, y, x], mode="fwd-over-rev").tolist() == hessian(f, [x, y, x]).tolist()
    t = Tensor(X0)
    loss = (t @ W0.T).tanh().sum()
    np.testing.assert_allclose(
        hessian(loss, [t], mode="fwd-over-rev"), tanh_layer_hessian(W0, X0), rtol=1e-12
    )
    np.testing.assert_allclose(
        hessian(loss, [t], mode="fwd-over-rev"), hessian(loss, [t]), rtol=1e-12
    )
    z = Value(3.0)
    np.testing.assert_array_equal(hessian(x * y, [z], mode="fwd-over-rev"), [[0.0]])
    with pytest.raises(ValueError, match="hessian: mode"):
        hessian(f, [x], mode="fwd")


def test_hessian_by_an_intermediate_node_matches_reverse_mode() -> None:
    """Reference: with u = x², f = u³ + u x; d²f/du² = 6u as reverse mode takes it."""
    x = Value(2.0)
    u = x * x
    f = u**3 + u * x
    assert hessian(f, [u], mode="fwd-over-rev").tolist() == [[24.0]] == hessian(f, [u]).tolist()


def test_replay_gives_every_node_its_tangent() -> None:
    """Reference: d/dw of z = x w + b is x, of sigmoid(z) is s (1 - s) x."""
    x, w, b = Value(1.5), Value(0.4), Value(0.1)
    z = x * w + b
    s = z.sigmoid()
    done = replay(s, {w: 1.0})
    sig = 1 / (1 + math.exp(-0.7))
    assert done[z].tangent == 1.5
    assert done[s].tangent == pytest.approx(sig * (1 - sig) * 1.5, rel=1e-15)
    assert done[x] == 1.5  # not depending on w: plain data
