"""gradcheck and gradgradcheck with modes=("fwd", "rev"), and the op at fault they name.

References: central finite differences (the checks' own, and numpy's in the tests) and the
wrong rules' numbers worked out by hand in each test: a rule claiming d(x²)/dx = 3x gives 3x
where the truth is 2x, at the operand value the test computes itself.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from autograd_lite import (
    Dual,
    GradcheckError,
    Op,
    RuleFault,
    Tensor,
    Value,
    find_wrong_rule,
    gradcheck,
    gradgradcheck,
    no_grad,
)
from tests.test_gradcheck import BUILTIN_CASES, COMPOSITE_CASES, number
from tests.test_tensor_grad import SMOOTH, TENSOR_CASES

Fn = Any
MODES = ("fwd", "rev")


SCALAR_CASES = BUILTIN_CASES + COMPOSITE_CASES


@pytest.mark.parametrize(("name", "fn", "inputs"), SCALAR_CASES, ids=[c[0] for c in SCALAR_CASES])
def test_both_modes_pass_on_every_builtin_op_and_composite(name: str, fn: Fn, inputs: Any) -> None:
    """Reference: finite differences of fn along a random direction."""
    assert gradcheck(fn, inputs, modes=MODES)
    if "relu" not in name:
        assert gradgradcheck(fn, inputs, modes=MODES)


@pytest.mark.parametrize(("name", "fn", "inputs"), TENSOR_CASES, ids=[c[0] for c in TENSOR_CASES])
def test_both_modes_pass_on_every_array_op(name: str, fn: Fn, inputs: Any) -> None:
    """Reference: finite differences of fn along a random direction."""
    assert gradcheck(
        fn, [Tensor(x) if isinstance(x, np.ndarray) else x for x in inputs], modes=MODES
    )


@pytest.mark.parametrize(("name", "fn", "inputs"), SMOOTH, ids=[c[0] for c in SMOOTH])
def test_second_order_both_modes_pass_on_smooth_array_ops(name: str, fn: Fn, inputs: Any) -> None:
    """Reference: differences of the first derivatives along a random direction."""
    assert gradgradcheck(fn, inputs, modes=MODES)


# A square whose rule claims d(x²)/dx = 3x, deep inside a graph.
bad_square = Op("bad_square", lambda x: x * x, lambda g, out, x: (g * 3 * x,))


def deep(x: Value, y: Value) -> Value:
    h = (x * y).tanh() + x
    for _ in range(3):
        h = (h * 0.5).sigmoid() + y
    hidden = bad_square(h)
    hidden.label = "hidden"
    return (hidden * y + x.exp()).log()


def test_a_wrong_rule_deep_inside_a_graph_is_named_with_its_operand_and_numbers() -> None:
    x0, y0 = 0.3, 0.7
    with pytest.raises(GradcheckError) as info:
        gradcheck(deep, [x0, y0], modes=MODES)
    err = info.value
    message = str(err)
    assert message.startswith("gradcheck failed: 2 of 2 entries")
    assert [r["mode"] for r in err.rows] == ["fwd", "rev"] and not any(r["ok"] for r in err.rows)
    # The operand bad_square saw, computed here in floats: its rule says 3h, the truth is 2h.
    h = math.tanh(x0 * y0) + x0
    for _ in range(3):
        h = 1 / (1 + math.exp(-h * 0.5)) + y0
    fault = err.fault
    assert isinstance(fault, RuleFault)
    assert (fault.op.name, fault.label, fault.operand, fault.rule) == (
        "bad_square",
        "hidden",
        0,
        "vjp",
    )
    assert fault.operands == pytest.approx((h,), rel=1e-15)
    assert fault.analytical == pytest.approx(3 * h, rel=1e-12)
    assert fault.numerical == pytest.approx(2 * h, rel=1e-8)
    # In evaluation order: x, y, x*y, tanh, + x, then 3 times (0.5, *, sigmoid, + y), then it;
    # after it, * y, exp(x), +, log.
    assert (fault.position, fault.nodes) == (2 + 3 + 3 * 4 + 1, 18 + 4)
    last = message.splitlines()[-1]
    assert "op 'bad_square' (node 18 of 22 in evaluation order, label 'hidden')" in last
    assert (
        f"d(out)/d(operand 0) is {3 * h:.6g} by its vjp, {2 * h:.6g} by finite differences" in last
    )


def test_a_wrong_rule_on_tensors_is_named_and_only_the_forward_rule_can_be_at_fault() -> None:
    """A cumsum whose forward rule adds a wrong term while its vjp is right: forward mode
    fails, reverse mode passes, and the fault is the forward rule's."""
    right = lambda g, out, x: (np.cumsum(g[::-1])[::-1],)  # noqa: E731
    cumsum = Op("cumsum", np.cumsum, right, jvp=lambda ts, out, x: np.cumsum(ts[0]) + ts[0])
    w0 = np.random.default_rng(3).normal(size=(2, 3))
    fn = lambda w: (cumsum((w @ np.ones(3)).tanh()) * np.array([1.0, -2.0])).sum()  # noqa: E731
    assert gradcheck(fn, [Tensor(w0)], modes=("rev",))
    with pytest.raises(GradcheckError) as info:
        gradcheck(fn, [Tensor(w0, label="w")], modes=MODES)
    rows = info.value.rows
    assert [(r["mode"], r["ok"]) for r in rows] == [("fwd", False), ("rev", True)]
    fault = info.value.fault
    assert fault is not None and (fault.op.name, fault.rule) == ("cumsum", "forward rule")
    np.testing.assert_allclose(fault.operands[0], np.tanh(w0 @ np.ones(3)), rtol=1e-15)
    assert "<u, J v> for operand 0 (along random directions)" in str(fault)


