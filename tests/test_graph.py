"""Graph semantics of backward(): reuse, accumulation, zero_grad, depth."""

from __future__ import annotations

import sys

import pytest

from autograd_lite import Value, graph_nodes, zero_grad


def test_a_plus_a() -> None:
    # Reference: d(2a)/da = 2.
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0


def test_a_times_a() -> None:
    # Reference: d(a²)/da = 2a.
    a = Value(-1.5)
    (a * a).backward()
    assert a.grad == -3.0


def test_diamond() -> None:
    # a -> b = 2a, c = a², d = b * c = 2a³: dd/da = 6a², dd/db = c, dd/dc = b.
    a = Value(1.5)
    b = a * 2
    c = a * a
    d = b * c
    d.backward()
    assert a.grad == pytest.approx(6 * 1.5**2, rel=1e-15)
    assert b.grad == c.data and c.grad == b.data


def test_node_used_by_many_parents() -> None:
    # Reference: sum over k of k * x has derivative sum of k = 4950 for k < 100.
    x = Value(0.25)
    total = Value(0.0)
    for k in range(100):
        total = total + x * k
    total.backward()
    assert x.grad == 4950.0


def test_backward_twice_adds_the_same_amount_on_leaves_and_intermediates() -> None:
    # Reference: first-call gradients worked out by hand, then exactly doubled.
    x, w, b = Value(2.0), Value(-3.0), Value(0.5)
    z = x * w + b  # z = -5.5
    out = z * z  # d out/dz = 2z = -11, d out/dw = 2z x = -22, d out/dx = 2z w = 33
    out.backward()
    first = (x.grad, w.grad, b.grad, z.grad, out.grad)
    assert first == (33.0, -22.0, -11.0, -11.0, 1.0)
    out.backward()
    assert (x.grad, w.grad, b.grad, z.grad, out.grad) == tuple(2 * g for g in first)


def test_an_intermediate_nodes_old_grad_never_leaks_into_propagation() -> None:
    # Reference: d(3x)/dx = 3 whatever garbage an intermediate held before the call.
    x = Value(1.0)
    y = x * 3
    out = y + 0.0
    y.grad = 100.0
    out.backward()
    assert x.grad == 3.0
    assert y.grad == 101.0  # its own gradient was added to what it held


def test_backward_with_a_seed_gradient() -> None:
    x = Value(2.0)
    (x * x).backward(0.5)
    assert x.grad == 2.0


def test_backward_on_a_leaf() -> None:
    x = Value(4.0)
    x.backward()
    assert x.grad == 1.0


def test_zero_grad_resets_the_whole_graph() -> None:
    x = Value(2.0)
    y = (x * x).exp()
    y.backward()
    assert x.grad != 0.0
    y.zero_grad()
    assert all(node.grad == 0.0 for node in graph_nodes(y))
    y.backward()
    assert x.grad == pytest.approx(2 * 2.0 * y.data, rel=1e-15)  # d exp(x²)/dx = 2x exp(x²)
    zero_grad([y, x])
    assert x.grad == 0.0


def test_graph_nodes_lists_operands_before_results_once() -> None:
    a = Value(1.0)
    b = a + a
    c = b * a
    order = graph_nodes(c)
    assert len(order) == 3 and order[-1] is c
    assert order.index(a) < order.index(b) < order.index(c)


def chain(n: int) -> tuple[Value, Value]:
    x = Value(1.0)
    y = x
    for _ in range(n):
        y = y * 1.0000001
    return x, y


def test_a_million_node_chain_at_the_default_recursion_limit() -> None:
    # Reference: d(x * c**n)/dx = c**n, computed in floats in the test.
    assert sys.getrecursionlimit() <= 1000 * 10  # the default (pytest may raise it a little)
    n = 1_000_000
    x, y = chain(n)
    y.backward()
    expected = 1.0
    for _ in range(n):
        expected *= 1.0000001
    assert x.grad == pytest.approx(expected, rel=1e-9)
    zero_grad(y)
    assert x.grad == 0.0
    del y  # freeing a million-deep chain must not recurse either
