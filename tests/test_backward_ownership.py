"""Which gradient arrays a backward pass may write into (issue 22): relu multiplies its
gradient in place (`Op.vjp_into`) only when the walk owns that array -- a pass that keeps no
op node's gradient (`retain_graph=False` or `retain_grads=False`), and an array that is a
sum the walk made or the share of a rule whose op declares its shares new arrays of their
own (`Op.fresh`: matmul, linear). Any other array may be held elsewhere (add hands one array
to both operands; a rule may return an array it keeps), and must come out unchanged.

References, never the engine itself: the chain rule written out in numpy for each graph
(relu's slope is 1 where its input is > 0, else 0), and arrays whose values the test set.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from autograd_lite import Op, Tensor, grad, nn
from autograd_lite.engine.array_ops import linear

Array = np.ndarray[Any, Any]
RNG = np.random.default_rng(22)
X = RNG.normal(size=(4, 3))
W = RNG.normal(size=(5, 3))
V = RNG.normal(size=(4, 5))


def slope(z: Array) -> Array:
    """Reference: relu's derivative, 1.0 where z > 0, else 0.0."""
    return (z > 0).astype(z.dtype)


@pytest.mark.parametrize("fresh", [True, False])
@pytest.mark.parametrize("keep", [True, False])
def test_an_array_a_users_rule_returns_is_never_written_into(fresh: bool, keep: bool) -> None:
    """A rule of a user's op hands relu an array the test kept a handle on, an op declared
    fresh=True or not: relu's in-place rule may write into the engine's copy, never into it.
    Reference: the chain rule, y = relu(x) and out = 3 * y, so dx = 3 * slope(x), and the
    array as the rule made it (3 everywhere)."""
    made: list[Array] = []

    def rule(g: Any, out: Any, y: Any) -> tuple[Any]:
        made.append(g * 3.0)  # a new array, as fresh=True promises, which the test keeps
        return (made[-1],)

    triple = Op("triple", lambda y: 3.0 * y, rule, fresh=fresh)
    x = Tensor(X)
    triple(x.relu()).sum().backward(retain_graph=keep)
    np.testing.assert_array_equal(x.grad, 3.0 * slope(X))
    np.testing.assert_array_equal(made[0], np.full(X.shape, 3.0))


@pytest.mark.parametrize("keep", [True, False])
def test_a_wrong_fresh_promise_gives_no_wrong_number(keep: bool) -> None:
    """ident promises fresh shares but returns its g, which add also handed to w: relu must
    not write into it (w's gradient would lose relu's zeros). Likewise a rule returning its
    operand's array. Reference: loss = sum(2 (relu(x) + w)): dw = 2, dx = 2 slope(x)."""
    ident = Op("ident", lambda y: y * 1.0, lambda g, out, y: (g,), fresh=True)
    x, w = Tensor(X), Tensor(np.zeros(X.shape))
    ((ident(x.relu()) + w) * 2.0).sum().backward(retain_graph=keep)
    np.testing.assert_array_equal(w.grad, np.full(X.shape, 2.0))
    np.testing.assert_array_equal(x.grad, 2.0 * slope(X))


def test_a_grad_is_never_an_array_a_users_rule_keeps() -> None:
    """A rule returning an array it keeps (a constant K) for a leaf: x.grad is a copy, so an
    in-place change of x.grad (an optimizer's, a reset) leaves K, and the next pass, right.
    Reference: d(sum(keeper(x)))/dx = K, as the rule says, for each of two passes."""
    kept = RNG.normal(size=X.shape)
    before = kept.copy()
    keeper = Op("keeper", lambda y: y * 1.0, lambda g, out, y: (kept,))
    x = Tensor(X)
    for _ in range(2):
        keeper(x).sum().backward()
        np.testing.assert_array_equal(x.grad, before)
        x.grad *= 0.0
    np.testing.assert_array_equal(kept, before)


def test_an_array_assigned_to_grad_is_copied() -> None:
    """`a.grad = g; b.grad = g`: each .grad its own array, as `t.data = new` copies.
    Reference: the numbers the test assigned."""
    g = np.ones(3)
    a, b = Tensor(np.zeros(3)), Tensor(np.zeros(3))
    a.grad = g
    b.grad = g
    a.grad *= 5.0
    np.testing.assert_array_equal(b.grad, np.ones(3))
    np.testing.assert_array_equal(g, np.ones(3))


