"""Every bad input to a Tensor op: a clear error, raised before any node is made.

References: the inputs themselves (the message must name the op, the offending shapes or
the first offending element, which the test knows), the count of Tensors made (none may be) and the
.grad values before the call (nothing may change), and numpy's own results for NaN and
inf, which are allowed and propagate as in numpy.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from autograd_lite import DomainError, Tensor, Value, concatenate, grad, maximum, stack, where
from autograd_lite.engine import array_node as _array_node

ACCEPTED = "real numbers: bool, int or float"
"""What a message about bad data must say is accepted."""


@contextlib.contextmanager
def counting_tensors() -> Iterator[list[int]]:
    """Count the Tensors made inside the block: every one, made by an op (its result and its
    constants) or by Tensor(...), has its slots set by array_node.made, which makes its
    array read-only (array_node._setflags) first, once per node (a Tensor's data is always
    an array; no other node type is made here)."""
    made = [0]
    setflags = _array_node._setflags

    def counted_setflags(data: Any, write: bool) -> None:
        made[0] += 1
        setflags(data, write)

    _array_node._setflags = counted_setflags
    try:
        yield made
    finally:
        _array_node._setflags = setflags


def raises_before_any_node(
    apply: Callable[[], object], kind: type[Exception], words: list[str], count: bool = True
) -> str:
    """Call apply(), which must raise `kind` with each of `words` in its message, having made
    no Tensor. apply's operands are made beforehand; a failing constructor (count=False) is
    itself the Tensor being made, so only the message is checked there."""
    with counting_tensors() as made, pytest.raises(kind) as info:
        apply()
    message = str(info.value)
    for word in words:
        assert word in message, (word, message)
    if count:
        assert made[0] == 0, f"{made[0]} Tensor(s) made before the error: {message}"
    return message


# -- domain errors: the op, how many elements, the first one's index and value ----------------
A = Tensor([[1.0, -2.0, 0.0], [3.0, -4.0, 5.0]], label="a")
ZERO_LAST, NEGATIVE_0D, TWO = Tensor([2.0, 0.0]), Tensor(-1.0), Tensor(2.0)
DOMAIN: list[tuple[str, Callable[[], object], list[str]]] = [
    ("log", lambda: A.log(), ["log", "3 of 6 elements", "<= 0", "-2.0", "(0, 1)"]),
    ("log 0", lambda: ZERO_LAST.log(), ["log", "1 of 2", "0.0", "(1,)"]),
    ("log 0-d", lambda: NEGATIVE_0D.log(), ["log", "1 of 1", "-1.0", "()"]),
    ("sqrt", lambda: A.sqrt(), ["sqrt", "2 of 6 elements", "< 0", "-2.0", "(0, 1)"]),
    ("/ by a tensor", lambda: 1 / A, ["/", "1 of 6", "divisor", "0.0", "(0, 2)"]),
    ("/ by 0", lambda: A / 0, ["/", "1 of 1", "division by zero"]),
    ("/ by an array", lambda: A / np.array([1.0, 0.0, 2.0]), ["/", "1 of 3", "(1,)"]),
    ("** 0.5", lambda: A**0.5, ["**", "2 of 6", "integer exponent", "0.5", "-2.0", "(0, 1)"]),
    ("** -1", lambda: A**-1, ["**", "1 of 6", "0.0", "-1", "(0, 2)"]),
    ("** Tensor", lambda: A**TWO, ["**", "3 of 6", "base", "> 0", "-2.0", "(0, 1)"]),
    ("number ** Tensor", lambda: (-2.0) ** A, ["**", "1 of 1", "base", "-2.0"]),
]


@pytest.mark.parametrize("case", DOMAIN, ids=[c[0] for c in DOMAIN])
def test_domain_errors_name_the_op_the_count_and_the_first_element(
    case: tuple[str, Callable[[], object], list[str]],
) -> None:
    _, apply, words = case
    y = (A * 2).sum()
    y.backward()
    grads = A.grad.copy()
    message = raises_before_any_node(apply, DomainError, words)
    assert isinstance(DomainError(message), ValueError)
    assert A.grad.tolist() == grads.tolist() and y.grad == 1.0


def test_nan_passes_the_domain_checks_and_propagates() -> None:
    # Reference: numpy's log and sqrt of the same data.
    x = np.array([np.nan, 4.0, np.inf])
    for name in ("log", "sqrt"):
        t = Tensor(x)
        out = getattr(t, name)()
        np.testing.assert_array_equal(out.data, getattr(np, name)(x))
        out.backward(np.ones(3))
        assert np.isnan(t.grad[0]) and t.grad[2] == 0.0


# -- shapes that do not fit: the op and both shapes -------------------------------------------
P, Q = Tensor(np.ones((2, 3))), Tensor(np.ones((4,)))
PT, Q_ROW, SCALAR = Tensor(np.ones((3, 2))), Tensor(np.ones((1, 4))), Tensor(2.0)
SHAPES: list[tuple[str, Callable[[], object], list[str]]] = [
    ("+", lambda: P + Q, ["+", "(2, 3)", "(4,)"]),
    ("-", lambda: P - Q, ["-", "(2, 3)", "(4,)"]),
    ("*", lambda: P * Q, ["*", "(2, 3)", "(4,)"]),
    ("/", lambda: P / Q, ["/", "(2, 3)", "(4,)"]),
    ("**", lambda: P**Q, ["**", "(2, 3)", "(4,)"]),
    ("* an array", lambda: P * np.ones((3, 2)), ["*", "(2, 3)", "(3, 2)"]),
    # an array exponent is a parameter, checked before the op: numpy's words named no op
    ("** an array", lambda: P ** np.ones(4), ["**", "(2, 3)", "(4,)"]),
    ("+ a list", lambda: np.ones(2).tolist() + P, ["+", "(2,)", "(2, 3)"]),
    ("maximum", lambda: maximum(P, Q), ["maximum", "(2, 3)", "(4,)"]),
    ("where", lambda: where(np.ones(4, dtype=bool), P, 0.0), ["where", "(2, 3)", "(4,)"]),
    ("@", lambda: P @ P, ["@", "(2, 3)", "(2, 3)"]),
    ("@ vector", lambda: P @ Q, ["@", "(2, 3)", "(4,)"]),
    ("@ 0-d", lambda: SCALAR @ Q, ["@", "()", "(4,)"]),
    ("concatenate", lambda: concatenate([P, Q_ROW]), ["concatenate", "(2, 3)", "(1, 4)"]),
    ("stack", lambda: stack([P, PT]), ["stack", "(2, 3)", "(3, 2)"]),
    ("reshape", lambda: P.reshape(4, 2), ["reshape", "(2, 3)", "(4, 2)"]),
    ("reshape -1 twice", lambda: P.reshape(-1, -1), ["reshape", "(2, 3)", "(-1, -1)"]),
    ("getitem", lambda: P[2], ["getitem", "2", "(2, 3)"]),
    ("getitem array", lambda: P[:, [0, 3]], ["getitem", "(2, 3)"]),
]


@pytest.mark.parametrize("case", SHAPES, ids=[c[0] for c in SHAPES])
def test_shape_mismatches_name_the_op_and_both_shapes(
    case: tuple[str, Callable[[], object], list[str]],
) -> None:
    _, apply, words = case
    raises_before_any_node(apply, IndexError if "getitem" in words else ValueError, words)


# -- backward: which gradient it needs --------------------------------------------------------
def test_backward_on_a_non_scalar_says_which_gradient_it_needs_and_changes_nothing() -> None:
    x = Tensor([1.0, 2.0, 3.0])
    (x * 2).sum().backward()
    y = x * x
    raises_before_any_node(y.backward, ValueError, ["backward", "(3,)", "gradient=", ".sum()"])
    for bad in (np.ones(2), np.ones((3, 1)), np.ones(()), [[1.0, 2.0, 3.0]]):
        raises_before_any_node(
            lambda bad=bad: y.backward(bad), ValueError, ["backward", "needs", "(3,)"]
        )
    raises_before_any_node(
        lambda: y.backward(np.ones(3) * 1j), TypeError, ["backward: gradient", ACCEPTED]
    )
    assert x.grad.tolist() == [2.0, 2.0, 2.0] and y._grad is None


def test_backward_of_a_one_element_output_with_a_gradient_of_another_shape() -> None:
    x = Tensor([1.0, 2.0])
    y = x.sum()
    raises_before_any_node(lambda: y.backward(np.ones((1, 1))), ValueError, ["needs", "()"])
    assert not x.grad.any()


def test_backward_of_an_output_that_needs_no_gradient_says_why() -> None:
    y = (Tensor([1.0, 2.0], requires_grad=False) * 2).sum()
    raises_before_any_node(y.backward, RuntimeError, ["backward", "requires_grad=False", "no_grad"])


# -- mixing Value and Tensor: how to convert --------------------------------------------------
V = Value(1.5, label="v")
T = Tensor([1.0, 2.0], label="t")
MIXED: list[tuple[str, Callable[[], object]]] = [
    ("Tensor + Value", lambda: T + V),
    ("Tensor * Value", lambda: T * V),
    ("Tensor ** Value", lambda: T**V),
    ("Tensor @ Value", lambda: T @ V),
    ("maximum(Tensor, Value)", lambda: maximum(T, V)),
    ("where(c, Tensor, Value)", lambda: where(np.array([True, False]), T, V)),
    ("concatenate([Tensor, Value])", lambda: concatenate([T, V])),
    ("stack([Tensor, Value])", lambda: stack([T, V])),
]


VALUE_FIRST: list[tuple[str, Callable[[], object]]] = [
    ("Value + Tensor", lambda: V + T),
    ("Value * Tensor", lambda: V * T),
    ("Value ** Tensor", lambda: V**T),
    ("maximum(Value, Tensor)", lambda: maximum(V, T)),
]


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c[0]) for c in [*MIXED, *VALUE_FIRST]],
)
def test_mixing_value_and_tensor_says_how_to_convert(
    case: tuple[str, Callable[[], object]],
) -> None:
    _, apply = case
    raises_before_any_node(apply, TypeError, ["Tensor", "Value", "Tensor(v.data)", "t.item()"])


def test_mixing_with_the_value_first_is_refused_before_any_node() -> None:
    # What holds today whichever side the Value is on: a TypeError naming both, no node.
    for _, apply in VALUE_FIRST:
        raises_before_any_node(apply, TypeError, ["cannot mix a Value with a Tensor"])


def test_a_node_is_not_data() -> None:
    for node in (V, T):
        raises_before_any_node(
            lambda n=node: Tensor(n), TypeError, [".data", ".detach()"], count=False
        )


# -- data that is not real numbers: what is accepted ------------------------------------------
BAD_DATA: list[tuple[str, object]] = [
    ("complex", 1 + 2j),
    ("complex array", np.array([1.0, 2.0]) * 1j),
    ("object array", np.array([1, "a"], dtype=object)),
    ("string", "1.5"),
    ("list of strings", ["1", "2"]),
    ("bytes", b"12"),
    ("ragged", [[1.0, 2.0], [3.0]]),
    ("ragged deeper", [[[1.0]], [2.0]]),
    ("None", None),
    ("dict", {"a": 1.0}),
    ("set", {1.0, 2.0}),
    ("datetime64", np.array(["2020-01-01"], dtype="datetime64[D]")),
    ("list of Values", [Value(1.0), Value(2.0)]),
]


@pytest.mark.parametrize("case", BAD_DATA, ids=[c[0] for c in BAD_DATA])
def test_data_that_is_not_real_numbers_is_a_type_error_saying_what_is_accepted(
    case: tuple[str, object],
) -> None:
    _, data = case
    x = Tensor([1.0, 2.0])
    raises_before_any_node(lambda: Tensor(data), TypeError, ["Tensor", ACCEPTED], count=False)
    raises_before_any_node(lambda: x + data, TypeError, ["+: operand", ACCEPTED])
    raises_before_any_node(lambda: data * x, TypeError, ["*: operand", ACCEPTED])
    with pytest.raises(TypeError, match=ACCEPTED):
        x.data = data
    assert x.data.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("x", [2**70, -(2**63) - 1, 2**64, Fraction(1, 3), np.uint64(2**64 - 1)])
def test_a_tensor_takes_the_numbers_a_value_takes(x: object) -> None:
    """One rule (validate.real): an int beyond int64 or a Fraction is a number for both.
    Reference: Python's float() of the same number."""
    assert Value(x).data == float(x)  # type: ignore[arg-type]
    assert Tensor(x).data.tolist() == float(x)  # type: ignore[arg-type]
    assert Tensor([[1, x]]).data.tolist() == [[1.0, float(x)]]  # type: ignore[arg-type]
    assert (Tensor([1.0]) * [x]).data.tolist() == [float(x)]  # type: ignore[arg-type]


