"""Generated code at its edges: leaves changed after compiling, empty arrays, deep graphs.

Reference: closed forms worked out in each test, and the engine's backward() on the graph
(its `.data` and the gradients grad() gives), bit for bit.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from autograd_lite import (
    CodegenError,
    Op,
    Tensor,
    Value,
    backward_code,
    compile_grad,
    grad,
    nn,
)
from tests.codegen_helpers import run_module, same


def _issue_graph() -> tuple[Tensor, Tensor, Tensor]:
    x = Tensor([1.0], label="x")
    W = Tensor([0.0])
    return (x * W + x * W.exp()).sum(), x, W


@pytest.mark.parametrize(
    "change",
    [
        lambda W: setattr(W, "data", W.data.__iadd__(1.0)),  # W.data += 1
        lambda W: setattr(W, "data", np.array([1.0])),  # the setter
        lambda W: setattr(W, "data", np.where([True], 5.0, W.data)),  # W.data[0] = 5, as new
        lambda W: nn.SGD([W], lr=1.0).step(),  # an optimizer's step
    ],
    ids=["inplace", "setter", "item", "sgd"],
)
def test_leaves_that_are_not_inputs_keep_their_recorded_values(change: Callable[..., Any]) -> None:
    # Reference, by hand at the recorded W = 0: L = x W + x e^W = x, so L(1) = 1 and
    # dL/dx = W + e^W = 1 (a fresh graph at W = 1 would give 1 + e = 3.718...).
    L, x, W = _issue_graph()
    f = compile_grad(L, [x])
    W.grad = np.array([-1.0])  # what the SGD step moves W by
    change(W)
    value, (dx,) = f(np.array([1.0]))
    assert value == 1.0 and dx.tolist() == [1.0]
    assert f(np.array([2.0]))[0] == 2.0


def test_a_value_leaf_and_an_array_param_keep_their_recorded_values() -> None:
    # Reference, by hand: out = x * w * sum(a) with w = 2 and a = [1, 2] recorded: out(3) = 18,
    # dout/dx = w * sum(a) = 6, whatever w and a hold after compile_grad.
    a = np.array([1.0, 2.0])
    scale = Op(
        "scale",
        lambda x, a: x * float(a.sum()),
        lambda g, out, x, a: (g * float(a.sum()),),
        params={"a": a},
        emit="{0} * float({a}.sum())",
    )
    x, w = Value(1.0), Value(2.0)
    out = scale(x * w)
    f = compile_grad(out, [x])
    w.data = 10.0
    a[:] = 100.0
    assert f(3.0) == (18.0, (6.0,))


def test_compiled_constants_are_read_only_copies() -> None:
    L, x, W = _issue_graph()
    f = compile_grad(L, [x])
    held = inspect.unwrap(f).__globals__  # (a Tensor function runs under np.errstate's wrapper)
    constants = [v for v in held.values() if isinstance(v, np.ndarray) and v.shape == (1,)]
    assert constants and all(not c.flags.writeable for c in constants)
    assert all(not np.shares_memory(c, W.data) for c in constants)


def test_empty_tensors_meeting_a_constant_array() -> None:
    # Reference, by hand: a sum over no elements is 0.0, and the gradient of
    # sum((x - 0)**2) is 2x, an empty (0, 3) array.
    x = Tensor(np.zeros((0, 3)))
    out = ((x - np.zeros((0, 3))) ** 2).sum()
    for f in (compile_grad(out, [x]), run_module(backward_code(out, [x]))):
        value, (dx,) = f(np.zeros((0, 3)))
        assert value == 0.0 and dx.shape == (0, 3) and dx.dtype == np.float64


@pytest.mark.parametrize(
    "build",
    [
        lambda x: (x @ np.ones((3, 2))).sum(),
        lambda x: (x * np.ones((1, 3)) + np.zeros((0, 1))).sum(),
        lambda x: (x[:, 1:] * np.ones((0, 2))).exp().sum(),
        lambda x: x.reshape(3, 0).T.sum(),
    ],
)
def test_graphs_of_empty_arrays_match_the_engine(build: Callable[[Tensor], Tensor]) -> None:
    # Reference: the engine's backward() on the same graph, bit for bit.
    x = Tensor(np.zeros((0, 3)))
    out = build(x)
    expected = (out.data, tuple(grad(out, [x])))
    assert same(compile_grad(out, [x])(x.data), expected)
    assert same(run_module(backward_code(out, [x]))(x.data), expected)


DEEP: dict[str, tuple[Callable[[], Any], Callable[[Any], Any]]] = {
    "slices": (lambda: Tensor(np.arange(3001.0)), lambda y: y[1:]),  # the issue's loop
    "negations": (lambda: Tensor(np.ones(3)), lambda y: -y),
    "value negations": (lambda: Value(0.5), lambda y: -y),
    "reshapes": (lambda: Tensor(np.ones((2, 3))), lambda y: y.reshape(6).reshape(2, 3)),
    "transposes": (lambda: Tensor(np.ones((2, 3))), lambda y: y.T),
    "exp and log": (lambda: Tensor(np.ones(3)), lambda y: y.exp().log()),
    "relu": (lambda: Value(0.5), lambda y: y.relu()),
    "abs": (lambda: Tensor(np.ones(3)), lambda y: abs(y)),
    "powers": (lambda: Value(0.5), lambda y: y**1.0),
}
"""Chains of 3000 ops, each nesting its operand one level more if written inline."""


@pytest.mark.parametrize("name", sorted(DEEP))
def test_deep_chains_compile_and_match_the_engine(name: str) -> None:
    # Reference: the engine's backward() on the same graph, bit for bit; for the issue's
    # 3000 slices, by hand: the sum of x[3000:] has gradient 1 on the last element only.
    make, step = DEEP[name]
    x = make()
    y = x
    for _ in range(3000):
        y = step(y)
    out = y.sum() if isinstance(y, Tensor) else y
    expected = (out.data, tuple(grad(out, [x])))
    assert same(compile_grad(out, [x])(x.data), expected)
    assert same(run_module(backward_code(out, [x], compact=True))(x.data), expected)
    if name == "slices":
        assert expected[1][0].tolist() == [0.0] * 3000 + [1.0]


def test_an_emit_form_nested_too_deep_is_a_codegen_error() -> None:
    # An emit form of 300 nested calls: Python's parser refuses it ("too many nested
    # parentheses"); compile_grad says so as a CodegenError, not a SyntaxError.
    deep = Op("deep", lambda x: x, lambda g, out, x: (g,), emit="abs(" * 300 + "{0}" + ")" * 300)
    x = Value(1.0)
    with pytest.raises(CodegenError, match="op 'deep'"):
        compile_grad(deep(x), [x])


def test_a_long_sum_of_shares_compiles() -> None:
    # Reference, by hand: out = sum of x * k for k = 1..3000 has d out/dx = sum of k
    # = 3000 * 3001 / 2 = 4501500, exact in floats.
    x = Value(1.0)
    out = x * 1.0
    for k in range(2, 3001):
        out = out + x * float(k)
    value, (dx,) = compile_grad(out, [x])(1.0)
    assert dx == 4501500.0 and value == 4501500.0 and math.isfinite(value)


@pytest.mark.parametrize("shape", [(), (1,), (1, 1), (1, 1, 1)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_an_output_that_is_its_own_input_has_gradient_one(shape: Any, dtype: Any) -> None:
    """Reference: closed form -- d W/d W = 1 (ones of W's shape and dtype) and d W/d V = 0
    for another input V, for a one-element W of any number of dimensions; the result is
    each call's own array (changing it changes the next call's nothing)."""
    w = Tensor(np.full(shape, 3.0, dtype=dtype), dtype=dtype, label="W")
    v = Tensor(np.full(shape, 2.0, dtype=dtype), dtype=dtype, label="V")
    f = compile_grad(w, [w, v])
    x = np.full(shape, 5.0, dtype=dtype)
    out, (dw, dv) = f(x, x)
    for got, want in ((out, 5.0), (dw, 1.0), (dv, 0.0)):
        assert (
            got.shape == shape
            and got.dtype == dtype
            and got.tolist() == np.full(shape, want).tolist()
        )
    dw[...] = 7.0
    assert f(x, x)[1][0].tolist() == np.ones(shape).tolist()
    written = run_module(backward_code(w, [w, v]))
    assert written(x, x)[1][0].tolist() == np.ones(shape).tolist()


def test_a_value_output_that_is_its_own_input_has_gradient_one() -> None:
    """Reference: closed form -- d v/d v = 1.0 and d v/d u = 0.0 for a Value v."""
    v, u = Value(3.0, "v"), Value(1.0, "u")
    assert compile_grad(v, [v, u])(4.0, 2.0) == (4.0, (1.0, 0.0))
    assert run_module(backward_code(v, [v, u]))(4.0, 2.0) == (4.0, (1.0, 0.0))
