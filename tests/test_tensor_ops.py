"""Every Tensor op against central finite differences in float64, over shapes hypothesis picks.

References: a numpy forward written out here for each op, differentiated by central
differences (tests/array_reference.py); for matmul, reductions, indexing and the softmax
family also a gradient written by hand in numpy; PyTorch's documented conventions where a
derivative is a choice (ties of max and maximum share the gradient equally, relu and abs
have derivative 0 at 0). Broadcasting is covered by shapes drawn in pairs that broadcast
(0-d, (3, 1) with (1, 4), extra leading axes). Domains are kept away from their edges and
kinks by the values drawn. AUTOGRAD_LITE_FUZZ=1 draws many more examples.
"""

from __future__ import annotations

import gc
import re
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd_lite import (
    DomainError,
    Op,
    Tensor,
    Value,
    concatenate,
    grad,
    maximum,
    no_grad,
    ops,
    stack,
    where,
)
from autograd_lite.engine.array_ops import linear
from tests.array_reference import Array, assert_close, numeric_gradients
from tests.conftest import FUZZ
from tests.reference import numpy_hessian_extrapolated

FEW = settings(max_examples=2000 if FUZZ else 12, deadline=None)
"""A short search by default (the file runs in seconds), a long one under AUTOGRAD_LITE_FUZZ=1."""

SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
PAIRS = hnp.mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3
)
BROADCAST_EXAMPLES = [((), (2, 3)), ((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((3,), (2, 1, 3))]
"""Pairs every broadcasting test runs, whatever hypothesis draws: 0-d, (3,1) with (1,4),
extra leading axes on either side."""


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def away_from_zero(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Floats with lo <= |x| <= hi, either sign: clear of the kink of relu and abs at 0."""
    return st.one_of(floats(lo, hi), floats(-hi, -lo))


def arrays(shape: tuple[int, ...], elements: st.SearchStrategy[float]) -> Any:
    return hnp.arrays(np.float64, shape, elements=elements)


def engine_matches_differences(
    engine: Callable[..., Tensor],
    numpy_forward: Callable[..., Any],
    xs: list[Array],
    cotangent: Array | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-7,
) -> list[Tensor]:
    """Run engine(*tensors), compare its value with numpy_forward's and, after
    backward(cotangent), each tensor's grad with central differences of numpy_forward."""
    tensors = [Tensor(x) for x in xs]
    out = engine(*tensors)
    expected = np.asarray(numpy_forward(*xs), dtype=np.float64)
    assert out.dtype == np.float64
    assert_close(out.data, expected, rtol=1e-12, atol=1e-12)
    c = np.linspace(-1.0, 1.5, expected.size).reshape(expected.shape)
    c = c if cotangent is None else cotangent
    out.backward(c)
    for t, reference in zip(tensors, numeric_gradients(numpy_forward, xs, c)):
        assert_close(t.grad, reference, rtol, atol)
    return tensors


# -- the same Op objects and rules as Value ---------------------------------------------------
SHARED: dict[str, tuple[Callable[..., Any], Any, int]] = {
    "+": (lambda a, b: a + b, ops.add, 2),
    "-": (lambda a, b: a - b, ops.sub, 2),
    "*": (lambda a, b: a * b, ops.mul, 2),
    "/": (lambda a, b: a / b, ops.div, 2),
    "** (node exponent)": (lambda a, b: a**b, ops.pow_value, 2),
    "** (number exponent)": (lambda a: a**3, ops.pow_number(3.0), 1),
    "neg": (lambda a: -a, ops.neg, 1),
    "exp": (lambda a: a.exp(), ops.exp, 1),
    "log": (lambda a: a.log(), ops.log, 1),
    "tanh": (lambda a: a.tanh(), ops.tanh, 1),
    "sigmoid": (lambda a: a.sigmoid(), ops.sigmoid, 1),
    "relu": (lambda a: a.relu(), ops.relu, 1),
}


@pytest.mark.parametrize("name", SHARED)
def test_value_and_tensor_use_the_same_op_object_and_rule(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reference: object identity with the op table, and a spy on that op's one rule, which
    # must run on floats for the Value graph and on arrays for the Tensor graph.
    apply, op, arity = SHARED[name]
    calls: list[type] = []
    rule = op.vjp

    def spy(g: Any, out: Any, *xs: Any) -> Any:
        calls.append(type(g))
        return rule(g, out, *xs)

    monkeypatch.setattr(op, "vjp", spy)
    v = apply(*[Value(1.5 + i) for i in range(arity)])
    t = apply(*[Tensor([1.5 + i, 0.5 + i]) for i in range(arity)])
    assert v.op is op and t.op is op
    v.backward()
    t.sum().backward()
    assert calls == [float, np.ndarray]


# -- elementwise ops of one operand -----------------------------------------------------------
UNARY: dict[str, tuple[Callable[[Any], Any], Callable[[Array], Any], st.SearchStrategy[float]]] = {
    "neg": (lambda t: -t, lambda x: -x, floats(-3, 3)),
    "exp": (lambda t: t.exp(), np.exp, floats(-3, 3)),
    "log": (lambda t: t.log(), np.log, floats(0.2, 5)),
    "tanh": (lambda t: t.tanh(), np.tanh, floats(-3, 3)),
    "sigmoid": (lambda t: t.sigmoid(), lambda x: 1 / (1 + np.exp(-x)), floats(-5, 5)),
    "relu": (lambda t: t.relu(), lambda x: np.where(x > 0, x, 0.0), away_from_zero(0.1, 3)),
    "abs": (lambda t: t.abs(), np.abs, away_from_zero(0.1, 3)),
    "abs()": (lambda t: abs(t), np.abs, away_from_zero(0.1, 3)),
    "sqrt": (lambda t: t.sqrt(), np.sqrt, floats(0.2, 5)),
    "x**2": (lambda t: t**2, lambda x: x * x, floats(-3, 3)),
    "x**3": (lambda t: t**3, lambda x: x * x * x, floats(-2, 2)),
    "x**-1": (lambda t: t**-1, lambda x: 1 / x, away_from_zero(0.3, 3)),
    "x**0.5": (lambda t: t**0.5, np.sqrt, floats(0.2, 5)),
    "x**-2.5": (lambda t: t ** (-2.5), lambda x: 1 / (x * x * np.sqrt(x)), floats(0.3, 3)),
    "x**0": (lambda t: t**0, lambda x: np.ones_like(x), floats(-3, 3)),
    "x**array": (lambda t: t ** np.full(t.shape, 1.5), lambda x: x * np.sqrt(x), floats(0.2, 3)),
    "2**x": (lambda t: 2**t, lambda x: np.exp(x * np.log(2.0)), floats(-3, 3)),
    "1.5 - x": (lambda t: 1.5 - t, lambda x: 1.5 - x, floats(-3, 3)),
    "2 / x": (lambda t: 2 / t, lambda x: 2 / x, away_from_zero(0.3, 3)),
    "x / 4": (lambda t: t / 4, lambda x: x / 4, floats(-3, 3)),
    "x * True": (lambda t: t * True, lambda x: x, floats(-3, 3)),
}


@pytest.mark.parametrize("name", UNARY)
@FEW
@given(data=st.data(), shape=SHAPES)
@example(data=None, shape=())
def test_unary_ops_against_differences(name: str, data: Any, shape: tuple[int, ...]) -> None:
    engine, forward, elements = UNARY[name]
    x = np.full(shape, 0.7) if data is None else data.draw(arrays(shape, elements))
    engine_matches_differences(engine, forward, [x])


# -- elementwise ops of two operands, broadcasting --------------------------------------------
BINARY: dict[
    str,
    tuple[
        Callable[[Any, Any], Any],
        Callable[[Array, Array], Any],
        st.SearchStrategy[float],
        st.SearchStrategy[float],
    ],
] = {
    "+": (lambda a, b: a + b, lambda a, b: a + b, floats(-3, 3), floats(-3, 3)),
    "-": (lambda a, b: a - b, lambda a, b: a - b, floats(-3, 3), floats(-3, 3)),
    "*": (lambda a, b: a * b, lambda a, b: a * b, floats(-3, 3), floats(-3, 3)),
    "/": (lambda a, b: a / b, lambda a, b: a / b, floats(-3, 3), away_from_zero(0.3, 3)),
    "**": (
        lambda a, b: a**b,
        lambda a, b: np.exp(b * np.log(a)),
        floats(0.3, 3),
        floats(-2, 2),
    ),
    # maximum: a from the quarter-integers, b from the quarter-integers + 1/8, so never a tie
    "maximum": (
        maximum,
        lambda a, b: np.where(a > b, a, b),
        st.integers(-12, 12).map(lambda i: i / 4),
        st.integers(-12, 12).map(lambda i: i / 4 + 0.125),
    ),
    "a * b + a": (
        lambda a, b: a * b + a,
        lambda a, b: a * b + a,
        floats(-3, 3),
        floats(-3, 3),
    ),
}


@pytest.mark.parametrize("name", BINARY)
@FEW
@given(data=st.data(), shapes=PAIRS.map(lambda s: s.input_shapes))
def test_binary_ops_against_differences_with_broadcasting(
    name: str, data: Any, shapes: tuple[tuple[int, ...], ...]
) -> None:
    engine, forward, left, right = BINARY[name]
    for pair in [*BROADCAST_EXAMPLES, shapes]:
        a = data.draw(arrays(pair[0], left))
        b = data.draw(arrays(pair[1], right))
        ta, tb = engine_matches_differences(engine, forward, [a, b])
        assert ta.grad.shape == pair[0] and tb.grad.shape == pair[1]


def test_a_broadcast_operand_gets_its_gradient_summed_back_to_its_shape() -> None:
    # Reference: worked by hand. out[i, j] = a[i, 0] * b[0, j] with a (3, 1) and b (1, 4):
    # d sum(out) / d a[i, 0] = sum_j b[0, j], and d / d b[0, j] = sum_i a[i, 0].
    a = Tensor([[1.0], [2.0], [3.0]])
    b = Tensor([[1.0, 10.0, 100.0, 1000.0]])
    (a * b).sum().backward()
    assert a.grad.tolist() == [[1111.0], [1111.0], [1111.0]]
    assert b.grad.tolist() == [[6.0, 6.0, 6.0, 6.0]]
    s = Tensor(2.0)  # 0-d against (2, 3): every element's share adds up in the scalar
    (s * np.ones((2, 3))).sum().backward()
    assert s.grad.shape == () and s.grad == 6.0


@FEW
@given(data=st.data(), shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3))
def test_where_against_differences_with_broadcasting(
    data: Any, shapes: hnp.BroadcastableShapes
) -> None:
    cond_shape, a_shape, b_shape = shapes.input_shapes
    cond = data.draw(hnp.arrays(np.bool_, cond_shape))
    a = data.draw(arrays(a_shape, floats(-3, 3)))
    b = data.draw(arrays(b_shape, floats(-3, 3)))
    ta, tb = engine_matches_differences(
        lambda x, y: where(cond, x.tanh(), y * 2),
        lambda x, y: np.where(cond, np.tanh(x), y * 2),
        [a, b],
    )
    assert ta.grad.shape == a_shape and tb.grad.shape == b_shape


def test_where_takes_a_comparison_and_constants() -> None:
    # Reference: worked by hand; a gradient flows only where the branch was taken.
    x = Tensor([-2.0, 3.0, -1.0])
    y = where(x > 0, x * 10, 0.0)
    assert y.data.tolist() == [0.0, 30.0, 0.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 10.0, 0.0]


# -- ties: PyTorch's conventions --------------------------------------------------------------
def test_maximum_ties_share_the_gradient_equally() -> None:
    # Reference: PyTorch's torch.maximum, whose gradient at a == b is g/2 to each operand.
    a = Tensor([1.0, 2.0, 3.0])
    b = Tensor([3.0, 2.0, 1.0])
    maximum(a, b).backward(np.array([1.0, 10.0, 100.0]))
    assert a.grad.tolist() == [0.0, 5.0, 100.0]
    assert b.grad.tolist() == [1.0, 5.0, 0.0]


def test_maximum_with_a_number_is_a_relu_with_a_floor() -> None:
    x = Tensor([-1.0, 0.5, 2.0])
    y = maximum(x, 0.5)
    y.sum().backward()
    assert y.data.tolist() == [0.5, 0.5, 2.0]
    assert x.grad.tolist() == [0.0, 0.5, 1.0]


@pytest.mark.parametrize(
    ("axis", "keepdims", "expected"),
    [
        (None, False, [[0.0, 0.25, 0.25], [0.25, 0.0, 0.25]]),
        (1, False, [[0.0, 0.5, 0.5], [0.5, 0.0, 0.5]]),
        (0, True, [[0.0, 1.0, 0.5], [1.0, 0.0, 0.5]]),
    ],
)
def test_max_ties_share_the_gradient_equally(
    axis: int | None, keepdims: bool, expected: list[list[float]]
) -> None:
    # Reference: PyTorch's amax and full max, which spread the gradient evenly over the
    # elements equal to the maximum; worked out by hand for this matrix (the 3s tie).
    x = Tensor([[1.0, 3.0, 3.0], [3.0, 2.0, 3.0]])
    x.max(axis=axis, keepdims=keepdims).sum().backward()
    assert x.grad.tolist() == expected


# -- matmul: every np.matmul case -------------------------------------------------------------
MATMUL_SHAPES = [
    ((3,), (3,)),  # inner product, 0-d result
    ((3,), (3, 4)),  # vector @ matrix
    ((2, 3), (3,)),  # matrix @ vector
    ((2, 3), (3, 4)),
    ((5, 2, 3), (5, 3, 4)),  # batched
    ((5, 2, 3), (3, 4)),  # a batch against one matrix
    ((2, 3), (5, 3, 4)),
    ((2, 1, 2, 3), (4, 3, 2)),  # batch axes broadcast: (2, 1) with (4,)
    ((3,), (5, 3, 4)),  # a vector against a batch
    ((5, 2, 3), (3,)),
    ((1, 3), (3, 1)),
]


def matmul_gradients(a: Array, b: Array, g: Array) -> tuple[Array, Array]:
    """The gradients of a @ b written by hand: as 2-D matrices dA = G B^T and dB = A^T G,
    per batch, after making vectors matrices (a row for a, a column for b); then summed over
    the batch axes that broadcasting added or stretched, and the vector axes dropped."""
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = np.expand_dims(g, -1) if b.ndim == 1 else g  # the column axis back, then the row
    g2 = np.expand_dims(g2, -2) if a.ndim == 1 else g2
    da = g2 @ np.swapaxes(b2, -1, -2)
    db = np.swapaxes(a2, -1, -2) @ g2

    def back(d: Array, shape2: tuple[int, ...]) -> Array:
        while d.ndim > len(shape2):
            d = d.sum(axis=0)
        for i, n in enumerate(shape2):
            if n == 1 and d.shape[i] != 1:
                d = d.sum(axis=i, keepdims=True)
        return d

    da, db = back(da, a2.shape), back(db, b2.shape)
    return (da[0] if a.ndim == 1 else da), (db[:, 0] if b.ndim == 1 else db)


@pytest.mark.parametrize(("sa", "sb"), MATMUL_SHAPES, ids=[f"{a}@{b}" for a, b in MATMUL_SHAPES])
def test_matmul_against_hand_written_gradients_and_differences(
    sa: tuple[int, ...], sb: tuple[int, ...]
) -> None:
    rng = np.random.default_rng(len(sa) * 10 + len(sb))
    a, b = rng.uniform(-2, 2, sa), rng.uniform(-2, 2, sb)
    g = rng.uniform(-1, 1, np.matmul(a, b).shape)
    ta, tb = engine_matches_differences(lambda x, y: x @ y, np.matmul, [a, b], g)
    da, db = matmul_gradients(a, b, g)
    assert_close(ta.grad, da, rtol=1e-12, atol=1e-12)
    assert_close(tb.grad, db, rtol=1e-12, atol=1e-12)


def test_matmul_with_an_array_on_either_side() -> None:
    # Reference: the hand-written 2-D rule dW = G x^T with x the constant.
    rng = np.random.default_rng(1)
    w, x = Tensor(rng.normal(size=(2, 3))), rng.normal(size=(3, 4))
    (w @ x).sum().backward()
    assert_close(w.grad, np.ones((2, 4)) @ x.T, rtol=1e-12, atol=1e-12)
    v = Tensor(rng.normal(size=(3, 4)))
    (x.T @ v).sum().backward()  # an ndarray on the left: the reflected operator
    assert_close(v.grad, x @ np.ones((4, 4)), rtol=1e-12, atol=1e-12)


# -- reductions with axes ---------------------------------------------------------------------
@st.composite
def shape_and_axis(draw: Any) -> tuple[tuple[int, ...], Any]:
    """A shape and an axis argument for it: None, an int, or a tuple, negatives included."""
    shape = draw(SHAPES)
    ndim = len(shape)
    if ndim == 0:
        return shape, draw(st.sampled_from([None, ()]))
    one = st.integers(-ndim, ndim - 1)
    many = st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).flatmap(
        lambda axes: st.tuples(*[st.sampled_from([a, a - ndim]) for a in axes])
    )
    return shape, draw(st.one_of(st.none(), one, many))


def reduced_axes(ndim: int, axis: Any) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % ndim for a in (axis if isinstance(axis, tuple) else (axis,)))


def spread(g: Array, shape: tuple[int, ...], axis: Any, keepdims: bool) -> Array:
    """g, the gradient of a reduction, back over the input's shape (by hand: put the reduced
    axes back as length 1, then repeat)."""
    if not keepdims:
        for a in sorted(reduced_axes(len(shape), axis)):
            g = np.expand_dims(g, a)
    return np.broadcast_to(g, shape)


@FEW
@given(data=st.data(), case=shape_and_axis(), keepdims=st.booleans())
def test_sum_mean_max_against_hand_written_gradients_and_differences(
    data: Any, case: tuple[tuple[int, ...], Any], keepdims: bool
) -> None:
    shape, axis = case
    # distinct quarter-integers: max has no ties, and its kinks are far from each step
    size = int(np.prod(shape))
    x = np.array(data.draw(st.permutations(range(size)))).reshape(shape) / 4 - 1.0
    count = int(np.prod([shape[a] for a in reduced_axes(len(shape), axis)]))
    for name in ("sum", "mean", "max"):
        forward = getattr(np, name)
        t = Tensor(x)
        out = getattr(t, name)(axis=axis, keepdims=keepdims)
        expected = forward(x, axis=axis, keepdims=keepdims)
        assert_close(out.data, expected, rtol=1e-12, atol=1e-12)
        g = np.linspace(-1, 2, expected.size).reshape(np.shape(expected))
        out.backward(g)
        by_hand = spread(g, shape, axis, keepdims)
        if name == "mean":
            by_hand = by_hand / count
        if name == "max":
            by_hand = by_hand * (x == spread(np.asarray(expected), shape, axis, keepdims))
        assert_close(t.grad, by_hand, rtol=1e-12, atol=1e-12)
        (numeric,) = numeric_gradients(
            lambda v, f=forward: f(v, axis=axis, keepdims=keepdims), [x], g
        )
        assert_close(t.grad, numeric)


def test_reductions_take_tuples_and_negative_axes_like_numpy() -> None:
    # Reference: numpy's own results on the same array.
    x = np.arange(24.0).reshape(2, 3, 4)
    t = Tensor(x)
    assert t.sum(axis=(0, -1)).data.tolist() == x.sum(axis=(0, -1)).tolist()
    assert t.mean(axis=-2, keepdims=True).shape == (2, 1, 4)
    assert t.max(axis=(2, 0)).data.tolist() == x.max(axis=(2, 0)).tolist()
    assert t.sum().shape == () and t.sum().item() == 276.0


# -- shapes: reshape, transpose, concatenate, stack -------------------------------------------
@FEW
@given(data=st.data(), shape=SHAPES)
def test_reshape_with_minus_one_and_transpose_with_axes(data: Any, shape: tuple[int, ...]) -> None:
    x = data.draw(arrays(shape, floats(-3, 3)))
    engine_matches_differences(
        lambda t: t.reshape(-1).tanh(), lambda v: np.tanh(v.reshape(-1)), [x]
    )
    order = tuple(data.draw(st.permutations(range(len(shape)))))
    engine_matches_differences(
        lambda t: t.transpose(*order) * np.arange(x.size).reshape(np.transpose(x, order).shape),
        lambda v: np.transpose(v, order) * np.arange(x.size).reshape(np.transpose(x, order).shape),
        [x],
    )
    engine_matches_differences(lambda t: t.T.exp(), lambda v: np.exp(v.T), [x])


def test_reshape_forms_and_transpose_default() -> None:
    # Reference: numpy's reshape and transpose on the same data.
    x = np.arange(12.0).reshape(3, 4)
    t = Tensor(x)
    assert t.reshape(2, -1).shape == (2, 6)
    assert t.reshape((-1, 3)).shape == (4, 3)
    assert t.reshape([12]).shape == (12,)
    assert t.T.data.tolist() == x.T.tolist()
    assert t.transpose().data.tolist() == x.T.tolist()
    y = Tensor(np.zeros((2, 3, 4)))
    assert y.transpose(1, -1, 0).shape == (3, 4, 2)
    assert y.transpose((2, 0, 1)).shape == (4, 2, 3)
    assert y.T.shape == (4, 3, 2)


@FEW
@given(
    data=st.data(),
    shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=3),
    pieces=st.integers(1, 3),
)
def test_concatenate_and_stack_against_differences(
    data: Any, shape: tuple[int, ...], pieces: int
) -> None:
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=pieces, max_size=pieces))
    k = axis % len(shape)
    parts = [data.draw(arrays((*shape[:k], n, *shape[k + 1 :]), floats(-3, 3))) for n in sizes]
    engine_matches_differences(
        lambda *ts: concatenate(list(ts), axis=axis) ** 2,
        lambda *vs: np.concatenate(vs, axis=axis) ** 2,
        parts,
    )
    same = [data.draw(arrays(shape, floats(-3, 3))) for _ in range(pieces)]
    new_axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    engine_matches_differences(
        lambda *ts: stack(ts, axis=new_axis) ** 2,
        lambda *vs: np.stack(vs, axis=new_axis) ** 2,
        same,
    )


