"""The gradient API on Tensors: backward, grad (to any order), hessian, zero_grad, no_grad,
detach, local_derivatives, gradcheck and gradgradcheck.

References, never the engine itself: closed forms worked out in each test (written with
numpy), central finite differences in numpy float64 of functions or of hand-written numpy
gradients, and PyTorch's documented conventions where the API follows them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_lite import (
    GradcheckError,
    Op,
    Tensor,
    Value,
    concatenate,
    enable_grad,
    grad,
    gradcheck,
    gradgradcheck,
    graph_nodes,
    hessian,
    is_grad_enabled,
    local_derivatives,
    maximum,
    no_grad,
    stack,
    where,
    zero_grad,
)

Array = np.ndarray[Any, Any]
Fn = Callable[..., Any]

RNG = np.random.default_rng(20240611)
W0 = RNG.normal(size=(2, 3))
X0 = RNG.normal(size=3)


def weights(shape: tuple[int, ...]) -> Array:
    """Fixed, distinct weights of a shape: (t * weights).sum() checks every element of t
    (a plain .sum() would not: the sum of a softmax is always 1)."""
    return np.cos(np.arange(math.prod(shape), dtype=np.float64) + 0.5).reshape(shape) + 1.5


def weighted(t: Tensor) -> Tensor:
    return (t * weights(t.shape)).sum()


def numeric_gradient(f: Callable[[Array], float], x0: Array, h: float = 1e-6) -> Array:
    """The gradient of f at x0 by central differences in numpy float64, element by element."""
    out = np.empty(x0.shape)
    for k in range(x0.size):
        e = np.zeros(x0.size)
        e[k] = h
        e = e.reshape(x0.shape)
        out.flat[k] = (f(x0 + e) - f(x0 - e)) / (2 * h)
    return out


def tanh_net_gradients(w: Array, x: Array) -> tuple[Array, Array]:
    """d/dW and d/dx of sum(tanh(W @ x)), by hand: s = 1 - tanh(Wx)²; dW = s xᵀ; dx = Wᵀ s."""
    s = 1 - np.tanh(w @ x) ** 2
    return np.outer(s, x), w.T @ s


# -- backward -------------------------------------------------------------------------------
def test_backward_twice_adds_exactly_twice() -> None:
    """Reference: the hand-written gradient of sum(tanh(W @ x)); PyTorch's accumulation."""
    w, x = Tensor(W0), Tensor(X0)
    loss = (w @ x).tanh().sum()
    loss.backward()
    first_w, first_x = w.grad.copy(), x.grad.copy()
    dw, dx = tanh_net_gradients(W0, X0)
    np.testing.assert_allclose(first_w, dw, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(first_x, dx, rtol=1e-13, atol=1e-15)
    loss.backward()
    np.testing.assert_array_equal(w.grad, 2 * first_w)  # g + g is exact in floating point
    np.testing.assert_array_equal(x.grad, 2 * first_x)


def test_backward_of_a_non_scalar_takes_a_gradient_of_its_shape() -> None:
    """Reference: d(v · (W x))/dW = v xᵀ, d/dx = Wᵀ v."""
    w, x = Tensor(W0), Tensor(X0)
    v = np.array([0.5, -2.0])
    (w @ x).backward(v)
    np.testing.assert_allclose(w.grad, np.outer(v, X0), rtol=1e-15)
    np.testing.assert_allclose(x.grad, W0.T @ v, rtol=1e-14)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        (w @ x).backward()
    with pytest.raises(ValueError, match=r"needs the output's shape \(2,\)"):
        (w @ x).backward(np.ones(3))


@pytest.mark.parametrize("how", ["raises", "wrong shape"])
def test_a_failing_rule_deep_in_the_graph_leaves_every_grad_untouched(how: str) -> None:
    """Reference: the .grad of every node as it was before the failing backward."""

    def rule(g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        if how == "raises":
            raise ArithmeticError("this rule fails")
        return (np.ones(7),)  # x has shape (3,)

    broken = Op("broken", lambda x: 2 * x, rule)
    w, x = Tensor(RNG.normal(size=(3, 3)), label="w"), Tensor(X0, label="x")
    h = broken(x)  # the failing rule runs last: every other gradient is computed before it
    for _ in range(30):
        h = (w @ h).tanh() * 0.5 + h
    loss = (h * h).sum() + (w * w).sum()
    (w * 3.0).sum().backward()  # w.grad = 3 everywhere before the failing call
    before = {node: node.grad.copy() for node in graph_nodes(loss)}
    with pytest.raises((ArithmeticError, ValueError)) as info:
        loss.backward()
    if how == "wrong shape":
        assert "broken" in str(info.value) and "(7,)" in str(info.value)
    for node, g in before.items():
        np.testing.assert_array_equal(node.grad, g)
    np.testing.assert_array_equal(w.grad, np.full((3, 3), 3.0))


# -- no_grad, enable_grad, detach -----------------------------------------------------------
def test_no_grad_records_nothing_and_enable_grad_records_again() -> None:
    """Reference: PyTorch's no_grad semantics; d(sum(2w))/dw = 2."""
    w = Tensor(W0)
    with no_grad():
        y = w * 2
        with enable_grad():
            z = (w * 2).sum()
        assert not is_grad_enabled()
    assert y.is_leaf and not y.requires_grad
    assert z.op is not None and z.requires_grad
    z.backward()
    np.testing.assert_array_equal(w.grad, np.full((2, 3), 2.0))
    with pytest.raises(
        RuntimeError, match="does not depend on any tensor that requires a gradient"
    ):
        y.sum().backward()

    @no_grad()
    def evaluate(t: Tensor) -> Tensor:
        return (t * t).sum()

    assert evaluate(w).is_leaf
    # grad of what no_grad made: it records no dependence, so zeros (as for a Value leaf).
    np.testing.assert_array_equal(grad(evaluate(w), [w])[0], np.zeros((2, 3)))


def test_detach_copies_data_and_stops_the_gradient() -> None:
    """Reference: d(sum(x * c))/dx = c for a constant c = x's data; not 2x."""
    x = Tensor(X0, label="x")
    d = (x * 2).detach()
    assert d.is_leaf and not d.requires_grad and d.op is None
    np.testing.assert_array_equal(d.data, 2 * X0)
    assert not np.shares_memory(x.detach().data, x.data)  # x.data -= 1 cannot change it
    assert x.detach().label == "x"
    (g,) = grad((x * x.detach()).sum(), [x])
    np.testing.assert_array_equal(g, X0)


# -- grad -----------------------------------------------------------------------------------
def test_grad_returns_arrays_of_each_inputs_shape_and_dtype_and_leaves_grad_alone() -> None:
    """Reference: d(sum(w * x))/dw = x broadcast over w's rows; d/dx = the column sums of w."""
    w, x = Tensor(W0), Tensor(X0, dtype=np.float32)
    f = (w * x).sum()
    gw, gx = grad(f, [w, x])
    assert type(gw) is np.ndarray and gw.shape == (2, 3) and gw.dtype == np.float64
    assert gx.shape == (3,) and gx.dtype == np.float32
    np.testing.assert_allclose(gw, np.broadcast_to(X0.astype(np.float32), (2, 3)), rtol=1e-15)
    np.testing.assert_allclose(gx, W0.sum(axis=0), rtol=1e-6)
    assert not w.grad.any() and not x.grad.any()


def test_inputs_listed_twice_and_unused_inputs() -> None:
    """Reference: d(sum(x²))/dx = 2x; an input the output does not use gets zeros."""
    x, unused = Tensor(X0), Tensor(np.ones((4, 1)))
    u = x * x
    a, b, c, d, e = grad(u.sum(), [x, x, unused, u, u])
    np.testing.assert_array_equal(a, 2 * X0)
    np.testing.assert_array_equal(b, 2 * X0)
    np.testing.assert_array_equal(c, np.zeros((4, 1)))
    np.testing.assert_array_equal(d, np.ones(3))
    # Each result is the caller's own array: writable, sharing memory with no other.
    for r in (a, b, c, d, e):
        assert r.flags.writeable
    assert not np.shares_memory(a, b) and not np.shares_memory(d, e)
    a += 1
    np.testing.assert_array_equal(b, 2 * X0)


def test_grad_refuses_an_input_with_requires_grad_false() -> None:
    """PyTorch raises too: zeros would be wrong, since the output does depend on it."""
    w, x = Tensor(W0), Tensor(X0, requires_grad=False)
    with pytest.raises(ValueError, match=r"grad: inputs\[1\] has requires_grad=False"):
        grad((w @ x).sum(), [w, x])
    with no_grad():
        y = w * 2
    with pytest.raises(ValueError, match=r"inputs\[0\].*no_grad"):
        grad((w * y).sum(), [y])


def test_grad_refuses_to_mix_values_and_tensors() -> None:
    x, v = Tensor(X0), Value(1.0)
    with pytest.raises(TypeError, match=r"inputs\[1\] is a Value and the output a Tensor"):
        grad(x.sum(), [x, v])
    with pytest.raises(TypeError, match=r"inputs\[0\] is a Tensor and the output a Value"):
        grad(v * 2, [x])
    with pytest.raises(TypeError, match="output must be a Value or Tensor"):
        grad(3.0, [x])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"got a single Tensor \(write \[x\]\)"):
        grad(x.sum(), x)  # type: ignore[arg-type]


def test_grad_of_a_non_scalar_output_needs_grad_outputs() -> None:
    """Reference: the vector-Jacobian product v · d(W x)/dW = v xᵀ, d/dx = Wᵀ v (PyTorch's
    grad_outputs)."""
    w, x = Tensor(W0), Tensor(X0)
    y = w @ x
    with pytest.raises(ValueError, match=r"output has shape \(2,\).*grad_outputs="):
        grad(y, [w])
    v = [0.25, -1.0]
    gw, gx = grad(y, [w, x], grad_outputs=v)
    np.testing.assert_allclose(gw, np.outer(v, X0), rtol=1e-15)
    np.testing.assert_allclose(gx, W0.T @ v, rtol=1e-14)
    with pytest.raises(ValueError, match=r"grad_outputs has shape \(3,\).*\(2,\)"):
        grad(y, [w], grad_outputs=np.ones(3))
    with pytest.raises(TypeError, match=r"grad_outputs must be numbers.*\.data"):
        grad(y, [w], grad_outputs=Tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="grad_outputs must be real numbers"):
        grad(y, [w], grad_outputs=["a", "b"])
    with pytest.raises(TypeError, match="grad_outputs must be real numbers of one shape"):
        grad(y, [w], grad_outputs=[[1.0], [1.0, 2.0]])
    # A one-element output of any shape needs none; a number scales the result.
    one = (w @ x).reshape(1, 2)[:, :1]
    np.testing.assert_allclose(grad(one, [x])[0], W0[0], rtol=1e-15)
    np.testing.assert_allclose(grad(one, [x], grad_outputs=[[3.0]])[0], 3 * W0[0], rtol=1e-15)
    # Values take a number: d(x³)/dx * 2 at 2 = 24.
    s = Value(2.0)
    assert grad(s**3, [s], grad_outputs=2.0) == [24.0]


@given(
    st.integers(1, 4),
    st.integers(1, 4),
    st.integers(0, 2),
    st.integers(0, 2**31),
)
def test_vector_jacobian_products_of_batched_matmul(m: int, n: int, lead: int, seed: int) -> None:
    """Reference: for Y = A @ B (batched), v·dY/dA = v @ Bᵀ summed over broadcast axes and
    v·dY/dB = Aᵀ @ v (numpy, by hand)."""
    rng = np.random.default_rng(seed)
    batch = (2,) * lead
    a0, b0 = rng.normal(size=(*batch, m, 3)), rng.normal(size=(3, n))
    v = rng.normal(size=(*batch, m, n))
    a, b = Tensor(a0), Tensor(b0)
    ga, gb = grad(a @ b, [a, b], grad_outputs=v)
    np.testing.assert_allclose(ga, v @ b0.T, rtol=1e-12, atol=1e-12)
    expected_b = (np.swapaxes(a0, -1, -2) @ v).reshape(-1, 3, n).sum(axis=0)
    np.testing.assert_allclose(gb, expected_b, rtol=1e-12, atol=1e-12)


def test_grad_of_an_output_that_needs_no_gradient_is_zeros() -> None:
    """Reference: a function of constants only has derivative 0 (as a Value leaf has)."""
    x = Tensor(X0)
    c = Tensor(np.ones(3), requires_grad=False)
    np.testing.assert_array_equal(grad((c * 2).sum(), [x])[0], np.zeros(3))
    (g,) = grad((c * 2).sum(), [x], create_graph=True)
    assert isinstance(g, Tensor) and g.is_leaf and not g.data.any()
    # d/dx of sum(2x) is a constant 2: its own derivative is 0, not an error.
    (d1,) = grad((x * 2).sum(), [x], create_graph=True)
    np.testing.assert_array_equal(d1.data, np.full(3, 2.0))
    np.testing.assert_array_equal(grad(d1.sum(), [x])[0], np.zeros(3))


def test_grad_with_respect_to_an_intermediate_tensor() -> None:
    """Reference: f = sum(exp(u)), u = 2x: df/du = exp(u)."""
    x = Tensor(X0)
    u = x * 2
    f = u.exp().sum()
    (gu,) = grad(f, [u])
    np.testing.assert_allclose(gu, np.exp(2 * X0), rtol=1e-15)
    np.testing.assert_array_equal(grad(f, [f])[0], np.ones(()))


def test_grad_with_create_graph_works_inside_no_grad() -> None:
    """Reference: d(sum(x³))/dx = 3x², then 6x. (The graph is built outside no_grad: inside,
    nothing would be recorded to differentiate.)"""
    x = Tensor(X0)
    f = (x**3).sum()
    with no_grad():
        (d1,) = grad(f, [x], create_graph=True)
    assert isinstance(d1, Tensor) and d1.requires_grad
    np.testing.assert_allclose(d1.data, 3 * X0**2, rtol=1e-15)
    np.testing.assert_allclose(grad(d1.sum(), [x])[0], 6 * X0, rtol=1e-15)


def test_grad_to_third_order_and_beyond() -> None:
    """Reference: sum(x⁴) has derivatives 4x³, 12x², 24x, 24, 0 (each diagonal, so the
    gradient of the sum of one order is the next)."""
    x = Tensor(X0)
    expected = [4 * X0**3, 12 * X0**2, 24 * X0, np.full(3, 24.0), np.zeros(3)]
    y: Any = (x**4).sum()
    for order, closed in enumerate(expected, 1):
        (g,) = grad(y, [x], create_graph=True)
        assert isinstance(g, Tensor) and g.shape == (3,)
        np.testing.assert_allclose(g.data, closed, rtol=1e-14, atol=1e-14, err_msg=f"{order}")
        y = g.sum()


def test_third_order_mixed_derivatives_through_broadcasting() -> None:
    """Reference: f = Σ_ij x_i³ y_j³ (x as a column, y as a row). df/dx_i = 3x_i² Σy³;
    Σ_i of that, by y_j: 9 y_j² Σx²; Σ_j of that, by x_i: 18 x_i Σy². Each order sums a
    broadcast gradient back to its operand's shape."""
    x0, y0 = np.array([0.5, -1.0, 2.0]), np.array([1.5, -0.25, 0.75, 1.0])
    x, y = Tensor(x0), Tensor(y0)
    f = ((x.reshape(3, 1) * y) ** 3).sum()
    (g1,) = grad(f, [x], create_graph=True)
    np.testing.assert_allclose(g1.data, 3 * x0**2 * (y0**3).sum(), rtol=1e-14)
    (g2,) = grad(g1.sum(), [y], create_graph=True)
    np.testing.assert_allclose(g2.data, 9 * y0**2 * (x0**2).sum(), rtol=1e-14)
    (g3,) = grad(g2.sum(), [x])
    np.testing.assert_allclose(g3, 18 * x0 * (y0**2).sum(), rtol=1e-14)


# -- hessian --------------------------------------------------------------------------------
def test_hessian_of_a_quadratic_form() -> None:
    """Reference: for f = ½ xᵀ A x, the Hessian is (A + Aᵀ) / 2 (A not symmetric)."""
    a = RNG.normal(size=(4, 4))
    x = Tensor(RNG.normal(size=4))
    h = hessian(0.5 * (x @ (a @ x)), [x])
    assert h.shape == (4, 4) and h.dtype == np.float64
    np.testing.assert_allclose(h, (a + a.T) / 2, rtol=1e-14, atol=1e-15)


def tanh_net_hessian(w: Array, x: Array) -> Array:
    """The Hessian of f = Σ_i tanh(z_i), z = W x, by (W, x) flattened, worked out by hand.
    With t = tanh(z), s = 1 - t², c = -2 t s (d s/dz):
    d²f/dW_ij dW_kl = δ_ik c_i x_j x_l; d²f/dW_ij dx_l = c_i x_j W_il + δ_jl s_i;
    d²f/dx_j dx_l = Σ_i c_i W_ij W_il."""
    m, n = w.shape
    t = np.tanh(w @ x)
    s = 1 - t**2
    c = -2 * t * s
    ww = np.zeros((m, n, m, n))
    for i in range(m):
        ww[i, :, i, :] = c[i] * np.outer(x, x)
    wx = c[:, None, None] * x[None, :, None] * w[:, None, :] + s[:, None, None] * np.eye(n)
    xx = (w * c[:, None]).T @ w
    top = np.concatenate([ww.reshape(m * n, m * n), wx.reshape(m * n, n)], axis=1)
    bottom = np.concatenate([wx.reshape(m * n, n).T, xx], axis=1)
    return np.concatenate([top, bottom])


def test_hessian_of_sum_tanh_of_matmul_over_two_tensor_inputs() -> None:
    """References: the closed form above, and central differences of the hand-written numpy
    gradient. Order: W's elements in C order, then x's."""
    w, x = Tensor(W0), Tensor(X0)
    h = hessian((w @ x).tanh().sum(), [w, x])
    assert h.shape == (9, 9)
    closed = tanh_net_hessian(W0, X0)
    np.testing.assert_allclose(h, closed, rtol=1e-12, atol=1e-14)

    def flat_gradient(p: Array) -> Array:
        dw, dx = tanh_net_gradients(p[:6].reshape(2, 3), p[6:])
        return np.concatenate([dw.ravel(), dx])

    p0 = np.concatenate([W0.ravel(), X0])
    numeric = np.stack([numeric_gradient(lambda p, k=k: flat_gradient(p)[k], p0) for k in range(9)])
    np.testing.assert_allclose(h, numeric, rtol=1e-6, atol=1e-8)


def test_hessian_with_an_unused_input_and_errors() -> None:
    """Reference: sum(x²) has Hessian 2I; an unused input adds zero rows and columns."""
    x, unused = Tensor(X0), Tensor(np.ones((1, 2)))
    h = hessian((x * x).sum(), [unused, x])
    expected = np.zeros((5, 5))
    expected[2:, 2:] = 2 * np.eye(3)
    np.testing.assert_array_equal(h, expected)
    assert hessian((x * x).sum(), []).shape == (0, 0)
    with pytest.raises(ValueError, match=r"hessian: the output has shape \(3,\)"):
        hessian(x * x, [x])
    with pytest.raises(TypeError, match="hessian: inputs"):
        hessian((x * x).sum(), [Value(1.0)])
    with pytest.raises(ValueError, match=r"hessian: inputs\[0\] has requires_grad=False"):
        hessian((x * x).sum(), [Tensor(X0, requires_grad=False)])


@given(st.integers(1, 5), st.integers(0, 2**31))
def test_hessian_of_random_quadratic_forms(n: int, seed: int) -> None:
    """Reference: (A + Aᵀ)/2 for ½ xᵀ A x, plus the constant part b·x adding nothing."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(n, n)), rng.normal(size=n)
    x = Tensor(rng.normal(size=n))
    h = hessian(0.5 * (x @ (a @ x)) + (x * b).sum(), [x])
    np.testing.assert_allclose(h, (a + a.T) / 2, rtol=1e-13, atol=1e-14)


# -- zero_grad, local_derivatives ------------------------------------------------------------
def test_zero_grad_on_tensor_graphs() -> None:
    w, x = Tensor(W0), Tensor(X0)
    y = (w @ x).tanh()
    loss = y.sum()
    loss.backward()
    assert w.grad.any()
    zero_grad(loss)
    for node in graph_nodes(loss):
        g = node.grad
        assert isinstance(g, np.ndarray) and g.shape == node.data.shape and not g.any()
    loss.backward()
    other = (x * 3).sum()
    other.backward()
    zero_grad([loss, other])
    assert not w.grad.any() and not x.grad.any()
    loss.backward()
    loss.zero_grad()
    assert not w.grad.any()
    with pytest.raises(TypeError, match="zero_grad: expected Values or Tensors"):
        zero_grad([loss, 3.0])  # type: ignore[list-item]


def test_local_derivatives_of_a_tensor_node_is_a_clear_type_error() -> None:
    """Local derivatives are numbers for Values; a Tensor's are Jacobians."""
    x = Tensor(X0)
    with pytest.raises(TypeError, match=r"shape \(3,\).*grad_outputs"):
        local_derivatives(x * x)
    a, b = Value(2.0), Value(5.0)
    assert local_derivatives(a * b) == (5.0, 2.0)


# -- deep graphs ----------------------------------------------------------------------------
def test_very_deep_tensor_chains_need_no_recursion() -> None:
    """Reference: y = x + x + ... (n + 1 times x) has dy/dx = n + 1, exactly."""
    n = 100_000
    x = Tensor([1.0, -2.0])
    y = x
    for _ in range(n):
        y = y + x
    np.testing.assert_array_equal(y.data, [n + 1.0, -2.0 * (n + 1)])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [n + 1.0, n + 1.0])
    np.testing.assert_array_equal(grad(y.sum(), [x])[0], [n + 1.0, n + 1.0])
    assert len(graph_nodes(y)) == n + 1
    zero_grad(y)
    assert not x.grad.any()


