"""Forward mode op by op: each op's tangent on Duals, against finite differences and against
the op's reverse rule.

References: central finite differences in numpy float64 of each op written in numpy (not the
engine's forward), along the tangent direction; and, for every op, the dot-product identity
<u, J v> = <Jᵀ u, v>, whose right side is the reverse-mode rule (`grad` with grad_outputs=u,
which the other test files check against finite differences). Shapes and values are drawn by
hypothesis; AUTOGRAD_LITE_FUZZ=1 searches longer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd_lite import Dual, Tensor, Value, concatenate, grad, maximum, minimum, stack, where
from autograd_lite.engine import array_ops, shape_ops
from tests.conftest import FUZZ
from tests.test_properties import leaves

Array = np.ndarray[Any, Any]
Fn = Callable[..., Any]
EXAMPLES = 2000 if FUZZ else 40


def sigmoid(x: Any) -> Any:
    return 1 / (1 + np.exp(-x))


def along(f: Fn, xs: list[Any], vs: list[Any], h: float = 1e-6) -> Any:
    """(f(x + h v) - f(x - h v)) / 2h in numpy float64: the derivative of f along v."""
    plus = f(*[x + h * v for x, v in zip(xs, vs)])
    minus = f(*[x - h * v for x, v in zip(xs, vs)])
    return (np.asarray(plus, dtype=np.float64) - np.asarray(minus, dtype=np.float64)) / (2 * h)


def dual_tangent(fn: Fn, xs: list[Any], vs: list[Any]) -> Any:
    """fn on Duals holding xs with tangents vs: the engine's forward mode."""
    out = fn(*[Dual(x, v) for x, v in zip(xs, vs)])
    assert type(out) is Dual
    return out.tangent


def vjp_dot(fn: Fn, xs: list[Any], u: Any, vs: list[Any]) -> float:
    """<Jᵀ u, v> by reverse mode: grad with grad_outputs=u, dotted with v."""
    kind = Tensor if isinstance(xs[0], np.ndarray) else Value
    leaves = [kind(x) for x in xs]
    out = fn(*leaves)
    shares = grad(out, leaves, grad_outputs=u if kind is Tensor else float(u))
    return float(sum(np.sum(np.asarray(s) * v) for s, v in zip(shares, vs)))


# -- scalar ops: every op of ops.py on Duals holding floats -----------------------------------
SCALAR_CASES: list[tuple[str, Fn, Fn, list[float]]] = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, [0.7, -1.3]),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, [0.7, -1.3]),
    ("rsub number", lambda a: 3.0 - a, lambda a: 3.0 - a, [0.7]),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, [0.7, -1.3]),
    ("div", lambda a, b: a / b, lambda a, b: a / b, [0.7, -1.3]),
    ("rdiv number", lambda a: 2.0 / a, lambda a: 2.0 / a, [0.7]),
    ("neg", lambda a: -a, lambda a: -a, [0.7]),
    ("exp", lambda a: a.exp(), np.exp, [0.4]),
    ("log", lambda a: a.log(), np.log, [0.4]),
    ("tanh", lambda a: a.tanh(), np.tanh, [0.4]),
    ("sigmoid", lambda a: a.sigmoid(), sigmoid, [-0.4]),
    ("relu +", lambda a: a.relu(), lambda a: np.maximum(a, 0.0), [0.4]),
    ("relu -", lambda a: a.relu(), lambda a: np.maximum(a, 0.0), [-0.4]),
    ("abs", lambda a: abs(a), np.abs, [-0.4]),
    ("sqrt", lambda a: a.sqrt(), np.sqrt, [0.4]),
    ("pow 3", lambda a: a**3, lambda a: a**3, [-1.2]),
    ("pow -2", lambda a: a**-2, lambda a: a**-2.0, [1.4]),
    ("pow 2.5", lambda a: a**2.5, lambda a: a**2.5, [0.9]),
    ("pow 0", lambda a: a**0, lambda a: a**0.0, [0.9]),
    ("pow Value", lambda a, b: a**b, lambda a, b: a**b, [1.7, 0.6]),
    ("number ** Value", lambda b: 2.0**b, lambda b: 2.0**b, [0.6]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "fn", "ref", "xs"), SCALAR_CASES, ids=[c[0] for c in SCALAR_CASES]
)
def test_scalar_op_tangent_matches_finite_differences_and_its_reverse_rule(
    name: str, fn: Fn, ref: Fn, xs: list[float]
) -> None:
    """References: finite differences of the op written in numpy; the dot-product identity
    with the op's reverse rule (for a scalar op, J v = sum_i d out/d x_i v_i)."""
    vs = [0.8, -1.7][: len(xs)]
    tangent = dual_tangent(fn, xs, vs)
    assert type(tangent) is float
    assert tangent == pytest.approx(float(along(ref, xs, vs)), rel=1e-6, abs=1e-8)
    assert 1.3 * tangent == pytest.approx(vjp_dot(fn, xs, 1.3, vs), rel=1e-12, abs=1e-14)