def test_concatenate_and_stack_with_constants_give_the_tensors_their_slice() -> None:
    # Reference: worked by hand; the gradient of each piece is its slice of the output's.
    a = Tensor([1.0, 2.0])
    out = concatenate([a, np.array([5.0, 6.0, 7.0]), a], axis=0)
    out.backward(np.arange(7.0))
    assert a.grad.tolist() == [0.0 + 5.0, 1.0 + 6.0]
    b = Tensor([3.0, 4.0])
    s = stack([a, b, [0.0, 0.0]], axis=1)
    assert s.shape == (2, 3)
    s.backward(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    assert b.grad.tolist() == [2.0, 5.0]


# -- indexing ---------------------------------------------------------------------------------
def gather_gradient(shape: tuple[int, ...], index: tuple[Array, ...], g: Array) -> Array:
    """The gradient of x[index] for integer-array indices, by hand: one loop over the
    result, adding each g to the element it was read from (repeats add up)."""
    out = np.zeros(shape)
    picked = np.broadcast_arrays(*index)
    for pos in np.ndindex(picked[0].shape):
        out[tuple(int(p[pos]) for p in picked)] += g[pos]
    return out


@FEW
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
def test_integer_array_indexing_accumulates_repeated_indices(
    data: Any, shape: tuple[int, ...]
) -> None:
    x = data.draw(arrays(shape, floats(-3, 3)))
    index = data.draw(
        hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(max_dims=2, max_side=6))
    )
    t = Tensor(x)
    out = t[index]
    assert_close(out.data, x[index], rtol=0, atol=0)
    g = np.linspace(-1, 1, out.size).reshape(out.shape)
    out.backward(g)
    assert_close(t.grad, gather_gradient(shape, index, g), rtol=1e-12, atol=1e-12)
    (numeric,) = numeric_gradients(lambda v: v[index], [x], g)
    assert_close(t.grad, numeric)


