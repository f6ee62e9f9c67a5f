"""The op table: for each built-in op, its forward value, its domain and ONE derivative rule.

Every rule is written with ordinary arithmetic and these ops, so the same rule runs on floats
(a first-order backward pass), on numpy arrays, and on Values (higher derivatives; see `Op`).
Rules use the op's output where that is the stable form (sigmoid: s(1 - s), tanh: 1 - t**2,
exp: e**x). `from autograd_lite import ops` gives this table.
"""

from __future__ import annotations

import functools
import math
import operator
from types import MappingProxyType
from typing import Any

import numpy as np

from ..validate import is_real, real
from .array_base import quiet
from .node import DomainError, Node, Op, trusted

__all__ = [
    "abs", "add", "clamp", "clip", "cos", "div", "exp", "expm1", "gelu", "gelu_tanh", "leaky_relu",
    "log", "log1p", "mul", "neg", "pow_number", "pow_value", "power", "relu", "sigmoid", "sign",
    "sin", "softplus", "sqrt", "step", "sub", "tan", "tanh",
]  # fmt: skip


# -- forward functions on floats: total, IEEE-style, as numpy would give ----------------------
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


def _sigmoid_array(x: Any) -> Any:
    e = np.exp(-np.abs(x))  # the same two forms as on floats, chosen by sign
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


# One expression each: generated code writes the expression in place (codegen/derived.py).
def _step(x: float) -> float:
    return 1.0 if x > 0 else 0.0


def _step_array(x: Any) -> Any:
    return (x > 0).astype(np.result_type(x, np.float16))


def _relu(x: float) -> float:
    return 0.0 if x <= 0 else x


def _relu_array(x: Any) -> Any:
    return np.maximum(x, 0)


def _relu_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    # g * step(out) as g * (out > 0), the same numbers: Python and numpy take a bool as 1.0 or
    # 0.0 (-0.0, inf and nan as step's)
    if type(out) is np.ndarray and type(g) is np.ndarray and g.dtype is out.dtype:
        return (np.multiply(g, out > 0),)
    return (g * (out > 0) if type(out) is float else g * step(out),)  # nodes: step's node


def _relu_vjp_into(g: Any, out: Any, x: Any) -> tuple[Any]:
    # _relu_vjp's product into g's array if writable (out by position: faster than out=)
    if type(out) is np.ndarray and type(g) is np.ndarray and g.dtype is out.dtype:
        return (np.multiply(g, out > 0, g if g.flags.writeable else None),)
    return _relu_vjp(g, out, x)


def _sign(x: float) -> float:
    return 0.0 if x == 0 else math.copysign(1.0, x) if x == x else x


def _abs(x: float) -> float:
    return -x if x < 0 else x + 0.0


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x == x else x


# -- domain checks --------------------------------------------------------------------------
def _check_div(a: float, b: float) -> None:
    if b == 0:
        raise DomainError(f"/: division by zero ({a!r} / {b!r})")


def _outside(name: str, bad: Any, values: Any, what: str) -> None:
    """DomainError for an array op if any element is out of its domain (`bad` is the mask
    of those, over `values`): how many, and the first one's index and value."""
    if not bad.any():
        return
    values = np.broadcast_to(values, bad.shape)
    first = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), bad.shape))
    raise DomainError(
        f"{name}: {int(np.count_nonzero(bad))} of {bad.size} elements {what}; the first is "
        f"{values[first].item()!r}, at index {first}"
    )


# NaN passes every check: it is not outside a domain, and it propagates as in numpy.
def _check_log(x: float) -> None:
    if x <= 0:
        raise DomainError(f"log: argument must be > 0, got {x!r}")


def _check_pow_number(a: float, *, exponent: float) -> None:
    if a == 0 and exponent < 0:
        raise DomainError(f"**: 0 cannot be raised to a negative power ({a!r} ** {exponent!r})")
    if a < 0 and not exponent.is_integer():
        raise DomainError(f"**: a negative base needs an integer exponent ({a!r} ** {exponent!r})")


