"""backward_code and compile_grad on Tensor graphs: broadcasting, every array op, dtypes.

Reference: the engine, bit for bit (NaN as NaN), by design: the generated numpy code must do
`backward()`'s array operations one for one. Random graphs (hypothesis) of broadcast
elementwise ops and reductions, in float64 and float32; each array op on its own; the
compiled function on fresh arrays against building the graph again and calling `grad()`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_lite import (
    Tensor,
    Value,
    backward_code,
    compile_grad,
    concatenate,
    grad,
    maximum,
    stack,
    where,
)
from autograd_lite.engine import array_ops
from tests.codegen_helpers import run_module, same
from tests.test_codegen import FMA
from tests.test_codegen import OPS as VALUE_OPS

SHAPES = [(3, 4), (4,), (1, 4), (3, 1), ()]
"""Leaf shapes that broadcast together to (3, 4)."""

MIX = np.random.default_rng(0).normal(size=(4, 4))
COND = np.random.default_rng(1).normal(size=(3, 4)) > 0


def _last(a: Tensor) -> int:
    return a.ndim - 1


OPS: dict[str, tuple[int, Callable[..., Any]]] = {
    **VALUE_OPS,  # every op of the Value graphs works on Tensors, broadcasting
    "where": (2, lambda a, b: where(COND, a, b)),
    "sum": (1, lambda a: a.sum(axis=0, keepdims=True) if a.ndim == 2 else a.sum()),
    "mean": (1, lambda a: a.mean(axis=-1, keepdims=True) if a.ndim else a),
    "max": (1, lambda a: a.max(axis=-1, keepdims=True) if a.ndim else a),
    "softmax": (1, lambda a: a.softmax(-1) if a.ndim else a),
    "log_softmax": (1, lambda a: a.log_softmax(-1) if a.ndim else a),
    "logsumexp": (1, lambda a: a.logsumexp(_last(a), keepdims=True) if a.ndim else a),
    "matmul": (1, lambda a: a @ MIX if a.ndim and a.shape[-1] == 4 else a),
    "reverse": (1, lambda a: a[::-1] if a.ndim else a),
}

Program = tuple[list[int], list[tuple[str, list[int]]], Any]


@st.composite
def programs(draw: st.DrawFn) -> Program:
    shapes = draw(st.lists(st.integers(0, len(SHAPES) - 1), min_size=1, max_size=3))
    steps = []
    for i in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(sorted(OPS)))
        steps.append(
            (kind, [draw(st.integers(0, len(shapes) + i - 1)) for _ in range(OPS[kind][0])])
        )
    return shapes, steps, draw(st.sampled_from([np.float64, np.float32]))


def arrays(program: Program, seed: int) -> list[Any]:
    """Leaf values: normal numbers, with exact zeros (of both signs) and ties mixed in."""
    rng = np.random.default_rng(seed)
    out = []
    for k in program[0]:
        a = rng.normal(size=SHAPES[k])
        pick = rng.random(size=a.shape)
        a = np.where(pick < 0.15, 0.0, np.where(pick < 0.25, -0.0, np.where(pick < 0.3, 1.0, a)))
        out.append(a)
    return out


def build(program: Program, values: list[Any]) -> tuple[Tensor, list[Tensor]]:
    """The program's graph on leaves holding `values` (numpy's warnings on inf and nan
    silenced: the engine's array rules let them show, the generated code does not)."""
    with np.errstate(all="ignore"):
        return _build(program, values)


def _build(program: Program, values: list[Any]) -> tuple[Tensor, list[Tensor]]:
    _, steps, dtype = program
    leaves = [Tensor(v, label=f"x{i}", dtype=dtype) for i, v in enumerate(values)]
    pool: list[Tensor] = list(leaves)
    for kind, args in steps:
        pool.append(OPS[kind][1](*[pool[a] for a in args]))
    out = pool[-1].sum()
    for x in pool[-3:-1]:
        out = out + x.sum()
    return out, leaves


