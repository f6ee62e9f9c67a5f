"""Edge cases found in review: extreme operands, failing rules, argument checks.

Each names its reference: a closed form worked out here, or the state before the call.
"""

from __future__ import annotations

import math

import pytest

from autograd_lite import Op, Value, enable_grad, grad, graph_nodes, hessian, no_grad, scope


@pytest.mark.parametrize(("a", "b"), [(1e300, 1e200), (1.0, 1e-200), (-3.0, 1e-160), (2.0, -1e160)])
def test_division_partials_at_extreme_divisors(a: float, b: float) -> None:
    # Closed form: d(a/b)/db = -a/b², computed here as -(a/b)/b, which is exact in floats
    # where b*b over- or underflows.
    va, vb = Value(a), Value(b)
    (va / vb).backward()
    assert va.grad == pytest.approx(1 / b, rel=1e-15)
    assert vb.grad == pytest.approx(-(a / b) / b, rel=1e-15)
    (dvb,) = grad(Value(a) / (w := Value(b)), [w], create_graph=True)
    assert dvb.data == pytest.approx(-(a / b) / b, rel=1e-15)


def test_a_failing_rule_changes_no_grad() -> None:
    # Reference: the .grad fields as they were before the call.
    broken = Op("broken", lambda x: 2 * x, lambda g, out, x: (g, g))  # one share too many
    x = Value(1.5)
    y = broken(x) * 3.0
    before = [n.grad for n in graph_nodes(y)]
    with pytest.raises(TypeError, match="broken") as info:
        y.backward()
    assert [n.grad for n in graph_nodes(y)] == before
    notes = getattr(info.value, "__notes__", None)
    if notes is not None:  # Python >= 3.11 says whose rule failed
        assert "broken" in notes[0]


def test_relu_keeps_nan() -> None:
    # Reference: numpy and PyTorch give relu(nan) = nan.
    assert math.isnan(Value(math.nan).relu().data)


def test_backward_seed_must_be_a_number() -> None:
    x = Value(2.0)
    y = x * x
    with pytest.raises(TypeError, match="backward"):
        y.backward("3")  # type: ignore[arg-type]
    assert x.grad == 0.0
    y.backward(0.5)
    assert x.grad == 2.0  # closed form: 0.5 * 2x


def test_grad_and_hessian_check_their_arguments() -> None:
    x = Value(1.0)
    y = x * x
    with pytest.raises(TypeError, match="grad: inputs must be a sequence"):
        grad(y, x)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="hessian: output must be a Value"):
        hessian(3.0, [x])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="graph_nodes"):
        graph_nodes(3.0)  # type: ignore[arg-type]
    assert hessian(y, []).shape == (0, 0)


def test_unused_inputs_get_separate_zero_values() -> None:
    x, u, v = Value(1.0), Value(2.0), Value(3.0)
    gu, gv = grad(x * x, [u, v], create_graph=True)
    assert gu is not gv and gu.data == gv.data == 0.0 and gu.is_leaf


def test_hessian_treats_a_plain_number_rule_as_constant() -> None:
    # A custom rule that returns a float (not differentiable further): its second derivative is 0.
    twice = Op("twice", lambda x: 2 * x, lambda g, out, x: (2.0,))
    x = Value(1.0)
    assert hessian(twice(x), [x]).tolist() == [[0.0]]


def test_enable_grad_nests_inside_no_grad() -> None:
    x = Value(2.0)
    with no_grad():
        assert (x * x).is_leaf
        with enable_grad():
            y = x * x
            with no_grad():
                assert (x * x).is_leaf
        assert (x * x).is_leaf
    assert y.operands == (x, x)


def test_scope_names_are_checked() -> None:
    with pytest.raises(ValueError, match="empty"), scope(""):
        pass
    with pytest.raises(TypeError, match="str"), scope(3):  # type: ignore[arg-type]
        pass


def test_op_called_with_a_bad_operand_names_that_operand() -> None:
    from autograd_lite import ops

    with pytest.raises(TypeError, match="got str: 's'"):
        ops.add(Value(1.0), "s")  # type: ignore[arg-type]
