"""The walkthrough's content: the document's quantities by hand, by autodiff and as printed.

`compare` lines them up; `train` runs SGD steps on the document's network. The command
line (cli.py) only formats what these return.
"""

from __future__ import annotations

from dataclasses import dataclass

from .document import (
    DOCUMENT_ETA,
    DOCUMENT_INPUTS,
    DOCUMENT_PRINTED,
    QUANTITY_TITLES,
    autodiff_quantities,
    build_network,
    hand_derivation,
)

SECTIONS: list[tuple[str, list[str]]] = [
    ("1. Forward pass", ["z1", "h", "z2", "y_hat"]),
    ("2. Loss", ["L"]),
    (
        "3. Backpropagation",
        [
            *("dL_dy_hat", "dy_hat_dz2", "delta2", "dL_dw2", "dL_db2"),
            *("dL_dh", "dh_dz1", "delta1", "dL_dw1", "dL_db1"),
        ],
    ),
    ("4. SGD update", ["w2_new", "b2_new", "w1_new", "b1_new"]),
]
"""The document's sections and, in its order, the quantities each shows."""

PARAMETERS = ("w1", "b1", "w2", "b2")
"""The network's parameters, which SGD updates."""


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


def is_document_setup(inputs: dict[str, float], eta: float) -> bool:
    """True when the inputs, parameters and learning rate are the document's."""
    return inputs == DOCUMENT_INPUTS and eta == DOCUMENT_ETA


def compare(inputs: dict[str, float], eta: float = DOCUMENT_ETA) -> list[Row]:
    """Every quantity of the document, by hand, by autodiff and (for its setup) as printed."""
    hand = hand_derivation(**inputs, eta=eta).as_dict()
    net = build_network(**inputs)
    net.L.backward()
    auto = autodiff_quantities(net, eta)
    printed = DOCUMENT_PRINTED if is_document_setup(inputs, eta) else {}
    return [
        Row(name, QUANTITY_TITLES[name], printed.get(name), hand[name], auto[name])
        for _, names in SECTIONS
        for name in names
    ]


@dataclass(frozen=True)
class Training:
    """What `train` did: the loss before each step and after the last, and the parameters."""

    losses: list[float]
    parameters: dict[str, float]


def train(inputs: dict[str, float], eta: float, steps: int) -> Training:
    """Run `steps` SGD steps on the document's network; `steps + 1` losses."""
    params = {name: inputs[name] for name in PARAMETERS}
    data = {"x": inputs["x"], "y": inputs["y"]}
    losses = []
    for _ in range(steps):
        net = build_network(**data, **params)
        net.L.backward()
        losses.append(net.L.data)
        for name in PARAMETERS:
            node = getattr(net, name)
            params[name] = node.data - eta * node.grad
    losses.append(build_network(**data, **params).L.data)
    return Training(losses, params)