def _check_sqrt(x: float) -> None:
    if x < 0:
        raise DomainError(f"sqrt: argument must be >= 0, got {x!r}")


def _check_div_array(a: Any, b: Any) -> None:
    _outside("/", np.asarray(b) == 0, b, "of the divisor are 0 (division by zero)")


def _check_log_array(x: Any) -> None:
    _outside("log", x <= 0, x, "are <= 0 (log needs arguments > 0)")


def _check_sqrt_array(x: Any) -> None:
    _outside("sqrt", x < 0, x, "are < 0 (sqrt needs arguments >= 0)")


def _check_pow_number_array(a: Any, *, exponent: float) -> None:
    if exponent < 0:
        _outside("**", a == 0, a, f"are 0, which cannot be raised to the power {exponent!r}")
    if not exponent.is_integer():
        _outside("**", a < 0, a, f"are < 0, which need an integer exponent, not {exponent!r}")


def check_pow_array(a: Any, exponent: Any) -> None:
    """DomainError for a ** exponent with a constant array exponent (numpy broadcasting): 0 to
    a negative power, or a negative base to a non-integer one, as for a number exponent."""
    e = np.asarray(exponent)
    _outside("**", (a == 0) & (e < 0), a, "are 0 with a negative exponent")
    _outside("**", (a < 0) & (e != np.floor(e)), a, "are < 0 with a non-integer exponent")


def _check_pow_value_array(a: Any, b: Any) -> None:
    _outside("**", np.asarray(a) <= 0, a, "of the base are <= 0 (with a Tensor exponent "
             "the base must be > 0: d/db a**b = a**b ln a)")  # fmt: skip


def _check_pow_value(a: float, b: float) -> None:
    if a <= 0:
        raise DomainError(
            f"**: with a Value exponent the base must be > 0 (d/db a**b = a**b ln a), "
            f"got {a!r} ** {b!r}"
        )


# -- the ops: name, forward, derivative rule (vjp), domain ---------------------------------
# Their rules give one gradient per operand, right by construction: unchecked per call (Op's
# check_returns, `trusted`). Elementwise all: forward mode derives tangents from the rules
# (dual.py); generated code writes each from the function itself: the same floats.
def _builtin(*args: Any, **options: Any) -> Op:
    return trusted(Op(*args, check_returns=False, jvp="elementwise", **options))


add = _builtin("+", operator.add, lambda g, out, a, b: (g, g))
"""a + b."""
sub = _builtin("-", operator.sub, lambda g, out, a, b: (g, -g))
"""a - b."""
mul = _builtin("*", operator.mul, lambda g, out, a, b: (g * b, g * a))
"""a * b."""
# d(a/b)/db = -a/b² written as -out/b: b*b would overflow or underflow where the answer does not.
div = _builtin("/", _div, lambda g, out, a, b: (g / b, -g * out / b), _check_div,
         array_forward=quiet(operator.truediv), array_check=_check_div_array)  # fmt: skip
"""a / b; DomainError for b == 0."""
neg = _builtin("neg", operator.neg, lambda g, out, a: (-g,))
"""-a."""
exp = _builtin("exp", _exp, lambda g, out, x: (g * out,), array_forward=quiet(np.exp))
"""e ** x; overflow gives inf."""
log = _builtin("log", _log, lambda g, out, x: (g / x,), _check_log, array_forward=quiet(np.log),
         array_check=_check_log_array)  # fmt: skip
"""Natural logarithm; DomainError for x <= 0."""
tanh = _builtin("tanh", math.tanh, lambda g, out, x: (g * (1 - out * out),), array_forward=np.tanh)
"""Hyperbolic tangent."""
sigmoid = _builtin("sigmoid", _sigmoid, lambda g, out, x: (g * (out * (1 - out)),),
             array_forward=quiet(_sigmoid_array))  # fmt: skip
"""1 / (1 + e ** -x), stable for every finite x."""
step = _builtin("step", _step, lambda g, out, x: (g * 0.0,), array_forward=_step_array)
"""1 for x > 0, else 0 (nan too): relu's derivative. Its own derivative is 0 everywhere, so a
graph of relu's backward pass stays right on both sides of 0."""

