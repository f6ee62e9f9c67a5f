"""The worked example this project started from: its network, its hand derivation, its numbers.

Network: x -> one sigmoid hidden neuron -> sigmoid output, loss L = 1/2 (y - y_hat)**2,
then one SGD step with learning rate eta (see shared/seed/backprop_worked_example.*.md).
`build_network` makes it from Values; `hand_derivation` redoes the document's steps in
plain floats, with its names, as the independent "by hand" side of every comparison.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from .engine.backward import local_derivatives
from .engine.grad_mode import scope
from .engine.value import Value

DOCUMENT_INPUTS: dict[str, float] = {"x": 1.0, "y": 1.0, "w1": 0.4, "b1": 0.1, "w2": 0.3, "b2": 0.2}
"""The document's input, target and initial parameters."""

DOCUMENT_ETA = 0.1
"""The document's learning rate."""

DOCUMENT_PRINTED: dict[str, float] = {
    "z1": 0.5, "h": 0.622, "z2": 0.3866, "y_hat": 0.595, "L": 0.082,
    "dL_dy_hat": -0.405, "dy_hat_dz2": 0.241, "delta2": -0.0976,
    "dL_dw2": -0.0607, "dL_db2": -0.0976, "dL_dh": -0.0293, "dh_dz1": 0.235,
    "delta1": -0.00688, "dL_dw1": -0.00688, "dL_db1": -0.00688,
    "w2_new": 0.30607, "b2_new": 0.20976, "w1_new": 0.400688, "b1_new": 0.100688,
}  # fmt: skip
"""Every number as the document prints it (it rounds intermediates before using them)."""

QUANTITY_TITLES: dict[str, str] = {
    "z1": "z1 = x*w1 + b1", "h": "h = sigmoid(z1)", "z2": "z2 = h*w2 + b2",
    "y_hat": "y_hat = sigmoid(z2)", "L": "L = 1/2 (y - y_hat)^2",
    "dL_dy_hat": "dL/dy_hat = y_hat - y", "dy_hat_dz2": "dy_hat/dz2 = y_hat (1 - y_hat)",
    "delta2": "delta2 = dL/dz2", "dL_dw2": "dL/dw2 = delta2 * h", "dL_db2": "dL/db2 = delta2",
    "dL_dh": "dL/dh = delta2 * w2", "dh_dz1": "dh/dz1 = h (1 - h)",
    "delta1": "delta1 = dL/dz1", "dL_dw1": "dL/dw1 = delta1 * x", "dL_db1": "dL/db1 = delta1",
    "w2_new": "w2_new = w2 - eta dL/dw2", "b2_new": "b2_new = b2 - eta dL/db2",
    "w1_new": "w1_new = w1 - eta dL/dw1", "b1_new": "b1_new = b1 - eta dL/db1",
}  # fmt: skip
"""Each quantity's formula, in the document's notation and order."""


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


def build_network(
    x: float = DOCUMENT_INPUTS["x"],
    y: float = DOCUMENT_INPUTS["y"],
    w1: float = DOCUMENT_INPUTS["w1"],
    b1: float = DOCUMENT_INPUTS["b1"],
    w2: float = DOCUMENT_INPUTS["w2"],
    b2: float = DOCUMENT_INPUTS["b2"],
) -> Network:
    """Build the document's network from Value primitives (document values by default).

    The neurons and the loss are built inside `scope("hidden neuron")`, `scope("output
    neuron")` and `scope("loss")`, so a drawing groups them.

    >>> net = build_network()
    >>> net.L.backward()
    >>> round(net.w2.grad, 10)
    -0.0606504249
    """
    xv, yv = Value(x, "x"), Value(y, "y")
    with scope("hidden neuron"):
        w1v, b1v = Value(w1, "w1"), Value(b1, "b1")
        z1 = xv * w1v + b1v
        z1.label = "z1"
        h = z1.sigmoid()
        h.label = "h"
    with scope("output neuron"):
        w2v, b2v = Value(w2, "w2"), Value(b2, "b2")
        z2 = h * w2v + b2v
        z2.label = "z2"
        y_hat = z2.sigmoid()
        y_hat.label = "ŷ"
    with scope("loss"):
        loss = 0.5 * (yv - y_hat) ** 2
        loss.label = "L"
    return Network(xv, yv, w1v, b1v, w2v, b2v, z1, h, z2, y_hat, loss)