def test_a_share_of_a_rule_not_declared_fresh_is_never_written_into() -> None:
    """A rule that returns an array it keeps (a constant): relu must not write into it.
    Reference: dx = K * slope(x), and K as the test made it."""
    kept = RNG.normal(size=X.shape)
    before = kept.copy()
    keeper = Op("keeper", lambda y: y * 1.0, lambda g, out, y: (kept,))
    x = Tensor(X)
    keeper(x.relu()).sum().backward(retain_graph=False)
    np.testing.assert_array_equal(kept, before)
    np.testing.assert_array_equal(x.grad, before * slope(X))


def test_add_hands_one_array_to_both_operands_and_relu_leaves_it_alone() -> None:
    """t = relu(x @ W.T) + c, loss = sum(t * V): add gives its one gradient array V to the
    relu node and to c. Reference: c's gradient is V, x's is (V * slope(z)) @ W."""
    x, w, c = Tensor(X), Tensor(W), Tensor(np.zeros((4, 5)))
    ((((x @ w.T).relu() + c) * V).sum()).backward(retain_graph=False)
    z = X @ W.T
    np.testing.assert_array_equal(c.grad, V)
    np.testing.assert_allclose(x.grad, (V * slope(z)) @ W, rtol=1e-13)
    np.testing.assert_allclose(w.grad, (V * slope(z)).T @ X, rtol=1e-13)


@pytest.mark.parametrize("keep", [True, False])
def test_a_relu_result_used_twice_gets_the_sum_of_both_shares(keep: bool) -> None:
    """r = relu(x @ W.T) used by two matmuls and by r + r (a diamond, and one node twice in
    one op): its gradient is a sum the walk made. Reference: loss = sum(r @ A) + sum(r @ B)
    + sum((r + r) * V), so dr = A.sum(1) + B.sum(1) + 2 V per row, dx = (dr * slope) @ W."""
    a, b = RNG.normal(size=(5, 2)), RNG.normal(size=(5, 3))
    x, w = Tensor(X), Tensor(W)
    r = (x @ w.T).relu()
    loss = (r @ a).sum() + (r @ b).sum() + ((r + r) * V).sum()
    loss.backward(retain_graph=keep)
    dr = a.sum(axis=1) + b.sum(axis=1) + 2.0 * V
    z = X @ W.T
    np.testing.assert_allclose(x.grad, (dr * slope(z)) @ W, rtol=1e-12)
    np.testing.assert_allclose(w.grad, (dr * slope(z)).T @ X, rtol=1e-12)


def test_relu_gradient_kept_by_default_is_not_masked() -> None:
    """With the default backward (every gradient kept), relu's own .grad is what reached it,
    before its slope (a matmul's fresh share, which a training pass would write into).
    Reference: r = relu(z), loss = sum((r @ I) * V): dr = V, dz = V * slope(z)."""
    z = Tensor(X @ W.T)
    r = z.relu()
    ((r @ np.eye(5)) * V).sum().backward()
    np.testing.assert_array_equal(r.grad, V)
    np.testing.assert_array_equal(z.grad, V * slope(X @ W.T))


