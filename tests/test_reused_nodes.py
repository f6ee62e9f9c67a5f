"""Nodes used twice and labels used twice: bugs planted by hand that the suite once missed.

Each test here was seen to fail with one bug planted (see the names): generated code that
looks gradients up by label; a step table or page that shows the running gradient where
the share belongs; a share given to the wrong operand slot when one node fills both; the
running gradient summed in another order than the steps.

References: closed forms worked out by hand in each test (derivatives of polynomials and
quotients), evaluated in plain float arithmetic or numpy float64.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from autograd_lite import (
    Tensor,
    Value,
    backward_code,
    backward_steps,
    compile_grad,
    format_backward_steps,
)
from autograd_lite.render.page import page_data

# -- two inputs (and an intermediate) with the same label ---------------------------------------
# L = m + 3 a² + b with m = a b, every one of a, b, m labelled "x":
# dL/da = b + 6a, dL/db = a + 1.


def same_labels_value(a0: float, b0: float) -> tuple[Value, Value, Value]:
    a, b = Value(a0, label="x"), Value(b0, label="x")
    m = a * b
    m.label = "x"
    return m + 3.0 * a * a + b, a, b


def same_labels_tensor(a0: Any, b0: Any) -> tuple[Tensor, Tensor, Tensor]:
    a, b = Tensor(a0, label="x"), Tensor(b0, label="x")
    m = a * b
    m.label = "x"
    return (m + 3.0 * a * a + b).sum(), a, b


def module_function(output: Any, inputs: list[Any]) -> Callable[..., Any]:
    """backward_code's module, run: the function it defines."""
    namespace: dict[str, Any] = {}
    exec(compile(backward_code(output, inputs), "<backward_code>", "exec"), namespace)
    return namespace["forward_backward"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("make", [module_function, compile_grad], ids=["module", "compiled"])
def test_two_inputs_labelled_alike_get_their_own_gradients_values(make: Any) -> None:
    loss, a, b = same_labels_value(2.0, 5.0)
    f = make(loss, [a, b])
    for a0, b0 in [(2.0, 5.0), (1.5, -2.0)]:
        value, (da, db) = f(a0, b0)
        assert value == a0 * b0 + 3 * a0 * a0 + b0
        assert (da, db) == (b0 + 6 * a0, a0 + 1)
    value, (db, da) = make(loss, [b, a])(5.0, 2.0)  # the other order: the gradients swap
    assert (da, db) == (5.0 + 12.0, 3.0)


@pytest.mark.parametrize("make", [module_function, compile_grad], ids=["module", "compiled"])
def test_two_inputs_labelled_alike_get_their_own_gradients_tensors(make: Any) -> None:
    a0, b0 = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    loss, a, b = same_labels_tensor(a0, b0)
    f = make(loss, [a, b])
    for x, y in [(a0, b0), (np.array([-0.5, 4.0]), np.array([2.0, 0.25]))]:
        value, (da, db) = f(x, y)
        assert float(value) == float(np.sum(x * y + 3 * x * x + y))
        np.testing.assert_array_equal(da, y + 6 * x)
        np.testing.assert_array_equal(db, x + 1)


# -- the share of a node used more than once ----------------------------------------------------
# y = a·a + a at a = 3: backward() hands a 1 (from +), then 3 and 3 (one per slot of a·a),
# so grad(a) runs 1, 4, 7 = 2a + 1. The share column must say 1, 3, 3, not 1, 4, 7.


def cells(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def fan_out() -> Value:
    a = Value(3.0, label="a")
    y = a * a + a
    y.label = "y"
    return y


def test_the_step_table_shows_each_share_not_the_running_gradient() -> None:
    rows = [cells(line) for line in format_backward_steps(fan_out()).splitlines()[1:6]]
    header, *steps = rows
    share, so_far = header.index("share"), header.index("grad(operand)")
    into_a = [r for r in steps if r[2] == "a"]
    assert [r[share] for r in into_a] == ["1", "3", "3"]
    assert [r[so_far] for r in into_a] == ["1", "4", "7"]


def test_the_page_shows_each_share_not_the_running_gradient() -> None:
    y = fan_out()
    steps = backward_steps(y)
    texts = [(s["text"], s["note"], s["grad"]) for s in page_data(y, steps)["backward"]]
    into_a = [t for t in texts if t[0].startswith("grad(a)")]
    assert into_a == [
        ("grad(a) += grad(y) × ∂y/∂a = 1 × 1 = 1", "grad(a) is 1 so far: 2 more uses to come", "1"),
        (
            "grad(a) += grad(t1) × ∂t1/∂a = 1 × 3 = 3",
            "grad(a) is 4 so far: 1 more use to come",
            "4",
        ),
        (
            "grad(a) += grad(t1) × ∂t1/∂a = 1 × 3 = 3",
            "grad(a) is now 7, complete: every use of a has handed its share",
            "7",
        ),
    ]


def test_tensor_shares_of_a_node_used_more_than_once() -> None:
    """Reference: y = sum(a·a + a): shares 1 (from +), then a and a; grad(a) = 2a + 1."""
    a0 = np.array([1.0, -2.0])
    a = Tensor(a0, label="a")
    y = (a * a + a).sum()
    y.label = "y"
    steps = backward_steps(y)
    into_a = [s for s in steps if s.operand is a]
    expected_shares = [np.ones(2), a0, a0]
    for row, share in zip(into_a, expected_shares, strict=True):
        np.testing.assert_array_equal(row.share, share)
    np.testing.assert_array_equal(into_a[-1].gradient, 2 * a0 + 1)
    table = [cells(line) for line in format_backward_steps(steps).splitlines()[1:7]]
    share = table[0].index("share")
    assert [r[share] for r in table[1:] if r[2] == "a"] == ["[1, 1]", "[1, -2]", "[1, -2]"]
    texts = [s["text"] for s in page_data(y, steps)["backward"] if s["text"].startswith("grad(a)")]
    assert [t.rsplit("= ", 1)[1] for t in texts] == ["[1, 1]", "[1, -2]", "[1, -2]"]


# -- one node in both slots of an op that is not commutative ------------------------------------


def test_a_quotient_of_a_node_by_itself_gives_each_slot_its_own_share() -> None:
    """Reference: y = a / a at a = 2: ∂y/∂(numerator) = 1/a = 0.5, ∂y/∂(denominator) =
    -a/a² = -0.5; grad(a) = 0, reached as -0.5 then 0 (the denominator's step comes first:
    backward() walks an op's operands last to first)."""
    a = Value(2.0, label="a")
    y = a / a
    y.label = "y"
    steps = backward_steps(y)
    assert [(s.index, s.local, s.share, s.gradient) for s in steps] == [
        (1, -0.5, -0.5, -0.5),
        (0, 0.5, 0.5, 0.0),
    ]
    table = [cells(line) for line in format_backward_steps(steps).splitlines()[2:4]]
    assert [r[4:7] for r in table] == [["-0.5", "-0.5", "-0.5"], ["0.5", "0.5", "0"]]
    data = page_data(y, steps)["backward"]
    assert [s["text"] for s in data] == [
        "grad(a) += grad(y) × ∂y/∂a = 1 × -0.5 = -0.5",
        "grad(a) += grad(y) × ∂y/∂a = 1 × 0.5 = 0.5",
    ]
    assert [s["edge"] for s in data] == ["v0-o1-2", "v0-o1"]  # the denominator's edge, then


def test_a_difference_divided_by_one_of_its_operands() -> None:
    """Reference: y = (a - b) / a at a = 2, b = 0.5: with u = a - b = 1.5, ∂y/∂u = 1/a = 0.5,
    ∂y/∂a (denominator) = -u/a² = -0.375, ∂u/∂a = 1, ∂u/∂b = -1; so grad(a) = 0.5 - 0.375
    = 0.125 and grad(b) = -0.5."""
    a, b = Value(2.0, label="a"), Value(0.5, label="b")
    y = (a - b) / a
    y.label = "y"
    steps = backward_steps(y)
    assert [(s.operand_name, s.local, s.share, s.gradient) for s in steps] == [
        ("a", -0.375, -0.375, -0.375),
        ("t1", 0.5, 0.5, 0.5),
        ("b", -1.0, -0.5, -0.5),
        ("a", 1.0, 0.5, 0.125),
    ]
    for f in (compile_grad(y, [a, b]), module_function(y, [a, b])):
        for a0, b0 in [(2.0, 0.5), (-4.0, 3.0)]:
            value, (da, db) = f(a0, b0)
            assert value == (a0 - b0) / a0
            assert da == pytest.approx(b0 / a0**2, rel=1e-15)  # d/da (1 - b/a) = b/a²
            assert db == pytest.approx(-1 / a0, rel=1e-15)


def test_the_running_gradient_follows_the_steps_order() -> None:
    """Reference: y = a·b + a·a·c at a = 2, b = -3, c = 0.5: grad(a) = b + 2ac = -1, from the
    shares b = -3 (of a·b) and c·a = 1 twice (one per slot of a·a); after each step the
    running gradient is the sum of the shares so far, in the steps' order, which the table
    and the page show."""
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(0.5, label="c")
    y = a * b + a * a * c
    steps = backward_steps(y)
    into_a = [s for s in steps if s.operand is a]
    # a·a·c is (a·a)·c: grad(a·a) = c = 0.5, so a gets 0.5·a = 1 twice; a·b gives a b = -3.
    shares = sorted(s.share for s in into_a)
    assert shares == [-3.0, 1.0, 1.0]
    running = 0.0
    for s in into_a:
        running += s.share
        assert s.gradient == running
    assert into_a[-1].gradient == -3.0 + 2 * 2.0 * 0.5 and into_a[-1].complete
    table = [cells(line) for line in format_backward_steps(steps).splitlines()[1:]]
    column = table[0].index("grad(operand)")
    rows = [r for r in table[1:] if r[0].isdigit() and r[2] == "a"]
    assert [r[column] for r in rows] == [f"{s.gradient:g}" for s in into_a]
    notes = [d["note"] for d in page_data(y, steps)["backward"] if d["text"].startswith("grad(a)")]
    assert [n.split(":")[0] for n in notes] == [
        f"grad(a) is {s.gradient:g} so far" for s in into_a[:-1]
    ] + ["grad(a) is now -1, complete"]
