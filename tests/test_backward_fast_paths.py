"""The derivative rules' paths on arrays that a training pass takes (issue 22): matmul's
parts for matrices of every layout, log_softmax's rule written into its own array, against
closed forms worked out here.

Reference: d(sum(G * (A @ B)))/dA = G @ B.T and /dB = A.T @ G (written as einsum sums);
d(sum(W * log_softmax(x)))/dx = W - softmax(x) * sum(W) along the axis, in float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from autograd_lite import Tensor, grad
from autograd_lite.engine.array_ops import linear, matmul_op


def _layout(a: np.ndarray, order: str) -> Any:
    """a's numbers stored in C order, or as the transpose of a C array (W.T's view)."""
    return a.copy() if order == "C" else np.ascontiguousarray(a.T).T


@pytest.mark.parametrize("order_a", ["C", "F"])
@pytest.mark.parametrize("order_b", ["C", "F"])
def test_matmul_of_matrices_in_any_layout_gives_the_closed_form(order_a: str, order_b: str) -> None:
    rng = np.random.default_rng(3)
    a0, b0, g = (
        rng.standard_normal((5, 3)),
        rng.standard_normal((3, 4)),
        rng.standard_normal((5, 4)),
    )
    a = Tensor(_layout(a0, order_a))
    b = Tensor(_layout(b0, order_b))
    assert a.data.flags.f_contiguous == (order_a == "F")  # the layouts the test means
    ga, gb = grad(a @ b, [a, b], grad_outputs=g)
    np.testing.assert_allclose(ga, np.einsum("ij,kj->ik", g, b0), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(gb, np.einsum("ki,kj->ij", a0, g), rtol=1e-13, atol=1e-13)
    # the gradient in the operand's own layout (so a leaf's .grad needs no copy)
    assert ga.flags.c_contiguous and gb.flags.c_contiguous


def test_matmul_rule_through_the_transpose_of_a_weight_keeps_its_layout() -> None:
    rng = np.random.default_rng(4)
    x = Tensor(rng.standard_normal((6, 3)), requires_grad=False)
    w = Tensor(rng.standard_normal((2, 3)))
    g = rng.standard_normal((6, 2))
    (x @ w.T).backward(g)
    np.testing.assert_allclose(w.grad, g.T @ x.data, rtol=1e-13, atol=1e-13)
    assert w.grad.flags.c_contiguous


def test_log_softmax_of_float32_given_a_float64_gradient_keeps_its_digits() -> None:
    # A float64 share reaching a float32 log_softmax (a product with a float64 tensor): the
    # rule's product must not be rounded to float32 on its way (written into exp's array),
    # only the total once, as the leaf's gradient.
    rng = np.random.default_rng(5)
    x = Tensor(rng.standard_normal((200, 50)).astype(np.float32), dtype=np.float32)
    w = rng.standard_normal((200, 50))
    z = x.log_softmax(axis=1)
    y = z * Tensor(w, requires_grad=False)
    assert y.dtype == np.float64
    (gx,) = grad(y, [x], grad_outputs=np.ones((200, 50)))
    soft = np.exp(z.data).astype(np.float64)  # softmax: exp of the float32 result, in float32
    expected = w - soft * w.sum(axis=1, keepdims=True)  # in float64
    assert gx.dtype == np.float32
    np.testing.assert_array_equal(gx, expected.astype(np.float32))


def test_linear_of_a_batch_of_rows_gives_the_closed_form() -> None:
    rng = np.random.default_rng(6)
    x, w, b = (Tensor(rng.standard_normal(s)) for s in ((5, 3), (2, 3), (2,)))
    g = rng.standard_normal((5, 2))
    gx, gw, gb = grad(linear(x, w, b), [x, w, b], grad_outputs=g)
    np.testing.assert_allclose(gx, np.einsum("kj,ji->ki", g, w.data), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(gw, np.einsum("kj,ki->ji", g, x.data), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(gb, [g[:, 0].sum(), g[:, 1].sum()], rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("shape", [(4,), (1, 4), (3, 1), (1, 1), ()])
def test_a_broadcast_operand_of_add_gets_the_sum_over_what_was_stretched(shape: Any) -> None:
    rng = np.random.default_rng(7)
    a = Tensor(rng.standard_normal((3, 4)))
    b = Tensor(rng.standard_normal(shape))
    g = rng.standard_normal((3, 4))
    ga, gb = grad(a + b, [a, b], grad_outputs=g)
    np.testing.assert_array_equal(ga, g)
    stretched = tuple(i for i in range(2) if len(shape) < 2 - i or shape[i - 2 + len(shape)] == 1)
    expected = g.sum(axis=stretched, keepdims=True).reshape(shape)  # summed by hand's axes
    np.testing.assert_allclose(gb, expected, rtol=1e-13, atol=1e-13)


def test_matmul_parts_given_an_array_gradient_and_tensor_operands() -> None:
    # find_wrong_rule runs rules on an array g with nodes as operands: the parts take nodes'
    # path then (bdd6e9b: an AttributeError, a Tensor has no .flags)
    rng = np.random.default_rng(8)
    a0, b0, g = (
        rng.standard_normal((2, 3)),
        rng.standard_normal((3, 2)),
        rng.standard_normal((2, 2)),
    )
    sa, sb = matmul_op.vjp(g, None, Tensor(a0), Tensor(np.ascontiguousarray(b0.T).T))
    np.testing.assert_allclose(sa.data, np.einsum("ij,kj->ik", g, b0), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(sb.data, np.einsum("ki,kj->ij", a0, g), rtol=1e-13, atol=1e-13)