def test_linear_of_one_sample_hands_its_bias_a_copy_of_a_shared_gradient() -> None:
    """linear of a 1-D x hands the bias the layer's gradient itself; here that array is also
    d's (add hands it to both), and the bias is relu(c), which would write into it: the
    bias's share is a copy. Reference: loss = sum((linear(x, W, relu(c)) + d) * v): dd = v,
    dc = v * slope(c), dW = outer(v, x)."""
    x = RNG.normal(size=3)
    v = RNG.normal(size=5)
    c0 = np.array([1.0, -1.0, 2.0, -2.0, 0.5])
    w, c, d = Tensor(W), Tensor(c0), Tensor(np.zeros(5))
    ((linear(Tensor(x, requires_grad=False), w, c.relu()) + d) * v).sum().backward(
        retain_graph=False
    )
    np.testing.assert_array_equal(d.grad, v)
    np.testing.assert_array_equal(c.grad, v * slope(c0))
    np.testing.assert_allclose(w.grad, np.outer(v, x), rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_two_layer_relu_network_in_a_training_pass(dtype: type) -> None:
    """nn.Linear, nn.ReLU twice, cross_entropy, backward(retain_graph=False): both relus
    write into their gradients. Reference: the chain rule in float64 numpy (softmax minus
    one-hot over N, then through each layer)."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(6, 4))
    labels = rng.integers(0, 3, 6)
    model = nn.Sequential(
        nn.Linear(4, 5, rng=1), nn.ReLU(), nn.Linear(5, 5, rng=2), nn.ReLU(), nn.Linear(5, 3, rng=3)
    )
    model.to(dtype)
    w1, b1, w2, b2, w3, b3 = [p.data.astype(np.float64) for p in model.parameters()]
    nn.cross_entropy(model(Tensor(x, dtype=dtype)), labels).backward(retain_graph=False)
    h1 = np.maximum(x.astype(dtype).astype(np.float64) @ w1.T + b1, 0)
    h2 = np.maximum(h1 @ w2.T + b2, 0)
    z = h2 @ w3.T + b3
    e = np.exp(z - z.max(axis=1, keepdims=True))
    dz = e / e.sum(axis=1, keepdims=True)
    dz[np.arange(6), labels] -= 1.0
    dz /= 6
    d2 = (dz @ w3) * slope(h2)
    d1 = (d2 @ w2) * slope(h1)
    want = [d1.T @ x, d1.sum(0), d2.T @ h1, d2.sum(0), dz.T @ h2, dz.sum(0)]
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for p, g in zip(model.parameters(), want):
        np.testing.assert_allclose(p.grad, g, rtol=tol, atol=tol)


def test_create_graph_through_relu_and_a_released_pass_over_that_graph() -> None:
    """The first derivative of sum(relu(x) ** 2) as a graph, then a training-style pass over
    it. Reference: d/dx = 2 relu(x) slope(x) = 2 relu(x); its derivative 2 slope(x)."""
    xs = np.array([-1.5, -0.0, 0.0, 0.5, 2.0])
    x = Tensor(xs)
    (dx,) = grad((x.relu() ** 2).sum(), [x], create_graph=True)
    np.testing.assert_array_equal(dx.data, 2.0 * np.maximum(xs, 0))
    dx.sum().backward(retain_graph=False)
    np.testing.assert_array_equal(x.grad, 2.0 * slope(xs))


VIEWS = {  # ops whose rule may hand its operand a view of its own gradient, or g itself
    "reshape": lambda t: t.reshape(6),
    "T": lambda t: t.T,
    "flatten": lambda t: t.flatten(),
    "None index": lambda t: t[None],
    "unsqueeze": lambda t: t.unsqueeze(0),
    "+ constant": lambda t: t + 1.0,
    "- constant": lambda t: t - 1.0,
}


@pytest.mark.parametrize("second", sorted(VIEWS))
@pytest.mark.parametrize("first", sorted(VIEWS))
def test_every_kept_grad_is_an_array_of_its_own(first: str, second: str) -> None:
    """x -> s = x + c -> u = first(s) -> v = second(u), loss = sum(v * M) (M a constant of
    v's shape): with every op result's gradient kept (the default backward), a write into
    one node's .grad in place (an optimizer's, `t.grad *= 0`) changes no other node's.
    Reference: each op here only moves or shifts numbers, so every node's gradient is M
    brought back to that node's shape by numpy's own reshape, transpose and indexing."""
    x = Tensor(X[:2])  # (2, 3)
    s = x + Tensor(np.ones((2, 3)), requires_grad=False)
    u = VIEWS[first](s)
    v = VIEWS[second](u)
    m = RNG.normal(size=v.shape)
    (v * m).sum().backward()
    back = {  # numpy's inverse of each op, on a gradient of the result's shape
        "reshape": lambda g, shape: g.reshape(shape),
        "T": lambda g, shape: g.T,
        "flatten": lambda g, shape: g.reshape(shape),
        "None index": lambda g, shape: g[0],
        "unsqueeze": lambda g, shape: g[0],
        "+ constant": lambda g, shape: g,
        "- constant": lambda g, shape: g,
    }
    du = back[second](m, u.shape)
    want = {v: m, u: du, s: back[first](du, s.shape)}
    want[x] = want[s]
    nodes = [x, s, u, v]
    for node in nodes:
        node.grad *= 0.0
        for other in nodes:
            if other is not node:
                np.testing.assert_array_equal(other.grad, want[other])
        node.grad += want[node]  # as it was, for the next one