def test_scalar_tangents_by_closed_form() -> None:
    """Reference: derivatives worked out by hand at x = 2, y = 3."""
    x, y = Dual(2.0, tangent=1.0), Dual(3.0)
    assert (x * x * y).tangent == 12.0  # 2xy
    assert (x / y).tangent == pytest.approx(1 / 3)
    assert (y**x).tangent == pytest.approx(9 * math.log(3))  # d/dx y^x = y^x ln y
    assert x.sigmoid().tangent == pytest.approx(sigmoid(2.0) * (1 - sigmoid(2.0)))
    assert (x.relu() * 0 + Dual(0.0, 1.0).relu()).tangent == 0.0  # relu'(0) = 0, as PyTorch
    assert Dual(0.0, 1.0).sqrt().tangent == math.inf  # 1 / (2 sqrt 0), as IEEE


# -- random scalar expressions ------------------------------------------------------------------
Tree = Any  # ("x", i) | ("c", number) | (op, child) | (op, left, right)
UNARY = ["neg", "tanh", "sigmoid", "exp_tanh", "log_1p_sq", "sqrt_1p_sq", "relu", "abs", "sq",
         "cube", "pow_half"]  # fmt: skip
BINARY = ["add", "sub", "mul", "div_1p_sq", "pow_sigmoid", "rsub_const", "rmul_const"]

scalar_trees = st.recursive(
    leaves,  # test_properties.py's: x0, x1, x2 and constants
    lambda kids: st.one_of(
        st.tuples(st.sampled_from(UNARY), kids),
        st.tuples(st.sampled_from(BINARY), kids, kids),
    ),
    max_leaves=8,
)


def evaluate(tree: Tree, xs: list[Any], numpy: bool) -> Any:
    """The tree on Duals or Values (numpy=False), or in numpy float64 (numpy=True)."""
    kind = tree[0]
    if kind == "x":
        return xs[tree[1]]
    if kind == "c":
        return tree[1] if numpy else type(xs[0])(tree[1])
    a = evaluate(tree[1], xs, numpy)
    unary: dict[str, Callable[[], Any]] = {
        "neg": lambda: -a,
        "tanh": lambda: np.tanh(a) if numpy else a.tanh(),
        "sigmoid": lambda: sigmoid(a) if numpy else a.sigmoid(),
        "exp_tanh": lambda: np.exp(np.tanh(a)) if numpy else a.tanh().exp(),
        "log_1p_sq": lambda: np.log(a * a + 1) if numpy else (a * a + 1).log(),
        "sqrt_1p_sq": lambda: np.sqrt(a * a + 1) if numpy else (a * a + 1).sqrt(),
        "relu": lambda: np.maximum(a, 0.0) if numpy else a.relu(),
        "abs": lambda: np.abs(a) if numpy else abs(a),
        "sq": lambda: a**2,
        "cube": lambda: a**3,
        "pow_half": lambda: (a * a + 1) ** 0.5,
    }
    if kind in unary:
        if kind in ("relu", "abs"):
            assume(abs(a if numpy else a.data) > 1e-3)  # differences are wrong at the kink
        return unary[kind]()
    b = evaluate(tree[2], xs, numpy)
    binary: dict[str, Callable[[], Any]] = {
        "add": lambda: a + b,
        "sub": lambda: a - b,
        "mul": lambda: a * b,
        "div_1p_sq": lambda: a / (b * b + 1),
        "pow_sigmoid": lambda: sigmoid(a) ** b if numpy else a.sigmoid() ** b,
        "rsub_const": lambda: 1.5 - a + b,
        "rmul_const": lambda: 2.0 * a * b,
    }
    return binary[kind]()


