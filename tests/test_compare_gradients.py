"""compare_gradients and assert_gradients_match: a derivation done by hand against backward().

Reference: the seed document's hand formulas (δ₂ = (ŷ - y) ŷ (1 - ŷ), dL/dw2 = δ₂ h, dL/db2 = δ₂,
dL/dh = δ₂ w2, δ₁ = dL/dh h (1 - h), dL/dw1 = δ₁ x, dL/db1 = δ₁), evaluated here in plain floats
and checked against its exact table (tests/reference.py's EXACT_TABLE); for Tensors the matrix
form of the same formulas in numpy (dL/dW = δᵀ a), worked out in the test.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from autograd_lite import (
    Dual,
    GradientMismatch,
    Tensor,
    Value,
    assert_gradients_match,
    compare_gradients,
)
from autograd_lite.walkthrough import Network, build_network, compare

from .reference import EXACT_TABLE

BACKWARD_ORDER = ["ŷ", "z2", "b2", "w2", "h", "z1", "b1", "w1"]
"""The document's gradients in the order backward() completes them (the loss first)."""


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def hand_gradients(delta2_factor: float | None = None) -> dict[str, float]:
    """The document's gradients by its formulas, keyed by node label. With `delta2_factor`,
    δ₂ is computed with that factor in place of ŷ (1 - ŷ), and everything after δ₂ from it."""
    x, y, w1, b1, w2, b2 = 1.0, 1.0, 0.4, 0.1, 0.3, 0.2
    h = sigmoid(x * w1 + b1)
    y_hat = sigmoid(h * w2 + b2)
    dl_dy_hat = y_hat - y
    delta2 = dl_dy_hat * (y_hat * (1 - y_hat) if delta2_factor is None else delta2_factor)
    dl_dh = delta2 * w2
    delta1 = dl_dh * h * (1 - h)
    return {
        "ŷ": dl_dy_hat, "z2": delta2, "b2": delta2, "w2": delta2 * h,
        "h": dl_dh, "z1": delta1, "b1": delta1, "w1": delta1 * x,
    }  # fmt: skip


@pytest.fixture
def net() -> Network:
    return build_network()


def test_the_hand_formulas_here_are_the_documents() -> None:
    # Reference: the document's exact table.
    hand = hand_gradients()
    for label, name in [("ŷ", "dL_dy_hat"), ("z2", "delta2"), ("w2", "dL_dw2"), ("h", "dL_dh"),
                        ("z1", "delta1"), ("w1", "dL_dw1"), ("b1", "dL_db1")]:  # fmt: skip
        assert hand[label] == pytest.approx(EXACT_TABLE[name], abs=1e-10), label


def test_a_correct_derivation_agrees_row_by_row_in_backward_order(net: Network) -> None:
    report = compare_gradients(net.L, hand_gradients())
    assert report.ok and report.first_mismatch is None and report.culprit == ()
    assert [row.name for row in report.rows] == BACKWARD_ORDER
    hand = hand_gradients()
    for row in report.rows:
        assert row.ok and row.hand == hand[row.name]
        assert abs(row.autodiff - hand[row.name]) <= 1e-15
    text = str(report)
    assert text.splitlines()[1].split() == ["label", "by", "hand", "by", "autodiff",
                                            "difference", "ok"]  # fmt: skip
    assert "All 8 agree." in text and "NO" not in text
    assert assert_gradients_match(net.L, hand_gradients()).ok