@FEW
@given(data=st.data(), shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
def test_basic_indexing_against_differences(data: Any, shape: tuple[int, ...]) -> None:
    x = data.draw(arrays(shape, floats(-3, 3)))
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    engine_matches_differences(lambda t: t[index] * 3, lambda v: v[index] * 3, [x])


@pytest.mark.parametrize(
    "index", [True, np.True_, False, np.False_, (0, np.True_), (np.True_, 1), (Ellipsis, np.False_)]
)
def test_a_boolean_scalar_indexes_as_numpy_does(index: Any) -> None:
    """numpy takes Python's and its own boolean scalars alike (a new axis of length 1 or 0).
    Reference: numpy's indexing of the same array, and central differences."""
    x = np.arange(6.0).reshape(2, 3)
    assert_close(Tensor(x)[index].data, x[index], rtol=0, atol=0)
    engine_matches_differences(lambda t: t[index] * 3, lambda v: v[index] * 3, [x])


@pytest.mark.parametrize(
    "index", [[], [[]], ([], slice(None)), (0, []), (0, (2, 0, 2)), ((1, 0), (0, 2))]
)
def test_empty_lists_and_inner_tuples_index_as_numpy_does(index: Any) -> None:
    """numpy takes an empty list as an empty integer index (np.array([]) alone is float),
    and a tuple inside the index as a list; getitem raised for both.
    Reference: numpy's indexing of the same array; the gradient by np.add.at of g."""
    x = np.arange(6.0).reshape(2, 3)
    t = Tensor(x)
    out = t[index]
    assert out.shape == x[index].shape
    assert_close(out.data, x[index], rtol=0, atol=0)
    g = np.linspace(1, 2, out.size).reshape(out.shape)
    out.backward(g)
    want = np.zeros_like(x)
    np.add.at(want, index, g)
    assert_close(t.grad, want, rtol=0, atol=0)


def test_repeated_and_mixed_indices_by_hand() -> None:
    # Reference: worked by hand (index 0 is read three times, so its gradient is 3 g).
    t = Tensor([10.0, 20.0, 30.0])
    t[[0, 0, 2, 0]].sum().backward()
    assert t.grad.tolist() == [3.0, 0.0, 1.0]
    m = Tensor(np.arange(12.0).reshape(3, 4))
    out = m[[2, 2], 1:3]  # an integer array with a slice
    assert out.data.tolist() == [[9.0, 10.0], [9.0, 10.0]]
    out.sum().backward()
    assert m.grad.tolist() == [[0, 0, 0, 0], [0, 0, 0, 0], [0, 2, 2, 0]]
    b = Tensor([-1.0, 2.0, -3.0, 4.0])
    b[b.data > 0].sum().backward()  # a boolean mask
    assert b.grad.tolist() == [0.0, 1.0, 0.0, 1.0]
    r = Tensor(np.arange(6.0).reshape(2, 3))
    r[..., ::-1][None, :, -1].sum().backward()  # Ellipsis, a negative step, None
    assert r.grad.tolist() == [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]


# -- softmax, log_softmax, logsumexp ----------------------------------------------------------
def np_logsumexp(x: Array, axis: int, keepdims: bool = False) -> Array:
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def np_softmax(x: Array, axis: int) -> Array:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


@FEW
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
def test_softmax_family_against_hand_written_gradients_and_differences(
    data: Any, shape: tuple[int, ...]
) -> None:
    x = data.draw(arrays(shape, floats(-4, 4)))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    s = np_softmax(x, axis)
    g = np.linspace(-1, 2, x.size).reshape(shape)
    # By hand: d log_softmax = g - softmax * sum(g); d softmax = s * (g - sum(g * s)).
    t = engine_matches_differences(
        lambda v: v.log_softmax(axis), lambda v: v - np_logsumexp(v, axis, True), [x], g
    )[0]
    assert_close(t.grad, g - s * g.sum(axis=axis, keepdims=True), rtol=1e-12, atol=1e-12)
    t = engine_matches_differences(
        lambda v: v.softmax(axis), lambda v: np_softmax(v, axis), [x], g
    )[0]
    assert_close(t.grad, s * (g - (g * s).sum(axis=axis, keepdims=True)), rtol=1e-12, atol=1e-12)
    for keepdims in (False, True):
        gl = g.sum(axis=axis, keepdims=keepdims)
        t = engine_matches_differences(
            lambda v, k=keepdims: v.logsumexp(axis, keepdims=k),
            lambda v, k=keepdims: np_logsumexp(v, axis, k),
            [x],
            gl,
        )[0]
        assert_close(t.grad, s * spread(gl, shape, axis, keepdims), rtol=1e-12, atol=1e-12)


def test_softmax_family_is_stable_at_plus_and_minus_1000() -> None:
    # Reference: closed forms. For x = [1000, -1000, 1000]: logsumexp = 1000 + log 2,
    # softmax = [1/2, 0, 1/2], log_softmax = [-log 2, -2000 - log 2, -log 2].
    x = Tensor([1000.0, -1000.0, 1000.0])
    lse = x.logsumexp()
    assert lse.item() == pytest.approx(1000 + np.log(2), rel=1e-15)
    lse.backward()  # exp(x - lse): lse = 1000.69... carries an ulp of 1e-13 into the exponent
    np.testing.assert_allclose(x.grad, [0.5, 0.0, 0.5], rtol=1e-12, atol=0)
    x.zero_grad()
    sm = x.softmax()
    assert sm.data.tolist() == [0.5, 0.0, 0.5]
    (sm * np.array([1.0, 2.0, 3.0])).sum().backward()  # s (g - s.g): [-0.5, 0, 0.5]
    assert x.grad.tolist() == [-0.5, 0.0, 0.5]
    x.zero_grad()
    ls = x.log_softmax()
    np.testing.assert_allclose(ls.data, [-np.log(2), -2000 - np.log(2), -np.log(2)], rtol=1e-12)
    ls[1].backward()  # g = e_1: g - softmax * 1
    np.testing.assert_allclose(x.grad, [-0.5, 1.0, -0.5], rtol=1e-12, atol=0)
    for y in (-x, x * 0 - 1000):
        assert np.all(np.isfinite(y.log_softmax().data)) and np.all(np.isfinite(y.softmax().data))


# -- float32 all the way through --------------------------------------------------------------
FLOAT32_OPS: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "+ - * / neg": lambda a, b: (a + b - a * 2.0) / (b + 3) + -a + 1 / (b + 3) + 2**a,
    "** number, array and Tensor": lambda a, b: (a**2 + (b + 3) ** a + a ** np.ones(3)).sum(),
    "unary": lambda a, b: (
        (a.exp() + (b + 3).log() + a.tanh() + a.sigmoid() + a.relu()).sum()
        + (abs(b) + (b + 3).sqrt() - a).sum()
    ),
    "maximum, where": lambda a, b: maximum(a, b) + where(a.data > 0, a, b),
    "matmul": lambda a, b: a @ b.T,
    "reductions": lambda a, b: a.sum(axis=0) + b.mean(axis=0) * 1.0 + a.max(axis=0),
    "shapes": lambda a, b: a.reshape(-1) + b.T.transpose().reshape(3, 2)[[0, 0, 1]].reshape(-1),
    "joining": lambda a, b: concatenate([a, b], axis=1) + stack([a, b]).sum(axis=0).sum(),
    "softmax family": lambda a, b: a.softmax() + b.log_softmax(0) + a.logsumexp(keepdims=True),
    "constants": lambda a, b: a * np.float64(2.0) + np.ones((2, 3)) - 1.5 + b * np.ones(3),
}


