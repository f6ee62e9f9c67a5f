"""The core's contract (issue 10): one rule per op for floats, arrays and Values; op parameters
as data; ops of any number of operands; the fast sweep against the textbook sweep.

References: closed-form derivatives written with numpy in the test, central finite
differences (tests/reference.py), and the textbook Kahn sweep in tests/reference.py.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_lite import Op, Value, grad, graph_nodes, ops
from autograd_lite.engine.sweep import sweep
from tests.reference import central_gradient, gradient_sizes, textbook_gradients

# Each built-in one-operand op: its value and its rule's derivative in closed form (numpy).
UNARY = {
    "neg": (ops.neg, np.negative, lambda x: -np.ones_like(x)),
    "exp": (ops.exp, np.exp, np.exp),
    "log": (ops.log, np.log, lambda x: 1 / x),
    "tanh": (ops.tanh, np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "sigmoid": (ops.sigmoid, lambda x: 1 / (1 + np.exp(-x)),
                lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2),
    "relu": (ops.relu, lambda x: np.maximum(x, 0.0), lambda x: (x > 0).astype(float)),
    "step": (ops.step, lambda x: (x > 0).astype(float), np.zeros_like),
    "**3": (ops.pow_number(3.0), lambda x: x**3, lambda x: 3 * x**2),
    "**0.5": (ops.pow_number(0.5), np.sqrt, lambda x: 0.5 / np.sqrt(x)),
}  # fmt: skip
# Each two-operand op: the two partial derivatives in closed form.
BINARY = {
    "+": (ops.add, lambda a, b: (np.ones_like(a), np.ones_like(b))),
    "-": (ops.sub, lambda a, b: (np.ones_like(a), -np.ones_like(b))),
    "*": (ops.mul, lambda a, b: (b, a)),
    "/": (ops.div, lambda a, b: (1 / b, -a / b**2)),
    "**": (ops.pow_value, lambda a, b: (b * a ** (b - 1), a**b * np.log(a))),
}


@pytest.mark.parametrize("name", UNARY)
def test_every_one_operand_rule_runs_on_ndarrays(name: str) -> None:
    op, value, derivative = UNARY[name]
    x = np.array([0.3, 1.7, 2.5]) if name in ("log", "**0.5") else np.array([-1.5, -0.2, 0.4, 2.0])
    g = np.linspace(0.5, 2.0, x.size)
    out = op(x)
    assert isinstance(out, np.ndarray) and out.shape == x.shape
    np.testing.assert_allclose(out, value(x), rtol=1e-15, atol=0)
    (share,) = op.vjp(g, out, x)
    np.testing.assert_allclose(share, g * derivative(x), rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", BINARY)
def test_every_two_operand_rule_runs_on_ndarrays(name: str) -> None:
    op, derivatives = BINARY[name]
    a, b = np.array([0.5, 1.5, 2.5]), np.array([1.25, -0.75, 3.0])
    g = np.array([1.0, -2.0, 0.5])
    out = op(a, b)
    shares = op.vjp(g, out, a, b)
    for share, d in zip(shares, derivatives(a, b)):
        np.testing.assert_allclose(share, g * d, rtol=1e-12, atol=0)


def test_float32_arrays_keep_their_dtype_through_relu_and_step() -> None:
    x = np.array([-1.0, 2.0], dtype=np.float32)
    assert ops.relu(x).dtype == np.float32 and ops.step(x).dtype == np.float32


def test_pow_keeps_its_exponent_as_data() -> None:
    y = Value(3.0) ** 2
    assert y.op is not None
    assert (y.op.name, dict(y.op.params), y.op.display) == ("**", {"exponent": 2.0}, "**2")
    assert Value(2.0).exp().op is not None and Value(2.0).exp().op.params == {}
    with pytest.raises(TypeError):
        y.op.params["exponent"] = 3.0  # type: ignore[index]


def test_relu_derivative_and_second_derivative_on_both_sides_of_zero() -> None:
    # Reference: relu'(x) = 1 for x > 0, else 0; relu''(x) = 0 (away from 0).
    for x0, first in ((-1.5, 0.0), (0.0, 0.0), (2.0, 1.0)):
        x = Value(x0)
        (d,) = grad(x.relu() * 3.0, [x], create_graph=True)
        assert d.data == 3.0 * first
        assert grad(d, [x]) == [0.0]


def _replay(root: Value, values: dict[Value, float]) -> float:
    """Evaluate the recorded graph of root again with new leaf values, op by op."""
    data: dict[Value, float] = {}
    for node in graph_nodes(root):
        if node.op is None:
            data[node] = values.get(node, node.data)
        else:
            data[node] = node.op.forward(*[data[x] for x in node.operands])
    return data[root]


def test_the_backward_graph_of_relu_is_right_for_new_values_of_either_sign() -> None:
    # The graph that grad(create_graph=True) records for d relu(x)/dx must depend on x
    # through an op, not hold the derivative at the recorded x as a constant.
    # Reference: relu'(x) = 1 for x > 0, else 0, times the outer factor 5.
    for recorded in (2.0, -2.0):
        x = Value(recorded)
        (d,) = grad((x * 5.0).relu(), [x], create_graph=True)
        assert [_replay(d, {x: x_new}) for x_new in (-3.0, 0.5)] == [0.0, 5.0]


def test_an_op_of_three_operands() -> None:
    # fma(a, b, c) = a * b + c, a custom op with three operands.
    # Reference: d/da = b, d/db = a, d/dc = 1, and central differences.
    fma = Op("fma", lambda a, b, c: a * b + c, lambda g, out, a, b, c: (g * b, g * a, g))
    a, b, c = Value(1.5), Value(-2.0), Value(0.25)
    y = fma(a, b, c) * fma(c, 2.0, a)  # c and a used twice, a number mixed in
    assert y.operands[0].operands == (a, b, c)
    y.backward()
    expected = central_gradient(
        lambda v: (v[0] * v[1] + v[2]) * (v[2] * 2.0 + v[0]), [1.5, -2.0, 0.25]
    )
    assert [a.grad, b.grad, c.grad] == pytest.approx(expected, rel=1e-8)
    assert fma(1.0, 2.0, 3.0) == 5.0  # on plain numbers: the forward value
    (da, db) = grad(fma(a, b, c) * fma(a, b, c), [a, b], create_graph=True)
    # Reference: d/da (ab + c)^2 = 2 (ab + c) b.
    assert da.data == 2 * (1.5 * -2.0 + 0.25) * -2.0 and db.data == 2 * (1.5 * -2.0 + 0.25) * 1.5


def _random_graph(rng: random.Random, n_leaves: int, n_ops: int) -> tuple[Value, list[Value]]:
    leaves = [Value(rng.uniform(0.2, 2.0)) for _ in range(n_leaves)]
    pool: list[Any] = list(leaves)
    fma = Op("fma", lambda a, b, c: a * b + c, lambda g, out, a, b, c: (g * b, g * a, g))
    for _ in range(n_ops):
        kind = rng.randrange(6)
        a, b, c = (pool[rng.randrange(len(pool))] for _ in range(3))
        if kind == 0:
            pool.append(a + b)
        elif kind == 1:
            pool.append(a * b)
        elif kind == 2:
            pool.append((a * 0.3).tanh())
        elif kind == 3:
            pool.append(a - 0.5 * b)
        elif kind == 4:
            pool.append(fma(a, b, c))
        else:
            pool.append((a * 0.1).sigmoid() + (b - 1.0).relu())
    root = pool[-1]
    for x in pool[-4:-1]:
        root = root + x
    return root, leaves


@given(st.integers(0, 10**9), st.integers(1, 6), st.integers(1, 40))
def test_the_fast_sweep_equals_the_textbook_sweep(seed: int, n_leaves: int, n_ops: int) -> None:
    # Reference: tests/reference.py's textbook_gradients, a plainly written Kahn sweep; the
    # sums agree to rounding relative to the size of their terms (reference.gradient_sizes).
    root, _ = _random_graph(random.Random(seed), n_leaves, n_ops)
    expected = textbook_gradients(root)
    size = gradient_sizes(root)
    root.backward()
    for node in graph_nodes(root):
        tolerance = 1e-12 * size[node] + 1e-300
        assert node.grad == pytest.approx(expected[node], rel=1e-12, abs=tolerance)
    # The sweep's own output (before .grad accumulates it) gives the same.
    nodes, grads = sweep(root, 1.0, False)
    for node, g in zip(nodes, grads):
        tolerance = 1e-12 * size[node] + 1e-300
        assert g == pytest.approx(expected[node], rel=1e-12, abs=tolerance)


def test_gradient_of_a_deep_mixed_chain_has_no_recursion_error() -> None:
    # Reference: d/dx of x * 1 + 0 applied 200,000 times is 1.
    x = Value(1.0)
    y = x
    for _ in range(200_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0 and math.isfinite(y.data)


@pytest.mark.parametrize(
    ("create_graph", "two"), [(False, 2.0), (True, 2.0), (False, np.float64(2))]
)
def test_each_rule_runs_once_per_node(create_graph: bool, two: float) -> None:
    # Reference: the graph has three nodes made by `counted`; each rule call is counted. A
    # rule written with numpy returns numpy scalars: converted, not a second sweep.
    calls = []

    def rule(g: Any, out: Any, x: Any) -> tuple[Any]:
        calls.append(1)
        return (g * two,)

    counted = Op("counted", lambda x: 2.0 * x, rule)
    x = Value(1.5)
    y = counted(counted(x) * 3.0) + counted(x)
    (d,) = grad(y, [x], create_graph=create_graph)
    assert len(calls) == 3
    assert float(d.data if create_graph else d) == 2.0 * 3.0 * 2.0 + 2.0