def test_gradgradcheck_names_a_rule_that_does_not_differentiate() -> None:
    """sin whose rule reads math.cos of the operand's number: right first derivative, lost
    second one. Reference: d²/dx² sin at the operand is -sin(operand); the rule run on
    Values says 0."""
    detached_sin = Op("detached_sin", math.sin, lambda g, out, x: (g * math.cos(number(x)),))
    fn = lambda x, y: (detached_sin(x * y) * y).tanh()  # noqa: E731
    assert gradcheck(fn, [0.3, 0.7], modes=MODES)
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(fn, [0.3, 0.7], modes=MODES)
    assert [r["mode"] for r in info.value.rows] == ["fwd", "rev"]
    assert "fwd over rev" in str(info.value) and "rev over rev" in str(info.value)
    fault = info.value.fault
    assert fault is not None and fault.op.name == "detached_sin" and fault.by == 0
    assert fault.rule == "vjp differentiated in reverse mode"  # reverse mode is checked first
    assert fault.analytical == 0.0
    assert fault.numerical == pytest.approx(-math.sin(0.21), rel=1e-6)
    assert "d²(out)/d(operand 0)d(operand 0) is 0" in str(fault)


def test_forward_mode_alone_blames_the_forward_rule_derived_from_the_vjp() -> None:
    """Reference: bad_square's rule gives 3x at x = 1.5 (4.5); the truth is 2x (3)."""
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: bad_square(x).tanh(), [1.5], modes=("fwd",))
    fault = info.value.fault
    assert fault is not None and fault.rule == "forward rule derived from its vjp"
    assert (fault.analytical, fault.numerical) == (4.5, pytest.approx(3.0, rel=1e-8))


def test_a_failure_no_rule_explains_says_so() -> None:
    """fn reads .data, which no rule sees: the check fails and no op is blamed."""
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: x * x.data, [1.5], modes=MODES)
    assert info.value.fault is None
    assert "no single op's rule was found at fault" in str(info.value).splitlines()[-1]


def test_without_modes_the_table_ends_with_the_op_at_fault() -> None:
    """Reference: bad_square's rule gives 3x at x = 1.5 (4.5); the truth is 2x (3)."""
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: bad_square(x), [1.5])
    fault = info.value.fault
    assert fault is not None and (fault.rule, fault.analytical) == ("vjp", 4.5)
    assert str(info.value).splitlines()[-1] == f"  {fault}"


def test_find_wrong_rule_on_a_correct_graph_and_its_arguments() -> None:
    x = Value(0.5)
    assert find_wrong_rule((x * x).tanh() + x.exp(), order=2) is None
    t = Tensor(np.arange(1.0, 7.0).reshape(2, 3))
    assert find_wrong_rule((t.softmax(axis=1) @ t.T).logsumexp(axis=0).sum(), order=2) is None
    assert find_wrong_rule(Dual(1.0, 1.0) * Dual(2.0)) is None
    with pytest.raises(ValueError, match="order must be 1 or 2"):
        find_wrong_rule(x, order=3)
    with pytest.raises(ValueError, match="modes"):
        find_wrong_rule(x, modes=["sideways"])
    with pytest.raises(TypeError, match="output must be a node"):
        find_wrong_rule(1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("modes", "error", "words"),
    [
        (["sideways"], ValueError, "gradcheck: modes"),
        ("fwd", TypeError, "gradcheck: modes"),
        ([], ValueError, "at least one of 'fwd' and 'rev'"),
        (["fwd", "fwd"], ValueError, "names a mode twice"),
    ],
)
def test_modes_are_checked(modes: Any, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        gradcheck(lambda x: x * x, [1.0], modes=modes)


def test_modes_work_inside_no_grad_and_name_a_probe_outside_the_domain() -> None:
    with no_grad():
        assert gradcheck(lambda x: x.exp() * x, [0.3], modes=MODES)
        assert gradgradcheck(lambda x: x.exp() * x, [0.3], modes=MODES)
    with pytest.raises(ValueError, match=r"probes along a random direction .* left fn's domain"):
        gradcheck(lambda x: x.log(), [1e-7], modes=MODES)
    with pytest.raises(TypeError, match="in forward mode fn is called on Duals"):
        gradcheck(lambda x: Value(1.0) * 1.0 if type(x) is Dual else x, [1.0], modes=MODES)
