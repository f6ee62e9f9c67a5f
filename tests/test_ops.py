"""Each op's value and derivative against closed forms and central finite differences."""

from __future__ import annotations

import gc
import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest

from autograd_lite import DomainError, Value
from tests.reference import central_difference

# op name -> (engine expression of x, numpy float64 function, closed-form derivative, points)
UNARY: dict[
    str,
    tuple[
        Callable[[Value], Value], Callable[[float], float], Callable[[float], float], list[float]
    ],
] = {
    "neg": (lambda v: -v, lambda x: -x, lambda x: -1.0, [-2.0, 0.0, 3.5]),
    "exp": (lambda v: v.exp(), np.exp, np.exp, [-3.0, 0.0, 0.7, 5.0]),
    "log": (lambda v: v.log(), np.log, lambda x: 1 / x, [0.01, 0.5, 1.0, 40.0]),
    "tanh": (lambda v: v.tanh(), np.tanh, lambda x: 1 / np.cosh(x) ** 2, [-4.0, -0.3, 0.0, 2.0]),
    "sigmoid": (
        lambda v: v.sigmoid(),
        lambda x: 1 / (1 + np.exp(-x)),
        lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2,
        [-6.0, -0.5, 0.0, 0.5, 6.0],
    ),
    "relu": (
        lambda v: v.relu(),
        lambda x: max(x, 0.0),
        lambda x: float(x > 0),
        [-2.0, -1e-3, 1e-3, 3.0],
    ),
    "square": (lambda v: v**2, lambda x: x**2, lambda x: 2 * x, [-3.0, 0.0, 1.5]),
    "cube": (lambda v: v**3, lambda x: x**3, lambda x: 3 * x**2, [-2.0, 0.5, 2.0]),
    "inverse": (lambda v: v**-1, lambda x: 1 / x, lambda x: -1 / x**2, [-2.0, 0.5, 3.0]),
    "sqrt": (lambda v: v**0.5, np.sqrt, lambda x: 0.5 / np.sqrt(x), [0.25, 1.0, 9.0]),
    "pow0": (lambda v: v**0, lambda x: 1.0, lambda x: 0.0, [-2.0, 0.0, 3.0]),
    "2**x": (lambda v: 2**v, lambda x: 2.0**x, lambda x: 2.0**x * np.log(2), [-1.0, 0.0, 3.0]),
}


@pytest.mark.parametrize("name", UNARY)
def test_unary_value_and_derivative(name: str) -> None:
    # References: numpy's function, the closed-form derivative, central differences of numpy's.
    expr, f, df, points = UNARY[name]
    for x in points:
        v = Value(x)
        out = expr(v)
        out.backward()
        assert out.data == pytest.approx(f(x), rel=1e-14, abs=1e-300), (name, x)
        assert v.grad == pytest.approx(df(x), rel=1e-12, abs=1e-15), (name, x)
        if name != "relu" or abs(x) > 1e-6:
            assert v.grad == pytest.approx(central_difference(f, x), rel=1e-6, abs=1e-8), (name, x)


# op name -> (engine expression, numpy float64 function, closed-form partials)
BINARY: dict[
    str,
    tuple[
        Callable[[Value, Value], Value],
        Callable[[float, float], float],
        Callable[[float, float], tuple[float, float]],
    ],
] = {
    "+": (lambda a, b: a + b, lambda a, b: a + b, lambda a, b: (1.0, 1.0)),
    "-": (lambda a, b: a - b, lambda a, b: a - b, lambda a, b: (1.0, -1.0)),
    "*": (lambda a, b: a * b, lambda a, b: a * b, lambda a, b: (b, a)),
    "/": (lambda a, b: a / b, lambda a, b: a / b, lambda a, b: (1 / b, -a / b**2)),
    "**": (
        lambda a, b: a**b,
        lambda a, b: a**b,
        lambda a, b: (b * a ** (b - 1), a**b * math.log(a)),
    ),
}
PAIRS = [(0.7, 2.5), (3.0, -1.25), (1.5, 0.5), (2.0, 3.0)]


