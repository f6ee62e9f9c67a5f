"""Optimizers: `SGD` and `Adam`, with PyTorch's published update rules.

An optimizer holds a list of parameters (`Value`s). `step()` changes their `.data` from
their `.grad` in plain float arithmetic, so it records no graph; `zero_grad()` resets the
gradients, which otherwise accumulate across `backward()` calls.

>>> from autograd_lite import Value
>>> from autograd_lite.nn import SGD
>>> w = Value(1.0)
>>> opt = SGD([w], lr=0.1)
>>> (w * w).backward()
>>> opt.step()
>>> round(w.data, 12)
0.8
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ..engine.value import Value
from ..validate import bounded, sequence


class Optimizer:
    """Base class: holds the parameters and gives `zero_grad()`; subclasses define `step()`."""

    def __init__(self, params: Iterable[Value]) -> None:
        cls = type(self).__name__
        accepted = "an iterable of Values in a fixed order, e.g. model.parameters()"
        if isinstance(params, Value):
            raise TypeError(f"{cls}: params must be {accepted}; got one Value: put it in a list")
        self.params: list[Value] = sequence(params, f"{cls}: params", accepted)
        if not self.params:
            raise ValueError(f"{cls}: got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"{cls}: params[{i}] must be a Value, got {type(p).__name__}")
        if len(set(self.params)) != len(self.params):
            raise ValueError(f"{cls}: a parameter appears more than once (it would step twice)")

    def zero_grad(self) -> None:
        """Set every parameter's `.grad` to 0.0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter's `.data` from its `.grad`."""
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and L2 weight decay.

    Per parameter p with gradient grad (PyTorch's rule, dampening 0, no Nesterov):
    g = grad + weight_decay * p; with momentum, buf = g on the first step and
    buf = momentum * buf + g after, and g = buf; then p = p - lr * g.
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params)
        self.lr = bounded(lr, "SGD: lr", 0.0, above=True)
        self.momentum = bounded(momentum, "SGD: momentum", 0.0)
        self.weight_decay = bounded(weight_decay, "SGD: weight_decay", 0.0)
        self._buf: list[float | None] = [None] * len(self.params)

    def step(self) -> None:
        """One SGD update of every parameter (see the class docstring for the rule)."""
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        for i, p in enumerate(self.params):
            g = p.grad
            if wd:
                g = g + wd * p.data
            if mu:
                buf = self._buf[i]
                g = g if buf is None else mu * buf + g
                self._buf[i] = g
            p.data -= lr * g


class Adam(Optimizer):
    """Adam (Kingma and Ba), with L2 weight decay added to the gradient as PyTorch's `Adam`.

    Per parameter, at step t = 1, 2, ...: g = grad + weight_decay * p;
    m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g^2 (both start at 0);
    m_hat = m / (1 - beta1^t); v_hat = v / (1 - beta2^t);
    p = p - lr * m_hat / (sqrt(v_hat) + eps).
    eps must be > 0 (PyTorch also allows 0, which divides 0 by 0 for a gradient that is 0).
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params)
        self.lr = bounded(lr, "Adam: lr", 0.0, above=True)
        pair = sequence(betas, "Adam: betas", "a pair (beta1, beta2)")
        if len(pair) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {len(pair)} numbers")
        self.betas = (
            bounded(pair[0], "Adam: betas[0]", 0.0, 1.0),
            bounded(pair[1], "Adam: betas[1]", 0.0, 1.0),
        )
        # eps > 0 (PyTorch allows 0): with 0, a parameter whose gradient has always been 0
        # would divide 0 by 0 in the middle of a step.
        self.eps = bounded(eps, "Adam: eps", 0.0, above=True)
        self.weight_decay = bounded(weight_decay, "Adam: weight_decay", 0.0)
        self.t = 0
        self._m = [0.0] * len(self.params)
        self._v = [0.0] * len(self.params)

    def step(self) -> None:
        """One Adam update of every parameter (see the class docstring for the rule)."""
        self.t += 1
        b1, b2 = self.betas
        c1 = 1.0 - b1**self.t
        c2 = 1.0 - b2**self.t
        lr, eps, wd = self.lr, self.eps, self.weight_decay
        m, v = self._m, self._v
        for i, p in enumerate(self.params):
            g = p.grad
            if wd:
                g = g + wd * p.data
            m[i] = b1 * m[i] + (1.0 - b1) * g
            v[i] = b2 * v[i] + (1.0 - b2) * g * g
            p.data -= lr * (m[i] / c1) / (math.sqrt(v[i] / c2) + eps)
