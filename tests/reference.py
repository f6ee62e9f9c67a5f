"""Independent references for the tests: central finite differences in numpy float64."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def central_difference(f: Callable[[float], float], x: float, h: float = 1e-6) -> float:
    """(f(x + h) - f(x - h)) / 2h in float64, with h scaled to |x|."""
    step = np.float64(h) * max(1.0, abs(x))
    return float((np.float64(f(x + step)) - np.float64(f(x - step))) / (2 * step))


def central_gradient(
    f: Callable[[Sequence[float]], float], xs: Sequence[float], h: float = 1e-6
) -> list[float]:
    """The gradient of f at xs by central differences, one coordinate at a time."""
    out = []
    for i in range(len(xs)):

        def fi(t: float, i: int = i) -> float:
            ys = list(xs)
            ys[i] = t
            return f(ys)

        out.append(central_difference(fi, xs[i], h))
    return out
