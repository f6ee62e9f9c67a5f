"""relu's derivative from its result: step(relu(x)) is step(x) for every x (issue 22), so the
rule needs only the output and its input's array is free to be written over.

Reference: PyTorch's convention, worked by hand: d relu(x)/dx is 1 for x > 0 and 0 otherwise
(at 0, -0.0, -inf and nan too); relu(x) > 0 exactly when x > 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from autograd_lite import Tensor, Value, grad, ops

POINTS = [-math.inf, -2.5, -1e-300, -0.0, 0.0, 5e-324, 1e-300, 0.5, 3.0, math.inf, math.nan]
SLOPE = [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0]


def test_the_rule_reads_the_output_only() -> None:
    for x, slope in zip(POINTS, SLOPE):
        out = ops.relu.forward(x)
        (share,) = ops.relu.vjp(2.0, out, None)  # main: step(None) fails, it read x
        assert share == 2.0 * slope, x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_slope_on_arrays_is_pytorchs_at_every_kind_of_point(dtype: type) -> None:
    points: np.ndarray[Any, Any] = np.array(
        POINTS, dtype=dtype
    )  # (5e-324 and 1e-300 are 0 in float32)
    x = Tensor(points, dtype=dtype)
    (dx,) = grad(x.relu().sum(), [x])
    assert dx.dtype == dtype
    assert dx.tolist() == [1.0 if v > 0 else 0.0 for v in points.tolist()]
    assert not np.signbit(dx).any()  # 1.0 * 0.0 and 1.0 * 1.0: no -0.0


def test_the_slope_on_values_and_its_own_derivative() -> None:
    for x0, slope in zip(POINTS, SLOPE):
        x = Value(x0)
        (dx,) = grad(x.relu(), [x], create_graph=True)
        assert dx.data == slope, x0
        (ddx,) = grad(dx, [x])  # step's derivative is 0 everywhere
        assert ddx == 0.0


G_VALUES = [1.5, -2.0, 0.0, -0.0, math.inf, -math.inf, math.nan]


def _reference_share(g: float, x: float) -> float:
    """Reference: g times relu's slope as a Python float (1.0 for x > 0, else 0.0): the
    product keeps -0.0, inf * 0 = nan and nan's propagation, IEEE's rules."""
    return g * (1.0 if x > 0 else 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("owned", [False, True])
def test_the_rule_on_arrays_gives_g_times_the_slope_bit_for_bit(dtype: type, owned: bool) -> None:
    """Every pair (g, x) of special values, through the rule (`vjp`) and through the rule
    that writes into g (`vjp_into`, for a gradient the walk owns): the bits of g * slope."""
    pairs = [(g, x) for g in G_VALUES for x in POINTS]
    gs = np.array([g for g, _ in pairs], dtype=dtype)
    xs = np.array([x for _, x in pairs], dtype=dtype)
    out = ops.relu.array_forward(xs)
    rule = ops.relu.vjp_into if owned else ops.relu.vjp
    assert rule is not None
    g = gs.copy()
    with np.errstate(invalid="ignore"):  # inf * 0 is nan, as wanted
        (share,) = rule(g, out, xs)
    assert share.dtype == dtype
    want = np.array([_reference_share(a, b) for a, b in zip(gs.tolist(), xs.tolist())], dtype=dtype)
    assert share.tobytes() == want.tobytes()  # -0.0 and nan included
    assert (share is g) == owned  # only an owned gradient is written into


def test_the_rule_that_writes_into_g_leaves_other_arrays_alone() -> None:
    """Arrays it may not write into: read-only ones, and g of another dtype than the result
    (the product would be of another dtype than g). Reference: g * (x > 0) by hand."""
    xs = np.array([-1.0, 2.0])
    read_only = np.array([3.0, 4.0])
    read_only.setflags(write=False)
    assert ops.relu.vjp_into is not None
    (share,) = ops.relu.vjp_into(read_only, np.maximum(xs, 0), xs)
    assert share.tolist() == [0.0, 4.0] and read_only.tolist() == [3.0, 4.0]
    single = np.array([3.0, 4.0], dtype=np.float32)
    (share,) = ops.relu.vjp_into(single, np.maximum(xs, 0), xs)
    assert share.dtype == np.float64 and share.tolist() == [0.0, 4.0]
    assert single.tolist() == [3.0, 4.0]