def test_a_wrong_delta2_names_its_step_and_the_factor_that_differs(net: Network) -> None:
    # The mistake: δ₂ = (ŷ - y) ŷ, the sigmoid's derivative taken as ŷ instead of ŷ (1 - ŷ);
    # everything after δ₂ is derived from it consistently, so it is wrong too.
    y_hat = sigmoid(sigmoid(0.5) * 0.3 + 0.2)
    wrong = hand_gradients(delta2_factor=y_hat)
    report = compare_gradients(net.L, wrong)
    assert not report.ok
    assert [row.name for row in report.mismatches] == BACKWARD_ORDER[1:]
    first = report.first_mismatch
    assert first is not None and first.name == "z2" and first.node is net.z2
    assert first.difference == pytest.approx(wrong["z2"] - EXACT_TABLE["delta2"], abs=1e-10)
    (step,) = report.culprit
    assert step.result is net.y_hat and step.operand is net.z2
    assert step.local == pytest.approx(EXACT_TABLE["dy_hat_dz2"], abs=1e-10)
    assert step.upstream == pytest.approx(EXACT_TABLE["dL_dy_hat"], abs=1e-10)
    text = str(report)
    assert "7 of 8 disagree; the first in backward order is grad(z2)." in text
    assert "  ŷ = sigmoid(z2)\n  grad(z2) = grad(ŷ) × ∂ŷ/∂z2 = -0.4045028551 × 0.2408802953" in text
    assert "grad(ŷ) = -0.4045028551 is in your table and agrees." in text
    # The factor the student's δ₂ implies is their ŷ, where the rule gives ŷ (1 - ŷ).
    assert "the factor that differs is ∂ŷ/∂z2 = 0.2408802953" in text
    assert f"= {y_hat:.10g}." in text.replace("\n", " ")
    with pytest.raises(GradientMismatch) as caught:
        assert_gradients_match(net.L, wrong)
    assert isinstance(caught.value, AssertionError)
    assert caught.value.report.first_mismatch is not None
    assert str(caught.value) == text


def test_a_wrong_parameter_gradient_alone_is_the_only_row_that_differs(net: Network) -> None:
    # The mistake: dL/dw2 = δ₂, the factor h (∂(h w2)/∂w2) left out.
    expected = hand_gradients()
    expected["w2"] = expected["z2"]
    report = compare_gradients(net.L, expected)
    assert [row.name for row in report.mismatches] == ["w2"]
    (step,) = report.culprit
    assert step.operand is net.w2 and step.result.operands == (net.h, net.w2)
    assert step.local == pytest.approx(EXACT_TABLE["h"], abs=1e-10)
    text = str(report)
    assert "1 of 8 disagrees; the first in backward order is grad(w2)." in text
    assert "t2 = h * w2" in text and "is not in your table" in text
    assert "the factor that differs is ∂t2/∂w2 = 0.6224593312" in text
    assert text.replace("\n", " ").endswith("= 1.")


def test_a_node_used_twice_gets_the_sum_and_a_missing_use_is_named() -> None:
    # Reference: y = a b + a, so dy/da = b + 1 = 4; 3 is the product path alone.
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    y = a * b + a
    y.label = "y"
    report = compare_gradients(y, {"a": 3.0, "b": 2.0})
    assert [row.name for row in report.mismatches] == ["a"]
    assert len(report.culprit) == 2
    text = str(report)
    assert "grad(a) is the sum of 2 shares" in text and "sum: grad(a) = 4; yours is 3" in text
    assert "Yours equals the share from t1 alone" in text
    assert compare_gradients(y, {a: 4.0, b: 2.0}).ok


def test_the_output_itself_and_tolerances() -> None:
    # Reference: d(x²)/dx = 2x = 6 at 3; the output's own gradient is 1.
    x = Value(3.0, label="x")
    y = x * x
    y.label = "y"
    assert compare_gradients(y, {"y": 1.0, "x": 6.0}).ok
    report = compare_gradients(y, {"y": 2.0})
    assert report.first_mismatch is not None and report.culprit == ()
    assert "y is the output" in str(report)
    # |hand - autodiff| <= atol + rtol |autodiff|: 6 (1 + 2e-6) is outside rtol=1e-6.
    assert not compare_gradients(y, {"x": 6.0 * (1 + 2e-6)}).ok
    assert compare_gradients(y, {"x": 6.0 * (1 + 2e-6)}, rtol=1e-5).ok
    assert compare_gradients(y, {"x": 6.0 + 1e-3}, rtol=0, atol=2e-3).ok
    assert not compare_gradients(y, {"x": 6.0 + 1e-3}, rtol=0, atol=0).ok