@given(programs(), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_tensor_graphs_generated_and_compiled_match_the_engine(
    program: Program, seed: int, fresh_seed: int
) -> None:
    values = arrays(program, seed)
    out, leaves = build(program, values)
    for compact in (False, True):  # the function takes arrays of the inputs' dtype
        function = run_module(backward_code(out, leaves, compact=compact))
        value, grads = function(*[x.data for x in leaves])
        assert same(value, out.data)
        assert same(grads, _grad(out, leaves))
    f = compile_grad(out, leaves)
    fresh = arrays(program, fresh_seed)
    out2, leaves2 = build(program, fresh)
    value, grads = f(*fresh)
    assert same(value, out2.data)
    assert same(grads, _grad(out2, leaves2))


def _grad(out: Tensor, leaves: list[Tensor]) -> list[Any]:
    with np.errstate(all="ignore"):
        return grad(out, leaves)


def _check(
    build_it: Callable[..., Tensor], *shapes: tuple[int, ...], dtype: Any = np.float64
) -> str:
    """Build, write, compile; compare at the recorded values and at three fresh ones."""
    rng = np.random.default_rng(len(shapes))
    leaves = [Tensor(rng.normal(size=s), label=f"a{i}", dtype=dtype) for i, s in enumerate(shapes)]
    out = build_it(*leaves)
    source = backward_code(out, leaves)
    value, grads = run_module(source)(*[x.data for x in leaves])
    assert same(value, out.data) and same(grads, grad(out, leaves))
    f = compile_grad(out, leaves)
    for _ in range(3):
        fresh = [rng.normal(size=s) for s in shapes]
        again = [Tensor(v, dtype=dtype) for v in fresh]
        out2 = build_it(*again)
        assert same(f(*fresh), (out2.data, tuple(grad(out2, again))))
    return source


@pytest.mark.parametrize(
    ("build_it", "shapes"),
    [
        (lambda a, b: (a @ b).sum(), [(3, 4), (4, 2)]),
        (lambda a, b: (a @ b).sum(), [(4,), (4, 2)]),
        (lambda a, b: (a @ b).sum(), [(3, 4), (4,)]),
        (lambda a, b: (a @ b).tanh().sum(), [(2, 3, 4), (4, 5)]),
        (lambda a, b: (a @ b).sum(), [(4,), (4,)]),
        (
            lambda x, w: array_ops.linear(x, w, Tensor(np.arange(3.0))).relu().sum(),
            [(5, 4), (3, 4)],
        ),
        (lambda x, w: array_ops.linear(x, w, Tensor(np.ones(3))).sum(), [(2, 5, 4), (3, 4)]),
        (lambda a, b: (a[1:, ::2] * b[0, :2]).sum(), [(3, 4), (3, 4)]),
        (lambda a, b: (a[np.array([0, 2, 0])] * b).sum(), [(3, 4), (4,)]),
        (lambda a, b: (a[COND] ** 2).sum() + b.sum(), [(3, 4), (2,)]),
        (lambda a, b: concatenate([a, b], 0).tanh().sum(), [(3, 4), (2, 4)]),
        (lambda a, b: stack([a, b], 1)[:, 0].sum(), [(3, 4), (3, 4)]),
        (lambda a, b: (a.reshape(4, 3).T @ b.T).abs().sum(), [(3, 4), (3, 4)]),
        (lambda a, b: (a.transpose(1, 0) * b).max(), [(3, 4), (4, 3)]),
        (lambda a, b: (a.softmax(0) * b).sum() + a.log_softmax(1).sum(), [(3, 4), (3, 4)]),
        (lambda a, b: a.logsumexp(1).sum() + (a - b).mean(), [(3, 4), (4,)]),
        (lambda a, b: maximum(a, b).sum() + a.max(axis=0).sum(), [(3, 4), (1, 4)]),
        (lambda a, b: array_ops.broadcast_to(a, (3, 4)).sum() * b.sum(), [(4,), (3,)]),
        (
            lambda a, b: ((a.abs() + 0.5) ** np.array([2.0, 0.5, -1.0, 3.0])).sum() + b.sum(),
            [(3, 4), (2,)],
        ),
        (lambda a, b: (a ** np.array([[2.0], [3.0], [1.0]])).sum() * b.sum(), [(3, 4), (2,)]),
    ],
)
def test_each_array_op(build_it: Callable[..., Tensor], shapes: list[tuple[int, ...]]) -> None:
    _check(build_it, *shapes)


def test_float32_graphs_keep_float32_and_the_engines_casts() -> None:
    # maximum's rule makes float64 masks, so gradients are float64 until grad() casts them to
    # the input's float32: the code must cast the same way.
    source = _check(lambda a, b: (maximum(a, b) * 0.1).sum(), (3, 4), (4,), dtype=np.float32)
    assert "dtype=np.float32" in source
    f = compile_grad(*_graph32())
    _, grads = f(np.ones((3, 4)), np.zeros(4))
    assert all(g.dtype == np.float32 for g in grads)


def _graph32() -> tuple[Tensor, list[Tensor]]:
    a, b = Tensor(np.ones((3, 4)), dtype=np.float32), Tensor(np.zeros(4), dtype=np.float32)
    return (a * b).sum(), [a, b]


def test_data_that_takes_no_gradient_is_a_module_constant() -> None:
    # Reference: d/dw sum((X w)^2) = 2 X^T (X w), with X fixed.
    X = Tensor([[1.0, 2.0], [3.0, -1.0]], requires_grad=False, label="X")
    w = Tensor([0.5, -0.25], label="w")
    out = ((X @ w) ** 2).sum()
    source = backward_code(out, [w])
    assert "X = np.array([[1.0, 2.0], [3.0, -1.0]], dtype=np.float64)" in source
    value, (dw,) = compile_grad(out, [w])(np.array([1.0, 1.0]))
    xm = X.data
    assert value == ((xm @ [1.0, 1.0]) ** 2).sum()
    assert np.allclose(dw, 2 * xm.T @ (xm @ [1.0, 1.0]), rtol=1e-15)


def test_compiled_arguments_are_checked_and_results_are_fresh_arrays() -> None:
    a = Tensor(np.ones((2, 3)), label="a")
    f = compile_grad((a * a).sum(), [a])
    _, (g,) = f([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # nested lists work, as for Tensor()
    g[:] = 0.0
    _, (g2,) = f(np.ones((2, 3)))
    assert (g2 == 2.0).all()
    with pytest.raises(ValueError, match=r"argument 0 \('a'\) has shape \(3,\).*\(2, 3\)"):
        f(np.ones(3))
    with pytest.raises(TypeError, match=r"argument 0 \('a'\): got a Value"):
        f(Value(1.0))  # (a Tensor stands for its data: tests/test_codegen_per_call.py)


def test_an_output_of_more_than_one_element_is_refused() -> None:
    a = Tensor(np.ones(3))
    with pytest.raises(ValueError, match=r"output has shape \(3,\), not one element"):
        compile_grad(a * 2.0, [a])


def test_inf_and_nan_go_through_as_in_the_engine_without_warnings() -> None:
    # Reference: the engine's stable softmax and logsumexp of a row of -inf, and exp's
    # overflow, give these infs and nans with numpy's warnings silenced.
    a = Tensor(np.zeros((2, 3)), label="a")
    out = a.logsumexp(1).sum() + a.exp().sum() + a.softmax(1).max()
    f = compile_grad(out, [a])
    values = np.array([[-np.inf, -np.inf, -np.inf], [1000.0, 0.0, np.nan]])
    with np.errstate(all="ignore"):  # the engine lets some of numpy's warnings show
        again = Tensor(values)
        out2 = again.logsumexp(1).sum() + again.exp().sum() + again.softmax(1).max()
        expected = (out2.data, tuple(grad(out2, [again])))
    with np.errstate(all="raise"):
        got = f(values)
    assert same(got, expected)


def _three_operand_graph(values: list[Any]) -> tuple[Tensor, list[Tensor]]:
    """fma(b, a, a) of float32 tensors under maximum, whose rule makes float64 shares: fma's
    operands get float64 shares, added in float64, and cast to float32 at the end."""
    a, b = (Tensor(v, dtype=np.float32, label=n) for v, n in zip(values, "ab"))
    return maximum(FMA(b, a, a), 0.2).sum(), [a, b]


def test_an_op_of_three_operands_in_a_float32_graph_with_float64_shares() -> None:
    # Reference: grad(), whose sweep adds the shares as the rules give them (float64 here)
    # and casts each gradient to its tensor's dtype at the end.
    values = [np.array([[0.3, -1.2]]), np.array([[0.7, 0.1]])]
    out, leaves = _three_operand_graph(values)
    source = backward_code(out, leaves)
    assert same(run_module(source)(*[x.data for x in leaves]), (out.data, tuple(grad(out, leaves))))
    fresh = [np.array([[-0.4, 2.5]]), np.array([[1.5, -0.3]])]
    out2, leaves2 = _three_operand_graph(fresh)
    assert same(compile_grad(out, leaves)(*fresh), (out2.data, tuple(grad(out2, leaves2))))


def test_an_array_exponent_checks_its_domain_as_the_engine_does() -> None:
    # Reference: the engine refuses a negative base under a non-integer exponent (DomainError
    # when the expression is built); the compiled function refuses it too, and the standalone
    # module with its own DomainError, a ValueError.
    from autograd_lite import DomainError

    exponent = np.array([2.0, 0.5])
    a = Tensor([1.0, 4.0], label="a")
    out = (a**exponent).sum()
    with pytest.raises(DomainError):
        Tensor([1.0, -4.0]) ** exponent
    with pytest.raises(DomainError):
        compile_grad(out, [a])(np.array([1.0, -4.0]))
    with pytest.raises(ValueError, match="non-integer"):
        run_module(backward_code(out, [a]))(np.array([1.0, -4.0]))
    value, (da,) = compile_grad(out, [a])(np.array([3.0, 9.0]))  # 3² + √9, (2·3, 1/(2√9))
    assert value == 12.0 and da == pytest.approx([6.0, 1 / 6], rel=1e-15)


def test_compiled_gradients_are_arrays_of_their_own_when_one_array_reaches_two_inputs() -> None:
    """`a + b` hands one gradient array to both operands: the compiled function returned
    that one array for both, so scaling one result in place (clipping by hand) scaled the
    other too (docs/codegen.md: results are arrays of their own, as grad() returns them).
    Reference: d/da sum((a + b) * x) = d/db = x, worked out by hand; after halving the
    first result in place, the second is still x."""
    a, b = Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    x = Tensor([1.0, 1.0], requires_grad=False)
    f = compile_grad(((a + b) * x).sum(), [a, b], args=[x])
    _, (ga, gb) = f(a, b, np.array([2.0, 3.0]))
    ga *= 0.5
    assert ga.tolist() == [1.0, 1.5] and gb.tolist() == [2.0, 3.0]
