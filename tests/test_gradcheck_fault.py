"""Every failing gradient check ends with the op at fault, or says that no op's rule is.

gradcheck and gradgradcheck, on Values and Tensors, with and without `modes`.
References: the wrong rules' numbers worked out by hand (a rule claiming d(x²)/dx = 3x gives
3h at the operand h, the truth is 2h; a second-order rule built from a number has derivative
0, the truth -sin h), at operand values computed in the test with numpy float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from autograd_lite import GradcheckError, Op, Tensor, gradcheck, gradgradcheck

MODES = [None, ("rev",), ("fwd",), ("fwd", "rev")]

# d(x²)/dx claimed to be 3x; on numbers, Values, arrays and Tensors alike.
bad_square = Op("bad_square", lambda x: x * x, lambda g, out, x: (g * 3 * x,), jvp="elementwise")


def _number(x: Any) -> Any:
    """The data of a node, or x itself: what a rule that leaves the graph reads."""
    return getattr(x, "data", x)


# sin whose rule is right at first order but reads its operand's number: its own derivative
# (the second derivative of sin) is lost.
detached_sin = Op(
    "detached_sin", np.sin, lambda g, out, x: (g * np.cos(_number(x)),), jvp="elementwise"
)


def last_line(error: GradcheckError) -> str:
    return str(error).splitlines()[-1]


@pytest.mark.parametrize("modes", MODES)
def test_the_issues_call_names_the_op_at_fault(modes: Any) -> None:
    """gradcheck(lambda a, b: bad(a * b) + a, [0.7, -0.4]): the fault is at h = a b."""
    h = 0.7 * -0.4
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: bad_square(a * b) + a, [0.7, -0.4], modes=modes)
    fault = info.value.fault
    assert fault is not None and fault.op.name == "bad_square"
    assert fault.operands == pytest.approx((h,), rel=1e-15)
    assert fault.analytical == pytest.approx(3 * h, rel=1e-12)
    assert fault.numerical == pytest.approx(2 * h, rel=1e-8)
    assert last_line(info.value).startswith("  the rule at fault: op 'bad_square'")


@pytest.mark.parametrize("modes", MODES)
def test_a_wrong_rule_on_tensors_is_named(modes: Any) -> None:
    """Reference: the fault sits at h = 2 w, elementwise."""
    w0 = np.array([[0.5, -1.0], [0.25, 2.0]])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda w: bad_square(w * 2.0).tanh().sum(), [Tensor(w0)], modes=modes)
    fault = info.value.fault
    assert fault is not None and fault.op.name == "bad_square"
    np.testing.assert_array_equal(fault.operands[0], 2.0 * w0)
    assert "the rule at fault: op 'bad_square'" in last_line(info.value)


@pytest.mark.parametrize("modes", [None, ("rev",), ("fwd", "rev")])
@pytest.mark.parametrize("tensors", [False, True])
def test_gradgradcheck_names_a_wrong_second_order_rule(modes: Any, tensors: bool) -> None:
    """Reference: d²/dh² sin h = -sin h, which the detached rule gives as 0."""
    x0, y0 = 0.3, 2.0
    inputs: list[Any] = [Tensor([x0]), Tensor([y0])] if tensors else [x0, y0]

    def fn(x: Any, y: Any) -> Any:
        out = detached_sin(x * 0.7) * y
        return out.sum() if tensors else out

    with pytest.raises(GradcheckError) as info:
        gradgradcheck(fn, inputs, modes=modes)
    fault = info.value.fault
    assert fault is not None and fault.op.name == "detached_sin" and fault.by == 0
    assert fault.rule.startswith("vjp differentiated")
    h = 0.3 * 0.7
    if fault.local:  # scalars: the local second derivative itself
        assert fault.analytical == 0.0
        assert fault.numerical == pytest.approx(-np.sin(h), rel=1e-6)
    np.testing.assert_allclose(np.ravel(fault.operands[0]), [h], rtol=1e-15)
    assert "the rule at fault: op 'detached_sin'" in last_line(info.value)


def step(a: Any) -> Any:
    """1 a above 0, 2 a at 0 and below: every op is right, fn has a kink at 0."""
    return a * 1.0 if float(np.sum(_number(a))) > 0 else a * 2.0


@pytest.mark.parametrize("modes", MODES)
@pytest.mark.parametrize("tensors", [False, True])
def test_a_function_not_differentiable_there_blames_no_op(modes: Any, tensors: bool) -> None:
    """Reference: left derivative 2, right 1: differences give 1.5, the engine 2."""
    fn = (lambda a: step(a).sum()) if tensors else step
    with pytest.raises(GradcheckError) as info:
        gradcheck(fn, [Tensor([0.0])] if tensors else [0.0], modes=modes)
    assert info.value.fault is None
    assert last_line(info.value).startswith("  no single op's rule was found at fault")
    assert "not differentiable there" in last_line(info.value)


def test_gradgradcheck_of_a_function_leaving_the_graph_blames_no_op() -> None:
    """fn reads .data: the second derivative of x² x.data is 0 by the engine, 2 x.data by
    differences of the engine's first derivatives (2 x x.data... as x moves, x.data does)."""
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(lambda x: x * x * _number(x), [1.5])
    assert info.value.fault is None
    assert last_line(info.value).startswith("  no single op's rule was found at fault")