def test_an_infinite_gradient_is_not_close_to_every_number() -> None:
    # Reference: d(x**0.5)/dx = 0.5 x**-0.5, infinite at 0. rtol × inf must not excuse 1.0.
    x = Value(0.0, label="x")
    y = x**0.5
    assert not compare_gradients(y, {"x": 1.0}).ok
    assert compare_gradients(y, {"x": math.inf}).ok
    assert not compare_gradients(y, {"x": -math.inf}).ok


def test_nothing_is_written(net: Network) -> None:
    compare_gradients(net.L, hand_gradients())
    assert all(getattr(net, name).grad == 0 for name in ("w1", "b1", "w2", "b2", "z2"))


def test_a_repeated_label_is_an_error_that_says_to_pass_the_node() -> None:
    w_first, w_second = Value(0.5, label="w"), Value(2.0, label="w")
    x = Value(3.0, label="x")
    y = x * w_first * w_second
    with pytest.raises(ValueError, match=r"the label 'w' is on 2 nodes .* pass the node itself"):
        compare_gradients(y, {"w": 6.0})
    # Reference: d(x w w')/dw = x w' = 6, d/dw' = x w = 1.5.
    assert compare_gradients(y, {w_first: 6.0, w_second: 1.5, "x": 1.0}).ok
    with pytest.raises(ValueError, match=r"the label 'x' and the node labelled 'x' name the same"):
        compare_gradients(y, {"x": 1.0, x: 1.0})


def test_nodes_and_labels_not_in_the_graph_are_errors(net: Network) -> None:
    elsewhere = Value(1.0, label="w9")
    with pytest.raises(ValueError, match=r"the node labelled 'w9' is not in the graph of L"):
        compare_gradients(net.L, {elsewhere: 0.0})
    with pytest.raises(ValueError, match=r"no node labelled 'w9' in the graph of L \(its labels"):
        compare_gradients(net.L, {"w9": 0.0})
    other = build_network()  # the same labels, other nodes
    with pytest.raises(ValueError, match=r"labelled 'w1' is not in the graph of L"):
        compare_gradients(net.L, {other.w1: EXACT_TABLE["dL_dw1"]})


@pytest.mark.parametrize(
    ("expected", "kwargs", "error", "message"),
    [
        ([("w1", 0.0)], {}, TypeError, "expected must be a dict"),
        ({}, {}, ValueError, "expected is empty"),
        ({3: 0.0}, {}, TypeError, "keys of expected must be node labels"),
        ({"w1": "0.1"}, {}, TypeError, "given for 'w1': expected a real number"),
        ({"w1": None}, {}, TypeError, "given for 'w1': expected a real number"),
        ({"w1": [0.1]}, {}, TypeError, "given for 'w1': expected a real number"),
        ({"w1": Value(0.1)}, {}, TypeError, "given for 'w1' is a Value"),
        ({"w1": math.nan}, {}, ValueError, "given for 'w1' is nan"),
        ({"w1": 0.0}, {"rtol": -1e-6}, ValueError, "rtol must be a finite number >= 0"),
        ({"w1": 0.0}, {"atol": math.inf}, ValueError, "atol must be a finite number >= 0"),
        ({"w1": 0.0}, {"rtol": "1e-6"}, TypeError, "rtol: expected a real number"),
    ],
)
def test_bad_arguments_are_clear_errors(
    net: Network, expected: Any, kwargs: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=f"^compare_gradients: .*{message}"):
        compare_gradients(net.L, expected, **kwargs)


def test_bad_outputs_are_clear_errors() -> None:
    with pytest.raises(TypeError, match="output must be a Value or a Tensor, got float"):
        compare_gradients(1.0, {"x": 1.0})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="output must be a Value or a Tensor, got Dual"):
        compare_gradients(Dual(1.0) * 2, {"x": 1.0})
    with pytest.raises(ValueError, match=r"one element \(a loss\), got shape \(2,\)"):
        compare_gradients(Tensor([1.0, 2.0], label="t") * 2, {"t": [2.0, 2.0]})