def test_an_int_too_large_for_a_float_is_an_overflow_error_for_both() -> None:
    with pytest.raises(OverflowError, match=r"^Value: int of about 10\*\*400 is too large"):
        Value(10**400)
    raises_before_any_node(lambda: Tensor(10**400), OverflowError, ["Tensor", "10**400"], False)
    raises_before_any_node(lambda: Tensor([1, 10**400]), OverflowError, ["10**400"], False)
    x = Tensor([1.0, 2.0])
    raises_before_any_node(lambda: x * [1, -(10**400)], OverflowError, ["*: operand"])


def test_other_constructor_arguments_are_checked() -> None:
    for apply, words in [
        (lambda: Tensor(1.0, dtype=np.int32), ["dtype", "float64", "float32"]),
        (lambda: Tensor(1.0, dtype="bogus"), ["'bogus'"]),
        (lambda: Tensor(1.0, requires_grad=1), ["requires_grad"]),
        (lambda: Tensor(1.0, requires_grad="no"), ["requires_grad", "'no'"]),
        (lambda: Tensor(1.0, label=3), ["label"]),
    ]:
        raises_before_any_node(apply, TypeError, words, count=False)
    assert Tensor(1.0, dtype="float32").dtype == np.float32


# -- the other arguments of ops ---------------------------------------------------------------
M = Tensor(np.arange(6.0).reshape(2, 3))
EMPTY, NO_ROWS, ONE, MT, MSUM = Tensor([]), Tensor(np.ones((0, 2))), Tensor(1.0), M.T, M.sum()
ARGUMENTS: list[tuple[str, Callable[[], object], type[Exception], list[str]]] = [
    ("axis out of range", lambda: M.sum(axis=2), ValueError, ["sum", "axis 2", "2 dimension"]),
    ("negative axis out of range", lambda: M.mean(axis=-3), ValueError, ["mean", "-3"]),
    ("axis repeated", lambda: M.max(axis=(1, -1)), ValueError, ["max", "repeats"]),
    ("axis float", lambda: M.sum(axis=1.0), TypeError, ["sum", "axis", "1.0"]),
    ("axis bool", lambda: M.sum(axis=True), TypeError, ["sum", "axis", "True"]),
    ("softmax axis tuple", lambda: M.softmax(axis=(0, 1)), TypeError, ["softmax", "an int"]),
    ("log_softmax axis", lambda: M.log_softmax(axis=2), ValueError, ["log_softmax", "axis 2"]),
    ("logsumexp axis None", lambda: M.logsumexp(axis=None), TypeError, ["logsumexp"]),
    ("transpose repeat", lambda: M.transpose(0, 0), ValueError, ["transpose", "repeats"]),
    ("transpose short", lambda: M.transpose(1), ValueError, ["transpose", "2 axes"]),
    ("index float", lambda: M[1.5], IndexError, ["getitem", "float"]),
    ("index float array", lambda: M[np.array([0.5])], IndexError, ["getitem", "float64"]),
    ("index string", lambda: M["a"], IndexError, ["getitem", "str"]),
    ("where not boolean", lambda: where(M.data, M, 0.0), TypeError, ["where", "boolean"]),
    ("where Tensor condition", lambda: where(M, M, 0.0), TypeError, ["where", "boolean"]),
    ("concatenate empty", lambda: concatenate([]), ValueError, ["concatenate", "at least one"]),
    ("concatenate a Tensor", lambda: concatenate(M), TypeError, ["concatenate", "list or tuple"]),
    ("stack axis", lambda: stack([M, M], axis=3), ValueError, ["stack", "axis 3"]),
    ("mean of nothing", lambda: EMPTY.mean(), ValueError, ["mean", "no elements"]),
    ("max of nothing", lambda: NO_ROWS.max(0), ValueError, ["max", "(0, 2)"]),
    ("item of many", lambda: M.item(), ValueError, ["item", "6 elements"]),
    ("len of 0-d", lambda: len(ONE), TypeError, ["len", "0-d"]),
    ("truth of many", lambda: bool(M), ValueError, ["truth value", "6 elements"]),
    # flags are True or False: "no" and 1 are not taken by their truth
    ("keepdims str", lambda: M.sum(keepdims="no"), TypeError, ["sum: keepdims", "'no'"]),
    ("keepdims int", lambda: M.mean(keepdims=1), TypeError, ["mean: keepdims", "1"]),
    ("keepdims None", lambda: M.max(keepdims=None), TypeError, ["max: keepdims", "None"]),
    ("logsumexp keepdims", lambda: M.logsumexp(keepdims="yes"), TypeError, ["logsumexp"]),
    ("np.sum keepdims", lambda: np.sum(M, keepdims="no"), TypeError, ["sum: keepdims"]),
    ("grad create_graph", lambda: grad(MSUM, [M], create_graph="no"), TypeError, ["grad"]),
    # reshape: ints >= 0 and at most one -1, of the same size
    ("reshape -2", lambda: M.reshape(-2, 3), ValueError, ["reshape", "(-2, 3)", "one -1"]),
    ("reshape two -1", lambda: M.reshape(-1, -1), ValueError, ["reshape", "(-1, -1)"]),
    ("reshape size", lambda: M.reshape(4, -1), ValueError, ["reshape", "(2, 3)", "(4, -1)"]),
    ("reshape size no -1", lambda: M.reshape(5), ValueError, ["reshape", "6 elements"]),
    ("reshape float", lambda: M.reshape(3, 2.0), TypeError, ["reshape", "float: 2.0"]),
    ("reshape bool", lambda: M.reshape((True, 6)), TypeError, ["reshape", "bool: True"]),
    ("reshape empty -1", lambda: NO_ROWS.reshape(0, -1), ValueError, ["reshape", "(0, -1)"]),
    ("reshape str", lambda: M.reshape("6"), TypeError, ["reshape", "str"]),
    ("transpose out of range", lambda: M.transpose(0, 2), ValueError, ["transpose", "axis 2"]),
    ("transpose too many", lambda: M.transpose(0, 1, 2), ValueError, ["transpose", "axis 2"]),
    ("transpose float", lambda: M.transpose(0.0, 1), TypeError, ["transpose", "0.0"]),
    ("index float scalar", lambda: M[np.float64(1.0)], IndexError, ["getitem", "float64"]),
    ("index a Value", lambda: M[Value(1.0)], IndexError, ["getitem", "float"]),
    ("stack float axis", lambda: stack([M, M], axis=0.5), TypeError, ["stack", "0.5"]),
    ("stack shapes", lambda: stack([M, MT]), ValueError, ["stack", "(2, 3)", "(3, 2)"]),
    ("concatenate 0-d", lambda: concatenate([ONE, ONE]), ValueError, ["concatenate", "axis 0"]),
    ("concatenate str", lambda: concatenate([M, "a"]), TypeError, ["concatenate", "str"]),
    ("concatenate generator", lambda: concatenate(x for x in [M]), TypeError, ["concatenate"]),
    ("mean over empty axis", lambda: NO_ROWS.mean(axis=0), ValueError, ["mean", "0/0"]),
]


