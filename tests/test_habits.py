"""The habits users bring from PyTorch and numpy (issue 21): comparisons of Values, text and
numbers of one-element nodes, tolist(), requires_grad_() and a settable requires_grad.

References: Python's own comparison and format() of the same floats, numpy's tolist() of
the same plain arrays, and gradients worked out by hand (d/dw sum(w * x) = x).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from autograd_lite import Dual, StaleDataError, Tensor, Value, grad

ORDERINGS = [operator.lt, operator.le, operator.gt, operator.ge]
NUMBERS: list[Any] = [
    -1.5,
    0.0,
    2.0,
    math.inf,
    -math.inf,
    math.nan,
    3,
    2**53 + 1,
    Fraction(1, 3),
    np.float64(2.0),
    np.int64(-3),
    True,
]
"""The other operand: floats (with the edges), ints (one beyond float precision), a
Fraction, numpy scalars and a bool."""


@pytest.mark.parametrize("compare", ORDERINGS, ids=[c.__name__ for c in ORDERINGS])
@pytest.mark.parametrize("x", [2.0, -0.0, 2.0**53, math.nan], ids=repr)
@pytest.mark.parametrize("other", NUMBERS, ids=repr)
def test_ordering_a_value_and_a_number_is_pythons_bool_of_the_numbers(
    compare: Callable[[Any, Any], Any], x: float, other: Any
) -> None:
    """Reference: Python's own comparison of the float with the number, both ways round."""
    v = Value(x)
    found, reflected = compare(v, other), compare(other, v)
    assert type(found) is bool and found == bool(compare(x, other))
    assert type(reflected) is bool and reflected == bool(compare(other, x))


@pytest.mark.parametrize("compare", ORDERINGS, ids=[c.__name__ for c in ORDERINGS])
def test_ordering_two_values_compares_their_numbers(compare: Callable[[Any, Any], Any]) -> None:
    for a, b in [(1.0, 2.0), (2.0, 2.0), (3.0, -1.0), (math.nan, 1.0)]:
        assert compare(Value(a), Value(b)) is compare(a, b)


def test_orderings_record_nothing_and_make_sorted_and_max_work() -> None:
    """max() gives one of the Values itself, so the gradient goes to it (d max/d a = 1)."""
    a, b = Value(3.0), Value(1.0)
    assert sorted([a, b]) == [b, a]  # == of Values is identity: the same objects
    m = max(a, b) * 2
    m.backward()
    assert (a.grad, b.grad) == (2.0, 0.0)
    assert np.less(np.float64(1.0), a) is True  # numpy's ufunc on a Value: the same bool


def test_equality_of_values_stays_identity_so_they_stay_dict_keys() -> None:
    a, b = Value(1.0), Value(1.0)
    assert (a == b) is False and (a == a) is True and (a == 1.0) is False and (a != b) is True
    assert {a: "a", b: "b"}[b] == "b"


@pytest.mark.parametrize("other", ["1", None, [1.0], 1j], ids=repr)
def test_ordering_a_value_with_a_non_number_is_pythons_type_error(other: object) -> None:
    with pytest.raises(TypeError, match="not supported between instances of 'Value'"):
        Value(1.0) < other  # noqa: B015


def test_ordering_a_value_with_an_array_node_compares_elementwise_outside_the_graph() -> None:
    """Reference: numpy's comparison of the plain numbers."""
    found = Value(1.0) < Tensor([0.5, 2.0])
    assert isinstance(found, np.ndarray) and found.tolist() == [False, True]


# -- numbers and text of one-element nodes ----------------------------------------------------
ONE_ELEMENT: list[tuple[str, Callable[[float], Any]]] = [
    ("Value", Value),
    ("1-element Tensor", lambda x: Tensor([[x]])),
    ("0-d Tensor", Tensor),
    ("scalar Dual", lambda x: Dual(x, tangent=1.0)),
]