def test_very_deep_chain_of_unary_and_shape_ops() -> None:
    """Reference: each step multiplies by 1 and reshapes back and forth: gradient 1."""
    x = Tensor(np.arange(6.0).reshape(2, 3))
    y = x
    for k in range(50_000):
        y = (y * 1.0).reshape(3, 2) if k % 2 == 0 else (y * 1.0).reshape(2, 3)
    (g,) = grad(y.sum(), [x])
    np.testing.assert_array_equal(g, np.ones((2, 3)))


# -- gradcheck and gradgradcheck on tensors -------------------------------------------------
A0 = RNG.normal(size=(3, 4))
B0 = RNG.normal(size=(4, 2))
P0 = RNG.uniform(0.5, 2.0, size=(2, 3))  # positive: log, sqrt, ** anything

TENSOR_CASES: list[tuple[str, Fn, list[Any]]] = [
    ("add broadcast (3,1) + (1,4)", lambda a, b: weighted(a + b), [A0[:, :1], A0[:1, :]]),
    ("sub", lambda a, b: weighted(a - b), [A0, A0[::-1] * 0.5]),
    ("mul with extra leading axes", lambda a, b: weighted(a * b), [A0, RNG.normal(size=(2, 1, 4))]),
    ("div", lambda a, b: weighted(a / b), [A0, P0[:1, :1] + A0 * 0]),
    ("0-d times matrix", lambda s, a: weighted(s * a), [np.array(0.7), A0]),
    ("number inputs", lambda s, a: weighted(a**2 * s), [1.3, A0]),
    ("neg, exp, tanh", lambda a: weighted((-a).exp() + a.tanh()), [A0]),
    ("sigmoid, relu, abs", lambda a: weighted(a.sigmoid() + a.relu() + abs(a)), [A0]),
    ("log, sqrt", lambda p: weighted(p.log() + p.sqrt()), [P0]),
    ("pow number", lambda p: weighted(p**2.5), [P0]),
    ("pow tensor exponent", lambda p, e: weighted(p**e), [P0, A0[:2, :3]]),
    ("number ** tensor", lambda a: weighted(2.0**a), [A0]),
    ("matmul 2-D", lambda a, b: weighted(a @ b), [A0, B0]),
    ("matmul batched", lambda a, b: weighted(a @ b), [RNG.normal(size=(2, 3, 4)), B0]),
    ("matmul 1-D", lambda v, b: weighted(v @ b), [A0[0], B0]),
    ("sum axis", lambda a: weighted(a.sum(axis=1)), [A0]),
    ("sum axes keepdims", lambda a: weighted(a.sum(axis=(0, 2), keepdims=True)),
     [RNG.normal(size=(2, 3, 2))]),
    ("mean", lambda a: weighted(a.mean(axis=0)), [A0]),
    ("max (no ties)", lambda a: weighted(a.max(axis=1)), [A0]),
    ("reshape", lambda a: weighted(a.reshape(2, 6)), [A0]),
    ("transpose", lambda a: weighted(a.transpose(2, 0, 1)), [RNG.normal(size=(2, 3, 2))]),
    ("T", lambda a: weighted(a.T @ a), [A0]),
    ("getitem repeated indices", lambda a: weighted(a[[0, 2, 0, 0]]), [A0]),
    ("getitem slices", lambda a: weighted(a[1:, ::2]), [A0]),
    ("concatenate", lambda a, b: weighted(concatenate([a, b], axis=1)), [A0, A0[:, :2]]),
    ("stack", lambda a, b: weighted(stack([a, b], axis=1)), [A0, A0 * 2]),
    ("softmax", lambda a: weighted(a.softmax(axis=1)), [A0]),
    ("log_softmax", lambda a: weighted(a.log_softmax(axis=0)), [A0]),
    ("logsumexp", lambda a: weighted(a.logsumexp(axis=1)), [A0]),
    ("maximum (no ties)", lambda a, b: weighted(maximum(a, b)), [A0, A0[::-1]]),
    ("where", lambda a, b: weighted(where(A0 > 0, a, b)), [A0, A0 * 3]),
    ("tanh of a layer", lambda w, x: (w @ x).tanh().sum(), [W0, X0]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "fn", "inputs"), TENSOR_CASES, ids=[c[0] for c in TENSOR_CASES])