relu = _builtin("relu", _relu, _relu_vjp, array_forward=_relu_array, vjp_into=_relu_vjp_into)
"""max(x, 0) (nan stays nan); derivative 0 at x == 0, as in PyTorch. The rule reads the
result: relu(x) > 0 exactly when x > 0 (-0.0, inf and nan included), so x's array is free to
be written over (compile_grad writes relu into the fresh array of a linear layer)."""
sign = _builtin("sign", _sign, lambda g, out, x: (g * 0.0,), array_forward=np.sign)
"""-1, 0 or 1 (nan stays nan): abs's derivative. Its own derivative is 0 everywhere."""
abs = _builtin("abs", _abs, lambda g, out, x: (g * sign(x),), array_forward=np.abs)
"""|x|; derivative sign(x), 0 at x == 0 (as PyTorch)."""


def _sqrt_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    # 0.5 * x ** -0.5, not 0.5 / out: at x == 0 it gives inf, as IEEE and PyTorch, not an error.
    return (g * (0.5 * pow_number(-0.5, False)(x)),)


sqrt = _builtin("sqrt", _sqrt, _sqrt_vjp, _check_sqrt, array_forward=quiet(np.sqrt),
          array_check=_check_sqrt_array)  # fmt: skip
"""Square root; DomainError for x < 0."""
pow_value = _builtin(
    "**",
    _pow,
    lambda g, out, a, b: (g * (b * power(a, b - 1)), g * (out * log(a))),
    _check_pow_value,
    array_forward=quiet(np.power),
    array_check=_check_pow_value_array,
)
"""a ** b with a Value exponent b: both operands get a gradient, so a must be > 0."""


@functools.lru_cache(maxsize=256)
def pow_number(exponent: float, checked: bool = True) -> Op:
    """The op x ** n for a fixed number n, kept as the op's parameter `exponent`.

    Its rule uses an unchecked x ** (n - 1): at x = 0 with 0 < n < 1 the derivative is inf, as
    IEEE and PyTorch give, with or without `create_graph`, rather than a DomainError.
    """
    exponent = real(exponent, "**")  # an int exponent too: the rules use float methods

    def vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
        if exponent == 0:
            return (g * 0.0,)
        return (g * (exponent * pow_number(exponent - 1, False)(x)),)

    # A check that cannot fail (a whole exponent >= 0) is left out, here and in generated code.
    checked = checked and not (exponent >= 0 and exponent.is_integer())
    op = _builtin(
        "**",
        lambda x: _pow(x, exponent),
        vjp,
        (lambda x: _check_pow_number(x, exponent=exponent)) if checked else None,
        array_forward=quiet(lambda x: np.power(x, exponent)),
        array_check=(lambda x: _check_pow_number_array(x, exponent=exponent)) if checked else None,
        display=f"**{exponent:g}",
    )
    # The exponent as data, for drawings and generated code. The functions above close over
    # it rather than take it as a keyword argument (params=), which costs a third of the op.
    op.params = MappingProxyType({"exponent": exponent})
    return op


def power(a: Any, b: Any) -> Any:
    """a ** b: `pow_number(b)` for a number exponent, `pow_value` for a node or array one."""
    if is_real(b) and not isinstance(b, Node):
        return pow_number(real(b, "**"))(a)
    return pow_value(a, b)


# -- the functions of a course (issue 21): trigonometry, log1p/expm1, smooth relus, clamp ----
def _sin(x: float) -> float:
    return math.sin(x) if x - x == 0 else math.nan  # sin(+-inf) is nan (math raises)


def _cos(x: float) -> float:
    return math.cos(x) if x - x == 0 else math.nan


def _tan(x: float) -> float:
    return math.tan(x) if x - x == 0 else math.nan


def _log1p(x: float) -> float:
    return math.log1p(x) if x > -1 else -math.inf if x == -1 else math.nan


def _expm1(x: float) -> float:
    return math.expm1(x) if x < 709.0 else _exp(x) - 1.0  # above, math.expm1 overflows


