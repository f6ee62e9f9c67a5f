"""backward_steps and format_backward_steps: the chain-rule steps of backward() as a table.

References: the document's hand formulas (autograd_lite/walkthrough/hand.py, plain floats, no
Value) and its exact table (tests/reference.py); closed-form derivatives worked out in each
test; central finite differences of each op's forward in float64 for the local derivatives of
random graphs; tests/reference.py's textbook sweep for the final gradients.
"""

from __future__ import annotations

import math
import random
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from autograd_lite import Dual, Tensor, Value, backward_steps, format_backward_steps
from autograd_lite.notation import formula
from autograd_lite.render.step_table import BackwardSteps, node_names
from autograd_lite.walkthrough import build_network, hand_derivation

from .reference import EXACT_TABLE, central_difference, gradient_sizes, textbook_gradients
from .test_core import _random_graph


def _row(steps: BackwardSteps, result: str, operand: str) -> Any:
    (found,) = [s for s in steps if (s.result_name, s.operand_name) == (result, operand)]
    return found


def test_the_document_network_rows_hold_the_hand_formulas() -> None:
    # Reference: hand.py's formulas: dL/dy_hat = y_hat - y, dy_hat/dz2 = y_hat (1 - y_hat),
    # delta2 = their product = dL/db2, dL/dw2 = delta2 h, dz2/dh = w2, dL/dh = delta2 w2,
    # dh/dz1 = h (1 - h), delta1 = dL/dh dh/dz1 = dL/db1, dL/dw1 = delta1 x.
    hd = hand_derivation()
    net = build_network()
    steps = backward_steps(net.L)
    close = {"rel": 1e-12, "abs": 1e-15}
    into_z2 = _row(steps, "ŷ", "z2")
    assert into_z2.upstream == pytest.approx(hd.dL_dy_hat, **close)
    assert into_z2.local == pytest.approx(hd.dy_hat_dz2, **close)
    assert into_z2.share == pytest.approx(hd.delta2, **close)
    assert _row(steps, "z2", "b2").gradient == pytest.approx(hd.dL_db2, **close)
    w2 = _row(steps, "t2", "w2")
    assert w2.local == pytest.approx(hd.h, **close)
    assert w2.gradient == pytest.approx(hd.dL_dw2, **close)
    h = _row(steps, "t2", "h")
    assert h.upstream == pytest.approx(hd.delta2, **close)
    assert h.local == 0.3  # dz2/dh = w2
    assert h.share == pytest.approx(hd.dL_dh, **close)
    z1 = _row(steps, "h", "z1")
    assert z1.local == pytest.approx(hd.dh_dz1, **close)
    assert z1.gradient == pytest.approx(hd.delta1, **close)
    assert _row(steps, "z1", "b1").gradient == pytest.approx(hd.dL_db1, **close)
    assert _row(steps, "t1", "w1").gradient == pytest.approx(hd.dL_dw1, **close)
    # Each of the 14 non-constant nodes below L gets its gradient in one share; the
    # constant 0.5 is left out, as the drawing leaves out its grad.
    assert len(steps) == 14 and steps.hidden == 1
    assert all(s.first and s.complete for s in steps)
    assert [s.number for s in steps] == list(range(1, 15))
    assert net.w2.grad == 0.0  # nothing was written


def test_the_document_table_prints_the_exact_column() -> None:
    # Reference: the seed document's exact column (tests/reference.py), to 4 digits.
    text = format_backward_steps(build_network().L)
    for name in ("delta2", "dL_dw2", "dL_dh", "delta1"):
        assert f"{EXACT_TABLE[name]:.4g}" in text, name
    lines = text.splitlines()
    assert lines[0] == "backward() from L, step by step (grad(L) = 1 to start):"
    assert lines[1].split() == [
        "step", "result", "operand", "grad(result)", "∂result/∂operand", "share",
        "grad(operand)",
    ]  # fmt: skip
    row9 = lines[2 + 8].split()
    assert row9 == ["9", "t2", "h", "-0.09744", "0.3", "-0.02923", "-0.02923", "complete"]
    assert "where t1 = x * w1" in text and "t4 = t3**2" in text
    assert "1 step into constants left out (constants=True shows them)." in text


