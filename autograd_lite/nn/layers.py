"""Layers: `Neuron`, `Layer` and `MLP` on scalar `Value`s; `Linear`, `Sequential`, `ReLU`,
`Tanh`, `Sigmoid`, `Dropout` and `Embedding` on `Tensor`s, with PyTorch's names and layouts
(the normalization layers are in normalization.py, ModuleList and ModuleDict in
containers.py).

## On Values

A neuron computes act(b + w0*x0 + w1*x1 + ...): the sum starts from the bias, so n inputs
cost n products and n additions and no constant node. Weights are drawn uniformly from
[-1/sqrt(nin), 1/sqrt(nin)] (PyTorch's default range for a linear layer) by a numpy
Generator, so a seed repeats a run; biases start at 0.

Return rule: a `Neuron` returns one `Value`; a `Layer` and an `MLP` always return a list,
even of one `Value` (`MLP.scalar(x)` gives the single output of a one-output network).

>>> from autograd_lite.nn import MLP
>>> net = MLP(2, [3, 1], rng=0)
>>> len(net.parameters()), [name for name, _ in net.named_parameters()][:3]
(13, ['layers.0.neurons.0.w.0', 'layers.0.neurons.0.w.1', 'layers.0.neurons.0.b'])
>>> out = net([1.0, -2.0])
>>> type(out).__name__, len(out)
('list', 1)

## On Tensors

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
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..engine import ops
from ..engine.array_ops import linear, linear_op
from ..engine.grad_mode import is_grad_enabled, scope
from ..engine.node import Node
from ..engine.tensor import Tensor
from ..engine.value import Operand, Value
from ..validate import (
    array_of,
    choice,
    count,
    describe,
    flag,
    is_real,
    plain_array,
    real,
    sequence,
)
from .arguments import operands
from .containers import ModuleSequence
from .module import Module


def _linear(z: Value) -> Value:
    return z


ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "sigmoid": Value.sigmoid,
    "tanh": Value.tanh,
    "relu": Value.relu,
    "linear": _linear,
}
"""The activation functions by name; "linear" is the identity (no node is added)."""

Inputs = Sequence[Operand] | np.ndarray[Any, Any]
"""A network's input: a sequence (or 1-d numpy array) of floats or Values."""

_MODULE_CALL = Module.__call__
"""Module's `__call__`, which calls `forward` (Sequential calls forward itself then)."""

RngLike = np.random.Generator | int | None
"""A numpy Generator, a seed for one (a whole number >= 0), or None for fresh OS entropy
(runs do not repeat)."""


def _check_activation(name: object, who: str) -> str:
    """One of ACTIVATIONS' names, or an error that lists them."""
    return choice(name, f"{who}: activation", ACTIVATIONS)


def _check_size(n: object, what: str) -> int:
    """A whole number >= 1 (a count of inputs or neurons), or an error naming `what`."""
    return count(n, what, minimum=1)