def test_gradcheck_passes_on_array_ops(name: str, fn: Fn, inputs: list[Any]) -> None:
    """Reference: central finite differences of fn, element by element (gradcheck)."""
    assert gradcheck(fn, [Tensor(x) if isinstance(x, np.ndarray) else x for x in inputs])


SMOOTH = [c for c in TENSOR_CASES if not any(k in c[0] for k in ("relu", "max", "abs", "where"))]


@pytest.mark.parametrize(("name", "fn", "inputs"), SMOOTH, ids=[c[0] for c in SMOOTH])
def test_gradgradcheck_passes_on_array_ops(name: str, fn: Fn, inputs: list[Any]) -> None:
    """Reference: central differences of the first derivatives (rules run on arrays)."""
    assert gradgradcheck(fn, inputs)


def table_rows(message: str) -> list[list[str]]:
    """The table's rows split at runs of two or more spaces (the header first)."""
    lines = [line for line in message.splitlines()[1:] if not line.startswith("  (listing")]
    return [re.split(r"\s{2,}", line.strip()) for line in lines]


# A square whose rule is wrong at one element, (1, 2), by a factor 1.5.
SKEW = np.ones((2, 3))
SKEW[1, 2] = 1.5
skewed_square = Op("skewed_square", lambda x: x * x, lambda g, out, x: (g * 2 * x * SKEW,))