@pytest.mark.parametrize("name", FLOAT32_OPS)
def test_float32_is_kept_through_every_op_and_gradient(name: str) -> None:
    # Reference: the dtypes themselves; and the float64 run of the same expression, to
    # float32's precision.
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (2, 3))
    a, b = Tensor(x, dtype=np.float32), Tensor(y, dtype=np.float32)
    out = FLOAT32_OPS[name](a, b)
    assert out.dtype == np.float32
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float32
    a64, b64 = Tensor(x), Tensor(y)
    out64 = FLOAT32_OPS[name](a64, b64)
    out64.sum().backward()
    np.testing.assert_allclose(out.data, out64.data, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(a.grad, a64.grad, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(b.grad, b64.grad, rtol=1e-4, atol=1e-5)


def test_float32_with_float64_gives_float64_and_each_grad_its_own_dtype() -> None:
    # Reference: numpy's promotion rule (float32 with float64 is float64).
    a = Tensor([1.0, 2.0], dtype=np.float32)
    b = Tensor([3.0, 4.0])
    out = a * b
    assert out.dtype == np.float64
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    assert a.grad.tolist() == [3.0, 4.0]


# -- what a Tensor is made of, and its attributes ---------------------------------------------
@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (True, 1.0),
        (3, 3.0),
        ([[1, 2], [3, 4]], [[1.0, 2.0], [3.0, 4.0]]),
        ([True, False], [1.0, 0.0]),
        (np.int8(-5), -5.0),
        (np.float32(0.5), 0.5),
        (np.array([1, 2], dtype=np.uint16), [1.0, 2.0]),
        (np.array([0.25], dtype=np.float16), [0.25]),
        ([np.float64(1.5), 2], [1.5, 2.0]),
        ([], []),
    ],
)
def test_real_data_of_every_kind_is_stored_as_float64(data: object, expected: object) -> None:
    t = Tensor(data)
    assert t.dtype == np.float64 and t.data.dtype == np.float64
    assert t.data.tolist() == expected


def test_the_data_is_a_copy_and_numpy_gives_a_copy() -> None:
    source = np.array([1.0, 2.0])
    t = Tensor(source)
    source[0] = 99.0
    assert t.data.tolist() == [1.0, 2.0]
    copy = t.numpy()
    copy[1] = -1.0
    assert t.data.tolist() == [1.0, 2.0]


