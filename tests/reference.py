"""Independent references for the tests: the document's exact table, central finite differences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

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


def second_difference(f: Callable[[np.float64], np.float64], x0: float, h: float = 1e-4) -> float:
    """(f(x + h) - 2 f(x) + f(x - h)) / h² in numpy float64."""
    x = np.float64(x0)
    return float((f(x + h) - 2 * f(x) + f(x - h)) / np.float64(h) ** 2)


def numpy_hessian(f: Callable[[Any], Any], x0: list[float], h: float = 1e-4) -> Any:
    """The Hessian of f at x0 by central second differences in numpy float64."""
    x = np.array(x0, dtype=np.float64)
    n = len(x)
    e = np.eye(n) * h
    out = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            out[i, j] = (
                f(x + e[i] + e[j]) - f(x + e[i] - e[j]) - f(x - e[i] + e[j]) + f(x - e[i] - e[j])
            ) / (4 * h * h)
    return out


def numpy_hessian_extrapolated(f: Callable[[Any], Any], x0: list[float], h: float = 2e-3) -> Any:
    """The Hessian of f at x0 by central second differences with steps h and h/2, combined by
    Richardson extrapolation, (4 H(h/2) - H(h)) / 3, which cancels the h² error term: accurate
    to about 1e-9 for smooth f of moderate size."""
    return (4 * numpy_hessian(f, x0, h / 2) - numpy_hessian(f, x0, h)) / 3


# The "exact" column of shared/seed/backprop_worked_example.en.md (double precision, 10 decimals).
EXACT_TABLE = {
    "z1": 0.5000000000, "h": 0.6224593312, "z2": 0.3867377994, "y_hat": 0.5954971449,
    "L": 0.0818112799, "dL_dy_hat": -0.4045028551, "dy_hat_dz2": 0.2408802953,
    "delta2": -0.0974367672, "dL_db2": -0.0974367672, "dL_dw2": -0.0606504249,
    "dL_dh": -0.0292310302, "dh_dz1": 0.2350037122, "delta1": -0.0068694006,
    "dL_dw1": -0.0068694006, "dL_db1": -0.0068694006, "w2_new": 0.3060650425,
    "b2_new": 0.2097436767, "w1_new": 0.4006869401, "b1_new": 0.1006869401,
}  # fmt: skip


def textbook_gradients(root: Any, seed: float = 1.0) -> dict[Any, float]:
    """d(root)/d(node) for every node below root: the plain Kahn-order sweep, the oracle for
    the engine's optimised one (autograd_lite/engine/backward.py).

    Count each node's users; start from the root; a node passes g * d(node)/d(operand) to each
    operand (through its op's rule, on floats) once all of its own users have passed theirs.
    """
    return _kahn_sweep(root, seed, lambda node, g: node.op.vjp(g, *_datas(node)))


def gradient_sizes(root: Any) -> dict[Any, float]:
    """For every node below root, the sum over its paths to root of the products of the
    local derivatives' absolute values: the size of the terms its gradient adds up. Two
    sweeps that add the shares in different orders agree to rounding relative to this, not
    to the gradient itself, which a sum that cancels makes small (-1.0000000000003 + 1.0)."""
    return _kahn_sweep(
        root, 1.0, lambda node, g: [g * abs(d) for d in node.op.vjp(1.0, *_datas(node))]
    )


def _datas(node: Any) -> list[Any]:
    """The node's data and its operands', as a rule takes them."""
    return [node.data, *[x.data for x in node.operands]]


def _kahn_sweep(root: Any, seed: float, shares: Any) -> dict[Any, float]:
    """The sweep both of the above make: `shares(node, g)` gives what node passes to each
    operand once its own total g is complete."""
    users: dict[Any, int] = {root: 0}
    todo = [root]
    while todo:
        for x in todo.pop().operands:
            users[x] = users.get(x, 0) + 1
            if users[x] == 1:
                todo.append(x)
    totals: dict[Any, float] = {root: seed}
    ready = [root]
    while ready:
        node = ready.pop()
        if not node.operands:
            continue
        for x, share in zip(node.operands, shares(node, totals[node])):
            totals[x] = totals.get(x, 0.0) + share
            users[x] -= 1
            if users[x] == 0:
                ready.append(x)
    return totals