def test_gradcheck_names_the_wrong_element() -> None:
    """Reference: the wrong rule gives 3x at (1, 2); central differences of x² give 2x."""
    w, x = Tensor(W0, label="w"), Tensor(X0, label="x")
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda w, x: skewed_square(w).sum() + (x * x).sum(), [w, x])
    message = str(info.value)
    assert message.startswith("gradcheck failed: 1 of 9 entries")
    header, *rows, fault = table_rows(message)
    assert header == ["input", "label", "element", "value", "analytical", "numerical",
                      "difference"]  # fmt: skip
    assert len(rows) == 9
    assert fault[0].startswith("the rule at fault: op")
    failing = [r for r in rows if r[-1] == "<-- FAIL"]
    assert len(failing) == 1
    (row,) = failing
    assert row[:3] == ["0", "w", "(1, 2)"]
    value = W0[1, 2]
    assert float(row[3]) == pytest.approx(value, rel=1e-9)
    assert float(row[4]) == pytest.approx(3 * value, rel=1e-9)
    numerical = numeric_gradient(lambda t: float((t * t).sum()), W0)[1, 2]
    assert float(row[5]) == pytest.approx(numerical, rel=1e-8)
    assert [cell[:3] for cell in rows[6:]] == [["1", "x", "(0,)"], ["1", "x", "(1,)"],
                                               ["1", "x", "(2,)"]]  # fmt: skip
    bad = [r for r in info.value.rows if not r["ok"]]
    assert [(r["input"], r["label"], r["element"]) for r in bad] == [(0, "w", (1, 2))]
    assert bad[0]["numerical"] == pytest.approx(2 * value, rel=1e-8)


