"""Layers on `Tensor`s, with PyTorch's names and layouts: `Linear`, `Sequential`, `ReLU`,
`Tanh`, `Sigmoid`.

A `Linear(in_features, out_features)` holds `weight` of shape (out, in) and `bias` of shape
(out,), drawn as PyTorch draws them: uniformly from [-1/sqrt(in), 1/sqrt(in)]. Its forward is
the one op `linear` (x @ weight.T + bias as one node, whose weight gradient is made in
weight's layout). A `Sequential` names its layers 0, 1, 2 ..., so its `state_dict()` has
PyTorch's keys and shapes (`0.weight`, `0.bias`, `2.weight` ...) and loads into the same
torch model.

>>> import numpy as np
>>> from autograd_lite.nn import Linear, ReLU, Sequential
>>> model = Sequential(Linear(4, 3, rng=0), ReLU(), Linear(3, 2, rng=1))
>>> [(name, p.shape) for name, p in model.named_parameters()]
[('0.weight', (3, 4)), ('0.bias', (3,)), ('2.weight', (2, 3)), ('2.bias', (2,))]
>>> model(np.ones((5, 4))).shape   # a batch of 5 rows
(5, 2)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from ..engine import ops
from ..engine.array_ops import linear
from ..engine.tensor import Tensor
from ..validate import count, describe
from .layers import RngLike, _rng
from .module import Module

__all__ = ["Linear", "ReLU", "Sequential", "Sigmoid", "Tanh"]


class Linear(Module):
    """A fully connected layer: `x @ weight.T + bias`, PyTorch's `nn.Linear`.

    `weight` is a Tensor of shape (out_features, in_features) and `bias` one of shape
    (out_features,), or None with `bias=False`; both are drawn uniformly from
    [-1/sqrt(in_features), 1/sqrt(in_features)] (PyTorch's default), weight first, by `rng`
    (a numpy Generator, a seed, or None for fresh entropy). `dtype` is np.float64 (the
    default) or np.float32; `Module.to(dtype)` converts later.

    The input is a Tensor of shape (..., in_features), or an array, which becomes a
    constant (it gets no gradient, and costs no gradient matmul).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        rng: RngLike = None,
        dtype: object = None,
    ) -> None:
        self.in_features = count(in_features, "Linear: in_features", minimum=1)
        self.out_features = count(out_features, "Linear: out_features", minimum=1)
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"Linear: bias must be True or False, got {describe(bias)}")
        gen = _rng(rng, "Linear")
        bound = 1.0 / math.sqrt(self.in_features)
        shape = (self.out_features, self.in_features)
        self.weight = Tensor(gen.uniform(-bound, bound, shape), label="weight", dtype=dtype)
        self.bias: Tensor | None = (
            Tensor(gen.uniform(-bound, bound, self.out_features), label="bias", dtype=dtype)
            if bias
            else None
        )

    def forward(self, x: Any) -> Tensor:
        """x @ weight.T + bias for x of shape (..., in_features): one `linear` node."""
        shape = x.shape if isinstance(x, (Tensor, np.ndarray)) else np.shape(x)
        if not shape or shape[-1] != self.in_features:
            raise ValueError(
                f"{self!r}: the input has shape {tuple(shape)}; its last axis must have "
                f"in_features={self.in_features} elements"
            )
        # Without a bias, a constant 0 stands in: it takes no gradient and keeps one node.
        out: Tensor = linear(x, self.weight, 0.0 if self.bias is None else self.bias)
        return out

    def extra_repr(self) -> str:
        """PyTorch's: `in_features=.., out_features=.., bias=..`."""
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class _Activation(Module):
    """An elementwise function as a module with no parameters."""

    _op = ops.relu

    def forward(self, x: Any) -> Any:
        """The function applied to every element of x."""
        return self._op(x)

    def extra_repr(self) -> str:
        """Nothing: `ReLU()`, as PyTorch prints it."""
        return ""


class ReLU(_Activation):
    """max(x, 0), elementwise (derivative 0 at 0, as PyTorch's `nn.ReLU`)."""

    _op = ops.relu


class Tanh(_Activation):
    """tanh(x), elementwise (PyTorch's `nn.Tanh`)."""

    _op = ops.tanh


class Sigmoid(_Activation):
    """1 / (1 + e^-x), elementwise, stable for every x (PyTorch's `nn.Sigmoid`)."""

    _op = ops.sigmoid


class Sequential(Module):
    """Modules applied one after the other: `Sequential(m0, m1, ...)(x)` is `...m1(m0(x))`.

    The modules are named by position, as in PyTorch: the parameters of the first are
    `0.weight`, `0.bias` ..., and `model[0]`, `len(model)` and iteration work as there.
    Each parameter's label becomes its name, which drawings show.
    """

    def __init__(self, *modules: Module) -> None:
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(
                    f"Sequential: argument {i} must be a Module (Linear(...), ReLU() ...), "
                    f"got {describe(m)}"
                )
        self._layers = list(modules)
        for name, p in self.named_parameters():  # drawings then show `0.weight`, as the MLP
            p.label = name

    def _items(self) -> Iterable[tuple[str, Any]]:
        return [(str(i), m) for i, m in enumerate(self._layers)]

    def forward(self, x: Any) -> Any:
        """x through every module in order."""
        for m in self._layers:
            x = m(x)
        return x

    def __getitem__(self, index: int) -> Module:
        """The module at position `index` (negative counts from the end)."""
        if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
            raise TypeError(f"Sequential: index must be an int, got {describe(index)}")
        if not -len(self._layers) <= index < len(self._layers):
            raise IndexError(
                f"Sequential: index {index} is out of range for {len(self._layers)} modules"
            )
        return self._layers[index]

    def __len__(self) -> int:
        return len(self._layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._layers)

    def extra_repr(self) -> str:
        """Nothing: the modules are listed below the name, as PyTorch prints them."""
        return ""
