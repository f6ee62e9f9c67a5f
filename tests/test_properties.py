"""Property-based: random expressions, engine gradients against central finite differences.

Each expression is a tree evaluated twice: by the engine (Values) and by an independent
numpy float64 interpreter that the finite differences use. Domains are kept safe by
construction (log of 1 + e², division by 1 + e², exp of tanh(e), a sigmoid base for a Value
exponent). AUTOGRAD_LITE_FUZZ=1 runs a long search (see conftest.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from autograd_lite import Value
from tests.reference import central_gradient

Tree = Any  # ("x", i) | ("c", number) | (op, child) | (op, left, right)

UNARY = ["neg", "tanh", "sigmoid", "exp_tanh", "log_1p_sq", "relu", "sq", "cube"]
BINARY = ["add", "sub", "mul", "div_1p_sq", "pow_sigmoid", "rsub_const", "rmul_const"]

leaves = st.one_of(
    st.tuples(st.just("x"), st.integers(0, 2)),
    st.tuples(st.just("c"), st.floats(-2, 2, allow_nan=False).map(lambda c: round(c, 3))),
)
trees = st.recursive(
    leaves,
    lambda kids: st.one_of(
        st.tuples(st.sampled_from(UNARY), kids),
        st.tuples(st.sampled_from(BINARY), kids, kids),
    ),
    max_leaves=8,
)


def evaluate(tree: Tree, xs: Sequence[Any], lib: str) -> Any:
    """Evaluate with Values (lib="value") or with numpy float64 (lib="np")."""
    kind = tree[0]
    if kind == "x":
        return xs[tree[1]]
    if kind == "c":  # a leaf, so methods apply; rsub_const and rmul_const mix in numbers
        return Value(tree[1]) if lib == "value" else tree[1]
    a = evaluate(tree[1], xs, lib)
    v = lib == "value"
    if kind == "neg":
        return -a
    if kind == "tanh":
        return a.tanh() if v else np.tanh(a)
    if kind == "sigmoid":
        return a.sigmoid() if v else 1 / (1 + np.exp(-np.float64(a)))
    if kind == "exp_tanh":
        return a.tanh().exp() if v else np.exp(np.tanh(a))
    if kind == "log_1p_sq":
        return (a * a + 1).log() if v else np.log(a * a + 1)
    if kind == "relu":
        data = a.data if v else a
        assume(abs(data) > 1e-3)  # finite differences are wrong at the kink
        return a.relu() if v else np.maximum(a, 0.0)
    if kind == "sq":
        return a**2
    if kind == "cube":
        return a**3
    b = evaluate(tree[2], xs, lib)
    if kind == "add":
        return a + b
    if kind == "sub":
        return a - b
    if kind == "mul":
        return a * b
    if kind == "div_1p_sq":
        return a / (b * b + 1)
    if kind == "pow_sigmoid":
        if v:
            return a.sigmoid() ** b
        return (1 / (1 + np.exp(-np.float64(a)))) ** b
    if kind == "rsub_const":
        return 1.5 - a + b
    if kind == "rmul_const":
        return 2.0 * a * b
    raise AssertionError(kind)


@given(tree=trees, point=st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_random_expressions_match_finite_differences(tree: Tree, point: list[float]) -> None:
    values = [Value(p) for p in point]
    out = evaluate(tree, values, "value")
    assume(np.isfinite(out.data) and abs(out.data) < 1e6)
    out.backward()
    numeric = central_gradient(lambda xs: float(evaluate(tree, xs, "np")), point)
    for value, fd in zip(values, numeric):
        assert value.grad == pytest.approx(fd, rel=1e-4, abs=1e-5)