def _check_log1p(x: float) -> None:
    if x <= -1:
        raise DomainError(f"log1p: argument must be > -1, got {x!r}")


def _check_log1p_array(x: Any) -> None:
    _outside("log1p", x <= -1, x, "are <= -1 (log1p needs arguments > -1)")


def _data(x: Any) -> Any:
    """The data of a node, or x: masks of a rule are constants, so that their derivative is
    0 (a kink's, as PyTorch takes it)."""
    return x._data if isinstance(x, Node) else x


sin = _builtin("sin", _sin, lambda g, out, x: (g * cos(x),), array_forward=quiet(np.sin))
"""Sine; nan at +-inf (as numpy and PyTorch)."""
cos: Op = _builtin("cos", _cos, lambda g, out, x: (-g * sin(x),), array_forward=quiet(np.cos))
"""Cosine; nan at +-inf."""
tan = _builtin("tan", _tan, lambda g, out, x: (g * (1 + out * out),), array_forward=quiet(np.tan))
"""Tangent; derivative 1 + tan**2. Near odd multiples of pi/2 large values, no error (IEEE,
as PyTorch: no float is exactly a pole)."""
log1p = _builtin("log1p", _log1p, lambda g, out, x: (g / (1 + x),), _check_log1p,
           array_forward=quiet(np.log1p), array_check=_check_log1p_array)  # fmt: skip
"""log(1 + x), exact for small x; DomainError for x <= -1 (as log for x <= 0)."""
expm1 = _builtin("expm1", _expm1, lambda g, out, x: (g * (out + 1),),
           array_forward=quiet(np.expm1))  # fmt: skip
"""e ** x - 1, exact for small x; derivative out + 1 (as PyTorch); overflow gives inf."""


def _slope_rule(g: Any, x: Any, slope: float) -> Any:
    """g times 1 where x > 0, else slope (a constant: the derivative at 0 is the slope)."""
    up = _data(x) > 0
    return g * (up + (1 - up) * slope)


@functools.lru_cache(maxsize=256)
def _leaky_relu(slope: float) -> Op:
    op = _builtin(
        "leaky_relu",
        lambda x: x if x > 0 else x * slope,
        lambda g, out, x: (_slope_rule(g, x, slope),),
        array_forward=lambda x: np.where(x > 0, x, x * slope),
        display=f"leaky_relu(negative_slope={slope!r})",
    )
    op.params = MappingProxyType({"negative_slope": slope})
    return op


def leaky_relu(negative_slope: object = 0.01) -> Op:
    """The op x for x > 0, else negative_slope * x; its derivative at 0 is negative_slope
    (as PyTorch)."""
    return _leaky_relu(_finite(negative_slope, "leaky_relu: negative_slope"))


def _softplus_rule(g: Any, x: Any, beta: float, threshold: float) -> Any:
    # Above the threshold the op is x itself: derivative exactly 1 (as PyTorch), else
    # sigmoid(beta x).
    linear = _data(x) * beta > threshold
    return g * (linear + (1 - linear) * sigmoid(x * beta))


@functools.lru_cache(maxsize=256)
def _softplus(beta: float, threshold: float) -> Op:
    op = _builtin(
        "softplus",
        lambda x: x if x * beta > threshold else _log1p(_exp(x * beta)) / beta,
        lambda g, out, x: (_softplus_rule(g, x, beta, threshold),),
        array_forward=quiet(
            lambda x: np.where(x * beta > threshold, x, np.log1p(np.exp(x * beta)) / beta)
        ),
        display=f"softplus(beta={beta!r}, threshold={threshold!r})",
    )
    op.params = MappingProxyType({"beta": beta, "threshold": threshold})
    return op


def softplus(beta: object = 1.0, threshold: object = 20.0) -> Op:
    """The op log(1 + e**(beta x)) / beta, and x itself where beta x > threshold (PyTorch's
    definition: stable for large |x|); derivative sigmoid(beta x), 1 above the threshold."""
    b = _finite(beta, "softplus: beta")
    if b <= 0:
        raise ValueError(f"softplus: beta must be > 0, got {beta!r}")
    return _softplus(b, _finite(threshold, "softplus: threshold"))