def test_gradcheck_of_a_large_tensor_lists_only_the_failing_entries() -> None:
    """Reference: the same wrong rule on a corner of a 10 x 10 input: 100 entries, 1 wrong."""
    big = RNG.normal(size=(10, 10))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: skewed_square(t[:2, :3]).sum() + t.sum(), [big])
    message = str(info.value)
    assert message.startswith("gradcheck failed: 1 of 100 entries")
    assert "listing 1 of the 1 failing entries" in message
    _, row, fault = table_rows(message)
    assert row[2] == "(1, 2)" and row[-1] == "<-- FAIL"
    assert fault[0].startswith("the rule at fault: op")
    assert len(info.value.rows) == 100


# sin whose rule reads the operand's numbers: right at first order, but on Tensors
# (create_graph) the cosine is a constant, so the second derivative is lost.
detached_sin = Op(
    "detached_sin",
    math.sin,
    lambda g, out, x: (g * np.cos(x.data if isinstance(x, Tensor) else x),),
    array_forward=np.sin,
)


def test_gradgradcheck_names_the_wrong_second_derivatives() -> None:
    """Reference: d²/dx_k² Σ sin(x) = -sin(x_k), by central differences of the numpy
    gradient cos(x); off the diagonal 0. The wrong rule gives 0 on the diagonal."""
    x0 = np.array([0.3, -1.2])
    fn = lambda x: detached_sin(x).sum()  # noqa: E731
    assert gradcheck(fn, [x0])
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(fn, [Tensor(x0, label="x")])
    message = str(info.value)
    assert message.startswith("gradgradcheck failed: 2 of 4 entries")
    header, *rows = table_rows(message)
    assert header[:3] == ["entry", "elements", "values"]
    failing = {r[0]: r for r in rows if r[-1] == "<-- FAIL"}
    assert set(failing) == {"(0, 0)", "(1, 1)"}
    assert failing["(1, 1)"][1] == "x[1], x[1]"
    for k in range(2):
        numerical = numeric_gradient(lambda t, k=k: float(np.cos(t)[k]), x0)[k]
        assert numerical == pytest.approx(-math.sin(x0[k]), rel=1e-7)
        row = info.value.rows[3 * k]
        assert row["entry"] == (k, k) and row["elements"] == ((0, (k,)), (0, (k,)))
        assert row["analytical"] == 0.0
        assert row["numerical"] == pytest.approx(numerical, rel=1e-6)