@settings(max_examples=EXAMPLES * 3)
@given(
    tree=scalar_trees,
    point=st.lists(st.floats(-2, 2), min_size=3, max_size=3),
    direction=st.lists(st.floats(-1, 1), min_size=3, max_size=3),
)
def test_random_scalar_expressions_forward_matches_differences_and_reverse(
    tree: Tree, point: list[float], direction: list[float]
) -> None:
    """References: finite differences of the tree in numpy along the direction; the gradient
    by reverse mode dotted with the direction."""
    out = evaluate(tree, [Dual(p, v) for p, v in zip(point, direction)], numpy=False)
    assume(np.isfinite(out.data) and abs(out.data) < 1e6)
    numeric = float(along(lambda *xs: evaluate(tree, list(xs), numpy=True), point, direction))
    assert out.tangent == pytest.approx(numeric, rel=1e-4, abs=1e-5)
    values = [Value(p) for p in point]
    reverse = grad(evaluate(tree, values, numpy=False), values)
    assert out.tangent == pytest.approx(float(np.dot(reverse, direction)), rel=1e-9, abs=1e-12)


# -- array ops: each op with a forward rule of its own, and the elementwise ones ---------------
def arrays(draw: Any, *shapes: tuple[int, ...], low: float = -2, high: float = 2) -> list[Array]:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return [rng.uniform(low, high, size=s) for s in shapes]


def a_shape(draw: Any, min_dims: int = 1, max_dims: int = 3) -> tuple[int, ...]:
    shape: tuple[int, ...] = draw(
        hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=4)
    )
    return shape


def axes_of(draw: Any, ndim: int) -> tuple[int, ...]:
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(sorted(chosen))


Case = tuple[list[Array], Fn, Fn]  # inputs, the function on nodes, the same in numpy


def case_reshape(draw: Any) -> Case:
    shape = a_shape(draw)
    new = (math.prod(shape),) if draw(st.booleans()) else shape[::-1]
    return arrays(draw, shape), lambda x: x.reshape(new), lambda x: x.reshape(new)


def case_transpose(draw: Any) -> Case:
    shape = a_shape(draw)
    axes = tuple(draw(st.permutations(range(len(shape)))))
    return arrays(draw, shape), lambda x: x.transpose(axes), lambda x: x.transpose(axes)


def case_broadcast_to(draw: Any) -> Case:
    shape = a_shape(draw, max_dims=2)
    target = (2, *(3 if n == 1 else n for n in shape))
    return (
        arrays(draw, shape),
        lambda x: array_ops.broadcast_to(x, target),
        lambda x: np.broadcast_to(x, target),
    )


def case_sum_to(draw: Any) -> Case:
    shape = a_shape(draw, max_dims=2)
    source = (2, *(3 if n == 1 else n for n in shape))
    return (
        arrays(draw, source),
        lambda x: array_ops.sum_to(x, shape),
        lambda x: _np_sum_to(x, shape),
    )


def _np_sum_to(x: Array, shape: tuple[int, ...]) -> Array:
    x = x.sum(axis=0)
    return np.sum(x, axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


def case_reduce(draw: Any, name: str) -> Case:
    shape = a_shape(draw)
    axis = axes_of(draw, len(shape)) if draw(st.booleans()) else None
    keep = draw(st.booleans())
    ref = {
        "sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod,
        "norm": lambda x, axis, keepdims: np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims)),
    }[name]  # fmt: skip
    return (
        arrays(draw, shape),
        lambda x: getattr(x, name)(axis=axis, keepdims=keep),
        lambda x: ref(x, axis=axis, keepdims=keep),
    )