_GELU_K = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715


def _gelu_rule(g: Any, x: Any) -> Any:
    # d/dx 0.5 x (1 + t) = 0.5 (1 + t) + 0.5 x (1 - t**2) k (1 + 3c x**2), t = tanh(k (x + c x**3))
    t = tanh((x + x * x * x * _GELU_C) * _GELU_K)
    return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * (_GELU_K * (1 + 3 * _GELU_C * x * x)))


gelu_tanh = _builtin(
    "gelu",
    lambda x: 0.5 * x * (1 + math.tanh((x + x * x * x * 0.044715) * 0.7978845608028654)),
    lambda g, out, x: (_gelu_rule(g, x),),
    array_forward=quiet(
        lambda x: 0.5 * x * (1 + np.tanh((x + x * x * x * 0.044715) * 0.7978845608028654))
    ),
    display="gelu(approximate='tanh')",
)
"""GELU's tanh form, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3))), as PyTorch's
approximate="tanh"."""
gelu_tanh.params = MappingProxyType({"approximate": "tanh"})


def gelu(approximate: object = "tanh") -> Op:
    """GELU: only its tanh form (`gelu_tanh`); the exact form x Phi(x) needs erf, which
    numpy lacks, so approximate="none" is a ValueError."""
    if approximate == "none":
        raise ValueError(
            "gelu: approximate='none' (the exact form x * Phi(x)) needs erf, which numpy "
            "lacks; use approximate='tanh'"
        )
    if approximate != "tanh":
        raise ValueError(f"gelu: approximate must be 'tanh', got {approximate!r}")
    return gelu_tanh


@functools.lru_cache(maxsize=256)
def _clamp(lo: float | None, hi: float | None) -> Op:
    low = -math.inf if lo is None else lo
    high = math.inf if hi is None else hi

    def rule(g: Any, out: Any, x: Any) -> tuple[Any]:
        data = _data(x)
        return (g * ((data >= low) * (data <= high)),)

    op = _builtin(
        "clamp",
        lambda x: high if (low if x < low else x) > high else (low if x < low else x),
        rule,
        array_forward=lambda x: np.minimum(np.maximum(x, low), high),
        display=f"clamp(min={lo!r}, max={hi!r})",
    )
    op.params = MappingProxyType({"min": lo, "max": hi})
    return op


def clamp(min: object = None, max: object = None) -> Op:
    """The op that limits x to [min, max] (either may be None; min > max gives max
    everywhere, nan stays nan, as PyTorch); the gradient passes where min <= x <= max."""
    return _limits("clamp", min, max)


def clip(
    a_min: object = None, a_max: object = None, *, min: object = None, max: object = None
) -> Op:
    """`clamp` under numpy's names for the limits (a_min, a_max, as np.clip) or PyTorch's
    (min, max); its errors name clip."""
    for numpy_name, numpy_value, torch_name, torch_value in (
        ("a_min", a_min, "min", min),
        ("a_max", a_max, "max", max),
    ):
        if numpy_value is not None and torch_value is not None:
            raise TypeError(
                f"clip: got both {numpy_name}= (numpy's name) and {torch_name}= (PyTorch's)"
            )
    return _limits("clip", min if a_min is None else a_min, max if a_max is None else a_max)


def _limits(name: str, min: object, max: object) -> Op:
    """The clamp op for the limits given to `name` (clamp or clip), checked."""
    if min is None and max is None:
        raise ValueError(f"{name}: give min or max (or both); both None is an error, as PyTorch")
    lo = None if min is None else _bound(min, f"{name}: min")
    hi = None if max is None else _bound(max, f"{name}: max")
    return _clamp(lo, hi)


def _finite(x: object, where: str) -> float:
    found = real(x, where)
    if not math.isfinite(found):
        raise ValueError(f"{where} must be finite, got {x!r}")
    return found


def _bound(x: object, where: str) -> float:
    found = real(x, where)
    if found != found:
        raise ValueError(f"{where} must not be nan, got {x!r}")
    return found