def test_inputs_with_requires_grad_false_are_passed_but_not_checked() -> None:
    """PyTorch's gradcheck checks only inputs that require a gradient."""
    seen: list[Tensor] = []

    def fn(w: Tensor, x: Tensor) -> Tensor:
        seen.append(x)
        return skewed_square(w @ x.reshape(3, 1) * np.ones((2, 3))).sum()

    with pytest.raises(GradcheckError) as info:
        gradcheck(fn, [Tensor(W0), Tensor(X0, requires_grad=False)])
    assert len(info.value.rows) == 6  # W's elements only
    assert all(not x.requires_grad for x in seen)
    assert gradcheck(lambda w, x: (w @ x).tanh().sum(), [W0, Tensor(X0, requires_grad=False)])
    assert gradgradcheck(lambda w, x: (w @ x).tanh().sum(), [W0, Tensor(X0, requires_grad=False)])


def test_tensor_inputs_are_copied_in_float64_and_not_touched() -> None:
    w = Tensor(W0, label="w", dtype=np.float32)
    seen: list[Tensor] = []

    def fn(t: Tensor) -> Tensor:
        seen.append(t)
        return (t * t).sum()

    assert gradcheck(fn, [w])
    assert not w.grad.any() and all(t is not w for t in seen)
    assert seen[0].dtype == np.float64 and seen[0].label == "w"
    np.testing.assert_array_equal(seen[0].data, W0.astype(np.float32))


