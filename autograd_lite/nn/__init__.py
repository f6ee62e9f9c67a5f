"""A small neural-network library on the engine: modules, losses and optimizers.

- `Module`: named parameters, `zero_grad`, `state_dict` / `load_state_dict`, `set_parameter`.
- `Neuron`, `Layer`, `MLP`: fully connected layers of scalar `Value`s. A Layer and an MLP
  always return a list; `MLP.scalar(x)` gives the output of a one-output network.
- Losses: `half_squared_error` (the worked example's), `mse_loss`, `bce_with_logits`,
  `hinge_loss`.
- Optimizers: `SGD` (momentum, weight decay) and `Adam`, with PyTorch's update rules.

>>> from autograd_lite.nn import MLP, SGD, mse_loss
>>> net = MLP(2, [4, 1], rng=0)
>>> opt = SGD(net.parameters(), lr=0.1)
>>> loss = mse_loss([net.scalar([0.0, 1.0])], [1.0])
>>> opt.zero_grad()
>>> loss.backward()
>>> opt.step()
"""

from .layers import ACTIVATIONS, MLP, Inputs, Layer, Neuron, RngLike
from .losses import Reduction, bce_with_logits, half_squared_error, hinge_loss, mse_loss
from .module import Module
from .optim import SGD, Adam, Optimizer

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "SGD",
    "Adam",
    "Inputs",
    "Layer",
    "Module",
    "Neuron",
    "Optimizer",
    "Reduction",
    "RngLike",
    "bce_with_logits",
    "half_squared_error",
    "hinge_loss",
    "mse_loss",
]