def case_matmul(draw: Any) -> Case:
    m, n, k = draw(st.tuples(*[st.integers(1, 4)] * 3))
    shapes = draw(
        st.sampled_from([((n,), (n,)), ((m, n), (n,)), ((n,), (n, k)), ((m, n), (n, k)),
                         ((2, m, n), (n, k)), ((n,), (2, n, k)), ((2, m, n), (n,))])
    )  # fmt: skip
    return arrays(draw, *shapes), lambda a, b: a @ b, np.matmul


def case_linear(draw: Any) -> Case:
    i, o = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch = draw(st.sampled_from([(), (3,), (2, 3)]))
    return (
        arrays(draw, (*batch, i), (o, i), (o,)),
        array_ops.linear,
        lambda x, w, b: x @ w.T + b,
    )


def case_getitem(draw: Any) -> Case:
    index = draw(st.sampled_from([(slice(1, None), slice(None, None, 2)), ([2, 0, 2, 1],),
                                  (1,), (Ellipsis, [0, 0])]))  # fmt: skip
    return arrays(draw, (3, 4)), lambda x: x[index], lambda x: x[index]


def case_scatter(draw: Any) -> Case:
    index = draw(st.sampled_from([(slice(1, 3),), (np.array([0, 2, 0]),)]))
    size = 2 if isinstance(index[0], slice) else 3
    return (
        arrays(draw, (size, 4)),
        lambda g: array_ops.scatter(g, index, (3, 4)),
        lambda g: shape_ops._scatter_array(g, index, (3, 4)),
    )


def case_join(draw: Any, name: str) -> Case:
    axis = draw(st.integers(0, 1))
    count = draw(st.integers(1, 3))
    shape = (2, 3)
    widths = [draw(st.integers(1, 3)) for _ in range(count)]
    if name == "concatenate":
        shapes = [(2, w) if axis == 1 else (w, 3) for w in widths]
        return (
            arrays(draw, *shapes),
            lambda *xs: concatenate(list(xs), axis=axis),
            lambda *xs: np.concatenate(xs, axis=axis),
        )
    return (
        arrays(draw, *[shape] * count),
        lambda *xs: stack(list(xs), axis=axis),
        lambda *xs: np.stack(xs, axis=axis),
    )


def _np_logsumexp(x: Array, axis: int, keepdims: bool) -> Array:
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


def case_softmaxes(draw: Any, name: str) -> Case:
    shape = a_shape(draw)
    axis = draw(st.integers(0, len(shape) - 1))
    keep = draw(st.booleans())
    refs: dict[str, tuple[Fn, Fn]] = {
        "softmax": (lambda x: x.softmax(axis),
                    lambda x: np.exp(x) / np.exp(x).sum(axis=axis, keepdims=True)),
        "log_softmax": (lambda x: x.log_softmax(axis),
                        lambda x: x - _np_logsumexp(x, axis, True)),
        "logsumexp": (lambda x: x.logsumexp(axis, keepdims=keep),
                      lambda x: _np_logsumexp(x, axis, keep)),
    }  # fmt: skip
    return (arrays(draw, shape), *refs[name])


def case_elementwise(draw: Any, name: str) -> Case:
    rows, cols = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    a, b = arrays(draw, (rows, 1), (1, cols))  # broadcast against each other
    mask = (np.arange(rows * cols).reshape(rows, cols) % 2) == 0
    refs: dict[str, tuple[Fn, Fn, list[Array]]] = {
        "maximum": (maximum, np.maximum, [a, b]),
        "minimum": (minimum, np.minimum, [a, b]),
        "where": (lambda x, y: where(mask, x, y), lambda x, y: np.where(mask, x, y), [a, b]),
        "mul": (lambda x, y: x * y, np.multiply, [a, b]),
        "div": (lambda x, y: x / (y * y + 1), lambda x, y: x / (y * y + 1), [a, b]),
        "pow": (lambda x, y: x**y, np.power, [np.abs(a) + 0.5, b]),
        "sigmoid_log": (lambda x, y: x.sigmoid() * (y * y + 1).log(),
                        lambda x, y: sigmoid(x) * np.log(y * y + 1), [a, b]),
    }  # fmt: skip
    fn, ref, xs = refs[name]
    if name in ("maximum", "minimum"):
        assume(np.min(np.abs(np.subtract(a, b))) > 1e-3)  # ties: no derivative to compare
    return xs, fn, ref


