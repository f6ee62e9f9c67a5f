"""gradcheck and gradgradcheck: they pass on correct rules and catch wrong ones.

References: the failing cases compare the table with the wrong rule's value worked out in the
test and with central finite differences of a closed form, in numpy float64.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from autograd_lite import GradcheckError, Node, Op, Value, gradcheck, gradgradcheck, no_grad
from tests.reference import central_difference

Fn = Callable[..., Any]

# Every built-in op, with operands away from kinks and domain edges.
BUILTIN_CASES: list[tuple[str, Fn, list[float]]] = [
    ("add", lambda a, b: a + b, [0.7, -1.3]),
    ("add number", lambda a: 2.5 + a, [0.7]),
    ("sub", lambda a, b: a - b, [0.7, -1.3]),
    ("rsub", lambda a: 3.0 - a, [0.7]),
    ("mul", lambda a, b: a * b, [0.7, -1.3]),
    ("square by mul", lambda a: a * a, [-0.8]),
    ("div", lambda a, b: a / b, [0.7, -1.3]),
    ("rdiv", lambda a: 2.0 / a, [0.7]),
    ("neg", lambda a: -a, [0.7]),
    ("pow 3", lambda a: a**3, [-1.2]),
    ("pow 2 negative base", lambda a: a**2, [-0.6]),
    ("pow -2", lambda a: a**-2, [1.4]),
    ("pow 0.5", lambda a: a**0.5, [2.0]),
    ("pow 2.5", lambda a: a**2.5, [0.9]),
    ("pow 0", lambda a: a**0, [0.9]),
    ("pow Value", lambda a, b: a**b, [1.7, 0.6]),
    ("number ** Value", lambda b: 2.0**b, [0.6]),
    ("exp", lambda a: a.exp(), [0.4]),
    ("log", lambda a: a.log(), [0.4]),
    ("tanh", lambda a: a.tanh(), [0.4]),
    ("sigmoid", lambda a: a.sigmoid(), [-0.4]),
    ("relu positive", lambda a: a.relu(), [0.4]),
    ("relu negative", lambda a: a.relu(), [-0.4]),
]

COMPOSITE_CASES: list[tuple[str, Fn, list[float]]] = [
    ("document loss", lambda w1, b1, w2, b2: 0.5 * (1.0 - ((1.0 * w1 + b1).sigmoid() * w2 + b2)
     .sigmoid()) ** 2, [0.4, 0.1, 0.3, 0.2]),
    ("quotient of products", lambda a, b, c: (a * b + c) / (a - c * c), [0.3, -1.1, 0.8]),
    ("nested", lambda a, b: ((a * b).tanh() + b.exp() * a.sigmoid()).log(), [0.5, 0.2]),
    ("reused node", lambda a: (lambda t: t * t + t.exp() / t)(a * a + 1.0), [0.6]),
    ("power tower", lambda a, b: (a**b) ** (b + 1.0) * (a + b).relu(), [1.3, 0.7]),
]  # fmt: skip


def ids(cases: list[tuple[str, Fn, list[float]]]) -> list[str]:
    return [c[0] for c in cases]


def table_rows(message: str) -> list[list[str]]:
    """The table's rows split at runs of two or more spaces (the header is the first row)."""
    lines = message.splitlines()[1:]
    return [re.split(r"\s{2,}", line.strip()) for line in lines]


def cell(row: list[str], k: int) -> str:
    return row[k].strip()


@pytest.mark.parametrize(("name", "fn", "inputs"), BUILTIN_CASES, ids=ids(BUILTIN_CASES))
def test_gradcheck_passes_on_builtin_ops(name: str, fn: Fn, inputs: list[float]) -> None:
    assert gradcheck(fn, inputs) is True


@pytest.mark.parametrize(("name", "fn", "inputs"), BUILTIN_CASES, ids=ids(BUILTIN_CASES))
def test_gradgradcheck_passes_on_builtin_ops(name: str, fn: Fn, inputs: list[float]) -> None:
    assert gradgradcheck(fn, inputs) is True


@pytest.mark.parametrize(("name", "fn", "inputs"), COMPOSITE_CASES, ids=ids(COMPOSITE_CASES))
def test_checks_pass_on_composite_expressions(name: str, fn: Fn, inputs: list[float]) -> None:
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


# A square whose rule claims d(x**2)/dx = 3x: wrong at first order.
bad_square = Op("bad_square", lambda x: x * x, lambda g, out, x: (g * 3 * x,))


