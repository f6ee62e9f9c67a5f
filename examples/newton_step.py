"""Newton's method in one dimension, with f' and f'' from the engine.

x <- x - f'(x) / f''(x) finds a stationary point of f. Both derivatives come from `grad`:
the first with `create_graph=True`, so that it is itself a Value and can be differentiated
again. Near the solution the error is roughly squared at each step (quadratic convergence).

Run: .venv/bin/python examples/newton_step.py
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from autograd_lite import Value, grad


def derivatives(f: Callable[[Value], Value], x0: float) -> tuple[float, float, float]:
    """f(x0), f'(x0), f''(x0) from the engine."""
    x = Value(x0)
    y = f(x)
    (dy,) = grad(y, [x], create_graph=True)
    (d2y,) = grad(dy, [x])
    return y.data, dy.data, float(d2y)


def newton(
    f: Callable[[Value], Value], x0: float, exact: float, steps: int = 12, tol: float = 1e-14
) -> float:
    """Run Newton's method from x0, printing each iterate and its distance to `exact`."""
    x = x0
    names = ["k", "x", "f(x)", "f'(x)", "f''(x)", "|x - x*|"]
    widths = [2, 20, 14, 11, 11, 9]
    print("  ".join(n.rjust(w) for n, w in zip(names, widths)))
    for k in range(steps + 1):
        fx, d1, d2 = derivatives(f, x)
        print(
            f"{k:>2}  {x:>20.16f}  {fx:>14.10f}  {d1:>11.3e}  {d2:>11.4f}  {abs(x - exact):>9.2e}"
        )
        if abs(d1) <= tol:
            break
        x -= d1 / d2
    return x


def main(argv: list[str] | None = None) -> None:
    """Run the example (after reading the command line: no arguments)."""
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args(argv)  # takes no arguments: --help shows the docstring, others exit 2

    # f(x) = x^4 - 3x^2 + x: f'(x) = 4x^3 - 6x + 1, f''(x) = 12x^2 - 6. From x = 2 Newton
    # goes to the local minimum near 1.13, a root of the cubic 4x^3 - 6x + 1.
    def quartic(x: Value) -> Value:
        return x**4 - 3 * x**2 + x

    # The cubic's roots in closed form: x^3 + p x + q = 0 with p = -3/2, q = 1/4 has
    # x_k = 2 sqrt(-p/3) cos(acos(3q/(2p) sqrt(-3/p)) / 3 - 2 pi k / 3).
    p, q = -1.5, 0.25
    angle = math.acos(3 * q / (2 * p) * math.sqrt(-3 / p)) / 3
    roots = [2 * math.sqrt(-p / 3) * math.cos(angle - 2 * math.pi * k / 3) for k in range(3)]
    exact = max(roots)
    assert abs(4 * exact**3 - 6 * exact + 1) < 1e-12
    print("f(x) = x**4 - 3x**2 + x, from x = 2:")
    x = newton(quartic, 2.0, exact)
    print(f"stationary point x* = {x:.16f}, f''(x*) = {12 * x * x - 6:.4f} > 0: a minimum\n")

    # g(x) = e^x - 2x: g'(x) = e^x - 2 vanishes at x* = ln 2.
    def g(x: Value) -> Value:
        return x.exp() - 2 * x

    print("g(x) = exp(x) - 2x, from x = -1 (the minimum is at ln 2):")
    x = newton(g, -1.0, math.log(2.0))
    print(f"x* = {x:.16f}, ln 2 = {math.log(2.0):.16f}")


if __name__ == "__main__":
    main()