def _rng(rng: RngLike, who: str = "Neuron") -> np.random.Generator:
    """The Generator `rng`, or a new one from the seed `rng` (None: fresh OS entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    # numpy's own error for a bad seed names neither the class nor the argument
    seed = None if rng is None else count(rng, f"{who}: rng", minimum=0)
    return np.random.default_rng(seed)


def _inputs(x: object, nin: int, who: str) -> list[Operand]:
    """`x` as a list of nin operands (numbers as floats), or a clear error."""
    if isinstance(x, Value) or is_real(x):
        raise TypeError(
            f"{who} expects a sequence of {nin} input(s), got a single "
            f"{type(x).__name__}; wrap it in a list: [x]"
        )
    xs: list[Operand] = list(operands(x, who, "x"))
    if len(xs) != nin:
        raise ValueError(f"{who} expects {nin} input(s), got {len(xs)}")
    if is_grad_enabled():
        # One leaf per input, shared by every neuron, instead of a constant node per use.
        xs = [xi if isinstance(xi, Value) else Value(xi) for xi in xs]
    return xs


class Neuron(Module):
    """One neuron: act(b + sum_i w_i x_i), parameters `w.0` ... `w.{nin-1}` and `b`.

    `activation` is one of "sigmoid", "tanh", "relu", "linear" (default: "linear", like
    PyTorch's `nn.Linear`). Calling it on a sequence of `nin` floats or Values gives a Value.
    """

    def __init__(self, nin: int, activation: str = "linear", rng: RngLike = None) -> None:
        self.nin = _check_size(nin, "Neuron: nin")
        self.activation = _check_activation(activation, "Neuron")
        bound = 1.0 / math.sqrt(self.nin)
        # Made in a scope block of their own: drawings then put them in the box of the
        # neuron's computation (render/dot.py), not loose outside it.
        with scope("neuron"):
            self.w = [Value(float(v)) for v in _rng(rng).uniform(-bound, bound, self.nin)]
            self.b = Value(0.0)
        for name, p in self.named_parameters():
            p.label = name

    def __call__(self, x: Inputs) -> Value:
        """act(b + w . x) for `nin` inputs (floats or Values); ValueError on a wrong count."""
        return self._forward(_inputs(x, self.nin, "Neuron"))

    def _forward(self, xs: Sequence[Operand]) -> Value:
        z = self.b
        for w, xi in zip(self.w, xs):
            z = z + w * xi
        return ACTIVATIONS[self.activation](z)

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, activation={self.activation!r})"


class Layer(Module):
    """`nout` neurons that share their inputs; parameters `neurons.{j}.w.{i}`, `neurons.{j}.b`.

    Calling it always returns a list of `nout` Values (also when nout is 1).
    """

    def __init__(
        self, nin: int, nout: int, activation: str = "linear", rng: RngLike = None
    ) -> None:
        self.nin = _check_size(nin, "Layer: nin")
        self.nout = _check_size(nout, "Layer: nout")
        self.activation = _check_activation(activation, "Layer")
        gen = _rng(rng, "Layer")
        self.neurons = [Neuron(self.nin, self.activation, gen) for _ in range(self.nout)]
        for name, p in self.named_parameters():
            p.label = name

    def __call__(self, x: Inputs) -> list[Value]:
        """The `nout` neurons' outputs, as a list; ValueError on a wrong number of inputs."""
        return self._forward(_inputs(x, self.nin, "Layer"))

    def _forward(self, xs: Sequence[Operand]) -> list[Value]:
        out = []
        for j, n in enumerate(self.neurons):
            with scope(f"neurons.{j}"):
                out.append(n._forward(xs))
        return out

    def __repr__(self) -> str:
        return f"Layer({self.nin}, {self.nout}, activation={self.activation!r})"


class MLP(Module):
    """A multi-layer perceptron: `nin` inputs, then one `Layer` per entry of `nouts`.

    `activation` is used by every layer but the last, which uses `last_activation`
    (defaults "tanh" and "linear": the outputs are raw scores, as `bce_with_logits`,
    `hinge_loss` and `mse_loss` expect). `rng` (a numpy Generator, a seed or None) draws
    all weights in order, so the same seed gives the same network. Parameters are named
    `layers.{k}.neurons.{j}.w.{i}` and `layers.{k}.neurons.{j}.b`.

    Calling it returns a list of `nouts[-1]` Values, always; `scalar(x)` returns the one
    Value of a single-output network.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "tanh",
        last_activation: str = "linear",
        rng: RngLike = None,
    ) -> None:
        self.nin = _check_size(nin, "MLP: nin")
        # once: nouts may be an iterator
        widths = sequence(nouts, "MLP: nouts", "a non-empty list of layer sizes")
        if not widths:
            raise ValueError("MLP: nouts must be a non-empty list of layer sizes, got none")
        sizes = [self.nin] + [_check_size(n, f"MLP: nouts[{k}]") for k, n in enumerate(widths)]
        self.activation = _check_activation(activation, "MLP")
        self.last_activation = choice(last_activation, "MLP: last_activation", ACTIVATIONS)
        gen = _rng(rng, "MLP")
        last = len(sizes) - 2
        self.layers = [
            Layer(sizes[k], sizes[k + 1], last_activation if k == last else activation, gen)
            for k in range(len(sizes) - 1)
        ]
        for name, p in self.named_parameters():
            p.label = name

    def __call__(self, x: Inputs) -> list[Value]:
        """The last layer's outputs, as a list; ValueError on a wrong number of inputs."""
        xs: Sequence[Operand] = _inputs(x, self.nin, "MLP")
        for k, layer in enumerate(self.layers):
            with scope(f"layers.{k}"):
                out = layer._forward(xs)
            xs = out
        return out

    def scalar(self, x: Inputs) -> Value:
        """The single output of a one-output network as a Value (ValueError otherwise)."""
        if self.layers[-1].nout != 1:
            raise ValueError(
                f"MLP.scalar: the network has {self.layers[-1].nout} outputs, not 1; "
                "call it to get the list"
            )
        return self(x)[0]

    def __repr__(self) -> str:
        sizes = [layer.nout for layer in self.layers]
        return (
            f"MLP({self.nin}, {sizes}, activation={self.activation!r}, "
            f"last_activation={self.last_activation!r})"
        )


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
        bias = flag(bias, "Linear: bias")
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
        shape = x._data.shape if type(x) is Tensor else np.shape(x)
        if not shape or shape[-1] != self.in_features:
            raise ValueError(
                f"{self!r}: the input has shape {tuple(shape)}; its last axis must have "
                f"in_features={self.in_features} elements"
            )
        # Without a bias, a constant 0 stands in: it takes no gradient and keeps one node.
        w, b = self.weight, (0.0 if self.bias is None else self.bias)
        if type(x) is Tensor and type(w) is Tensor and w._data.ndim == 2:
            # `linear` itself, its one check (a matrix weight) made here: the layer's own
            # weight, unless one of another shape was assigned to it (which `linear` words)
            return x._apply(linear_op, (x, w, b))
        out: Tensor = linear(x, w, b)
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
        op = self._op  # a node x: its type applies the op, as the op's call would
        return x._apply(op, (x,)) if isinstance(x, Node) else op(x)

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


class Sequential(ModuleSequence):
    """Modules applied one after the other: `Sequential(m0, m1, ...)(x)` is `...m1(m0(x))`.

    The modules are named by position, as in PyTorch: the parameters of the first are
    `0.weight`, `0.bias` ..., and `model[0]`, `model[1:]`, `len(model)`, iteration,
    `append`, `extend` and `insert` work as there (ModuleList's, containers.py). Each
    parameter's label becomes its name, which drawings show.
    """

    _item_word = "argument"

    def __init__(self, *modules: Module) -> None:
        super().__init__(modules)
        for name, p in self.named_parameters():  # drawings then show `0.weight`, as the MLP
            p.label = name

    def forward(self, x: Any) -> Any:
        """x through every module in order."""
        for m in self._layers:
            # m(x) is m.forward(x) unless m's class has a __call__ of its own: a call fewer
            x = m.forward(x) if type(m).__call__ is _MODULE_CALL else m(x)
        return x


class Dropout(Module):
    """PyTorch's `nn.Dropout(p=0.5)`: in training mode each element is zeroed with
    probability `p` and the others are scaled by 1 / (1 - p), so the expected output is the
    input; in evaluation mode (`eval()`) it is the identity (the input itself is returned).

    `p` is a real number in [0, 1] (p = 1 zeroes everything). The masks are drawn by `rng`
    (a numpy Generator, a seed, or None for fresh entropy), one per call, so a seed repeats
    a run. The output is x times a constant array of 0s and 1/(1-p), one op whose
    derivative is that array.
    """

    def __init__(self, p: float = 0.5, rng: RngLike = None) -> None:
        found = real(p, "Dropout: p")
        if not 0.0 <= found <= 1.0:
            raise ValueError(f"Dropout: p is a probability, in [0, 1]; got {found!r}")
        self.p = found
        self._rng = _rng(rng, "Dropout")

    def forward(self, x: Any) -> Any:
        """x with elements dropped and the rest scaled in training mode; x in evaluation."""
        if not self.training or self.p == 0.0:
            return x
        # A numpy subclass as a plain array: a matrix's `*` would multiply matrices
        data = x._data if isinstance(x, Node) else np.asarray(plain_array(x, f"{self!r}"))
        if not isinstance(data, np.ndarray) or data.dtype.kind != "f":
            raise TypeError(f"{self!r}: expected a Tensor or a float array, got {describe(x)}")
        keep = self._rng.random(data.shape) >= self.p
        scale = (keep / (1.0 - self.p) if self.p < 1.0 else np.zeros(data.shape)).astype(data.dtype)
        if not isinstance(x, Node):
            return data * scale
        # The mask as a leaf of its own, not a constant mixed in: drawings name it, and
        # compile_grad given a batch refuses to keep it (a rebuilt graph would draw anew).
        return x * Tensor(scale, label="dropout mask", requires_grad=False, dtype=data.dtype)

    def extra_repr(self) -> str:
        """PyTorch's: `p=0.5, inplace=False` without the inplace, which this has not."""
        return f"p={self.p}"


class Embedding(Module):
    """PyTorch's `nn.Embedding(num_embeddings, embedding_dim)`: a table `weight` of shape
    (num_embeddings, embedding_dim), drawn from the standard normal distribution (PyTorch's
    default) by `rng`; calling it on an integer array of indices of any shape gives their
    rows, of shape indices.shape + (embedding_dim,). It is one getitem op: an index used
    twice adds both gradients into its row.

    Indices must be integers in [0, num_embeddings) (a numpy array, a list or an int):
    anything else is an error naming Embedding and the first bad index.
    """

    def __init__(
        self, num_embeddings: int, embedding_dim: int, rng: RngLike = None, dtype: object = None
    ) -> None:
        self.num_embeddings = count(num_embeddings, "Embedding: num_embeddings", minimum=1)
        self.embedding_dim = count(embedding_dim, "Embedding: embedding_dim", minimum=1)
        table = _rng(rng, "Embedding").standard_normal((self.num_embeddings, self.embedding_dim))
        self.weight = Tensor(table, label="weight", dtype=dtype)

    def forward(self, indices: Any) -> Tensor:
        """The rows of `weight` at `indices`: shape indices.shape + (embedding_dim,)."""
        if isinstance(indices, Node):
            raise TypeError(
                f"{self!r}: indices must be an integer array, got a {type(indices).__name__}, "
                f"which holds floats; pass the indices' numpy array"
            )
        found = array_of(indices, f"{self!r}: indices must be an integer array", copy=True)
        if found.dtype.kind not in "iu":
            raise TypeError(
                f"{self!r}: indices must be integers in [0, {self.num_embeddings}), got dtype "
                f"{found.dtype} (convert whole numbers with .astype(int))"
            )
        bad = (found < 0) | (found >= self.num_embeddings)
        if bad.any():
            where = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), found.shape))
            raise IndexError(
                f"{self!r}: index {found[where]} at position {where} is out of range for "
                f"num_embeddings={self.num_embeddings}: indices are in [0, "
                f"{self.num_embeddings}) ({int(bad.sum())} of {found.size} are not)"
            )
        out: Tensor = self.weight[found]
        return out

    def extra_repr(self) -> str:
        """PyTorch's: `num_embeddings, embedding_dim`."""
        return f"{self.num_embeddings}, {self.embedding_dim}"