def test_gradcheck_catches_a_wrong_rule_and_tabulates_it() -> None:
    x0, y0 = 1.5, -0.75
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, y: bad_square(x) + 2.0 * y, [Value(x0, label="x"), y0])
    err = info.value
    assert isinstance(err, AssertionError)
    message = str(err)
    assert message.startswith("gradcheck failed: 1 of 2 entries")
    header, row_x, row_y, fault = table_rows(message)
    assert fault[0].startswith("the rule at fault: op 'bad_square'")
    assert header == ["input", "label", "value", "analytical", "numerical", "difference"]
    # The wrong rule gives 3 * x0 = 4.5; the truth, by differences of x**2, is 2 * x0 = 3.
    wrong_rule = 3 * x0
    numerical = central_difference(lambda t: t * t, x0)
    assert row_x[-1].strip() == "<-- FAIL"
    assert [cell(row_x, k) for k in range(3)] == ["0", "x", "1.5"]
    assert float(cell(row_x, 3)) == wrong_rule
    assert float(cell(row_x, 4)) == pytest.approx(numerical, abs=1e-8)
    assert float(cell(row_x, 5)) == pytest.approx(wrong_rule - numerical, abs=1e-8)
    # The y row passes and is not marked; an unlabelled input shows "-".
    assert "FAIL" not in " ".join(row_y)
    assert [cell(row_y, k) for k in range(3)] == ["1", "-", "-0.75"]
    assert float(cell(row_y, 3)) == 2.0
    # The same numbers, structured.
    assert [r["ok"] for r in err.rows] == [False, True]
    assert err.rows[0]["analytical"] == wrong_rule
    assert err.rows[0]["numerical"] == pytest.approx(numerical, abs=1e-8)


def number(x: Any) -> float:
    """x's number, taken out of the graph on purpose (float() of a Value is refused)."""
    return x.item() if isinstance(x, Node) else float(x)


# sin with a rule whose first derivative is right but built from math.cos of the operand's
# number, a constant, so the rule's own derivative (the second derivative) is lost.
detached_sin = Op("detached_sin", math.sin, lambda g, out, x: (g * math.cos(number(x)),))


def test_gradcheck_passes_but_gradgradcheck_catches_a_wrong_second_order_rule() -> None:
    x0 = 0.3
    fn = lambda x, y: detached_sin(x) * y  # noqa: E731
    assert gradcheck(fn, [x0, 2.0])
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(fn, [Value(x0, label="x"), Value(2.0, label="y")])
    message = str(info.value)
    assert message.startswith("gradgradcheck failed: 1 of 4 entries")
    header, *rows = table_rows(message)
    assert header == ["entry", "labels", "values", "analytical", "numerical", "difference"]
    by_entry = {cell(r, 0): r for r in rows}
    # d²/dx² of sin(x) y: the rule's Value form g * (a float) has derivative 0; the truth,
    # by differences of the closed-form first derivative cos(x) y, is -sin(x) y.
    xx = by_entry["(0, 0)"]
    assert cell(xx, 1) == "x, x"
    assert cell(xx, 2) == "(0.3, 0.3)"
    assert float(cell(xx, 3)) == 0.0
    expected = central_difference(lambda t: np.cos(t) * 2.0, x0)
    assert float(cell(xx, 4)) == pytest.approx(expected, abs=1e-8)
    assert expected == pytest.approx(-math.sin(x0) * 2.0, rel=1e-8)
    assert cell(xx, -1) == "<-- FAIL"
    # The mixed entries cos(x) are right (the y factor stays in the graph), yy is 0.
    for entry in ["(0, 1)", "(1, 0)", "(1, 1)"]:
        assert "FAIL" not in " ".join(by_entry[entry])
    assert float(cell(by_entry["(0, 1)"], 3)) == pytest.approx(math.cos(x0), rel=1e-9)


def test_gradgradcheck_catches_a_rule_that_returns_plain_floats() -> None:
    # number(g) drops the graph entirely: grad(create_graph=True) returns a float, not a Value.
    square = Op("float_square", lambda x: x * x, lambda g, out, x: (number(g) * 2 * number(x),))
    assert gradcheck(lambda x: square(x), [1.25])
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(lambda x: square(x), [1.25])
    (row,) = info.value.rows
    assert row["analytical"] == 0.0
    assert row["numerical"] == pytest.approx(2.0, abs=1e-8)


def test_criterion_is_atol_plus_rtol_times_numerical() -> None:
    # f(x) = 2x with a rule off by `delta`; differences of a linear function are exact to ~1e-10.
    def off_by(delta: float) -> Fn:
        op = Op("twice", lambda x: 2 * x, lambda g, out, x: (g * (2.0 + delta),))
        return lambda x: op(x)

    atol, rtol = 1e-5, 1e-3
    bound = atol + rtol * 2.0
    assert gradcheck(off_by(0.9 * bound), [0.7], atol=atol, rtol=rtol)
    assert gradcheck(off_by(-0.9 * bound), [0.7], atol=atol, rtol=rtol)
    with pytest.raises(GradcheckError):
        gradcheck(off_by(1.1 * bound), [0.7], atol=atol, rtol=rtol)
    # Tighter tolerances catch the small error that the defaults accept.
    assert gradcheck(off_by(1e-4), [0.7])
    with pytest.raises(GradcheckError):
        gradcheck(off_by(1e-4), [0.7], atol=1e-7, rtol=1e-7)


