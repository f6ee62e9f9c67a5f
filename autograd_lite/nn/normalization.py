"""Normalization layers: `LayerNorm` and `BatchNorm1d`, PyTorch's, built from Tensor ops.

Both compute (x - mean) / sqrt(var + eps) * weight + bias, with the biased variance (the
mean of squared deviations) of the numbers normalized together: a LayerNorm normalizes
each sample over its last axes, a BatchNorm1d each feature over the batch. They are made of
engine ops (mean, subtraction, sqrt, division), so gradients of any order and generated
code follow from the ops'.

A BatchNorm1d in training mode also updates its running statistics, which it uses instead
of the batch's in evaluation mode (`eval()`), as PyTorch does: with momentum m,
running_mean = (1 - m) * running_mean + m * mean and running_var = (1 - m) * running_var
+ m * var * n / (n - 1) (the unbiased variance of the n numbers per feature), and
`num_batches_tracked` counts the batches. They are buffers: in `state_dict()` under
PyTorch's keys, not parameters.

>>> import numpy as np
>>> from autograd_lite import Tensor
>>> from autograd_lite.nn import BatchNorm1d, LayerNorm
>>> bn = BatchNorm1d(2)
>>> x = Tensor([[1.0, 10.0], [3.0, 30.0]])
>>> bn(x).data.round(4).tolist()   # each feature over the batch: -1 and 1 (eps aside)
[[-1.0, -1.0], [1.0, 1.0]]
>>> bn.running_mean.tolist(), bn.running_var.tolist()   # 0.9 * (0, 1) + 0.1 * (mean, unbiased var)
([0.2, 2.0], [1.1, 20.9])
>>> list(bn.state_dict())
['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
>>> bn.eval()(x).data.round(3).tolist()   # now with the running statistics
[[0.763, 1.75], [2.67, 6.125]]
>>> LayerNorm(2)(x).data.round(4).tolist()   # each row over its 2 numbers
[[-1.0, 1.0], [-1.0, 1.0]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..engine.array_node import ArrayNode
from ..engine.tensor import Tensor
from ..validate import bounded, count, describe, flag, real
from .module import Module

Array = np.ndarray[Any, Any]


def _node(x: object, like: Array | Tensor | None) -> Any:
    """x if it is an array node (a Tensor, or a Dual in forward mode), else a constant
    Tensor of it (it takes no gradient) in the dtype of `like`, the layer's numbers (an
    input array follows the parameters, as for Linear); without any, float32 stays float32."""
    if isinstance(x, ArrayNode):
        return x
    if like is not None:
        return Tensor(x, requires_grad=False, dtype=like.dtype)
    kind = getattr(x, "dtype", None)
    return Tensor(x, requires_grad=False, dtype=kind if kind == np.float32 else None)


def _normalized(x: Any, axes: tuple[int, ...], eps: float) -> tuple[Any, Any, Any]:
    """(x - mean) / sqrt(var + eps) over `axes`, with the mean and the biased variance
    (kept dims) it used."""
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=axes, keepdims=True)
    return centred / (var + eps).sqrt(), mean, var


def _affine(y: Any, weight: Tensor | None, bias: Tensor | None) -> Any:
    """y * weight + bias, each step only if there is one."""
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def _eps(eps: object, who: str) -> float:
    return bounded(eps, f"{who}: eps", 0.0)


class LayerNorm(Module):
    """PyTorch's `nn.LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True)`:
    each sample normalized over its last `len(normalized_shape)` axes, which must have
    `normalized_shape`, then scaled by `weight` and shifted by `bias` (of that shape,
    starting at ones and zeros; none with `elementwise_affine=False`). The same in
    training and evaluation mode."""

    def __init__(
        self,
        normalized_shape: int | np.integer[Any] | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
    ) -> None:
        single = isinstance(normalized_shape, (int, np.integer))
        dims = (normalized_shape,) if single else normalized_shape
        if not isinstance(dims, Sequence) or isinstance(dims, str) or not dims:
            raise TypeError(
                f"LayerNorm: normalized_shape must be an int or a non-empty tuple of ints, "
                f"got {describe(normalized_shape)}"
            )
        self.normalized_shape = tuple(
            count(d, f"LayerNorm: normalized_shape[{i}]", minimum=1) for i, d in enumerate(dims)
        )
        self.eps = _eps(eps, "LayerNorm")
        self.elementwise_affine = flag(elementwise_affine, "LayerNorm: elementwise_affine")
        affine = self.elementwise_affine
        self.weight = Tensor(np.ones(self.normalized_shape), label="weight") if affine else None
        self.bias = Tensor(np.zeros(self.normalized_shape), label="bias") if affine else None

    def forward(self, x: Any) -> Any:
        """x normalized over its last axes, which must be `normalized_shape`."""
        x = _node(x, self.weight)
        k = len(self.normalized_shape)
        if tuple(x.shape[len(x.shape) - k :]) != self.normalized_shape or len(x.shape) < k:
            raise ValueError(
                f"{self!r}: expected an input of shape (..., "
                f"{', '.join(map(str, self.normalized_shape))}), got shape {tuple(x.shape)}"
            )
        y, _, _ = _normalized(x, tuple(range(len(x.shape) - k, len(x.shape))), self.eps)
        return _affine(y, self.weight, self.bias)

    def extra_repr(self) -> str:
        """PyTorch's: `(4,), eps=1e-05, elementwise_affine=True`."""
        return (
            f"{self.normalized_shape}, eps={self.eps:g}, "
            f"elementwise_affine={self.elementwise_affine}"
        )


