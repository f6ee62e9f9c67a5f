"""Independent references for the Tensor tests: central finite differences over numpy arrays.

The function differentiated is a numpy forward written out in the test (never the engine's),
evaluated in float64. A non-scalar result is reduced with a fixed cotangent c, so one
gradient per input element checks the whole vector-Jacobian product: d/dx sum(f(x) * c).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

Array = np.ndarray[Any, Any]


def numeric_gradients(
    f: Callable[..., Any], xs: Sequence[Array], cotangent: Array | None = None, h: float = 1e-6
) -> list[Array]:
    """d sum(f(*xs) * cotangent) / d xs[k], for each k, by central differences in float64.

    Each element is moved by h * max(1, |x|) both ways; the inputs are copied, never changed.
    Without `cotangent` the result of f must have one element.
    """
    base = [np.array(x, dtype=np.float64) for x in xs]
    c = np.ones(()) if cotangent is None else np.asarray(cotangent, dtype=np.float64)

    def loss(args: list[Array]) -> np.float64:
        out = np.asarray(f(*args), dtype=np.float64)
        if cotangent is None and out.size != 1:
            raise ValueError(f"numeric_gradients: f gave shape {out.shape}; pass a cotangent")
        return np.float64(np.sum(out * c))

    grads = []
    for k, x in enumerate(base):
        g = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            step = h * max(1.0, abs(float(x[idx])))
            moved = [a.copy() for a in base]
            moved[k][idx] = x[idx] + step
            up = loss(moved)
            moved[k][idx] = x[idx] - step
            down = loss(moved)
            g[idx] = (up - down) / (2 * step)
        grads.append(g)
    return grads


def assert_close(actual: object, expected: object, rtol: float = 1e-6, atol: float = 1e-8) -> None:
    """np.testing.assert_allclose, with the shapes required to be equal too (no broadcasting
    may hide a gradient of the wrong shape)."""
    a, e = np.asarray(actual), np.asarray(expected)
    assert a.shape == e.shape, f"shape {a.shape}, expected {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)