def test_attributes() -> None:
    # Reference: numpy's answers for the same array.
    x = np.arange(6.0).reshape(2, 3)
    t = Tensor(x, label="t")
    assert isinstance(t.data, np.ndarray) and t.data.tolist() == x.tolist()
    assert t.grad.shape == (2, 3) and not t.grad.any() and t.grad.dtype == np.float64
    assert (t.shape, t.ndim, t.size, len(t), t.dtype) == ((2, 3), 2, 6, 2, np.float64)
    assert t.T.shape == (3, 2) and t.T.data.tolist() == x.T.tolist()
    assert Tensor([[4.5]]).item() == 4.5 and isinstance(Tensor(4.5).item(), float)
    assert t.label == "t" and t.is_leaf and t.requires_grad and t.op is None
    assert repr(Tensor([1.0, 2.5])) == "Tensor([1. , 2.5])"
    assert repr(Tensor(2.0, label="w", dtype=np.float32)) == "Tensor(2., dtype=float32, label='w')"
    assert repr(Tensor([1.0], requires_grad=False)) == "Tensor([1.], requires_grad=False)"
    assert repr(Tensor(np.zeros((5, 5)))) == "Tensor(<shape (5, 5)>)"
    y = (t * 2).sum()
    y.backward()
    assert t.grad.tolist() == [[2.0] * 3] * 2 and y.grad == 1.0


def test_comparisons_give_boolean_arrays_and_record_nothing() -> None:
    # Reference: numpy's comparisons of the same data.
    t = Tensor([1.0, 2.0, 3.0])
    u = Tensor([3.0, 2.0, 1.0])
    results = [t < 2, t <= 2, t > u, t >= u, t == 2.0, t != u, 2.0 < t, t < np.array([2, 2, 4])]
    expected = [
        [True, False, False], [True, True, False], [False, False, True], [False, True, True],
        [False, True, False], [True, False, True], [False, False, True], [True, False, True],
    ]  # fmt: skip
    for got, want in zip(results, expected):
        assert type(got) is np.ndarray and got.dtype == np.bool_
        assert got.tolist() == want


# -- constants and requires_grad=False --------------------------------------------------------
def test_numbers_and_arrays_mixed_in_become_constants_without_gradient() -> None:
    x = Tensor([1.0, 2.0])
    c = np.array([3.0, 4.0])
    for y in (x * c, c * x, x * np.float64(3.0), np.float32(3.0) * x, x + 1, 2 - x):
        assert type(y) is Tensor
        constant = next(n for n in y.operands if n is not x)
        assert constant.is_constant and not constant.requires_grad
        y.sum().backward()
        assert not constant.grad.any()
    assert c.tolist() == [3.0, 4.0]  # never written to


def test_a_requires_grad_false_input_gets_no_gradient_and_its_rule_never_runs() -> None:
    # Reference: a custom matmul whose rule for the second operand raises if it is called.
    def never(g: Any, out: Any, a: Any, b: Any) -> Any:
        raise AssertionError("the gradient of an input that needs none was computed")

    calls: list[str] = []

    def for_w(g: Any, out: Any, w: Any, x: Any) -> Any:
        calls.append("w")
        return g @ np.swapaxes(x, -1, -2)

    matmul = Op("matmul", np.matmul, None, parts=(for_w, never))
    w = Tensor(np.eye(2))
    batch = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=False)
    matmul(w, batch).sum().backward()
    assert calls == ["w"]
    assert w.grad.tolist() == [[3.0, 12.0], [3.0, 12.0]]
    assert not batch.grad.any()
    matmul(w, np.ones((2, 3))).sum().backward()  # an array constant: the same
    assert calls == ["w", "w"]


@pytest.mark.parametrize("count", [1, 3])
def test_an_op_of_parts_applied_to_another_count_of_operands_is_refused(count: int) -> None:
    """An op of two parts (one rule per operand) applied to three operands gave the third
    no gradient, silently (x.grad 0 instead of 1); to one, an unclear error in backward.
    Now a TypeError naming the op and both counts, where it is applied: no node made.
    Reference: d(a + b + c)/dc = 1 by hand, and the two rules it was given."""
    one = lambda g, out, *xs: g  # noqa: E731 (each operand's share of a sum)
    two = Op("two", lambda *xs: sum(xs), None, parts=(one, one))
    for make in (lambda: Tensor(np.ones(2)), lambda: Value(1.0)):
        xs = [make() for _ in range(count)]
        with pytest.raises(TypeError, match=f"two: applied to {count} operand.*has 2 parts"):
            two(*xs)
    a, b = Tensor(np.ones(2)), Tensor(np.ones(2))
    two(a, b).sum().backward()
    assert a.grad.tolist() == b.grad.tolist() == [1.0, 1.0]


def test_the_arrays_an_op_keeps_as_params_are_read_only() -> None:
    """getitem's index, where's mask and pow's array exponent, readable as `node.op.params`
    (docs/codegen.md names one), were writeable: a write there changed the gradient without
    an error (x[[0, 0]]'s went [2, 0, 0] -> [1, 0, 1]). Now refused, as a user op's params
    are. Reference: by hand, d(sum(x[[0, 0]]))/dx = [2, 0, 0], d(sum(where(m, x, 0)))/dx = m,
    d(sum(x ** e))/dx = e x ** (e - 1) = [1, 4] at x = 1, 2 for e = [1, 2]."""
    x = Tensor([1.0, 2.0, 3.0])
    picked = x[np.array([0, 0])]
    masked = where(np.array([True, False, True]), x, 0.0)
    y = Tensor([1.0, 2.0])
    powered = y ** np.array([1.0, 2.0])
    for node in (picked, masked, powered):
        (array,) = [v for v in node.op.params.values() if isinstance(v, np.ndarray)] or [
            node.op.params["index"][0]
        ]
        with pytest.raises(ValueError, match="read-only"):
            array[0] = array[-1] if array.dtype != bool else False
    picked.sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 0.0]
    x.grad = None
    masked.sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 1.0]
    powered.sum().backward()
    assert y.grad.tolist() == [1.0, 4.0]


def test_the_built_in_matmul_gives_a_requires_grad_false_input_no_gradient() -> None:
    w = Tensor([[1.0, 2.0]])
    x = Tensor([[3.0], [4.0]], requires_grad=False)
    y = w @ x
    y.backward()
    assert w.grad.tolist() == [[3.0, 4.0]] and not x.grad.any()
    z = x @ x.T  # nothing below needs a gradient: no graph at all
    assert z.is_leaf and not z.requires_grad


# -- backward semantics shared with Value -----------------------------------------------------
def test_backward_twice_adds_exactly_twice() -> None:
    # Reference: d sum(x**2) = 2x, worked by hand.
    x = Tensor([1.0, -2.0])
    y = (x**2).sum()
    y.backward()
    y.backward()
    assert x.grad.tolist() == [4.0, -8.0]