def test_a_tensor_probe_that_leaves_the_domain_names_the_element() -> None:
    with pytest.raises(ValueError, match=r"probes of input 0 element \(0, 1\) .*log"):
        gradcheck(lambda t: t.log().sum(), [np.array([[1.0, 1e-7]])])
    assert gradcheck(lambda t: t.log().sum(), [np.array([[1.0, 1e-7]])], eps=1e-10)


@pytest.mark.parametrize("check", [gradcheck, gradgradcheck])
@pytest.mark.parametrize(
    ("fn", "inputs", "error", "words"),
    [
        (lambda t: t.sum(), Tensor(X0), TypeError, "got a Tensor (write [x])"),
        (lambda t: t.sum(), W0, TypeError, "shape (2, 3); to check it as one Tensor input"),
        (lambda t, v: t.sum(), [Tensor(X0), Value(1.0)], TypeError, "inputs[1] is a Value"),
        (lambda v, t: t.sum(), [Value(1.0), X0], TypeError, "inputs[0] is a Value"),
        (lambda t: t * 2, [X0], ValueError, "shape (3,); it must return one element"),
        (lambda t: Value(1.0), [X0], TypeError, "one-element Tensor"),
        (lambda t: t.sum(), [np.array([1.0, np.nan])], ValueError, "at element (1,)"),
        (lambda t: t.sum(), [np.array(["a"])], TypeError, "dtype <U1"),
        (lambda t: t.sum(), [np.zeros((0, 2))], ValueError, "no input element to check"),
        (lambda t: t.sum(), [Tensor(X0, requires_grad=False)], ValueError, "requires_grad"),
    ],
)
def test_tensor_argument_validation(
    check: Callable[..., bool], fn: Fn, inputs: Any, error: type[Exception], words: str
) -> None:
    with pytest.raises(error) as info:
        check(fn, inputs)
    assert words in str(info.value)
    assert check.__name__ in str(info.value)


