"""A small neural-network library on the engine: modules, losses and optimizers.

- `Module`: named parameters, `zero_grad`, `state_dict` / `load_state_dict`, `set_parameter`,
  `to(dtype)`, `forward` called by `module(x)`, a printout like PyTorch's.
- `Neuron`, `Layer`, `MLP`: fully connected layers of scalar `Value`s. A Layer and an MLP
  always return a list; `MLP.scalar(x)` gives the output of a one-output network.
- `Linear`, `Sequential`, `ReLU`, `Tanh`, `Sigmoid`, `Dropout`, `Embedding`, `LayerNorm`,
  `BatchNorm1d`: layers on `Tensor`s, with PyTorch's names, layouts and state-dict keys
  (BatchNorm1d's running statistics are buffers, saved with the parameters); `train()` and
  `eval()` on every module; `ModuleList` and `ModuleDict` hold modules by position and name.
- Losses: `half_squared_error` (the worked example's), `mse_loss` (Values or Tensors),
  `bce_with_logits`, `hinge_loss`; `cross_entropy` on Tensors.
- Optimizers: `SGD` (momentum, weight decay) and `Adam`, with PyTorch's update rules, for
  Value and Tensor parameters alike.
- `save(state_dict, path)` and `load(path)`: a state dict as an .npz file, which numpy alone
  reads and which loads into the same PyTorch model. Modules, optimizers and leaves also
  pickle and `copy.deepcopy` (docs/nn.md).

>>> from autograd_lite.nn import MLP, SGD, mse_loss
>>> net = MLP(2, [4, 1], rng=0)
>>> opt = SGD(net.parameters(), lr=0.1)
>>> loss = mse_loss([net.scalar([0.0, 1.0])], [1.0])
>>> opt.zero_grad()
>>> loss.backward()
>>> opt.step()
"""

from .containers import ModuleDict, ModuleList
from .layers import (
    ACTIVATIONS,
    MLP,
    Dropout,
    Embedding,
    Inputs,
    Layer,
    Linear,
    Neuron,
    ReLU,
    RngLike,
    Sequential,
    Sigmoid,
    Tanh,
)
from .losses import (
    Reduction,
    TensorReduction,
    bce_with_logits,
    cross_entropy,
    half_squared_error,
    hinge_loss,
    mse_loss,
)
from .module import Module, Parameter
from .normalization import BatchNorm1d, LayerNorm
from .optim import SGD, Adam, Optimizer
from .saving import load, save

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "SGD",
    "Adam",
    "BatchNorm1d",
    "Dropout",
    "Embedding",
    "Inputs",
    "Layer",
    "LayerNorm",
    "Linear",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Neuron",
    "Optimizer",
    "Parameter",
    "ReLU",
    "Reduction",
    "RngLike",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "TensorReduction",
    "bce_with_logits",
    "cross_entropy",
    "half_squared_error",
    "hinge_loss",
    "load",
    "mse_loss",
    "save",
]