def test_a_failing_rule_changes_no_grad() -> None:
    # Reference: the .grad values before the call.
    broken = Op("broken", lambda x: x * 1.0, lambda g, out, x: (g[:1],))
    a = Tensor([1.0, 2.0])
    b = Tensor([3.0, 4.0])
    y = (a * b).sum()
    y.backward()
    out = (broken(a) * b).sum()
    with pytest.raises(ValueError, match="shape"):
        out.backward()
    assert a.grad.tolist() == [3.0, 4.0] and b.grad.tolist() == [1.0, 2.0]


def test_backward_with_a_gradient_of_the_output_shape() -> None:
    x = Tensor([1.0, 2.0, 3.0])
    (x * x).backward(np.array([1.0, 0.0, -1.0]))
    assert x.grad.tolist() == [2.0, 0.0, -6.0]
    s = Tensor([[2.0]])
    (s * 3).backward(0.5)  # a one-element output: a number scales the seed
    assert s.grad.tolist() == [[1.5]]


def test_zero_grad_no_grad_detach() -> None:
    x = Tensor([1.0, 2.0])
    y = (x * 3).sum()
    y.backward()
    y.zero_grad()
    assert x.grad.tolist() == [0.0, 0.0]
    with no_grad():
        z = x * 3
    assert z.is_leaf and not z.requires_grad
    d = x.detach()
    assert d.is_leaf and not d.requires_grad and d.data.tolist() == [1.0, 2.0]
    assert d.data is not x.data  # a copy: changing one in place cannot change the other


def test_grad_to_any_order_on_tensors() -> None:
    # Reference: derivatives of sum(x**4) worked by hand: 4x³, 12x², 24x.
    x = Tensor([1.0, -2.0, 0.5])
    (g1,) = grad((x**4).sum(), [x], create_graph=True)
    assert g1.data.tolist() == [4.0, -32.0, 0.5]
    (g2,) = grad(g1.sum(), [x], create_graph=True)
    assert g2.data.tolist() == [12.0, 48.0, 3.0]
    (g3,) = grad(g2.sum(), [x])
    assert isinstance(g3, np.ndarray) and g3.tolist() == [24.0, -48.0, 12.0]
    assert not x.grad.any()  # grad writes no .grad


def test_log_softmax_keeps_its_digits_for_large_inputs() -> None:
    # Reference: the closed form, exact in float64: log_softmax([c, c]) = [-log 2, -log 2]
    # for any c, and its gradient for g = e_0 is [1/2, -1/2]. Computed as x - logsumexp(x),
    # the sum c + log 2 rounds to c's precision (1e-10 at c = 1e6) before c is taken off.
    for c in (1000.0, 1e6, -1e6):
        x = Tensor([c, c])
        out = x.log_softmax()
        assert out.data.tolist() == [-np.log(2.0)] * 2
        out[0].backward()
        assert x.grad.tolist() == [0.5, -0.5]


# -- second derivatives: every array rule runs on Tensors too (create_graph=True) ---------------
X0 = np.array([[0.3, -0.7, 1.1], [0.4, 0.9, -0.2]])
W0 = np.array([[0.5, -1.0], [2.0, 0.3], [0.1, 0.2]])
SECOND: dict[str, tuple[Callable[[Tensor], Tensor], Callable[[Array], Any]]] = {
    "matmul": (lambda t: ((t.tanh() @ W0) ** 2).sum(), lambda v: ((np.tanh(v) @ W0) ** 2).sum()),
    "vector @ vector": (lambda t: t[0] @ (t[1] * t[0]), lambda v: v[0] @ (v[1] * v[0])),
    "matrix @ vector": (lambda t: ((t @ t[0]) ** 2).sum(), lambda v: ((v @ v[0]) ** 2).sum()),
    "vector @ matrix": (lambda t: ((t[0] @ t.T) ** 2).sum(), lambda v: ((v[0] @ v.T) ** 2).sum()),
    "batched matmul": (
        lambda t: ((t.reshape(2, 3, 1) @ t.reshape(2, 1, 3)) ** 2).sum(),
        lambda v: ((v.reshape(2, 3, 1) @ v.reshape(2, 1, 3)) ** 2).sum(),
    ),
    "linear": (
        lambda t: (linear(t, t, t[0, :2]) ** 2).sum(),
        lambda v: ((v @ v.T + v[0, :2]) ** 2).sum(),
    ),
    "log_softmax": (
        lambda t: t.log_softmax(axis=1)[:, 0].sum() * t.sum(),
        lambda v: (v - np_logsumexp(v, 1, True))[:, 0].sum() * v.sum(),
    ),
    "softmax": (lambda t: (t.softmax(0) * t).sum(), lambda v: (np_softmax(v, 0) * v).sum()),
    "logsumexp": (lambda t: t.logsumexp(axis=0).sum(), lambda v: np_logsumexp(v, 0).sum()),
    "mean": (
        lambda t: (t.mean(axis=0, keepdims=True) ** 2 * t).sum(),
        lambda v: (v.mean(0, keepdims=True) ** 2 * v).sum(),
    ),
    "max": (lambda t: (t.max(axis=1) ** 2).sum(), lambda v: (v.max(1) ** 2).sum()),
    "getitem, repeated": (
        lambda t: (t[[0, 0, 1], [2, 2, 0]] ** 3).sum(),
        lambda v: (v[[0, 0, 1], [2, 2, 0]] ** 3).sum(),
    ),
    "concatenate": (
        lambda t: (concatenate([t, t * t], axis=1) ** 2).sum(),
        lambda v: (np.concatenate([v, v * v], 1) ** 2).sum(),
    ),
    "stack": (
        lambda t: (stack([t, t.exp()]) ** 2).sum(),
        lambda v: (np.stack([v, np.exp(v)]) ** 2).sum(),
    ),
    "where": (
        lambda t: where(X0 > 0, t**3, t.sigmoid()).sum(),
        lambda v: np.where(X0 > 0, v**3, 1 / (1 + np.exp(-v))).sum(),
    ),
    "maximum": (
        lambda t: (maximum(t, 0.35) ** 3).sum(),
        lambda v: (np.maximum(v, 0.35) ** 3).sum(),
    ),
    "broadcast": (
        lambda t: ((t[0] * t[:, :1]) ** 2).sum(),
        lambda v: ((v[0] * v[:, :1]) ** 2).sum(),
    ),
    "transpose": (lambda t: ((t.T @ t) ** 2).sum(), lambda v: ((v.T @ v) ** 2).sum()),
    "abs, sqrt": (
        lambda t: (abs(t) * (t * t + 1).sqrt()).sum(),
        lambda v: (np.abs(v) * np.sqrt(v * v + 1)).sum(),
    ),
    "Tensor exponent": (lambda t: ((t * t + 1) ** t).sum(), lambda v: ((v * v + 1) ** v).sum()),
    "division": (lambda t: (t / (t * t + 1)).sum(), lambda v: (v / (v * v + 1)).sum()),
    "array exponent": (
        lambda t: (t ** np.array([2.0, 3.0, -1.0])).sum(),
        lambda v: (v ** np.array([2.0, 3.0, -1.0])).sum(),
    ),
}