class BatchNorm1d(Module):
    """PyTorch's `nn.BatchNorm1d(num_features, eps=1e-5, momentum=0.1, affine=True,
    track_running_stats=True)` for inputs of shape (N, C) or (N, C, L), C = num_features.

    In training mode each feature is normalized with the batch's mean and biased variance
    (over N, or N and L), and the running statistics are updated (momentum None: their
    cumulative average); more than one number per feature is needed (ValueError). In
    evaluation mode the running statistics are used, or the batch's with
    `track_running_stats=False` (which keeps none). `weight` and `bias` (shape (C,), ones
    and zeros) are parameters; `running_mean`, `running_var` (float) and
    `num_batches_tracked` (an int64 0-d array) are buffers.
    """

    _buffer_names = ("running_mean", "running_var", "num_batches_tracked")

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
    ) -> None:
        self.num_features = count(num_features, "BatchNorm1d: num_features", minimum=1)
        self.eps = _eps(eps, "BatchNorm1d")
        if momentum is not None:
            m = real(momentum, "BatchNorm1d: momentum")
            if not 0.0 <= m <= 1.0:
                raise ValueError(f"BatchNorm1d: momentum must be in [0, 1] or None, got {m!r}")
            momentum = m
        self.momentum = momentum
        self.affine = flag(affine, "BatchNorm1d: affine")
        self.track_running_stats = flag(track_running_stats, "BatchNorm1d: track_running_stats")
        c = self.num_features
        self.weight = Tensor(np.ones(c), label="weight") if self.affine else None
        self.bias = Tensor(np.zeros(c), label="bias") if self.affine else None
        tracked = self.track_running_stats
        self.running_mean: Array | None = np.zeros(c) if tracked else None
        self.running_var: Array | None = np.ones(c) if tracked else None
        self.num_batches_tracked: Array | None = np.array(0, dtype=np.int64) if tracked else None

    def forward(self, x: Any) -> Any:
        """x normalized per feature: by the batch's statistics in training mode (updating
        the running ones), by the running statistics in evaluation mode."""
        x = _node(x, self.weight if self.weight is not None else self.running_mean)
        shape = tuple(x.shape)
        if len(shape) not in (2, 3) or shape[1] != self.num_features:
            raise ValueError(
                f"{self!r}: expected an input of shape (N, {self.num_features}) or "
                f"(N, {self.num_features}, L), got shape {shape}"
            )
        axes = (0,) if len(shape) == 2 else (0, 2)
        n = math.prod(shape[a] for a in axes)
        # The parameters' shape (C,) broadcast against (N, C) or, as (C, 1), (N, C, L).
        per_feature = (self.num_features,) if len(shape) == 2 else (self.num_features, 1)
        weight = None if self.weight is None else self.weight.reshape(per_feature)
        bias = None if self.bias is None else self.bias.reshape(per_feature)
        if self.running_mean is None or self.running_var is None or self.training:
            if self.training and n < 2:
                raise ValueError(
                    f"{self!r}: training needs more than one number per feature to take a "
                    f"variance, got an input of shape {shape}"
                )
            y, mean, var = _normalized(x, axes, self.eps)
            if self.training and self.running_mean is not None:
                self._track(
                    np.asarray(mean._data).reshape(-1), np.asarray(var._data).reshape(-1), n
                )
            return _affine(y, weight, bias)
        # constants: a copy each, so a later update or load does not touch this graph
        kind = self.running_mean.dtype
        mean_c = Tensor(self.running_mean.reshape(per_feature), requires_grad=False, dtype=kind)
        std = np.sqrt(self.running_var + self.eps).reshape(per_feature)
        std_c = Tensor(std, requires_grad=False, dtype=kind)
        return _affine((x - mean_c) / std_c, weight, bias)

    def _track(self, mean: Array, var: Array, n: int) -> None:
        """The running statistics' update from one batch's mean and biased variance."""
        assert self.running_mean is not None and self.running_var is not None
        assert self.num_batches_tracked is not None
        self.num_batches_tracked = np.array(self.num_batches_tracked + 1, dtype=np.int64)
        m = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        kind = self.running_mean.dtype
        self.running_mean = ((1.0 - m) * self.running_mean + m * mean).astype(kind)
        unbiased = var * (n / (n - 1))
        self.running_var = ((1.0 - m) * self.running_var + m * unbiased).astype(kind)

    def extra_repr(self) -> str:
        """PyTorch's: `4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True`."""
        return (
            f"{self.num_features}, eps={self.eps:g}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )
