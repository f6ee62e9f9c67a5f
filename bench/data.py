"""The workloads' seeded data (numpy's generator), made in the parent process only.

The engines' processes get it as plain lists, so numpy is in an engine's heap only if the
engine imports it itself (autograd-lite and PyTorch do, micrograd does not).
"""

from __future__ import annotations

import argparse
import itertools
import math

import numpy as np
from workloads import W2_SIZES, Params, Weights

SEED = 7


def make_weights(rng: np.random.Generator) -> Weights:
    """MLP(2, [16, 16, 1]) weights, uniform(-1, 1) as micrograd's Neuron, from a seeded rng."""
    layers = []
    for n_in, n_out in itertools.pairwise(W2_SIZES):
        layer = []
        for _ in range(n_out):
            ws = [float(v) for v in rng.uniform(-1.0, 1.0, n_in)]
            layer.append((ws, float(rng.uniform(-1.0, 1.0))))
        layers.append(layer)
    return layers


def make_moons(rng: np.random.Generator, n: int) -> tuple[list[list[float]], list[float]]:
    """Two interleaved half circles with noise 0.1 (like sklearn's make_moons); y in {-1, 1}."""
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0.0, math.pi, n_out)
    t_in = np.linspace(0.0, math.pi, n_in)
    pts = np.concatenate(
        [
            np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
            np.stack([1.0 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1),
        ]
    )
    pts += rng.normal(0.0, 0.1, pts.shape)
    labels = [-1.0] * n_out + [1.0] * n_in
    return [[float(a), float(b)] for a, b in pts], labels


def w2_data(points: int) -> tuple[Weights, list[list[float]], list[float]]:
    """The seeded weights and two-moons data shared by W2 and W2-eval."""
    rng = np.random.default_rng(SEED)
    weights = make_weights(rng)
    xs, ys = make_moons(rng, points)
    return weights, xs, ys


def workload_params(key: str, args: argparse.Namespace) -> Params:
    """What each engine's process needs to set up the workload `key`."""
    if key == "W1":
        return {"target_s": args.w1_target}
    if key in ("W2", "W2-eval"):
        weights, xs, ys = w2_data(args.points)
        return {"weights": weights, "xs": xs, "ys": ys}
    if key == "W3":
        return {"n": args.n_chain, "raise_limit": args.micrograd_raise_limit}
    if key == "W4":
        rng = np.random.default_rng(SEED + 1)
        return {
            "a": [float(v) for v in rng.normal(size=args.n_sum)],
            "b": [float(v) for v in rng.normal(size=args.n_sum)],
        }
    raise ValueError(f"unknown workload {key!r}")