def tensor_network() -> tuple[Tensor, dict[str, np.ndarray]]:
    """The document's network on a batch of three, and its gradients by the matrix form of
    the hand formulas: δ₂ = (ŷ - y) ŷ (1 - ŷ) per sample, dL/dW2 = δ₂ᵀ h, δ₁ = δ₂ W2 h (1 - h),
    dL/dW1 = δ₁ᵀ x, the biases' the column sums."""
    xs = np.array([[1.0], [0.5], [-1.0]])
    ys = np.array([[1.0], [0.0], [1.0]])
    w1, b1, w2, b2 = np.array([[0.4]]), np.array([0.1]), np.array([[0.3]]), np.array([0.2])
    x, y = Tensor(xs, requires_grad=False, label="x"), Tensor(ys, requires_grad=False)
    W1, B1 = Tensor(w1, label="W1"), Tensor(b1, label="b1")
    W2, B2 = Tensor(w2, label="W2"), Tensor(b2, label="b2")
    z1 = x @ W1.T + B1
    z1.label = "z1"
    z2 = z1.sigmoid() @ W2.T + B2
    z2.label = "z2"
    loss = (0.5 * (y - z2.sigmoid()) ** 2).sum()
    loss.label = "L"
    h = 1 / (1 + np.exp(-(xs @ w1.T + b1)))
    y_hat = 1 / (1 + np.exp(-(h @ w2.T + b2)))
    delta2 = (y_hat - ys) * y_hat * (1 - y_hat)
    delta1 = (delta2 @ w2) * h * (1 - h)
    return loss, {
        "z2": delta2, "W2": delta2.T @ h, "b2": delta2.sum(axis=0),
        "z1": delta1, "W1": delta1.T @ xs, "b1": delta1.sum(axis=0),
    }  # fmt: skip


def test_tensor_graphs_are_compared_element_by_element() -> None:
    loss, expected = tensor_network()
    report = compare_gradients(loss, expected)
    assert report.ok, str(report)
    assert sorted(row.name for row in report.rows) == sorted(expected)
    assert all(isinstance(row.hand, np.ndarray) for row in report.rows)
    # One wrong element of δ₁ (its second sample), the other gradients right: that row alone.
    wrong = {**expected, "z1": expected["z1"].copy()}
    wrong["z1"][1, 0] *= 1.5
    report = compare_gradients(loss, wrong)
    assert [row.name for row in report.mismatches] == ["z1"]
    text = str(report)
    assert "at (1, 0)" in text and "is a Jacobian" in text
    (step,) = report.culprit
    assert step.operand.label == "z1"


def test_tensor_gradients_must_have_the_nodes_shape_and_be_numbers() -> None:
    loss, _ = tensor_network()
    with pytest.raises(ValueError, match=r"given for 'W1' has shape \(1,\), and the node has"):
        compare_gradients(loss, {"W1": [0.1]})
    with pytest.raises(TypeError, match=r"given for 'W1' must be real numbers"):
        compare_gradients(loss, {"W1": [["a"]]})
    with pytest.raises(TypeError, match=r"given for 'W1' must be real numbers"):
        compare_gradients(loss, {"W1": [[1j]]})
    with pytest.raises(ValueError, match=r"given for 'W1' holds nan"):
        compare_gradients(loss, {"W1": [[math.nan]]})
    with pytest.raises(ValueError, match=r"'x' takes no gradient in this graph"):
        compare_gradients(loss, {"x": np.zeros((3, 1))})


def test_the_walkthrough_checks_the_documents_hand_derivation_with_it() -> None:
    report = compare().gradient_report()
    assert report.ok and [row.name for row in report.rows] == BACKWARD_ORDER
    z2 = next(row for row in report.rows if row.name == "z2")
    assert z2.hand == pytest.approx(EXACT_TABLE["delta2"], abs=1e-10)
