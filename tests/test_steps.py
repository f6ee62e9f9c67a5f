"""engine/steps.py: the chain-rule steps of a backward pass, in backward()'s order.

References: the textbook Kahn sweep in tests/reference.py (the gradients), and backward()
itself for the order: the steps exist to replay backward() exactly (the generated code and the
stepping page must add the same floats in the same order), so equality is bit for bit.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_lite import Tensor, Value, graph_nodes
from autograd_lite.engine.steps import backward_order

from .reference import gradient_sizes, textbook_gradients
from .test_core import _random_graph


def _final(root: Value | Tensor, seed: object) -> dict[object, object]:
    out: dict[object, object] = {root: seed}
    for step in backward_order(root, seed):
        if step.complete:
            out[step.operand] = step.gradient
    return out


@given(st.integers(0, 10**9), st.integers(1, 6), st.integers(1, 40))
def test_steps_add_the_same_floats_in_the_same_order_as_backward(
    seed: int, n_leaves: int, n_ops: int
) -> None:
    root, _ = _random_graph(random.Random(seed), n_leaves, n_ops)
    final = _final(root, 1.0)
    expected = textbook_gradients(root)
    size = gradient_sizes(root)  # rounding is relative to the size of the terms summed
    root.backward()
    for node in graph_nodes(root):
        assert final[node] == node.grad  # bit for bit
        tolerance = 1e-12 * size[node] + 1e-300
        assert final[node] == pytest.approx(expected[node], rel=1e-12, abs=tolerance)


def test_the_document_network_steps() -> None:
    # Reference: the hand formulas of the worked example (shared/seed): with
    # s(z) = sigmoid, dL/dy_hat = y_hat - y, dL/dz2 = (y_hat - y) y_hat (1 - y_hat).
    x, y = Value(1.0), Value(1.0)
    w1, b1, w2, b2 = Value(0.4), Value(0.1), Value(0.3), Value(0.2)
    h = (x * w1 + b1).sigmoid()
    z2 = h * w2 + b2
    y_hat = z2.sigmoid()
    loss = 0.5 * (y - y_hat) ** 2
    steps = list(backward_order(loss, 1.0))
    assert steps[0].result is loss and steps[0].upstream == 1.0
    into_z2 = [s for s in steps if s.result is y_hat]
    assert len(into_z2) == 1 and into_z2[0].operand is z2
    yh = y_hat.data
    assert into_z2[0].gradient == pytest.approx((yh - 1.0) * yh * (1 - yh), rel=1e-15)
    # every step's gradient is the sum of the shares so far; each operand completes once
    completed = [s.operand for s in steps if s.complete]
    assert len(completed) == len(set(completed)) == len(graph_nodes(loss)) - 1


def test_fan_out_accumulates_share_by_share() -> None:
    # Reference: y = a * a + a; dy/da = 2a + 1, reached in three shares.
    a = Value(3.0)
    y = a * a + a
    into_a = [s for s in backward_order(y, 1.0) if s.operand is a]
    assert [s.share for s in into_a] == [1.0, 3.0, 3.0]
    assert [s.gradient for s in into_a] == [1.0, 4.0, 7.0]
    assert [s.first for s in into_a] == [True, False, False]
    assert [s.complete for s in into_a] == [False, False, True]


def test_tensor_steps_sum_broadcast_shares_and_skip_constants() -> None:
    # Reference: L = sum(x * b + 1) with b of shape (3,) broadcast over x (2, 3):
    # dL/db = column sums of x; the constant 1 takes no share.
    xs = np.arange(6.0).reshape(2, 3)
    x = Tensor(xs, requires_grad=False)
    b = Tensor([1.0, 2.0, 3.0])
    loss = (x * b + 1.0).sum()
    steps = list(backward_order(loss, np.ones(())))
    into_b = [s for s in steps if s.operand is b]
    assert len(into_b) == 1 and into_b[0].gradient.tolist() == xs.sum(axis=0).tolist()
    assert all(s.share is None for s in steps if not s.operand.requires_grad)


def test_a_deep_chain_has_no_recursion_error() -> None:
    # Reference: d/dx of x * 1 + 0 applied 50,000 times is 1.
    x = Value(1.0)
    y = x
    for _ in range(50_000):
        y = y * 1.0 + 0.0
    assert _final(y, 1.0)[x] == 1.0


def test_root_must_be_a_node() -> None:
    with pytest.raises(TypeError, match="backward_order: root must be a Value or a Tensor"):
        list(backward_order(1.0, 1.0))  # type: ignore[arg-type]
