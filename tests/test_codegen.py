"""backward_code and compile_grad on Value graphs: the generated code against the engine.

Reference: the engine itself, by design: the generated code must repeat `backward()`'s float
operations one for one, so its results are compared bit for bit (-0.0 and nan included) with
the graph's `.data` and with `grad()` (the gradients `backward()` adds to a zeroed `.grad`),
on random graphs of every op, shared nodes and constants (hypothesis). The compiled function
is compared on fresh inputs with building the expression again from them and calling
`grad()`, so relu, abs, maximum and the others are met on both sides of their kinks. The
document's network is also checked against the document's exact table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_lite import (
    CodegenError,
    DomainError,
    Op,
    Tensor,
    Value,
    backward_code,
    compile_grad,
    grad,
    ops,
)
from autograd_lite.codegen.names import Names, identifier
from autograd_lite.engine.array_ops import maximum_op
from autograd_lite.walkthrough.network import build_network
from tests.codegen_helpers import run_module, same
from tests.reference import EXACT_TABLE


def _fma_forward(a: float, b: float, c: float) -> float:
    return a * b + c


FMA = Op(
    "fma",
    _fma_forward,
    lambda g, out, a, b, c: (g * b, g * a, g),
    emit=lambda a, b, c: f"_fma_forward({a}, {b}, {c})",
)
"""A custom op of three operands whose emit form calls a helper of this module."""

OPS: dict[str, tuple[int, Callable[..., Any]]] = {
    "add": (2, lambda a, b: a + b),
    "sub": (2, lambda a, b: a - b),
    "mul": (2, lambda a, b: a * b),
    "div": (2, lambda a, b: a / (b * b + 0.5)),
    "rdiv": (1, lambda a: 1.5 / (a * a + 1.0)),
    "neg": (1, lambda a: -a),
    "exp": (1, lambda a: a.exp()),
    "log": (1, lambda a: (a * a + 0.1).log()),
    "tanh": (1, lambda a: a.tanh()),
    "sigmoid": (1, lambda a: a.sigmoid()),
    "relu": (1, lambda a: a.relu()),
    "abs": (1, lambda a: abs(a)),
    "sqrt": (1, lambda a: (a * a).sqrt()),
    "step": (1, lambda a: ops.step(a)),
    "sign": (1, lambda a: ops.sign(a)),
    "square": (1, lambda a: a**2),
    "cube": (1, lambda a: a**3),
    "pow0": (1, lambda a: a**0),
    "root": (1, lambda a: (a * a + 0.1) ** 0.5),
    "inverse": (1, lambda a: (a * a + 0.1) ** -1.5),
    "powv": (2, lambda a, b: (a * a + 0.5) ** b),
    "rpow": (1, lambda a: 2.0**a),
    "maximum": (2, lambda a, b: maximum_op(a, b)),
    "fma": (3, lambda a, b, c: FMA(a, b, c)),
    "plus_c": (1, lambda a: a + 0.25),
    "c_minus": (1, lambda a: 1.0 - a),
    "times_c": (1, lambda a: a * -0.75),
}

Program = tuple[int, list[tuple[str, list[int]]]]
"""How many leaves, then each op and the pool indices of its operands (leaves, then results)."""


@st.composite
def programs(draw: st.DrawFn, max_ops: int = 25) -> Program:
    """A random expression: each op takes any earlier value, so nodes are shared."""
    leaves = draw(st.integers(1, 4))
    steps = []
    for i in range(draw(st.integers(1, max_ops))):
        kind = draw(st.sampled_from(sorted(OPS)))
        arity = OPS[kind][0]
        steps.append((kind, [draw(st.integers(0, leaves + i - 1)) for _ in range(arity)]))
    return leaves, steps


def build(program: Program, values: list[float]) -> tuple[Value, list[Value]]:
    """The program's expression on leaves holding `values`; the output adds the last three
    results, so that most of the graph is used."""
    count, steps = program
    leaves = [Value(v, label=f"x{i}") for i, v in enumerate(values[:count])]
    pool: list[Value] = list(leaves)
    for kind, args in steps:
        pool.append(OPS[kind][1](*[pool[a] for a in args]))
    out = pool[-1]
    for x in pool[-3:-1]:
        out = out + x
    return out, leaves


VALUES = st.lists(
    st.one_of(
        st.floats(-3.0, 3.0, allow_subnormal=False),
        st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5]),  # the kinks of relu, abs, maximum, step
    ),
    min_size=4,
    max_size=4,
)


@given(programs(), VALUES)
def test_the_generated_module_gives_the_graphs_values_and_grads_bit_for_bit(
    program: Program, values: list[float]
) -> None:
    out, leaves = build(program, values)
    for compact in (False, True):
        f = run_module(backward_code(out, leaves, compact=compact))
        value, grads = f(*[x.data for x in leaves])
        assert same(value, out.data)
        assert same(grads, grad(out, leaves))


@given(programs(), VALUES, VALUES, st.integers(0, 4))
def test_the_compiled_function_on_new_inputs_equals_rebuilding_the_graph(
    program: Program, recorded: list[float], fresh: list[float], frozen: int
) -> None:
    out, leaves = build(program, recorded)
    inputs = leaves[frozen:] or leaves  # the others keep their recorded values
    f = compile_grad(out, inputs)
    kept = len(leaves) - len(inputs)
    new = recorded[:kept] + fresh[kept:]
    out2, leaves2 = build(program, new)
    value, grads = f(*new[kept : len(leaves)])
    assert same(value, out2.data)
    assert same(grads, grad(out2, leaves2[kept:]))


def test_relu_abs_and_maximum_stay_right_when_a_sign_changes() -> None:
    # Reference: the closed forms relu'(x) = [x > 0], |x|' = sign(x), d max(x, 1)/dx = [x > 1]
    # (ties share: 1/2), for x on both sides of each kink and exactly on it.
    x = Value(2.0, label="x")
    out = x.relu() + abs(x) + maximum_op(x, 1.0)
    f = compile_grad(out, [x])
    for v, value, slope in [
        (2.0, 6.0, 3.0),
        (-2.0, 3.0, -1.0),
        (0.0, 1.0, 0.0),
        (1.0, 3.0, 2.5),
        (0.5, 2.0, 2.0),
    ]:
        assert f(v) == (value, (slope,))


def test_the_document_network_against_the_documents_table() -> None:
    # Reference: the worked example's exact column (shared/seed), to its 10 decimals.
    net = build_network()
    inputs = [net.x, net.y, net.w1, net.b1, net.w2, net.b2]
    value, (_, _, dw1, db1, dw2, db2) = compile_grad(net.L, inputs)(1.0, 1.0, 0.4, 0.1, 0.3, 0.2)
    shown = {"L": value, "dL_dw1": dw1, "dL_db1": db1, "dL_dw2": dw2, "dL_db2": db2}
    for name, got in shown.items():
        assert got == pytest.approx(EXACT_TABLE[name], abs=5e-11), name


def test_the_document_network_reads_like_the_hand_derivation() -> None:
    # Reference: the chain rule as the document writes it: dL/dz2 = dL/dy_hat * y_hat(1 -
    # y_hat), dL/dh = dL/dz2 * w2, and the labels of the drawing.
    net = build_network()
    source = backward_code(net.L, [net.x, net.y, net.w1, net.b1, net.w2, net.b2])
    body = source.split("def forward_backward")[1]
    assert "def forward_backward(x, y, w1, b1, w2, b2):" in source
    for line in [
        "y_hat = _sigmoid(z2)",
        "d_z2 = d_y_hat * (y_hat * (1 - y_hat))  # y_hat = sigmoid(z2)",
        "d_h = d_t2 * w2",
        "d_w2 = d_t2 * h",
        "return L, (d_x, d_y, d_w1, d_b1, d_w2, d_b2)",
    ]:
        assert line in body, line
    assert "def _sigmoid(x: float) -> float:" in source  # the engine's stable form, copied


def test_fan_out_is_added_in_the_order_backward_adds() -> None:
    # Reference: backward() adds the shares of a node used twice in its sweep's order; the
    # statements must read d_x = <first>, then d_x = d_x + <second>, and give grad()'s bits.
    x = Value(0.3, label="x")
    y = x * x + x.tanh()
    y.label = "y"
    source = backward_code(y, [x])
    first, *later = [line.split("#")[0].strip() for line in source.splitlines() if "d_x =" in line]
    assert first.startswith("d_x = ") and "d_x +" not in first
    assert later and all(line.startswith("d_x = d_x + ") for line in later)
    assert same(run_module(source)(0.3), (y.data, tuple(grad(y, [x]))))


def test_an_input_the_output_does_not_depend_on_gets_zero_and_constants_are_inline() -> None:
    # Reference: d(3x)/dy = 0 for an unrelated y, and the 3 appears as a number.
    x, y = Value(2.0, label="x"), Value(5.0, label="y")
    out = 3.0 * x
    source = backward_code(out, [x, y])
    assert "3.0 * x" in source
    assert run_module(source)(2.0, 5.0) == (6.0, (3.0, 0.0))
    assert compile_grad(out, [x, y])(1.0, 9.0) == (3.0, (3.0, 0.0))
    assert compile_grad(x, [x])(4.0) == (4.0, (1.0,))  # the output is the input


def test_leaves_not_asked_for_keep_their_recorded_values() -> None:
    # Reference: f(x) = x * w with w = 4 frozen: df/dx = 4 at any x.
    x, w = Value(1.0), Value(4.0, label="w")
    f = compile_grad(x * w, [x])
    assert f(2.5) == (10.0, (4.0,))


def test_the_compiled_function_converts_numbers_as_value_does() -> None:
    # Reference: Value(3) holds 3.0; a str is no number (Value's own TypeError).
    x = Value(1.0, label="x")
    f = compile_grad(x * x, [x])
    assert f(3) == (9.0, (6.0,))
    assert f(True) == (1.0, (2.0,))
    with pytest.raises(TypeError, match=r"compile_grad: argument 0 \('x'\).*real number"):
        f("3")
    with pytest.raises(TypeError):
        f(1.0, 2.0)


def test_domain_errors_are_raised_as_building_the_expression_would() -> None:
    # Reference: the engine raises DomainError for log(x <= 0), x / 0, sqrt(x < 0) and
    # 0 ** -1 when the expression is built; the compiled function, at the same values, too.
    x, y = Value(2.0), Value(3.0)
    cases: list[tuple[Callable[[Value, Value], Value], tuple[float, float]]] = [
        (lambda a, b: a.log() * b, (-1.0, 1.0)),
        (lambda a, b: a / b, (1.0, 0.0)),
        (lambda a, b: (b - a).sqrt(), (2.0, 1.0)),
        (lambda a, b: a**-1.0 + b, (0.0, 1.0)),
        (lambda a, b: a**b, (-2.0, 0.5)),
    ]
    for build_it, bad in cases:
        f = compile_grad(build_it(x, y), [x, y])
        with pytest.raises(DomainError):
            build_it(Value(bad[0]), Value(bad[1]))
        with pytest.raises(DomainError):
            f(*bad)
        # the standalone module raises its own DomainError, a ValueError
        g = run_module(backward_code(build_it(x, y), [x, y]))
        with pytest.raises(ValueError, match=r"must be|division|cannot|negative"):
            g(*bad)


def test_a_custom_op_whose_forward_cannot_be_written_is_named_and_told_what_to_add() -> None:
    def forward(x: float) -> float:  # two statements in a closure: neither inlined nor copied
        y = math.sin(x)
        return y

    sin = Op("sin", forward, lambda g, out, x: (g * ops.tanh(x),))
    x = Value(0.5)
    out = sin(x) * 2.0
    for write in (lambda: backward_code(out, [x]), lambda: compile_grad(out, [x])):
        with pytest.raises(CodegenError, match=r"op 'sin'.*cannot be written.*emit=.*docs/codegen"):
            write()


def test_a_custom_op_without_an_emit_form_is_written_from_its_forward() -> None:
    """Reference: d/dx 2 sin(x) = 2 cos(x) and d/dx 3 x^2 = 6 x, worked by hand; math.sin
    and math.cos of the inputs give the floats."""
    cos = Op("cos", math.cos, lambda g, out, x: (g * 0.0,))
    sin = Op("sin", math.sin, lambda g, out, x: (g * cos(x),))
    scaled = Op("scaled", lambda x, *, k: k * x * x, lambda g, out, x, *, k: (g * (2 * k) * x,),
                params={"k": 3.0})  # fmt: skip
    x = Value(0.5)
    out = sin(x) * 2.0 + scaled(x)
    source = backward_code(out, [x])
    assert "math.sin(" in source and "3.0 * " in source
    expected = (2 * math.sin(0.5) + 3.0 * 0.5 * 0.5, (2 * math.cos(0.5) + 6 * 0.5,))
    assert run_module(source)(0.5) == expected
    assert compile_grad(out, [x])(0.5) == expected


def test_a_custom_op_with_an_emit_form_and_a_helper_of_its_own() -> None:
    # Reference: fma(a, b, c) = a b + c, d/da = b, d/db = a, d/dc = 1.
    a, b, c = Value(2.0, label="a"), Value(3.0, label="b"), Value(0.5, label="c")
    out = FMA(a, b, c)
    source = backward_code(out, [a, b, c])
    assert "def _fma_forward(a: float, b: float, c: float) -> float:" in source
    assert run_module(source)(2.0, 3.0, 0.5) == (6.5, (3.0, 2.0, 1.0))
    assert compile_grad(out, [a, b, c])(1.0, -1.0, 4.0) == (3.0, (-1.0, 1.0, 1.0))


def test_a_rule_that_branches_on_a_value_cannot_be_written() -> None:
    bent = Op(
        "bent",
        lambda x: 2 * x if x > 0 else x,
        lambda g, out, x: (g * 2.0 if x > 0 else g,),
        emit="(2 * {0} if {0} > 0 else {0})",
    )
    x = Value(1.0)
    with pytest.raises(CodegenError, match=r"rule of op 'bent' cannot be written.*branches"):
        backward_code(bent(x), [x])


def test_a_domain_checked_op_needs_a_check_form() -> None:
    def check(x: float) -> None:
        if x < 0:
            raise DomainError("nope")

    op = Op("root4", lambda x: x**0.25, lambda g, out, x: (g * 0.25 / out**3,), check, emit="{0}")
    x = Value(1.0)
    with pytest.raises(CodegenError, match=r"'root4' checks its domain.*'check'"):
        compile_grad(op(x), [x])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda x, y: backward_code(y, [y]), ValueError, r"inputs\[0\] is computed by op"),
        (lambda x, y: backward_code(y, [x, x]), ValueError, r"inputs\[1\] is inputs\[0\]"),
        (lambda x, y: backward_code(y, x), TypeError, r"single Value \(write \[x\]\)"),
        (lambda x, y: backward_code(y, [x], name="class"), ValueError, "identifier"),
        (lambda x, y: backward_code(y, [x], name="float"), ValueError, "name 'float' is a"),
        (lambda x, y: backward_code(y, [x], name="math"), ValueError, "name 'math' is a"),
        (lambda x, y: backward_code(y.sigmoid(), [x], name="_sigmoid"), ValueError, "a helper"),
        (lambda x, y: backward_code(y, [x], max_nodes=0), ValueError, "max_nodes"),
        (lambda x, y: compile_grad(y, [x], aux=y), TypeError, r"aux must be a sequence"),
        (lambda x, y: compile_grad(y, [x], aux=[Value(1.0)]), ValueError, r"aux\[0\] is not"),
        (lambda x, y: compile_grad(y, [Tensor(1.0)]), TypeError, r"inputs\[0\] is a Tensor"),
    ],
)
def test_bad_arguments_are_named(
    call: Callable[[Value, Value], object], error: type[Exception], message: str
) -> None:
    x = Value(1.0)
    with pytest.raises(error, match=message):
        call(x, x * 2.0)


def test_aux_values_come_back_with_the_gradient() -> None:
    # Reference: with s = 2x and L = s**2: at x = 3, s = 6, L = 36, dL/dx = 8x = 24.
    x = Value(1.0)
    s = x * 2.0
    f = compile_grad(s**2, [x], aux=[s])
    assert f(3.0) == (36.0, (24.0,), (6.0,))


def test_a_chain_of_100_000_nodes_is_written_compiled_and_run() -> None:
    # Reference: y = x * 1.0001 + 0.0001, 25,000 times (100,001 nodes): dy/dx = 1.0001**N,
    # and backward() on the same graph, bit for bit.
    x = Value(1.0)
    y = x
    for _ in range(25_000):
        y = y * 1.0001 + 0.0001
    f = compile_grad(y, [x])
    value, (dx,) = f(1.0)
    assert same(value, y.data) and same(dx, grad(y, [x])[0])
    assert dx == pytest.approx(1.0001**25_000, rel=1e-9)
    assert f(2.0)[0] > value  # a new input, the same chain
    source = backward_code(y, [x])
    assert source.count("\n") > 100_000 and max(map(len, source.splitlines())) < 200


def test_a_graph_above_max_nodes_says_its_size_and_the_limit() -> None:
    x = Value(1.0)
    y = x
    for _ in range(10):
        y = y * 2.0
    with pytest.raises(CodegenError, match=r"the graph has 21 nodes, more than max_nodes=20"):
        compile_grad(y, [x], max_nodes=20)
    assert compile_grad(y, [x], max_nodes=21)(1.0)[0] == 1024.0


def test_a_python_if_in_the_users_code_is_frozen_at_the_recorded_values() -> None:
    # Reference: the trace took the branch x > 0 (y = 2x); a negative input still gets 2x,
    # where building the expression again would take the other branch (y = -x).
    x = Value(1.0)
    y = x * 2.0 if x.data > 0 else -x
    assert compile_grad(y, [x])(-3.0) == (-6.0, (2.0,))


def test_labels_become_identifiers() -> None:
    # Reference: the naming rules of docs/codegen.md.
    cases = {
        "ŷ": "y_hat",
        "x̄": "x_bar",
        "α": "alpha",
        "Σw": "Sigma_w",
        "w[0]": "w_0",
        "∂L/∂w": "dL_dw",
        "layers.0.w": "layers_0_w",
        "1st": "v1st",
        "lambda": "lambda_",
        "sum": "sum_",
        "x₁": "x1",
        "é": "e",
    }
    for label, name in cases.items():
        assert identifier(label) == name, label
    assert identifier("*") is None and identifier("") is None
    names = Names({"np"})
    assert [names.take("h"), names.take("h"), names.take("np")] == ["h", "h_2", "np_2"]
    assert [names.numbered("t"), names.numbered("t")] == ["t1", "t2"]


def test_colliding_and_unusual_labels_in_generated_code() -> None:
    # Reference: two nodes labelled h, a label that is a keyword and one that is the name
    # a numbered value would get: every name once, and the code still runs.
    x = Value(0.5, label="t1")
    h1 = x.tanh()
    h1.label = "h"
    h2 = (x * 3.0).tanh()
    h2.label = "h"
    out = h1 * h2
    out.label = "lambda"
    source = backward_code(out, [x])
    assert re.search(r"^\s+h = math\.tanh\(t1\)", source, re.MULTILINE)
    assert re.search(r"^\s+h_2 = math\.tanh\(t2\)", source, re.MULTILINE)
    assert "lambda_ = h * h_2" in source
    assert same(run_module(source)(0.5), (out.data, tuple(grad(out, [x]))))


def _scaled(x: float, *, k: float) -> float:
    return x * k


def test_a_custom_op_with_params_and_one_rule_per_operand() -> None:
    # Reference: scale(x; k) = k x, d/dx = k; hypot-like h(a, b) = a a + b b with one rule per
    # operand (parts=), d/da = 2a, d/db = 2b.
    scale = Op(
        "scale",
        _scaled,
        lambda g, out, x, k: (g * k,),
        params={"k": 2.5},
        emit="_scaled({0}, k={k})",
    )
    square_sum = Op(
        "sq",
        lambda a, b: a * a + b * b,
        None,
        parts=(lambda g, out, a, b: g * (2.0 * a), lambda g, out, a, b: g * (2.0 * b)),
        emit="{0} * {0} + {1} * {1}",
    )
    a, b = Value(1.5, label="a"), Value(-2.0, label="b")
    out = scale(square_sum(a, b))
    source = backward_code(out, [a, b])
    assert "def _scaled(x: float, *, k: float) -> float:" in source and "k=2.5" in source
    assert run_module(source)(1.5, -2.0) == (15.625, (7.5, -10.0))
    assert compile_grad(out, [a, b])(1.0, 1.0) == (5.0, (5.0, 5.0))
