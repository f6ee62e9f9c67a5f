"""Defining new ops with `Op`, and checking their derivative rules with gradcheck.

A rule `vjp(g, out, *xs)` returns g * d(out)/d(x) for each operand. Written with ordinary
arithmetic and ops (never math.* on the operands), the same rule runs on floats for a
backward pass and on Values for higher derivatives. `gradcheck` tests a rule against finite
differences; `gradgradcheck` tests that the rule itself differentiates correctly.

Run: .venv/bin/python examples/custom_op.py
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from autograd_lite import GradcheckError, Op, Value, grad, gradcheck, gradgradcheck, ops


def _softplus(x: float) -> float:
    # log(1 + e^x) without overflow for large x, and without losing digits for very negative x.
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


# softplus' = sigmoid; ops.sigmoid works on floats and on Values alike.
softplus: Op = Op("softplus", _softplus, lambda g, out, x: (g * ops.sigmoid(x),))

# sin and cos refer to each other, so every derivative, to any order, is again sin or cos.
sin: Op = Op("sin", math.sin, lambda g, out, x: (g * cos(x),))
cos: Op = Op("cos", math.cos, lambda g, out, x: (-g * sin(x),))


def expression(x: Value, y: Value) -> Value:
    """f(x, y) = softplus(x y) + sin(x) cos(y)."""
    out: Value = softplus(x * y) + sin(x) * cos(y)
    return out


def show_failure(
    title: str, check: Callable[..., bool], fn: Callable[..., Value], inputs: list[Value]
) -> None:
    """Run a check that should fail and print its table."""
    print(f"\n{title}")
    try:
        check(fn, inputs)
    except GradcheckError as e:
        print(e)
    else:
        raise SystemExit("expected the check to fail")


def main(argv: list[str] | None = None) -> None:
    """Run the example (after reading the command line: no arguments)."""
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args(argv)  # takes no arguments: --help shows the docstring, others exit 2
    x0, y0 = 0.8, -0.5
    x, y = Value(x0, label="x"), Value(y0, label="y")
    f = expression(x, y)
    dx, dy = grad(f, [x, y])
    s = 1 / (1 + math.exp(-x0 * y0))
    print(f"f({x0}, {y0}) = {f.data:.12f}")
    print(
        f"df/dx = {dx:.12f}   closed form y s(xy) + cos x cos y = "
        f"{y0 * s + math.cos(x0) * math.cos(y0):.12f}"
    )
    print(f"df/dy = {dy:.12f}   closed form x s(xy) - sin x sin y = "
          f"{x0 * s - math.sin(x0) * math.sin(y0):.12f}")  # fmt: skip
    print("gradcheck(expression):    ", gradcheck(expression, [x, y]))
    print("gradgradcheck(expression):", gradgradcheck(expression, [x, y]))
    print("gradcheck(softplus) at -30, 0, 30:",
          all(gradcheck(softplus, [t]) for t in (-30.0, 0.0, 30.0)))  # fmt: skip

    # A wrong first-order rule: d(sin x)/dx written as sin x instead of cos x.
    bad_sin = Op("bad_sin", math.sin, lambda g, out, x: (g * sin(x),))
    show_failure(
        "bad_sin (rule g * sin(x)): gradcheck catches it",
        gradcheck,
        lambda x, y: bad_sin(x) * cos(y),
        [x, y],
    )

    # A rule that is right at first order but uses math.cos: on a Value that reads its
    # float, so the rule is a constant to the engine and its derivative (f'') is lost.
    float_sin = Op("float_sin", math.sin, lambda g, out, x: (g * math.cos(x),))
    print("\nfloat_sin (rule g * math.cos(x)): gradcheck passes:",
          gradcheck(lambda x, y: float_sin(x) * cos(y), [x, y]))  # fmt: skip
    show_failure(
        "... but gradgradcheck catches it (d2/dx dx should be -sin x cos y):",
        gradgradcheck,
        lambda x, y: float_sin(x) * cos(y),
        [x, y],
    )


if __name__ == "__main__":
    main()
