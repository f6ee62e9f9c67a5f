"""The document's network: its inputs (with the document's numbers as defaults) and its nodes.

Network: x -> one sigmoid hidden neuron -> sigmoid output, loss L = 1/2 (y - y_hat)**2,
then one SGD step with learning rate eta (see shared/seed/backprop_worked_example.*.md).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..engine.grad_mode import scope
from ..engine.value import Value
from ..validate import describe, real


@dataclass(frozen=True)
class Inputs:
    """The network's input x, target y and parameters; the document's numbers by default.

    Each field is stored as a float (any real number is accepted, bools as 0 and 1).

    >>> Inputs(w2=-1.5).parameters
    {'w1': 0.4, 'b1': 0.1, 'w2': -1.5, 'b2': 0.2}
    """

    x: float = 1.0
    y: float = 1.0
    w1: float = 0.4
    b1: float = 0.1
    w2: float = 0.3
    b2: float = 0.2

    def __post_init__(self) -> None:
        for name in INPUT_NAMES:
            # A frozen dataclass sets its fields through object.__setattr__ too.
            object.__setattr__(self, name, real(getattr(self, name), f"Inputs: {name}"))

    def as_dict(self) -> dict[str, float]:
        """The six numbers by name, in the order x, y, w1, b1, w2, b2."""
        return dataclasses.asdict(self)

    @property
    def parameters(self) -> dict[str, float]:
        """The four numbers SGD updates: w1, b1, w2, b2."""
        return {name: getattr(self, name) for name in PARAMETERS}


INPUT_NAMES = tuple(field.name for field in dataclasses.fields(Inputs))
"""The names of the network's input, target and parameters, in the document's order."""

PARAMETERS = ("w1", "b1", "w2", "b2")
"""The network's parameters, which SGD updates."""

DOCUMENT_INPUTS = Inputs()
"""The document's input, target and initial parameters."""

DOCUMENT_ETA = 0.1
"""The document's learning rate."""


def inputs_of(where: str, inputs: object, changes: dict[str, float]) -> Inputs:
    """`inputs` (an Inputs) with `changes` applied; a clear TypeError naming `where` otherwise."""
    if not isinstance(inputs, Inputs):
        raise TypeError(
            f"{where}: expected Inputs, got {describe(inputs)}; pass numbers by name (x=0.5)"
        )
    unknown = [name for name in changes if name not in INPUT_NAMES]
    if unknown:
        raise TypeError(
            f"{where}: unknown input {unknown[0]!r}; the inputs are {', '.join(INPUT_NAMES)}"
        )
    return dataclasses.replace(inputs, **changes) if changes else inputs


@dataclass(frozen=True)
class Network:
    """The document's network as Value nodes: inputs, parameters, and the labelled results."""

    x: Value
    y: Value
    w1: Value
    b1: Value
    w2: Value
    b2: Value
    z1: Value
    h: Value
    z2: Value
    y_hat: Value
    L: Value


def build_network(inputs: Inputs = DOCUMENT_INPUTS, /, **changes: float) -> Network:
    """Build the document's network from Value primitives (document values by default).

    Give other numbers as an `Inputs` or by name: `build_network(w2=-1.5)`. The neurons and
    the loss are built inside `scope("hidden neuron")`, `scope("output neuron")` and
    `scope("loss")`, so a drawing groups them.

    >>> net = build_network()
    >>> net.L.backward()
    >>> round(net.w2.grad, 10)
    -0.0606504249
    """
    v = inputs_of("build_network", inputs, changes)
    xv, yv = Value(v.x, "x"), Value(v.y, "y")
    w1v, b1v, z1, h = _neuron("hidden neuron", xv, v.w1, v.b1, ("w1", "b1", "z1", "h"))
    w2v, b2v, z2, y_hat = _neuron("output neuron", h, v.w2, v.b2, ("w2", "b2", "z2", "ŷ"))
    with scope("loss"):
        loss = 0.5 * (yv - y_hat) ** 2
        loss.label = "L"
    return Network(xv, yv, w1v, b1v, w2v, b2v, z1, h, z2, y_hat, loss)


def _neuron(
    name: str, a: Value, w: float, b: float, labels: tuple[str, str, str, str]
) -> tuple[Value, Value, Value, Value]:
    """One sigmoid neuron in its own scope: weight, bias, z = a*w + b, sigmoid(z), labelled."""
    with scope(name):
        wv, bv = Value(w, labels[0]), Value(b, labels[1])
        z = a * wv + bv
        z.label = labels[2]
        out = z.sigmoid()
        out.label = labels[3]
    return wv, bv, z, out
