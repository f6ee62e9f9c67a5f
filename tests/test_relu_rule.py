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