@pytest.mark.parametrize("make", ONE_ELEMENT, ids=[m[0] for m in ONE_ELEMENT])
@pytest.mark.parametrize("x", [math.pi, -0.0, 1e-300, math.inf, math.nan, 12345.678], ids=repr)
@pytest.mark.parametrize("spec", [".4f", ".3e", "+.2g", "10.1f", "%"])
def test_format_of_a_one_element_node_is_pythons_format_of_its_float(
    make: tuple[str, Callable[[float], Any]], x: float, spec: str
) -> None:
    """Reference: Python's own format() of the same float."""
    node = make[1](x)
    assert format(node, spec) == format(x, spec) and f"{node:{spec}}" == format(x, spec)
    assert math.isnan(node.item()) if math.isnan(x) else node.item() == x


@pytest.mark.parametrize("data", [2.5, [1.0, -2.0], [[1.0, 2.0], [3.0, 4.5]], np.zeros((2, 0))])
def test_tolist_is_numpys_tolist_of_the_same_numbers(data: Any) -> None:
    """Reference: numpy's tolist() of the plain float64 array."""
    found = Tensor(data).tolist()
    want = np.asarray(data, dtype=np.float64).tolist()
    assert found == want and type(found) is type(want)


# -- requires_grad_ and the requires_grad property --------------------------------------------
def test_requires_grad_underscore_turns_a_leaf_on_and_returns_it() -> None:
    """Reference: d/dw sum(w * x) = x, by hand."""
    w = Tensor([1.0, 2.0], requires_grad=False).requires_grad_()
    assert w.requires_grad is True
    x = np.array([3.0, -4.0])
    (g,) = grad((w * x).sum(), [w])
    assert g.tolist() == x.tolist()
    assert w.requires_grad_(False) is w and w.requires_grad is False


def test_the_requires_grad_property_can_be_assigned_on_a_leaf() -> None:
    w = Tensor([1.0, 2.0])
    w.requires_grad = False
    with pytest.raises(RuntimeError, match="does not depend on any tensor"):
        (w * 2).sum().backward()
    w.requires_grad = True
    (w * 2).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0]


@pytest.mark.parametrize("value", ["yes", 1, None, np.array(True)], ids=repr)
def test_requires_grad_must_be_a_bool_and_nothing_changes_otherwise(value: object) -> None:
    w = Tensor([1.0])
    with pytest.raises(TypeError, match="requires_grad must be True or False"):
        w.requires_grad = value
    with pytest.raises(TypeError, match=r"requires_grad_ must be True or False"):
        w.requires_grad_(value)
    assert w.requires_grad is True


def test_requires_grad_of_a_computed_tensor_is_an_error_naming_detach() -> None:
    y = Tensor([1.0, 2.0]) * 3
    for change in [lambda: y.requires_grad_(False), lambda: setattr(y, "requires_grad", True)]:
        with pytest.raises(RuntimeError, match=r"only a leaf's requires_grad.*detach\(\)"):
            change()
    assert y.requires_grad is True
    assert y.requires_grad_() is y  # as PyTorch: True where it is true already is fine
    assert y.detach().requires_grad_().requires_grad is True


def test_a_graph_made_before_requires_grad_changed_is_stale_not_wrong() -> None:
    """Made while x needed no gradient, the graph's rule for x * w skipped x: walking it after
    x was turned on would give x no gradient (or fail): it raises instead."""
    x, w = Tensor([1.0, 2.0], requires_grad=False), Tensor([3.0, 4.0])
    old = (x * w).sum()
    x.requires_grad_()
    with pytest.raises(StaleDataError):
        old.backward()
    (g,) = grad((x * w).sum(), [x])  # a new forward pass: d/dx sum(x * w) = w
    assert g.tolist() == [3.0, 4.0]


def test_a_value_always_takes_a_gradient_and_has_no_requires_grad_switch() -> None:
    """The decision documented in docs/engine.md: a constant is a plain number."""
    assert not hasattr(Value(1.0), "requires_grad_")