def case_pow_array(draw: Any) -> Case:
    rows, cols = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x, exponent = arrays(draw, (rows, 1), (rows, cols))
    x = np.abs(x) + 0.5  # > 0: any exponent
    return [x], lambda t: t**exponent, lambda t: np.power(t, exponent)


BUILDERS: dict[str, Callable[[Any], Case]] = {
    "pow_array": case_pow_array,
    "reshape": case_reshape,
    "transpose": case_transpose,
    "broadcast_to": case_broadcast_to,
    "sum_to": case_sum_to,
    **{name: (lambda draw, name=name: case_reduce(draw, name))
       for name in ("sum", "mean", "max", "min", "prod", "norm")},
    "matmul": case_matmul,
    "linear": case_linear,
    "getitem": case_getitem,
    "scatter": case_scatter,
    **{n: (lambda draw, n=n: case_join(draw, n)) for n in ("concatenate", "stack")},
    **{n: (lambda draw, n=n: case_softmaxes(draw, n))
       for n in ("softmax", "log_softmax", "logsumexp")},
    **{n: (lambda draw, n=n: case_elementwise(draw, n))
       for n in ("maximum", "minimum", "where", "mul", "div", "pow", "sigmoid_log")},
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BUILDERS))
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_array_op_tangent_is_j_v_by_differences_and_by_the_dot_product_identity(
    name: str, data: st.DataObject
) -> None:
    """References: finite differences of the op written in numpy, along random tangents v;
    and <u, J v> = <Jᵀ u, v>, the right side by reverse mode (grad with grad_outputs=u)."""
    xs, fn, ref = BUILDERS[name](data.draw)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    vs = [rng.standard_normal(x.shape) for x in xs]
    tangent = dual_tangent(fn, xs, vs)
    out = np.asarray(ref(*xs))
    assert isinstance(tangent, np.ndarray) and tangent.shape == out.shape
    np.testing.assert_allclose(tangent, along(ref, xs, vs), rtol=1e-5, atol=1e-7)
    u = rng.standard_normal(out.shape)
    lhs = float(np.sum(u * tangent))
    assert lhs == pytest.approx(vjp_dot(fn, xs, u, vs), rel=1e-9, abs=1e-12)


def test_every_array_op_is_covered() -> None:
    """Reference: array_ops.__all__, the list of ops only arrays have."""
    covered = set(BUILDERS) | {"concatenate", "stack", "maximum", "where"}
    assert set(array_ops.__all__) <= covered