def _cells(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def test_fan_out_accumulates_share_by_share() -> None:
    # Reference: y = a * a + a with a = 3: dy/da = 2a + 1 = 7, reached as 1, then 3 and 3.
    a = Value(3.0, label="a")
    y = a * a + a
    into_a = [s for s in backward_steps(y) if s.operand is a]
    assert [s.share for s in into_a] == [1.0, 3.0, 3.0]
    assert [s.local for s in into_a] == [1.0, 3.0, 3.0]
    assert [s.gradient for s in into_a] == [1.0, 4.0, 7.0]
    assert [s.complete for s in into_a] == [False, False, True]
    rows = [_cells(line) for line in format_backward_steps(y).splitlines()[2:6]]
    assert [(r[2], r[-2], r[-1]) for r in rows] == [
        ("a", "1", "so far"), ("t1", "1", "complete"), ("a", "4", "so far"), ("a", "7", "complete")
    ]  # fmt: skip


def test_constants_are_shown_on_request() -> None:
    # Reference: L = 0.5 * u with u = 3: d(L)/d(0.5) = u = 3, d(L)/du = 0.5.
    u = Value(3.0, label="u")
    loss = 0.5 * u
    steps = backward_steps(loss, constants=True)
    assert [(s.operand_name, s.local, s.share) for s in steps] == [
        ("u", 0.5, 0.5),
        ("0.5", 3.0, 3.0),
    ]
    assert steps.hidden == 0 and len(backward_steps(loss)) == 1


def test_the_seed_scales_every_row() -> None:
    # Reference: d(2x)/dx = 2; seeded with 3, the share is 6.
    x = Value(1.0, label="x")
    (row,) = backward_steps(x * 2.0, 3.0)
    assert (row.upstream, row.local, row.share) == (3.0, 2.0, 6.0)


def test_tensor_rows_give_the_share_and_no_local_derivative() -> None:
    # Reference: L = sum(x * b) with x (2, 3) and b (3,) broadcast over its rows:
    # dL/db = column sums of x; dL/dx = b in every row (x takes no gradient here).
    xs = np.arange(6.0).reshape(2, 3)
    x = Tensor(xs, label="x", requires_grad=False)
    b = Tensor([1.0, 2.0, 3.0], label="b")
    loss = (x * b).sum()
    steps = backward_steps(loss)
    assert all(s.local is None for s in steps)
    assert [(s.result_name, s.operand_name) for s in steps] == [("t2", "t1"), ("t1", "b")]
    assert _row(steps, "t1", "b").gradient.tolist() == xs.sum(axis=0).tolist()
    assert steps.hidden == 1  # x: requires_grad=False
    text = str(steps)
    assert "∂result/∂operand" not in text.splitlines()[1]
    assert "a Jacobian for Tensors" in text and "[3, 5, 7]" in text
    shown = backward_steps(loss, constants=True)
    (into_x,) = [s for s in shown if s.operand is x]
    assert into_x.share is None and " - " in str(shown)


def test_large_tensors_show_their_shape() -> None:
    # Reference: a (3, 4) gradient has 12 elements, more than the 6 a box shows.
    w = Tensor(np.ones((3, 4)), label="W")
    text = format_backward_steps((w * 2.0).sum())
    assert "(3, 4) array" in text


def test_names_labels_constants_and_made_up_names() -> None:
    # Reference: the naming rules of step_table's docstring, worked by hand.
    a, b = Value(1.0, label="t1"), Value(2.0, label="x")
    c = Value(3.0, label="x")  # the same label again
    d = Value(4.0)  # no label
    y = (a * b + c) * d + 2.5
    names = backward_steps(y, constants=True).names
    assert names[a] == "t1" and names[b] == "x" and names[c] == "x#2" and names[d] == "leaf1"
    assert sorted(n for n in names.values() if n.startswith("t")) == ["t1", "t2", "t3", "t4", "t5"]
    text = format_backward_steps(y, constants=True)
    assert "2.5" in text and "leaf1, leaf2, ...: leaves without a label" in text


def test_labels_show_literally_on_one_line() -> None:
    # Reference: repr's escapes for a line break; HTML is plain text in a table.
    a = Value(1.0, label="<b>a</b>\n'q'")
    names = node_names([a])
    assert names[a] == "<b>a</b>\\n'q'"


@pytest.mark.parametrize(
    ("display", "args", "expected"),
    [
        ("*", ["x", "w1"], "x * w1"),
        ("-", ["1", "-0.5"], "1 - (-0.5)"),
        ("sigmoid", ["z1"], "sigmoid(z1)"),
        ("**2", ["-0.4"], "(-0.4)**2"),
        ("[0, :]", ["x"], "x[0, :]"),
        ("sum(axis=(1,))", ["t1"], "sum(t1, axis=(1,))"),
        ("reshape(64, 1)", ["t"], "reshape(t, 64, 1)"),
        ("fma", ["a", "b", "c"], "fma(a, b, c)"),
    ],
)
def test_formulas_read_as_written(display: str, args: list[str], expected: str) -> None:
    # Reference: how each expression is written by hand.
    assert formula(display, args) == expected


@given(st.integers(0, 10**9), st.integers(1, 5), st.integers(1, 25))
@example(seed=240, n_leaves=1, n_ops=22)  # a sum that cancels (see below)
def test_random_graphs_local_derivatives_and_gradients(
    seed: int, n_leaves: int, n_ops: int
) -> None:
    # References: each local derivative by central differences of the op's forward in
    # float64; the final gradients by tests/reference.py's textbook sweep, which adds the
    # shares in another order: the two agree to rounding relative to the size of the terms
    # (reference.gradient_sizes), not to a sum that cancels (seed 240: -1.0000000000003 +
    # 1.0 + 2e-12).
    root, _ = _random_graph(random.Random(seed), n_leaves, n_ops)
    expected = textbook_gradients(root)
    size = gradient_sizes(root)
    steps = backward_steps(root, constants=True)
    for row in steps:
        datas = [x.data for x in row.result.operands]

        def f(t: float, row: Any = row, datas: list[float] = datas) -> float:
            args = list(datas)
            args[row.index] = t
            return float(row.result.op.forward(*args))

        x0 = datas[row.index]
        if row.result.op.name == "relu" and abs(x0) < 1e-4:
            continue  # a kink: no derivative to difference
        # The difference loses about eps * |f| / h to rounding when f is large.
        h = 1e-6 * max(1.0, abs(x0))
        rounding = 1e-14 * max(1.0, abs(f(x0))) / h
        assert row.local == pytest.approx(central_difference(f, x0), rel=1e-5, abs=1e-6 + rounding)
        assert row.share == pytest.approx(row.upstream * row.local, rel=1e-12, abs=1e-300)
        if row.complete:
            tolerance = 1e-12 * size[row.operand] + 1e-300
            assert row.gradient == pytest.approx(expected[row.operand], rel=1e-12, abs=tolerance)


def test_a_leaf_has_no_steps() -> None:
    x = Value(2.0, label="x")
    steps = backward_steps(x)
    assert len(steps) == 0
    assert "(no steps: x has no operands)" in str(steps)
    assert repr(steps) == "<BackwardSteps of x: 0 steps, 0 left out>"


def test_a_deep_chain_has_no_recursion_error() -> None:
    # Reference: d/dx of x * 1 + 0 applied 20,000 times is 1.
    x = Value(1.0, label="x")
    y = x
    for _ in range(20_000):
        y = y * 1.0 + 0.0
    assert backward_steps(y)[-1].gradient == 1.0


def test_errors_name_the_function_and_the_value() -> None:
    with pytest.raises(
        TypeError, match="backward_steps: output must be a Value or a Tensor, got float"
    ):
        backward_steps(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"got Dual: .* \(forward mode has no backward steps\)"):
        backward_steps(Dual(1.0, 1.0) * 2.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="backward_steps: constants must be True or False"):
        backward_steps(Value(1.0), constants=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"backward_steps: the output has shape \(2,\)"):
        backward_steps(Tensor([1.0, 2.0]) * 2.0)
    with pytest.raises(RuntimeError, match="backward_steps: this tensor does not depend"):
        backward_steps(Tensor([1.0], requires_grad=False) * 2.0)
    with pytest.raises(TypeError, match="backward_steps: gradient"):
        backward_steps(Value(1.0), "1")
    with pytest.raises(ValueError, match="format_backward_steps: precision must be an int from 1"):
        format_backward_steps(Value(1.0), precision=0)
    with pytest.raises(TypeError, match="format_backward_steps: expected an output Value"):
        format_backward_steps([1.0])  # type: ignore[arg-type]
    assert math.isfinite(backward_steps(Value(1.0) * 2.0)[0].share)
