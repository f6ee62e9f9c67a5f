"""Each built-in op's emit form computes what the op's forward computes, bit for bit.

Reference: the engine's own forward functions (`Op.forward` on floats, `Op.array_forward`
on arrays), on the inputs where the stable and total forms differ from the textbook ones:
0, -0.0, subnormals, +-1, values whose exp or square overflows, +-inf and nan. The forms
are run from source, with the helpers copied into a module of their own, as generated code
runs them. Also: the domain-check forms raise where the engine's checks do.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest

from autograd_lite import DomainError, Op, ops
from autograd_lite.codegen import CodegenError
from autograd_lite.codegen.forms import Forms, Helpers
from autograd_lite.codegen.tokens import substitute, token
from autograd_lite.engine import array_ops
from tests.codegen_helpers import same

EDGES = [0.0, -0.0, 5e-324, -5e-324, 1.0, -1.0, 0.5, -2.5, 3.0, 709.0, 710.0, -745.5,
         1e200, -1e200, 1e308, math.inf, -math.inf, math.nan]  # fmt: skip
"""Where stable and total forms matter."""

UNARY = [
    *(ops.neg, ops.exp, ops.log, ops.tanh, ops.sigmoid, ops.step, ops.relu, ops.sign, ops.abs),
    *(ops.sqrt, *[ops.pow_number(n) for n in (2.0, 3.0, 0.0, -1.0, 0.5, -0.5, 1.5)]),
]
BINARY = [ops.add, ops.sub, ops.mul, ops.div, ops.pow_value, array_ops.maximum_op]


def _no_array(a: Any) -> str:
    raise AssertionError("no array parameter here")


def emitted(op: Op, use: str, arity: int) -> Any:
    """The op's emit form for `use` as a function, run from source with its helpers."""
    forms = Forms(op)
    names = [f"a{i}" for i in range(arity)]
    tokens = [token(i) for i in range(arity)]  # operands as generated code passes them
    text = forms.write(use, tokens, _no_array)
    assert text is not None
    text = substitute(text, dict(zip(tokens, names)))
    helpers = Helpers()
    helpers.add_uses(forms)
    imports, sources = helpers.collect()
    head = ["from __future__ import annotations", "import math", "import numpy as np"]
    module = "\n".join([*head, *imports, *sources])
    namespace: dict[str, Any] = {}
    exec(compile(module, "<helpers>", "exec"), namespace)
    exec(f"def f({', '.join(names)}):\n    return {text}\n", namespace)
    return namespace["f"]


def _outcome(f: Any, *args: float) -> object:
    """What f(*args) gives, or the type of what it raises (a forward outside its domain may
    raise, as math.sqrt of a negative: the op's check keeps it from being called so)."""
    try:
        return f(*args)
    except Exception as e:
        return type(e)


@pytest.mark.parametrize("op", UNARY, ids=lambda op: op.display)
def test_unary_float_forms_are_the_forward(op: Op) -> None:
    f = emitted(op, "float", 1)
    for x in EDGES:
        got, expected = _outcome(f, x), _outcome(op.forward, x)
        assert got == expected if isinstance(expected, type) else same(got, expected), (op, x)


@pytest.mark.parametrize("op", BINARY, ids=lambda op: op.display)
def test_binary_float_forms_are_the_forward(op: Op) -> None:
    f = emitted(op, "float", 2)
    for a, b in itertools.product(EDGES, repeat=2):
        got, expected = _outcome(f, a, b), _outcome(op.forward, a, b)
        assert got == expected if isinstance(expected, type) else same(got, expected), (op, a, b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("op", UNARY + BINARY, ids=lambda op: op.display)
def test_array_forms_are_the_array_forward(op: Op, dtype: Any) -> None:
    arity = 2 if op in BINARY else 1
    with np.errstate(all="ignore"):  # 1e200 overflows float32 to inf: one more edge
        grid = np.array(list(itertools.product(EDGES, repeat=arity)), dtype=dtype).T
    f = emitted(op, "array", arity)
    with np.errstate(all="ignore"):
        assert same(f(*grid), op.array_forward(*grid)), op


CHECKED = [
    (ops.log, 1, [(0.0,), (-1.0,), (1.0,), (math.nan,)]),
    (ops.sqrt, 1, [(-1.0,), (-0.0,), (4.0,), (math.nan,)]),
    (ops.div, 2, [(1.0, 0.0), (0.0, -0.0), (1.0, 2.0), (math.nan, 0.0)]),
    (ops.pow_value, 2, [(0.0, 1.0), (-1.0, 2.0), (2.0, 0.5)]),
    (ops.pow_number(-1.0), 1, [(0.0,), (2.0,)]),
    (ops.pow_number(0.5), 1, [(-1.0,), (0.0,), (4.0,)]),
]


@pytest.mark.parametrize(("op", "arity", "cases"), CHECKED, ids=lambda c: getattr(c, "display", ""))
def test_check_forms_raise_where_the_engine_checks_raise(
    op: Op, arity: int, cases: list[tuple[float, ...]]
) -> None:
    assert op.check is not None and op.array_check is not None
    for use, check in (("check", op.check), ("array_check", op.array_check)):
        f = emitted(op, use, arity)
        for args in cases:
            values = args if use == "check" else tuple(np.array([a]) for a in args)
            try:
                check(*values)
            except DomainError:
                with pytest.raises(ValueError):  # the module's own DomainError, a ValueError
                    f(*values)
            else:
                f(*values)


def test_a_whole_nonnegative_exponent_has_no_check_to_write() -> None:
    # Reference: 0 ** n and (-x) ** n are defined for whole n >= 0, so the engine's check
    # cannot fail there; generated code leaves it out.
    forms = Forms(ops.pow_number(2.0))
    assert forms.write("check", [token(0)], _no_array) is None
    assert Forms(ops.pow_number(2.5)).write("check", [token(0)], _no_array) is not None


def test_reductions_made_by_one_factory_each_write_their_own_forward() -> None:
    """sum, mean and max share the lambda that calls the numpy reduction they close over; each
    derived form must write its own. Reference: numpy's reductions called directly."""
    from autograd_lite import Tensor

    x = np.array([[1.5, -2.0, 7.25], [0.125, 3.0, -9.5]])
    cases = [
        (lambda t: t.sum(axis=0), np.add.reduce(x, axis=0)),
        (lambda t: t.mean(axis=1, keepdims=True), np.mean(x, axis=1, keepdims=True)),
        (lambda t: t.max(), np.maximum.reduce(x, axis=None)),
        (lambda t: t.sum(axis=1), np.add.reduce(x, axis=1)),
    ]
    for make, expected in cases:
        f = emitted(make(Tensor(x)).op, "array", 1)
        assert same(np.asarray(f(x)), np.asarray(expected))


def test_an_op_made_without_an_emit_form_is_written_from_its_functions() -> None:
    """Reference: math.atan2, math.copysign and a closed-over constant, computed directly;
    math.hypot takes any number of operands, so it cannot be written without an emit form."""
    k = 0.75
    one_expression = Op("scaled", lambda x: math.copysign(x * k, -1.0), lambda g, out, x: (g,))
    named = Op("atan2", math.atan2, lambda g, out, a, b: (g, g))
    for x in EDGES:
        assert same(emitted(one_expression, "float", 1)(x), math.copysign(x * k, -1.0))
        assert same(emitted(named, "float", 2)(x, 2.0), math.atan2(x, 2.0))
    with pytest.raises(CodegenError, match=r"op 'hypot'.*fixed number of operands"):
        emitted(Op("hypot", math.hypot, lambda g, out, a, b: (g, g)), "float", 2)
