"""The document's quantities three ways: by hand, by autodiff and (for its setup) as printed.

`compare` builds and back-propagates the network once; the command line draws and trains
from that same network, and only formats what these return.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..derivation import GradientReport, compare_gradients
from ..engine.backward import local_derivatives
from ..validate import real
from .document import DOCUMENT_PRINTED, QUANTITY_TITLES, SECTIONS
from .hand import hand_derivation
from .network import DOCUMENT_ETA, DOCUMENT_INPUTS, Inputs, Network, build_network, inputs_of

HAND_GRADIENTS = {
    "ŷ": "dL_dy_hat", "z2": "delta2", "b2": "dL_db2", "w2": "dL_dw2",
    "h": "dL_dh", "z1": "delta1", "b1": "dL_db1", "w1": "dL_dw1",
}  # fmt: skip
"""Which node's gradient each derivative of the hand derivation is, by the node's label:
delta2 is dL/dz2 (z2 the output neuron's pre-activation), delta1 is dL/dz1."""


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


@dataclass(frozen=True)
class Row:
    """One quantity: its name, formula, and the three ways of getting it."""

    name: str
    title: str
    document: float | None
    hand: float
    autodiff: float

    @property
    def early_rounded(self) -> bool:
        """The printed value is further off than half a unit of its last printed digit.

        The document rounds some intermediates before using them; this marks where that shows.
        """
        if self.document is None:
            return False
        text = repr(self.document)
        digits = len(text.split(".")[1]) if "." in text else 0
        return abs(self.document - self.hand) > 0.5 * 10.0**-digits + 1e-15


def is_document_setup(inputs: Inputs, eta: float) -> bool:
    """True when the inputs, parameters and learning rate are the document's."""
    return inputs == DOCUMENT_INPUTS and eta == DOCUMENT_ETA


@dataclass(frozen=True)
class Comparison:
    """What `compare` found, with the back-propagated network it read the autodiff side from."""

    inputs: Inputs
    eta: float
    network: Network
    rows: list[Row]

    @property
    def document_setup(self) -> bool:
        """True when the inputs and learning rate are the document's (its column is shown)."""
        return is_document_setup(self.inputs, self.eta)

    def gradient_report(self, *, rtol: float = 1e-6, atol: float = 1e-12) -> GradientReport:
        """The hand derivation's eight gradients (dL/dŷ, δ₂, the four parameters', dL/dh,
        δ₁) checked against the network's backward() by `compare_gradients`.

        >>> compare().gradient_report().ok
        True
        """
        hand = {row.name: row.hand for row in self.rows}
        expected = {label: hand[name] for label, name in HAND_GRADIENTS.items()}
        return compare_gradients(self.network.L, expected, rtol=rtol, atol=atol)


def compare(
    inputs: Inputs = DOCUMENT_INPUTS, /, eta: float = DOCUMENT_ETA, **changes: float
) -> Comparison:
    """Every quantity of the document, by hand, by autodiff and (for its setup) as printed.

    The network is built and back-propagated once, here; `Comparison.network` holds it, every
    grad filled, for drawing and for the first training step.

    >>> [round(row.autodiff, 10) for row in compare().rows if row.name == "delta2"]
    [-0.0974367672]
    """
    v = inputs_of("compare", inputs, changes)
    eta = real(eta, "compare: eta")
    hand = hand_derivation(v, eta=eta).as_dict()
    net = build_network(v)
    net.L.backward()
    auto = autodiff_quantities(net, eta)
    printed = DOCUMENT_PRINTED if is_document_setup(v, eta) else {}
    rows = [
        Row(name, QUANTITY_TITLES[name], printed.get(name), hand[name], auto[name])
        for _, names in SECTIONS
        for name in names
    ]
    return Comparison(v, eta, net, rows)