# -- random graphs of array ops -----------------------------------------------------------------
Y0 = np.random.default_rng(7).uniform(-1, 1, size=(3, 3))
MASK = Y0 > 0
ARRAY_STEPS: dict[str, tuple[Fn, Fn]] = {
    "tanh exp": (lambda x, y: x.tanh().exp(), lambda x, y: np.exp(np.tanh(x))),
    "log 1+x²": (lambda x, y: (x * x + 1).log(), lambda x, y: np.log(x * x + 1)),
    "sqrt sigmoid": (lambda x, y: x.sigmoid().sqrt(), lambda x, y: np.sqrt(sigmoid(x))),
    "mul y": (lambda x, y: x * y, lambda x, y: x * y),
    "div 1+y²": (lambda x, y: x / (y * y + 1), lambda x, y: x / (y * y + 1)),
    "add row": (lambda x, y: x + y[0], lambda x, y: x + y[0]),
    "sigmoid ** y": (lambda x, y: x.sigmoid() ** y, lambda x, y: sigmoid(x) ** y),
    "maximum": (lambda x, y: maximum(x, y * 0.5), lambda x, y: np.maximum(x, y * 0.5)),
    "where": (lambda x, y: where(MASK, x, y * x), lambda x, y: np.where(MASK, x, y * x)),
    "x @ y": (lambda x, y: x @ y, lambda x, y: x @ y),
    "y @ x.T": (lambda x, y: y @ x.T, lambda x, y: y @ x.T),
    "linear": (lambda x, y: array_ops.linear(x, y, y[1]), lambda x, y: x @ y.T + y[1]),
    "softmax": (lambda x, y: x.softmax(axis=1),
                lambda x, y: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    "log_softmax": (lambda x, y: x.log_softmax(axis=0), lambda x, y: x - _np_logsumexp(x, 0, True)),
    "minus logsumexp": (lambda x, y: x - x.logsumexp(axis=1, keepdims=True),
                        lambda x, y: x - _np_logsumexp(x, 1, True)),
    "times row max": (lambda x, y: x * x.max(axis=1, keepdims=True),
                      lambda x, y: x * x.max(axis=1, keepdims=True)),
    "plus mean": (lambda x, y: x + x.mean(axis=0), lambda x, y: x + x.mean(axis=0)),
    "reshape round trip": (lambda x, y: (x.reshape(9) * y.reshape(9)).reshape(3, 3),
                           lambda x, y: (x.reshape(9) * y.reshape(9)).reshape(3, 3)),
    "rows permuted": (lambda x, y: x[[2, 0, 1]], lambda x, y: x[[2, 0, 1]]),
    "rows repeated": (lambda x, y: x[[0, 0, 1]] + x[::-1], lambda x, y: x[[0, 0, 1]] + x[::-1]),
    "concatenate": (lambda x, y: concatenate([x[:1] * 2, x[1:]], axis=0),
                    lambda x, y: np.concatenate([x[:1] * 2, x[1:]], axis=0)),
    "stack": (lambda x, y: stack([x[2], x[0], x[1].tanh()], axis=1),
              lambda x, y: np.stack([x[2], x[0], np.tanh(x[1])], axis=1)),
    "broadcast, sum_to": (
        lambda x, y: array_ops.sum_to(array_ops.broadcast_to(x * y, (2, 3, 3)), (3, 3)),
        lambda x, y: 2 * x * y),
    "scatter": (lambda x, y: array_ops.scatter(x[:2], (slice(0, 2),), (3, 3)) + x,
                lambda x, y: np.concatenate([x[:2], np.zeros((1, 3))]) + x),
}  # fmt: skip


@settings(max_examples=EXAMPLES * 2)
@given(
    steps=st.lists(st.sampled_from(sorted(ARRAY_STEPS)), min_size=1, max_size=5),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_array_graphs_forward_matches_differences_and_reverse(
    steps: list[str], seed: int
) -> None:
    """References: finite differences of the same chain written in numpy, along random
    tangents of both inputs; <u, J v> = <Jᵀ u, v> with reverse mode on Tensors."""
    rng = np.random.default_rng(seed)
    xs = [rng.uniform(-1, 1, size=(3, 3)), rng.uniform(-1, 1, size=(3, 3))]
    vs = [rng.standard_normal((3, 3)) for _ in xs]

    def chain(x: Any, y: Any, numpy: bool = False) -> Any:
        for step in steps:
            x = ARRAY_STEPS[step][1 if numpy else 0](x, y)
        return x

    out = chain(*xs, numpy=True)
    assume(np.all(np.isfinite(out)) and np.max(np.abs(out)) < 1e4)
    if "maximum" in steps or "times row max" in steps:  # no ties on the way, for differences
        assume(_no_ties(steps, xs))
    tangent = dual_tangent(chain, xs, vs)
    np.testing.assert_allclose(tangent, along(lambda x, y: chain(x, y, True), xs, vs),
                               rtol=1e-4, atol=1e-6)  # fmt: skip
    u = rng.standard_normal(out.shape)
    assert float(np.sum(u * tangent)) == pytest.approx(
        vjp_dot(chain, xs, u, vs), rel=1e-8, abs=1e-10
    )


def _no_ties(steps: list[str], xs: list[Array]) -> bool:
    """Whether every maximum and max on the chain's way is at least 1e-4 from a tie."""
    x, y = xs
    for step in steps:
        if step == "maximum" and np.min(np.abs(x - y * 0.5)) < 1e-4:
            return False
        if step == "times row max":
            top = np.sort(x, axis=1)
            if np.min(top[:, -1] - top[:, -2]) < 1e-4:
                return False
        x = ARRAY_STEPS[step][1](x, y)
    return True