@pytest.mark.parametrize("name", SECOND)
def test_second_derivatives_against_second_differences(name: str) -> None:
    # Reference: the Hessian of the numpy forward by central second differences (Richardson
    # extrapolated, tests/reference.py). The engine's: grad of each element of the gradient.
    engine, forward = SECOND[name]
    x = Tensor(X0)
    (g1,) = grad(engine(x), [x], create_graph=True)
    assert isinstance(g1, Tensor) and g1.shape == X0.shape
    flat = g1.reshape(-1)
    hessian = np.array([grad(flat[i], [x])[0].reshape(-1) for i in range(X0.size)])
    reference = numpy_hessian_extrapolated(
        lambda v: forward(v.reshape(X0.shape)), X0.reshape(-1).tolist()
    )
    assert_close(hessian, reference, rtol=1e-6, atol=1e-7)


# -- an array exponent is a constant, as a number exponent is --------------------------------------
def test_an_array_exponent_allows_a_negative_base_where_the_exponent_is_an_integer() -> None:
    # Reference: numpy's power on the same data, and d/dx x**e = e x**(e-1) worked by hand.
    # The exponent is a constant (no gradient), so the base need not be > 0, as with x ** 2.
    x = Tensor([-1.5, 2.0, -3.0])
    e = np.array([2.0, 0.5, 3.0])
    y = x**e
    np.testing.assert_array_equal(y.data, np.power(x.data, e))
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [2 * -1.5, 0.5 / np.sqrt(2.0), 3 * 9.0], rtol=1e-15)
    z = Tensor([-2.0, 3.0])
    (z ** np.array(2.0)).sum().backward()  # a 0-d array is a number exponent
    assert z.grad.tolist() == [-4.0, 6.0]


@FEW
@given(data=st.data(), shapes=PAIRS.map(lambda s: s.input_shapes))
def test_an_array_exponent_against_differences_with_broadcasting(
    data: Any, shapes: tuple[tuple[int, ...], ...]
) -> None:
    for base_shape, exponent_shape in [*BROADCAST_EXAMPLES, shapes]:
        x = data.draw(arrays(base_shape, away_from_zero(0.3, 2)))
        e = data.draw(hnp.arrays(np.float64, exponent_shape, elements=st.integers(-3, 3)))
        e = e.astype(np.float64)
        (t,) = engine_matches_differences(lambda t, e=e: t**e, lambda v, e=e: np.power(v, e), [x])
        assert t.grad.shape == base_shape


def test_an_array_exponent_out_of_its_domain_names_the_first_element() -> None:
    x = Tensor([1.0, -2.0, 0.0])
    with pytest.raises(DomainError, match=r"\*\*: 1 of 3 .*-2\.0.*\(1,\)"):
        x ** np.array([2.0, 0.5, 1.0])
    with pytest.raises(DomainError, match=r"\*\*: 1 of 3 .*0\.0.*\(2,\)"):
        x ** np.array([2.0, 2.0, -1.0])


# -- iteration ----------------------------------------------------------------------------------
def test_a_0d_tensor_is_not_iterable() -> None:
    # Reference: numpy's "iteration over a 0-d array"; sum() of one would silently give 0.
    with pytest.raises(TypeError, match="0-d"):
        iter(Tensor(5.0))
    with pytest.raises(TypeError, match="0-d"):
        sum(Tensor(5.0))
    rows = list(Tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert [r.data.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]]


# -- memory ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("where", lambda x: where(x.data > 0, x, 0.0)),
        ("getitem", lambda x: x[np.array([0, 0])]),
        ("array exponent", lambda x: x ** np.array([[2.0], [3.0]])),
    ],
)
def test_an_ops_array_parameter_is_freed_with_the_graph(
    name: str, make: Callable[[Tensor], Tensor]
) -> None:
    # Reference: a weak reference to the parameter (a mask, an index, an exponent), which
    # must die with the last node that uses it: a training loop makes a new one each step.
    x = Tensor([1.0, -2.0, 3.0])
    y = make(x)
    y.sum().backward()
    params = dict(y.op.params) if y.op is not None else {}
    array = next(v for v in params.values() if isinstance(v, (np.ndarray, tuple)))
    ref = weakref.ref(array[0] if isinstance(array, tuple) else array)
    del y, params, array
    gc.collect()
    assert ref() is None, f"{name}: its parameter outlived the graph"


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (2, 0, 4)])
def test_the_softmax_family_over_an_empty_axis_gives_numpys_results(shape: tuple[int, ...]) -> None:
    """An axis of length 0 (PyTorch returns these; before, "shapes (0, 3) do not fit").
    Reference: numpy on the plain array: softmax keeps the shape (and has no elements);
    logsumexp is log(sum(exp(x))) over no elements, log 0 = -inf; the gradient of a sum of
    nothing has the input's shape and no elements, or zeros."""
    data = np.zeros(shape)
    axis = shape.index(0)
    with np.errstate(divide="ignore"):
        lse = np.log(np.sum(np.exp(data), axis=axis))
    for keepdims in (False, True):
        x = Tensor(data)
        out = x.logsumexp(axis=axis, keepdims=keepdims)
        want = np.expand_dims(lse, axis) if keepdims else lse
        assert out.shape == want.shape and out.data.tolist() == want.tolist()
        (g,) = grad(out.sum(), [x])
        assert g.shape == shape
    for name in ("softmax", "log_softmax"):
        x = Tensor(data)
        out = getattr(x, name)(axis=axis)
        assert out.shape == shape and out.size == 0
        (g,) = grad(out.sum(), [x])
        assert g.shape == shape


@pytest.mark.parametrize(("shape", "axis"), [((0, 3), 1), ((0, 3), None), ((2, 0), 0)])
def test_sum_mean_max_over_an_empty_tensor_give_numpys_shapes(
    shape: tuple[int, ...], axis: int | None
) -> None:
    """Reference: numpy's results on the plain array. Over non-empty axes of an empty array
    mean and max have empty results (no 0/0); over an empty axis numpy's max raises and its
    mean is nan with a warning: both are a ValueError here."""
    data = np.zeros(shape)
    x = Tensor(data)
    np.testing.assert_array_equal(x.sum(axis=axis).data, np.sum(data, axis=axis))
    empty_axis = axis is None or shape[axis] == 0
    for name in ("mean", "max"):
        if empty_axis:
            with pytest.raises(ValueError, match=re.escape(f"{name}: shape {shape} has no")):
                getattr(x, name)(axis=axis)
        else:
            got = getattr(x, name)(axis=axis)
            assert got.shape == getattr(np, name)(data, axis=axis).shape
