"""The ops micrograd 0.1.0 lacks, added to its `Value` for the benchmark only.

micrograd 0.1.0's `Value` has `+ - * / **` (number exponents), unary `-` and `relu()`, but no
`exp`, `tanh` or `sigmoid`. `install()` adds those three methods in micrograd's own style: the
forward value is computed on floats, the node is `Value(out, (self,), name)`, and a
`_backward` closure adds the local derivative times `out.grad` to `self.grad`. Nothing else in
micrograd is changed, so its per-op cost stays representative of micrograd itself.
"""

from __future__ import annotations

import math
from typing import Any

ADDED_OPS: tuple[str, ...] = ("exp", "tanh", "sigmoid")
"""The methods `install()` adds (only those micrograd does not already define)."""


def _exp(self: Any) -> Any:
    """e ** self, micrograd style: d/dx e**x = e**x."""
    value_cls = type(self)
    try:
        e = math.exp(self.data)
    except OverflowError:
        e = math.inf
    out = value_cls(e, (self,), "exp")

    def _backward() -> None:
        self.grad += e * out.grad

    out._backward = _backward
    return out


def _tanh(self: Any) -> Any:
    """tanh(self), micrograd style: d/dx tanh x = 1 - tanh(x)**2."""
    value_cls = type(self)
    t = math.tanh(self.data)
    out = value_cls(t, (self,), "tanh")

    def _backward() -> None:
        self.grad += (1 - t * t) * out.grad

    out._backward = _backward
    return out


def _sigmoid(self: Any) -> Any:
    """1 / (1 + e**-self), micrograd style, in the overflow-free form; derivative s * (1 - s)."""
    value_cls = type(self)
    x = self.data
    if x >= 0:
        s = 1.0 / (1.0 + math.exp(-x))
    else:
        e = math.exp(x)
        s = e / (1.0 + e)
    out = value_cls(s, (self,), "sigmoid")

    def _backward() -> None:
        self.grad += s * (1 - s) * out.grad

    out._backward = _backward
    return out


_IMPLEMENTATIONS = {"exp": _exp, "tanh": _tanh, "sigmoid": _sigmoid}


def install() -> list[str]:
    """Add the missing ops to `micrograd.engine.Value`; return the names actually added.

    Idempotent, and it never replaces a method micrograd already has.
    """
    from micrograd.engine import Value  # type: ignore[import-untyped]

    added = []
    for name in ADDED_OPS:
        if not hasattr(Value, name):
            setattr(Value, name, _IMPLEMENTATIONS[name])
            added.append(name)
        elif getattr(Value, name) is _IMPLEMENTATIONS[name]:
            added.append(name)
    return added