@pytest.mark.parametrize("case", ARGUMENTS, ids=[c[0] for c in ARGUMENTS])
def test_bad_op_arguments_are_clear_errors(
    case: tuple[str, Callable[[], object], type[Exception], list[str]],
) -> None:
    _, apply, kind, words = case
    raises_before_any_node(apply, kind, words)


def test_assigning_grad_or_data_of_another_shape_changes_nothing() -> None:
    t = Tensor([[1.0, 2.0]])
    with pytest.raises(ValueError, match=r"Tensor.grad.*\(3,\).*\(1, 2\)"):
        t.grad = np.ones(3)
    with pytest.raises(ValueError, match=r"Tensor.data.*\(3,\).*\(1, 2\)"):
        t.data = np.ones(3)
    assert t.data.tolist() == [[1.0, 2.0]] and not t.grad.any()
    t.data = [[3, 4]]  # same shape: converted to the tensor's dtype
    assert t.data.tolist() == [[3.0, 4.0]] and t.dtype == np.float64


# -- NaN and inf: allowed, and propagated as numpy does ---------------------------------------
SPECIAL = np.array([np.nan, np.inf, -np.inf, 1.0, 0.0, -2.0])
OTHER = np.array([1.0, np.inf, 2.0, np.nan, -1.0, np.inf])
AS_NUMPY: dict[str, tuple[Callable[[Any, Any], Any], Callable[[Any, Any], Any]]] = {
    "+": (lambda a, b: a + b, lambda a, b: a + b),
    "-": (lambda a, b: a - b, lambda a, b: a - b),
    "*": (lambda a, b: a * b, lambda a, b: a * b),
    "/": (lambda a, b: a / b, lambda a, b: a / b),
    "**2": (lambda a, b: a**2, lambda a, b: a**2),
    "neg": (lambda a, b: -a, lambda a, b: -a),
    "exp": (lambda a, b: a.exp(), lambda a, b: np.exp(a)),
    "tanh": (lambda a, b: a.tanh(), lambda a, b: np.tanh(a)),
    "sigmoid": (lambda a, b: a.sigmoid(), lambda a, b: 1 / (1 + np.exp(-a))),
    "relu": (lambda a, b: a.relu(), lambda a, b: np.maximum(a, 0)),
    "abs": (lambda a, b: abs(a), lambda a, b: np.abs(a)),
    "maximum": (lambda a, b: maximum(a, b), lambda a, b: np.maximum(a, b)),
    "@": (lambda a, b: a @ b, lambda a, b: a @ b),
    "sum": (lambda a, b: a.sum(), lambda a, b: np.sum(a)),
    "mean": (lambda a, b: b.mean(), lambda a, b: np.mean(b)),
    "max": (lambda a, b: a.reshape(2, 3).max(axis=1), lambda a, b: a.reshape(2, 3).max(axis=1)),
    "[::2]": (lambda a, b: a[::2], lambda a, b: a[::2]),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's inf - inf warnings, as numpy
@pytest.mark.parametrize("name", AS_NUMPY)
def test_nan_and_inf_are_allowed_and_propagate_as_in_numpy(name: str) -> None:
    engine, numpy_forward = AS_NUMPY[name]
    a, b = Tensor(SPECIAL), Tensor(OTHER)
    with np.errstate(all="ignore"):
        expected = numpy_forward(SPECIAL, OTHER)
    out = engine(a, b)
    np.testing.assert_array_equal(out.data, expected)  # NaN where numpy has NaN
    out.backward(np.ones(out.shape))  # no error: the gradients hold nan or inf where due


def test_nan_and_inf_in_gradients_by_hand() -> None:
    # Reference: the derivatives worked by hand: d exp = exp (inf at inf, 0 at -inf),
    # d(a*b)/da = b (nan where b is nan), and a sum passes 1 to each element whatever it is.
    x = Tensor([np.inf, -np.inf, np.nan])
    x.exp().sum().backward()
    np.testing.assert_array_equal(x.grad, [np.inf, 0.0, np.nan])
    a, b = Tensor([1.0, 2.0]), Tensor([np.nan, np.inf])
    (a * b).sum().backward()
    np.testing.assert_array_equal(a.grad, [np.nan, np.inf])
    np.testing.assert_array_equal(b.grad, [1.0, 2.0])
    s = Tensor([np.nan, np.inf, 1.0])
    s.sum().backward()
    assert s.grad.tolist() == [1.0, 1.0, 1.0]
