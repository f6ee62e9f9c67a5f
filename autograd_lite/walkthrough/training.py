"""SGD steps on the document's network, starting from the network `compare` back-propagated."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..validate import count
from .compare import Comparison
from .network import PARAMETERS, build_network


@dataclass(frozen=True)
class Training:
    """What `train` did: the loss before each step and after the last, and the parameters."""

    losses: list[float]
    parameters: dict[str, float]


def train(start: Comparison, steps: int) -> Training:
    """Run `steps` SGD steps (learning rate `start.eta`) from `start`'s network; `steps + 1` losses.

    The first step uses the gradients `compare` already computed, so no network is built or
    back-propagated twice: each step builds the next one.

    >>> from autograd_lite.walkthrough import compare
    >>> [round(loss, 10) for loss in train(compare(), 1).losses]
    [0.0818112799, 0.0804915228]
    """
    steps = count(steps, "train: steps", minimum=0)
    inputs, net = start.inputs, start.network
    losses = [net.L.data]
    for step in range(steps):
        if step:  # `start.network` comes back-propagated; the later ones do not
            net.L.backward()
        nodes = {name: getattr(net, name) for name in PARAMETERS}
        inputs = dataclasses.replace(
            inputs, **{name: p.data - start.eta * p.grad for name, p in nodes.items()}
        )
        net = build_network(inputs)
        losses.append(net.L.data)
    return Training(losses, inputs.parameters)
