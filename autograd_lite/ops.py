"""The built-in ops: for each, its forward value, its domain, and its derivative rule.

Every rule is written with ordinary arithmetic and these ops, so it runs on floats for a
first-order backward pass and on Values for higher derivatives (see `Op`). Rules use the
op's output where that is the stable form (sigmoid: s(1 - s), tanh: 1 - t**2, exp: e**x).
"""

from __future__ import annotations

import functools
import math
import operator
from typing import Any

from .value import DomainError, Op, Operand, Value, to_float


def _step(x: Any) -> float:
    """relu's derivative: 1 for x > 0, else 0 (at exactly 0 too, as in PyTorch)."""
    return 1.0 if (x.data if isinstance(x, Value) else x) > 0 else 0.0


# -- forward functions: total, IEEE-style, as numpy would give -------------------------------
def _div(a: float, b: float) -> float:
    if b:
        return a / b
    return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a) * math.copysign(1, b)


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _log(x: float) -> float:
    if x > 0:
        return math.log(x)
    return -math.inf if x == 0 else math.nan


def _pow(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except OverflowError:
        odd = b.is_integer() and b % 2 == 1
        return math.copysign(math.inf, a) if odd else math.inf
    except ValueError:  # 0 to a negative power, or a negative base to a non-integer power
        return math.inf if a == 0 else math.nan


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)  # x < 0: e**x cannot overflow, and 1 + e**-x would
    return e / (1.0 + e)


# -- domain checks --------------------------------------------------------------------------
def _check_div(a: float, b: float) -> None:
    if b == 0:
        raise DomainError(f"/: division by zero ({a!r} / {b!r})")


def _check_log(x: float) -> None:
    if not x > 0:
        raise DomainError(f"log: argument must be > 0, got {x!r}")


def _check_pow_number(a: float, b: float) -> None:
    if a == 0 and b < 0:
        raise DomainError(f"**: 0 cannot be raised to a negative power ({a!r} ** {b!r})")
    if a < 0 and not b.is_integer():
        raise DomainError(f"**: a negative base needs an integer exponent ({a!r} ** {b!r})")


def _check_pow_value(a: float, b: float) -> None:
    if not a > 0:
        raise DomainError(
            f"**: with a Value exponent the base must be > 0 (d/db a**b = a**b ln a), "
            f"got {a!r} ** {b!r}"
        )


# -- the ops: name, forward, derivative rule (vjp), domain -----------------------------------
add = Op("+", operator.add, lambda g, out, a, b: (g, g))
"""a + b."""
sub = Op("-", operator.sub, lambda g, out, a, b: (g, -g))
"""a - b."""
mul = Op("*", operator.mul, lambda g, out, a, b: (g * b, g * a))
"""a * b."""
# d(a/b)/db = -a/b² written as -out/b: b*b would overflow or underflow where the answer does not.
div = Op("/", _div, lambda g, out, a, b: (g / b, -g * out / b), _check_div)
"""a / b; DomainError for b == 0."""
neg = Op("neg", operator.neg, lambda g, out, a: (-g,))
"""-a."""
exp = Op("exp", _exp, lambda g, out, x: (g * out,))
"""e ** x; overflow gives inf."""
log = Op("log", _log, lambda g, out, x: (g / x,), _check_log)
"""Natural logarithm; DomainError for x <= 0."""
tanh = Op("tanh", math.tanh, lambda g, out, x: (g * (1 - out * out),))
"""Hyperbolic tangent."""
sigmoid = Op("sigmoid", _sigmoid, lambda g, out, x: (g * (out * (1 - out)),))
"""1 / (1 + e ** -x), stable for every finite x."""
relu = Op("relu", lambda x: 0.0 if x <= 0 else x, lambda g, out, x: (g * _step(x),))
"""max(x, 0) (nan stays nan); derivative 0 at x == 0, as in PyTorch."""
pow_value = Op(
    "**",
    _pow,
    lambda g, out, a, b: (g * (b * power(a, b - 1)), g * (out * log(a))),
    _check_pow_value,
)
"""a ** b with a Value exponent b: both operands get a gradient, so a must be > 0."""


@functools.lru_cache(maxsize=256)
def pow_number(n: float, checked: bool = True) -> Op:
    """The op x ** n for a fixed number n (the exponent is part of the op, like micrograd's).

    Its rule uses an unchecked x ** (n - 1): at x = 0 with 0 < n < 1 the derivative is inf, as
    IEEE and PyTorch give, with or without `create_graph`, rather than a DomainError.
    """

    def vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
        if n == 0:
            return (g * 0.0,)
        return (g * (n * pow_number(n - 1, False)(x)),)

    check = (lambda x: _check_pow_number(x, n)) if checked else None
    return Op(f"**{n:g}", lambda x: _pow(x, n), vjp, check)


def power(a: Operand, b: Operand) -> Any:
    """a ** b: `pow_number(b)` for a number exponent, `pow_value` for a Value exponent."""
    if isinstance(b, Value):
        return pow_value(a, b)
    return pow_number(to_float(b, "**"))(a)
