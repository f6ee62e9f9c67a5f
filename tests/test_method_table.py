"""The method table: one row gives a method to every node type, and a new op added the way
docs/engine.md says ("Adding an op": one Op, one row) works everywhere the built-in ones do.

References: closed forms worked out by hand -- d/dx sinh x = cosh x, d²/dx² sinh x = sinh x
(math.sinh / math.cosh and np.sinh / np.cosh in float64) -- and, for generated code, the
numbers backward() gives (bit for bit is the contract of codegen, docs/codegen.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from autograd_lite import (
    Dual,
    Op,
    Tensor,
    Value,
    backward_code,
    backward_steps,
    compile_grad,
    draw_graph,
    format_backward_steps,
    grad,
)
from autograd_lite.engine import methods, numpy_protocol


def _sinh_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (g * COSH(x),)


def _cosh_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (g * SINH(x),)


def _elementwise(name: str, vjp: Any) -> Op:
    """The engine guide's recipe: one Op, its forward on floats (math) and on arrays (np)
    and its rule; generated code derives its emit form from those forwards."""
    return Op(
        name,
        getattr(math, name),
        vjp,
        array_forward=getattr(np, name),
        jvp="elementwise",
    )


SINH, COSH = _elementwise("sinh", _sinh_vjp), _elementwise("cosh", _cosh_vjp)


@pytest.fixture
def sinh_method() -> Iterator[None]:
    """... and one row of the method table (taken out again after the test)."""
    methods.add("sinh", methods.Unary(SINH, "Hyperbolic sine; derivative cosh."))
    try:
        yield
    finally:
        methods.remove("sinh")


X = 0.7


def test_a_new_row_is_a_method_of_every_node_type(sinh_method: None) -> None:
    for cls in (Value, Tensor, Dual):
        assert cls.sinh.__doc__ == "Hyperbolic sine; derivative cosh."  # type: ignore[attr-defined]
    v = Value(X)
    s = v.sinh()  # type: ignore[attr-defined]
    assert s.data == math.sinh(X) and s.op is SINH
    t = Tensor([X, -1.5])
    assert t.sinh().data.tolist() == np.sinh([X, -1.5]).tolist()  # type: ignore[attr-defined]


def test_a_new_op_differentiates_first_and_second_order(sinh_method: None) -> None:
    v = Value(X)
    s = v.sinh()  # type: ignore[attr-defined]
    (d1,) = grad(s, [v], create_graph=True)
    assert d1.data == math.cosh(X)
    (d2,) = grad(d1, [v])
    assert d2 == math.sinh(X)
    t = Tensor([X, -1.5, 2.0])
    (g1,) = grad(t.sinh().sum(), [t], create_graph=True)  # type: ignore[attr-defined]
    assert g1.data.tolist() == np.cosh(t.data).tolist()
    (g2,) = grad(g1.sum(), [t])
    assert g2.tolist() == np.sinh(t.data).tolist()


def test_a_new_op_takes_its_numpy_ufunc_too(sinh_method: None) -> None:
    # Reference: d/dx sinh x = cosh x. The row's op computes arrays with np.sinh, so
    # np.sinh(t) records it, with no entry in the numpy table.
    t = Tensor([X, -1.5])
    out = np.sinh(t)
    assert isinstance(out, Tensor) and out.op is SINH
    (g,) = grad(out.sum(), [t])
    assert g.tolist() == np.cosh([X, -1.5]).tolist()
    assert "np.sinh" in numpy_protocol.supported()


def test_a_new_op_carries_tangents_on_duals(sinh_method: None) -> None:
    d = Dual(X, tangent=1.0).sinh()  # type: ignore[attr-defined]
    assert (d.data, d.tangent) == (math.sinh(X), math.cosh(X))
    a = Dual(np.array([X, -1.5]), tangent=np.array([1.0, 2.0])).sinh()  # type: ignore[attr-defined]
    assert a.tangent.tolist() == (np.cosh([X, -1.5]) * [1.0, 2.0]).tolist()


def test_a_new_op_in_generated_code_bit_for_bit(sinh_method: None) -> None:
    v = Value(X, label="v")
    s = (v * 2.0).sinh()  # type: ignore[attr-defined]
    assert compile_grad(s, [v])(X) == (s.data, tuple(grad(s, [v])))
    assert "math.sinh(" in backward_code(s, [v]) and "math.cosh(" in backward_code(s, [v])
    # second order: the gradient graph (made of sinh and cosh nodes) compiled in turn
    (d1,) = grad(s, [v], create_graph=True)
    assert compile_grad(d1, [v])(X) == (d1.data, tuple(grad(d1, [v])))
    t = Tensor([X, -1.5], label="t")
    out = t.sinh().sum()  # type: ignore[attr-defined]
    value, (g,) = compile_grad(out, [t])(t.data)
    assert value == out.data and g.tolist() == grad(out, [t])[0].tolist()


def test_a_new_op_in_a_drawing_and_the_step_table(sinh_method: None) -> None:
    v = Value(X, label="v")
    s = v.sinh()  # type: ignore[attr-defined]
    assert "sinh" in draw_graph(s).source
    steps = backward_steps(s)
    assert [row.result.op for row in steps.rows] == [SINH]
    assert "sinh" in format_backward_steps(s)


def test_add_refuses_a_name_the_table_has_and_remove_takes_the_row_away() -> None:
    with pytest.raises(ValueError, match="'exp' already"):
        methods.add("exp", methods.Unary(SINH, "no"))
    with pytest.raises(ValueError, match="'exp' is not a row added"):
        methods.remove("exp")
    assert Value(0.0).exp().data == 1.0
    methods.add("sinh", methods.Unary(SINH, "Hyperbolic sine."))
    methods.remove("sinh")
    for cls in (Value, Tensor, Dual):
        assert not hasattr(cls, "sinh")


def test_value_has_the_every_node_rows_and_arrays_have_all() -> None:
    """Reference: the table itself (rows(Methods) against rows(ArrayMethods)) and what a
    scalar can do: no matmul, reductions or comparisons of data on a Value (its own
    orderings, value.py, give a bool; its == stays identity)."""
    scalar, every = methods.rows(methods.Methods), methods.rows()
    assert {"__add__", "__rpow__", "exp", "relu", "sqrt", "abs"} <= scalar.keys()
    orderings = {"__lt__", "__le__", "__gt__", "__ge__"}
    for name in every:
        assert hasattr(Tensor, name) and hasattr(Dual, name), name
        own = getattr(Value, name, None) is not getattr(object, name, None)  # not object's ==
        assert own == (name in scalar or name in orderings), name
    assert not hasattr(Value, "sum") and not hasattr(Value, "__matmul__")