# -- where gradients live: each .grad a tensor's own ------------------------------------------
def test_a_leaf_gradient_is_not_a_view_of_another_nodes() -> None:
    """Reference: z = reshape(x) + c, dz/dx = 1 everywhere; zeroing x.grad in place must
    leave z's and y's gradients (ones) as they are."""
    x = Tensor(np.arange(4.0))
    y = x.reshape(2, 2)
    z = y + Tensor(np.ones((2, 2)), requires_grad=False)
    z.backward(gradient=np.ones((2, 2)))
    x.grad[...] = 0.0
    assert z.grad.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert y.grad.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_writing_into_grad_before_any_backward_is_kept() -> None:
    """Reference: .grad starts as zeros; a value written into it stays, and backward adds
    d(sum 2t)/dt = 2 to it."""
    t = Tensor(np.ones(3))
    t.grad[0] = 5.0
    assert t.grad.tolist() == [5.0, 0.0, 0.0]
    (t * 2.0).sum().backward()
    assert t.grad.tolist() == [7.0, 2.0, 2.0]


def test_a_detached_tensor_has_a_scope() -> None:
    """Reference: detach() makes a leaf outside any scope block, as Tensor(...) does."""
    assert Tensor(np.arange(4.0)).detach().scope == ()


def test_an_op_made_for_one_call_does_not_outlive_its_graph() -> None:
    """Reference: a custom op holding a large array, applied once with broadcasting (so a
    Tensor node keeps an adapted copy of it); once the op and its graph are gone, so is the
    array."""
    import gc
    import weakref

    def once() -> weakref.ref[np.ndarray[Any, Any]]:
        big = np.ones(10**5)
        op = Op("plus", lambda a, b: a + b + 0 * big[0], lambda g, out, a, b: (g, g))
        op(Tensor(np.ones(3)), np.ones((2, 3)))
        return weakref.ref(big)

    ref = once()
    gc.collect()
    assert ref() is None


def test_a_0d_tensor_sums_shares_into_an_array_gradient() -> None:
    # Two 0-d arrays add up to a numpy scalar; .grad and grad() still give 0-d arrays.
    # Reference: d/dx (|x| + |x|) = 2 sign(x) = 2 at x = 2.
    x = Tensor(2.0, requires_grad=True)
    y = x.abs() + x.abs()
    (d,) = grad(y, [x])
    y.backward()
    for g in (x.grad, d):
        assert type(g) is np.ndarray and g.shape == () and g == 2.0
