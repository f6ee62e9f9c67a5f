"""Optimizers: `SGD` and `Adam`, with PyTorch's published update rules.

An optimizer holds a tuple of parameters (`Value`s, `Tensor`s, or both: leaves), fixed when
it is made, and its settings (`lr`, ...), checked whenever they are assigned. `step()`
changes their `.data` from their `.grad` in plain float or numpy arithmetic (a Tensor's
read-only array in place, through `write_in_place`, or block by block through a small
scratch buffer for a parameter over 1 MiB: engine/blockwise.py), so it records no graph; like an
assignment to `.data`, it makes a graph built before the step stale (its `backward()`
raises `StaleDataError`). `zero_grad()` resets the gradients, which otherwise accumulate
across `backward()` calls. A Tensor's gradient is reset to none (it reads as zeros, and
costs no allocation), and `step()` skips a Tensor that has none, as PyTorch's optimizers
skip a parameter whose `.grad` is None.

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

import copy
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import numpy as np

from ..engine.blockwise import BLOCKS_ABOVE, Scratch, blocks_allowed, write_in_blocks
from ..engine.data_view import write_in_place
from ..engine.tensor import Tensor
from ..engine.value import Value
from ..validate import bounded, sequence
from .module import Parameter, zero_grads

Check = Callable[[object, str], object]
"""A setting's check: `check(value, where)` gives the value to keep, or raises naming `where`."""


def _positive(value: object, where: str) -> float:
    """Adam's eps: a finite number > 0."""
    return bounded(value, where, 0.0, above=True)


def _nonnegative(value: object, where: str) -> float:
    """A learning rate, momentum or weight decay: a finite number >= 0 (PyTorch's rule for
    lr: a schedule's warmup from 0, or its annealing to 0, takes steps that change nothing)."""
    return bounded(value, where, 0.0)


def _betas(value: object, where: str) -> tuple[float, float]:
    """Adam's (beta1, beta2): each a finite number >= 0 and < 1."""
    pair = sequence(value, where, "a pair (beta1, beta2)")
    if len(pair) != 2:
        raise ValueError(f"{where} must be a pair (beta1, beta2), got {len(pair)} numbers")
    return (bounded(pair[0], f"{where}[0]", 0.0, 1.0), bounded(pair[1], f"{where}[1]", 0.0, 1.0))


