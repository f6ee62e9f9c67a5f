"""The document's derivation done by hand: its formulas in plain floats, with its names.

This is the independent "by hand" side of every comparison: no Value anywhere.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from ..validate import real
from .network import DOCUMENT_ETA, DOCUMENT_INPUTS, Inputs, inputs_of


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


def _sigmoid(z: float) -> float:
    # 1 / (1 + e^-z), written so that e^-z cannot overflow for very negative z.
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    return math.exp(z) / (1.0 + math.exp(z))


def hand_derivation(
    inputs: Inputs = DOCUMENT_INPUTS, /, eta: float = DOCUMENT_ETA, **changes: float
) -> HandDerivation:
    """The document's derivation step by step, in floats (document values by default).

    Give other numbers as an `Inputs` or by name: `hand_derivation(w2=-1.5, eta=0.5)`.
    Overflow gives inf, as in the engine: `hand_derivation(y=1e200).L` is inf.

    >>> round(hand_derivation().delta2, 10)
    -0.0974367672
    """
    v = inputs_of("hand_derivation", inputs, changes)
    eta = real(eta, "hand_derivation: eta")
    x, y, w1, b1, w2, b2 = v.x, v.y, v.w1, v.b1, v.w2, v.b2
    # 1. forward pass
    z1 = x * w1 + b1
    h = _sigmoid(z1)
    z2 = h * w2 + b2
    y_hat = _sigmoid(z2)
    # 2. loss; e * e, not e ** 2: float ** raises OverflowError where IEEE gives inf.
    error = y - y_hat
    loss = 0.5 * (error * error)  # squared first, as the document (and the engine) do
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