@dataclass(frozen=True)
class HandDerivation:
    """Every quantity of the document, computed by its hand formulas in plain floats."""

    z1: float
    h: float
    z2: float
    y_hat: float
    L: float
    dL_dy_hat: float
    dy_hat_dz2: float
    delta2: float
    dL_dw2: float
    dL_db2: float
    dL_dh: float
    dh_dz1: float
    delta1: float
    dL_dw1: float
    dL_db1: float
    w2_new: float
    b2_new: float
    w1_new: float
    b1_new: float

    def as_dict(self) -> dict[str, float]:
        """The quantities by name, in the document's order."""
        return asdict(self)


def hand_derivation(
    x: float = DOCUMENT_INPUTS["x"],
    y: float = DOCUMENT_INPUTS["y"],
    w1: float = DOCUMENT_INPUTS["w1"],
    b1: float = DOCUMENT_INPUTS["b1"],
    w2: float = DOCUMENT_INPUTS["w2"],
    b2: float = DOCUMENT_INPUTS["b2"],
    eta: float = DOCUMENT_ETA,
) -> HandDerivation:
    """The document's derivation step by step, in floats, with no Value anywhere.

    >>> round(hand_derivation().delta2, 10)
    -0.0974367672
    """

    def sigmoid(z: float) -> float:
        # 1 / (1 + e^-z), written so that e^-z cannot overflow for very negative z.
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        return math.exp(z) / (1.0 + math.exp(z))

    # 1. forward pass
    z1 = x * w1 + b1
    h = sigmoid(z1)
    z2 = h * w2 + b2
    y_hat = sigmoid(z2)
    # 2. loss
    loss = 0.5 * (y - y_hat) ** 2
    # 3. backprop: output error, second layer, hidden error, first layer
    dL_dy_hat = y_hat - y
    dy_hat_dz2 = y_hat * (1 - y_hat)
    delta2 = dL_dy_hat * dy_hat_dz2
    dL_dw2 = delta2 * h
    dL_db2 = delta2
    dL_dh = delta2 * w2
    dh_dz1 = h * (1 - h)
    delta1 = dL_dh * dh_dz1
    dL_dw1 = delta1 * x
    dL_db1 = delta1
    # 4. SGD update
    return HandDerivation(
        z1, h, z2, y_hat, loss,
        dL_dy_hat, dy_hat_dz2, delta2, dL_dw2, dL_db2, dL_dh, dh_dz1, delta1, dL_dw1, dL_db1,
        w2 - eta * dL_dw2, b2 - eta * dL_db2, w1 - eta * dL_dw1, b1 - eta * dL_db1,
    )  # fmt: skip


def autodiff_quantities(net: Network, eta: float = DOCUMENT_ETA) -> dict[str, float]:
    """The document's quantities read off the engine after `net.L.backward()` (fresh grads).

    Forward values come from the nodes; each derivative is a gradient the engine computed
    (dL/dy_hat is y_hat's grad, delta2 is z2's grad, ...) or, for dy_hat/dz2 and dh/dz1, the
    local derivative the engine's sigmoid rule applied.
    """
    delta2 = net.z2.grad
    delta1 = net.z1.grad
    return {
        "z1": net.z1.data, "h": net.h.data, "z2": net.z2.data, "y_hat": net.y_hat.data,
        "L": net.L.data,
        "dL_dy_hat": net.y_hat.grad, "dy_hat_dz2": local_derivatives(net.y_hat)[0],
        "delta2": delta2,
        "dL_dw2": net.w2.grad, "dL_db2": net.b2.grad, "dL_dh": net.h.grad,
        "dh_dz1": local_derivatives(net.h)[0], "delta1": delta1,
        "dL_dw1": net.w1.grad, "dL_db1": net.b1.grad,
        "w2_new": net.w2.data - eta * net.w2.grad, "b2_new": net.b2.data - eta * net.b2.grad,
        "w1_new": net.w1.data - eta * net.w1.grad, "b1_new": net.b1.data - eta * net.b1.grad,
    }  # fmt: skip