@pytest.mark.parametrize("name", BINARY)
def test_binary_value_and_partials(name: str) -> None:
    # References: the closed-form partials and central differences in each operand.
    expr, f, partials = BINARY[name]
    for a, b in PAIRS:
        va, vb = Value(a), Value(b)
        out = expr(va, vb)
        out.backward()
        da, db = partials(a, b)
        assert out.data == pytest.approx(f(a, b), rel=1e-14)
        assert va.grad == pytest.approx(da, rel=1e-12)
        assert vb.grad == pytest.approx(db, rel=1e-12, abs=1e-15)
        assert va.grad == pytest.approx(central_difference(lambda t, b=b: f(t, b), a), rel=1e-6)
        assert vb.grad == pytest.approx(
            central_difference(lambda t, a=a: f(a, t), b), rel=1e-6, abs=1e-8
        )


@pytest.mark.parametrize("name", BINARY)
def test_binary_with_a_number_on_either_side(name: str) -> None:
    # Reference: the closed-form partial in the Value operand; the number becomes a constant leaf.
    expr, f, partials = BINARY[name]
    for a, b in PAIRS:
        left = Value(a)
        out = expr(left, b)  # type: ignore[arg-type]
        out.backward()
        assert out.data == pytest.approx(f(a, b), rel=1e-14)
        assert left.grad == pytest.approx(partials(a, b)[0], rel=1e-12)
        if name == "**":  # a number exponent is part of the op, as in "**2"
            assert out.operands == (left,) and out.op is not None and out.op.name == "**"
            assert out.op.params == {"exponent": b} and out.op.display == f"**{b:g}"
        else:
            assert out.operands[1].is_constant and out.operands[1].data == b
        right = Value(b)
        out = expr(a, right)  # type: ignore[arg-type]  # the reflected form: 2 - v, 2 / v, ...
        out.backward()
        assert out.data == pytest.approx(f(a, b), rel=1e-14)
        assert right.grad == pytest.approx(partials(a, b)[1], rel=1e-12, abs=1e-15)
        assert out.operands[0].is_constant and out.operands[0].data == a


def test_each_operator_is_its_own_recorded_op() -> None:
    a, b = Value(3.0), Value(2.0)
    names = [(a + b).op, (a - b).op, (a * b).op, (a / b).op, (a**b).op, (a**2).op, (-a).op]
    assert [op.display for op in names if op] == ["+", "-", "*", "/", "**", "**2", "neg"]
    methods = [a.exp(), a.log(), a.tanh(), a.sigmoid(), a.relu()]
    assert [m.op.name for m in methods if m.op] == ["exp", "log", "tanh", "sigmoid", "relu"]


def test_negative_base_with_integer_exponent() -> None:
    # Reference: closed form d/dx x**3 = 3x**2 at x = -2, and x**-2 -> -2 x**-3.
    x = Value(-2.0)
    (x**3).backward()
    assert x.grad == 12.0
    y = Value(-2.0)
    (y**-2).backward()
    assert y.grad == 0.25  # -2 * (-2)**-3, exact in binary


def test_relu_derivative_at_zero_is_zero() -> None:
    # PyTorch's convention, documented on Value.relu.
    x = Value(0.0)
    x.relu().backward()
    assert x.grad == 0.0


def test_sigmoid_and_tanh_are_stable_for_large_inputs() -> None:
    # Reference: the limits 0, 1, -1, 1 and derivative 0; no overflow warning or exception.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lo, hi = Value(-800.0), Value(800.0)
        s_lo, s_hi = lo.sigmoid(), hi.sigmoid()
        assert 0.0 <= s_lo.data < 1e-300
        assert s_hi.data == 1.0
        s_lo.backward()
        s_hi.backward()
        assert lo.grad == pytest.approx(0.0, abs=1e-300) and hi.grad == 0.0
        t_lo, t_hi = Value(-800.0).tanh(), Value(800.0).tanh()
        assert (t_lo.data, t_hi.data) == (-1.0, 1.0)
        for x in (-1e308, -745.0, -37.0, 37.0, 1e308):
            s = Value(x).sigmoid().data
            with np.errstate(over="ignore"):
                expected = 1 / (1 + np.exp(np.float64(-x)))
            assert 0.0 <= s <= 1.0 and s == pytest.approx(expected, rel=1e-15, abs=1e-300)