class Optimizer:
    """Base class: holds the parameters (a tuple) and gives `zero_grad()`; subclasses define
    `_delta` (what `step()` subtracts), their settings (`_settings`, each with its check) and
    may list their other public attributes (`_fields`; a subclass that does not takes any)."""

    _state: tuple[str, ...] = ()
    """The attributes a step changes (the optimizer's state), which `_aside` puts back."""

    _settings: ClassVar[Mapping[str, Check]] = {}
    """Each setting's check (`Check`): run by every assignment, in the constructor and after
    it (`opt.lr = ...`), before anything changes; a step then needs no check."""

    params: tuple[Parameter, ...]

    _fields: ClassVar[tuple[str, ...] | None] = ("params",)
    """The public attributes other than settings; another public name is refused (a misspelt
    setting would change nothing). None, for a subclass that does not list its own (a user's
    optimizer): any name, as in a plain class."""

    _counters: ClassVar[tuple[str, ...]] = ()
    """Public attributes the optimizer counts itself (Adam's `t`): read-only to users."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass lists its public attributes (`_fields`) in its own body, as SGD and Adam
        do, or takes any: an optimizer of one's own that assigns `self.clip` in its
        `__init__` (or `self.lr` to a subclass of `Optimizer`) works as any class does."""
        super().__init_subclass__(**kwargs)
        if "_fields" not in cls.__dict__:
            cls._fields = None

    def __setattr__(self, name: str, value: object) -> None:
        """Assign an attribute: a setting (`_settings`) checked first, the parameters only
        by the constructor (the optimizer's state follows their order), and a public name
        that is neither refused (a misspelt or another optimizer's setting would do nothing)."""
        check = self._settings.get(name)
        if check is not None:
            object.__setattr__(self, name, check(value, f"{type(self).__name__}: {name}"))
            self._assigned(name)
            return
        if not name.startswith("_"):
            cls, fields = type(self).__name__, self._fields
            if name in self._counters:
                raise AttributeError(
                    f"{cls}: {name} counts the steps taken and is read-only (the update "
                    f"follows each parameter's own count of steps, which it would not change); "
                    f"make a new {cls} to start again"
                )
            if fields is not None and name not in fields:
                raise AttributeError(
                    f"{cls} has no setting {name!r} (an assignment would change nothing); its "
                    f"settings are {', '.join(self._settings)}"
                )
            if name == "params" and hasattr(self, "params"):  # (self.__dict__ would slow reads)
                raise AttributeError(
                    f"{cls}: params are fixed when the optimizer is made (its state, such as "
                    f"momentum buffers, follows them in order): make a new optimizer"
                )
        object.__setattr__(self, name, value)

    def _assigned(self, setting: str) -> None:
        """Called once `setting` was assigned (checked): forget what was computed from its
        old value."""

    def __init__(self, params: Iterable[Parameter]) -> None:
        cls = type(self).__name__
        accepted = "an iterable of Values or Tensors in a fixed order, e.g. model.parameters()"
        if isinstance(params, (Value, Tensor)):
            raise TypeError(
                f"{cls}: params must be {accepted}; got one {type(params).__name__}: put it in "
                f"a list"
            )
        found: list[Parameter] = sequence(params, f"{cls}: params", accepted)
        if not found:
            raise ValueError(f"{cls}: got an empty parameter list")
        for i, p in enumerate(found):
            if not isinstance(p, (Value, Tensor)):
                raise TypeError(
                    f"{cls}: params[{i}] must be a Value or a Tensor, got {type(p).__name__}"
                )
            if not p.is_leaf:  # its data is its graph's (and in place, stepping it corrupts both)
                raise ValueError(
                    f"{cls}: params[{i}] was computed by {p._op.base.display!r}; only leaves "
                    f"(inputs and parameters) can be optimized: pass the leaves it came from"
                )
        if len(set(found)) != len(found):
            raise ValueError(f"{cls}: a parameter appears more than once (it would step twice)")
        self.params = tuple(found)  # a tuple: the state's lists follow its order

    def zero_grad(self) -> None:
        """Reset every parameter's gradient: a Value's `.grad` to 0.0, a Tensor's to none
        (it reads as zeros; `step()` skips it until a backward pass gives it one)."""
        zero_grads(self.params)

    def step(self) -> None:
        """Update every parameter that has a gradient: data -= self._delta(i, grad, data).

        This is the one place where an optimizer changes a parameter: a Tensor's array in
        place (no new array per step), a Value's float by assignment. Where numpy can at most
        warn (`blocks_allowed`), a Tensor's update is computed in blocks through a small
        scratch buffer where `_blocks` allows it (engine/blockwise.py: the same numbers,
        without a temporary of the parameter's size), else on whole arrays
        (`write_in_place`). Where numpy may raise (an overflow under
        `np.errstate(over="raise")`, a RuntimeWarning filtered into an error), the whole step
        is computed aside first (`_aside`) and written only once all of it has computed: an
        error leaves every parameter and the optimizer's state as they were.
        """
        if not blocks_allowed():
            self._aside()
            return
        self._start()
        delta, isub = self._delta, np.ndarray.__isub__
        for i, p in enumerate(self.params):
            if isinstance(p, Tensor):
                g = p._grad  # the slot: `.grad` would make zeros
                if g is None:  # no gradient since zero_grad: PyTorch skips such a parameter
                    continue
                if p._data.nbytes > BLOCKS_ABOVE and self._blocks(i, p, g):
                    continue  # (a temporary of its size would cost page faults)
                write_in_place(p, isub, delta(i, g, p._data))  # stamped
            else:
                p.data -= delta(i, p.grad, p.data)

    def _aside(self) -> None:
        """`step()` where numpy may raise part way: the optimizer's state (`_state`) saved,
        every parameter's new data computed into new arrays, as `data -= delta` rounds
        (the same ufunc into the parameter's dtype); on an error the state is put back and
        nothing was written, else the new data is copied into each parameter's array. It
        costs a copy of the state and of the parameters, in this mode only."""
        saved = copy.deepcopy({name: getattr(self, name) for name in self._state})
        new: list[tuple[Parameter, Any]] = []
        try:
            self._start()
            for i, p in enumerate(self.params):
                if isinstance(p, Tensor):
                    g = p._grad
                    if g is not None:
                        data = p._data
                        d = self._delta(i, g, data)
                        new.append((p, np.subtract(data, d, out=np.empty_like(data))))
                else:
                    new.append((p, p.data - self._delta(i, p.grad, p.data)))
        except BaseException:
            for name, value in saved.items():
                object.__setattr__(self, name, value)  # (the counters too)
            raise
        for p, value in new:  # copies of one dtype into another array: nothing can raise
            if isinstance(p, Tensor):
                write_in_place(p, np.copyto, value)
            else:
                p.data = value

    def _start(self) -> None:
        """What a step does before updating the parameters (Adam counts the step)."""

    def _blocks(self, i: int, p: Tensor, g: Any) -> bool:
        """Update Tensor parameter i in blocks (`write_in_blocks`) by the rule `_delta`
        computes on whole arrays; False, with nothing done, where this optimizer or the arrays
        do not allow it."""
        return False

    def _delta(self, i: int, g: Any, data: Any) -> Any:
        """What to subtract from parameter i's data, given its gradient `g` (a float for a
        Value, an array for a Tensor); it may update the optimizer's state for i."""
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and L2 weight decay.

    Per parameter p with gradient grad (PyTorch's rule, dampening 0, no Nesterov):
    g = grad + weight_decay * p; with momentum, buf = g on the first step and
    buf = momentum * buf + g after, and g = buf; then p = p - lr * g. A Tensor is updated
    elementwise by the same rule, in place; one without a gradient is skipped.
    """

    _state = ("_buf",)
    _fields = ("params",)
    _settings: ClassVar[Mapping[str, Check]] = {
        "lr": _nonnegative,
        "momentum": _nonnegative,
        "weight_decay": _nonnegative,
    }

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params)
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay  # checked
        self._buf: list[Any] = [None] * len(self.params)
        self._scratch = Scratch()

    def _blocks(self, i: int, p: Tensor, g: Any) -> bool:
        """The rule of `_delta` in blocks, operation by operation (the same numbers)."""
        lr, momentum, decay = self.lr, self.momentum, self.weight_decay
        buf = self._buf[i]
        first = bool(momentum) and buf is None
        if first:  # its own array (C-contiguous, as write_in_blocks needs), filled block by block
            buf = np.empty(p._data.shape, p._data.dtype)
        mul, add, sub = np.multiply, np.add, np.subtract

        def update(parts: tuple[Any, ...], scratch: Any) -> None:
            data, g, t = parts[0], parts[1], scratch[0]
            if decay:  # g = g + weight_decay * data
                g = add(g, mul(data, decay, t), t)
            if momentum:
                b = parts[2]
                if first:  # buf = g
                    b[...] = g
                else:  # buf = momentum * buf + g, in place
                    add(mul(b, momentum, b), g, b)
                g = b
            sub(data, mul(g, lr, t), data)  # data -= lr * g

        if not write_in_blocks(p, (g, buf) if momentum else (g,), update, self._scratch):
            return False
        if first:
            self._buf[i] = buf
        return True

    def _delta(self, i: int, g: Any, data: Any) -> Any:
        """lr * g, g with weight decay and momentum (the class docstring's rule)."""
        if self.weight_decay:
            g = g + self.weight_decay * data
        if self.momentum:
            buf = self._buf[i]
            if buf is None:  # its own copy: a Tensor's .grad may change in place
                buf = np.array(g, copy=True) if isinstance(g, np.ndarray) else g
            elif isinstance(buf, np.ndarray):  # in place: no new array per step
                buf *= self.momentum
                buf += g
            else:
                buf = self.momentum * buf + g
            g = self._buf[i] = buf
        return self.lr * g


class Adam(Optimizer):
    """Adam (Kingma and Ba), with L2 weight decay added to the gradient as PyTorch's `Adam`.

    Per parameter, at step t = 1, 2, ...: g = grad + weight_decay * p;
    m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g^2 (both start at 0);
    m_hat = m / (1 - beta1^t); v_hat = v / (1 - beta2^t);
    p = p - lr * m_hat / (sqrt(v_hat) + eps).
    A Tensor is updated elementwise by the same rule, in place; one without a gradient is
    skipped, and t counts its own steps with a gradient (PyTorch's per-parameter `step`).
    eps must be > 0 (PyTorch also allows 0, which divides 0 by 0 for a gradient that is 0).
    """

    _state = ("t", "_m", "_v", "_steps", "_corrections")
    _fields = ("params",)
    _counters = ("t",)
    t: int
    """The steps taken (read-only: each parameter's own count drives its update)."""
    _settings: ClassVar[Mapping[str, Check]] = {
        "lr": _nonnegative, "betas": _betas, "eps": _positive, "weight_decay": _nonnegative
    }  # fmt: skip

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params)
        # eps > 0 (PyTorch allows 0): with 0, a parameter whose gradient has always been 0
        # would divide 0 by 0 in the middle of a step.
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay  # checked
        object.__setattr__(self, "t", 0)  # (read-only to users: `_counters`)
        self._m: list[Any] = [0.0] * len(self.params)  # a float, or an array for a Tensor
        self._v: list[Any] = [0.0] * len(self.params)
        self._steps = [0] * len(self.params)  # per parameter: its steps with a gradient
        self._corrections = (0, 0.0, 0.0)  # (t, 1 - beta1^t, 1 - beta2^t), the last t used
        self._scratch = Scratch()

    def _assigned(self, setting: str) -> None:
        """New betas: the bias corrections `_advance` keeps for a step count are forgotten
        (a parameter that skipped steps would otherwise get the old betas' at its count)."""
        if setting == "betas":
            self._corrections = (0, 0.0, 0.0)

    def _start(self) -> None:
        """Count the step (`t`)."""
        object.__setattr__(self, "t", self.t + 1)

    def _advance(self, i: int) -> tuple[int, float, float]:
        """Count a step of parameter i: its step count t, 1 - beta1^t and 1 - beta2^t."""
        self._steps[i] += 1
        t = self._steps[i]
        if self._corrections[0] != t:  # once per step for parameters at the same count
            b1, b2 = self.betas
            self._corrections = (t, 1.0 - b1**t, 1.0 - b2**t)
        return self._corrections

    def _blocks(self, i: int, p: Tensor, g: Any) -> bool:
        """The rule of `_delta` in blocks, operation by operation (the same numbers)."""
        data = p._data
        if self._steps[i] == 0:  # the running averages start at 0 (as in _delta)
            self._m[i], self._v[i] = np.zeros_like(data), np.zeros_like(data)
        _, c1, c2 = self._advance(i)
        (b1, b2), lr, eps, decay = self.betas, self.lr, self.eps, self.weight_decay
        root = 1.0 / math.sqrt(c2)
        mul, add, sub, sqrt, divide = np.multiply, np.add, np.subtract, np.sqrt, np.divide

        def update(parts: tuple[Any, ...], scratch: Any) -> None:
            data, g, m, v = parts
            t = scratch[0]
            if decay:  # g = g + weight_decay * data
                g = add(g, mul(data, decay, scratch[1]), scratch[1])
            add(mul(m, b1, m), mul(g, 1.0 - b1, t), m)  # m = b1 m + (1 - b1) g
            add(mul(v, b2, v), mul(mul(g, g, t), 1.0 - b2, t), v)  # v = b2 v + (1 - b2) g g
            step = add(mul(sqrt(v, t), root, t), eps, t)  # sqrt(v) / sqrt(c2) + eps
            sub(data, mul(divide(m, step, t), lr / c1, t), data)  # data -= lr m / c1 / step

        others = (g, self._m[i], self._v[i])
        if write_in_blocks(p, others, update, self._scratch, 2 if decay else 1):
            return True
        self._steps[i] -= 1  # not stepped: _delta counts it
        return False

    def _delta(self, i: int, g: Any, data: Any) -> Any:
        """lr * m_hat / (sqrt(v_hat) + eps), after updating parameter i's moments."""
        t, c1, c2 = self._advance(i)
        b1, b2 = self.betas
        if self.weight_decay:
            g = g + self.weight_decay * data
        if not isinstance(g, np.ndarray):
            m = self._m[i] = b1 * self._m[i] + (1.0 - b1) * g
            v = self._v[i] = b2 * self._v[i] + (1.0 - b2) * g * g
            return self.lr * (m / c1) / (math.sqrt(v / c2) + self.eps)
        if t == 1:  # the running averages start at 0: arrays of the parameter's shape
            self._m[i], self._v[i] = np.zeros_like(data), np.zeros_like(data)
        m, v = self._m[i], self._v[i]
        m *= b1
        m += (1.0 - b1) * g
        v *= b2
        v += (1.0 - b2) * (g * g)
        # lr * (m / c1) / (sqrt(v / c2) + eps), with one temporary array
        step = np.sqrt(v)
        step *= 1.0 / math.sqrt(c2)
        step += self.eps
        np.divide(m, step, out=step)
        step *= self.lr / c1
        return step