def test_nan_derivative_fails() -> None:
    nan_rule = Op("nan_rule", lambda x: x, lambda g, out, x: (g * math.nan,))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: nan_rule(x), [0.5])
    assert "nan" in str(info.value)


def test_value_inputs_give_data_and_label_and_are_not_touched() -> None:
    a = Value(0.5, label="a")
    seen: list[Value] = []

    def fn(x: Value) -> Value:
        seen.append(x)
        return x * x

    assert gradcheck(fn, [a])
    assert a.grad == 0.0
    assert all(v is not a for v in seen)
    assert seen[0].label == "a" and seen[0].data == 0.5


def test_checks_work_inside_no_grad() -> None:
    with no_grad():
        assert gradcheck(lambda x: x.exp() * x, [0.3])
        assert gradgradcheck(lambda x: x.exp() * x, [0.3])


def test_accepts_numpy_scalars_and_arrays() -> None:
    assert gradcheck(lambda x, y: x * y, np.array([0.5, 2.0]))
    assert gradcheck(lambda x, y: x * y, [np.float32(0.5), np.int64(2)])


def test_a_probe_that_leaves_the_domain_says_so_and_suggests_a_smaller_eps() -> None:
    # log at 1e-7 - 1e-6 < 0 is outside log's domain: the probe, not the user, left it.
    with pytest.raises(ValueError, match=r"probes of input 0 .* left fn's domain .*log.*eps=1e-10"):
        gradcheck(lambda x: x.log(), [1e-7], eps=1e-6)
    with pytest.raises(ValueError, match="left fn's domain"):
        gradgradcheck(lambda x: x.log(), [1e-7], eps=1e-6)
    # With the suggested eps it passes. Reference: d/dx log x = 1/x = 1e7.
    assert gradcheck(lambda x: x.log(), [1e-7], eps=1e-10)


def test_the_difference_is_divided_by_the_step_actually_taken() -> None:
    # At x = 1e10 the spacing of floats is 2**-19 ≈ 1.9e-6, so x ± 1e-6 rounds to x ± 1.9e-6.
    # Reference: d/dx x = 1 exactly; dividing by 2 eps instead would give about 1.9.
    assert gradcheck(lambda x: x * 1.0, [1e10], eps=1e-6, atol=0.0, rtol=1e-12)


@pytest.mark.parametrize("check", [gradcheck, gradgradcheck])
@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"eps": 0.0}, ValueError, "eps"),
        ({"eps": -1e-6}, ValueError, "eps"),
        ({"eps": math.nan}, ValueError, "eps"),
        ({"eps": math.inf}, ValueError, "eps"),
        ({"atol": -1.0}, ValueError, "atol"),
        ({"rtol": -1e-3}, ValueError, "rtol"),
        ({"rtol": math.inf}, ValueError, "rtol"),
        ({"eps": "1e-6"}, TypeError, "eps"),
        ({"inputs": []}, ValueError, "empty"),
        ({"inputs": "12"}, TypeError, "inputs"),
        ({"inputs": 1.0}, TypeError, "inputs"),
        ({"inputs": Value(1.0)}, TypeError, "inputs"),
        ({"inputs": [1.0, math.nan]}, ValueError, "inputs[1]"),
        ({"inputs": [1.0, "2"]}, TypeError, "inputs[1]"),
        ({"fn": 3}, TypeError, "callable"),
        ({"fn": lambda x: 2.0}, TypeError, "Value"),
        ({"fn": lambda x: (x, x)}, TypeError, "Value"),
    ],
)
def test_argument_validation(
    check: Callable[..., bool], kwargs: dict[str, Any], error: type[Exception], words: str
) -> None:
    args: dict[str, Any] = {"fn": lambda x: x * x, "inputs": [1.0]}
    args.update(kwargs)
    with pytest.raises(error) as info:
        check(**args)
    assert words in str(info.value)
    assert check.__name__ in str(info.value)


@pytest.mark.parametrize("check", [gradcheck, gradgradcheck])
def test_options_are_keyword_only_and_an_unknown_one_names_the_check(check: Any) -> None:
    # Reference: PyTorch's gradcheck(func, inputs, *, eps, atol, rtol, ...) and Python's own
    # message for an unexpected keyword of a public function.
    name = check.__name__
    with pytest.raises(TypeError, match="positional argument"):
        check(lambda x: x * x, [0.5], 1e-6)
    with pytest.raises(TypeError, match=rf"^{name}\(\) got an unexpected keyword argument 'tol'$"):
        check(lambda x: x * x, [0.5], tol=1e-6)
    # Reference: d/dx x**2 = 2x and d2/dx2 = 2, exact in the differences, so the tightest
    # tolerances pass and the keywords reach the check.
    assert check(lambda x: x * x, [0.5], eps=1e-3, atol=1e-9, rtol=0.0)