def test_exp_overflow_gives_inf_without_exception() -> None:
    # Reference: numpy's exp(1000) (inf, under errstate so numpy itself stays quiet).
    with np.errstate(over="ignore"):
        expected = float(np.exp(np.float64(1000.0)))
    x = Value(1000.0)
    y = x.exp()
    assert y.data == expected == math.inf
    y.backward()
    assert x.grad == math.inf


TWO = Value(2.0)


def count_values() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is Value)


DOMAIN_ERRORS: list[tuple[str, Callable[[Value], object], float, list[str]]] = [
    ("log of 0", lambda v: v.log(), 0.0, ["log", "0.0"]),
    ("log of negative", lambda v: v.log(), -2.5, ["log", "-2.5"]),
    ("division by zero", lambda v: 1.5 / v, 0.0, ["/", "1.5", "0.0", "zero"]),
    ("division of a Value by 0", lambda v: v / 0, 3.0, ["/", "3.0", "zero"]),
    ("0 to a negative power", lambda v: v**-1, 0.0, ["**", "0.0", "-1"]),
    ("negative base, non-integer power", lambda v: v**0.5, -4.0, ["**", "-4.0", "0.5"]),
    ("Value exponent, base 0", lambda v: v**TWO, 0.0, ["**", "0.0", "> 0"]),
    ("Value exponent, negative base", lambda v: v**TWO, -3.0, ["**", "-3.0"]),
    ("number base <= 0, Value exponent", lambda v: (-2.0) ** v, 2.0, ["**", "-2.0"]),
]


@pytest.mark.parametrize("case", DOMAIN_ERRORS, ids=[c[0] for c in DOMAIN_ERRORS])
def test_domain_errors_name_the_op_and_value_and_change_nothing(
    case: tuple[str, Callable[[Value], object], float, list[str]],
) -> None:
    _, apply, x, words = case
    v = Value(x, label="v")
    w = v * 1.0  # an existing graph, which the failed op must leave as it was
    w.backward()
    before = (count_values(), v.grad, w.grad, w.operands)
    with pytest.raises(DomainError) as info:
        apply(v)
    assert isinstance(info.value, ValueError)
    for word in words:
        assert word in str(info.value)
    assert (count_values(), v.grad, w.grad, w.operands) == before


@pytest.mark.parametrize(
    "bad", ["1.0", None, 1 + 2j, [1.0], (1.0,), np.complex128(1), np.array([1.0])]
)
def test_value_rejects_non_real_data(bad: object) -> None:
    with pytest.raises(TypeError) as info:
        Value(bad)  # type: ignore[arg-type]
    message = str(info.value)
    assert type(bad).__name__ in message and "int, float" in message


def test_value_inside_a_value_is_rejected() -> None:
    with pytest.raises(TypeError, match=r"a Value is not accepted here.*x\.data.*detach"):
        Value(Value(1.0))  # type: ignore[arg-type]


def test_value_accepts_numpy_real_scalars_as_python_floats() -> None:
    for x in (np.float32(1.5), np.float64(-2.25), np.int64(7), np.int8(-3), True, 10**20):
        v = Value(x)  # type: ignore[arg-type]
        assert type(v.data) is float and v.data == float(x)
    mixed = np.float64(2.0) * Value(3.0)
    assert isinstance(mixed, Value) and mixed.data == 6.0


@pytest.mark.parametrize("bad", ["2", None, [1.0], 1j])
def test_operators_with_unsupported_operands_raise_type_error(bad: object) -> None:
    v = Value(1.0)
    with pytest.raises(TypeError, match="unsupported operand"):
        v + bad  # type: ignore[operator]
    with pytest.raises(TypeError, match="Value"):
        bad * v  # type: ignore[operator]


def test_label_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)  # type: ignore[arg-type]


def test_value_basics() -> None:
    v = Value(2, label="w")
    assert (v.data, v.grad, v.label, v.item()) == (2.0, 0.0, "w", 2.0)
    assert repr(v) == "Value(2.0, grad=0.0, label='w')"
    assert v.is_leaf and v.op is None and v.operands == () and not v.is_constant
    u = Value(2.0)
    assert v != u and len({v, u, v}) == 2  # identity, not data
    d = v.detach()
    assert d is not v and d.data == v.data and d.is_leaf
