"""Workloads W1..W4: generic graph builders (the same expression for every engine), the
hand-written float baselines, the seeded data, and each workload's runners.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from engines import HAND, Engine
from measure import PhaseTimer, Runner, Workload, calibrated

DEFAULT_RECURSION_LIMIT = sys.getrecursionlimit()
SEED = 7

# W3's chain step and W2's training constants.
CHAIN_MUL, CHAIN_ADD = 1.0001, 0.0001
W2_SIZES = (2, 16, 16, 1)
W2_ALPHA = 1e-4  # L2 regularisation, as in micrograd's demo
W2_LR = 0.1


W1_INPUTS = {"x": 1.0, "y": 1.0, "w1": 0.4, "b1": 0.1, "w2": 0.3, "b2": 0.2}


def build_w1(leaf: Callable[..., Any]) -> tuple[Any, list[Any]]:
    """The document's network: returns (L, [x, y, w1, b1, w2, b2])."""
    x, y, w1, b1, w2, b2 = (leaf(v) for v in W1_INPUTS.values())
    z1 = x * w1 + b1
    h = z1.sigmoid()
    z2 = h * w2 + b2
    y_hat = z2.sigmoid()
    loss = 0.5 * (y - y_hat) ** 2
    return loss, [x, y, w1, b1, w2, b2]


Model = list[list[tuple[list[Any], Any]]]
"""Layers of neurons, each (weights, bias), in any engine's leaves (or floats for the hand side)."""


def make_model(leaf: Callable[..., Any], weights: list[list[tuple[list[float], float]]]) -> Model:
    """The MLP's parameters as leaves of one engine."""
    return [[([leaf(w) for w in ws], leaf(b)) for ws, b in layer] for layer in weights]


def model_params(model: Model) -> list[Any]:
    """Flat parameter list: per layer, per neuron, its weights then its bias."""
    return [p for layer in model for ws, b in layer for p in (*ws, b)]


def mlp_forward(model: Model, x: list[Any]) -> Any:
    """micrograd's MLP: act = sum(w_i x_i, b); tanh on hidden layers, linear output."""
    for li, layer in enumerate(model):
        last = li == len(model) - 1
        out = []
        for ws, b in layer:
            act = sum((wi * xi for wi, xi in zip(ws, x)), b)
            out.append(act if last else act.tanh())
        x = out
    return x[0]


def w2_loss(model: Model, leaf: Callable[..., Any], xs: list[list[float]], ys: list[float]) -> Any:
    """micrograd's demo loss: mean SVM max-margin loss + alpha * sum p**2, over all points."""
    inputs = [[leaf(v, False) for v in row] for row in xs]
    scores = [mlp_forward(model, x) for x in inputs]
    losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = W2_ALPHA * sum(p * p for p in model_params(model))
    return data_loss + reg_loss


def build_w3(leaf: Callable[..., Any], n: int) -> tuple[Any, Any]:
    """The chain x -> x*1.0001 + 0.0001, n times: returns (y, x). 4n+1 nodes, 2n op nodes."""
    x = leaf(1.0)
    y = x
    for _ in range(n):
        y = y * CHAIN_MUL + CHAIN_ADD
    return y, x


def build_w4(a: list[Any], b: list[Any]) -> Any:
    """sum(a_i * b_i) with the builtin sum (a left-deep chain of n additions)."""
    return sum(ai * bi for ai, bi in zip(a, b))


# ----------------------------------------------------------------------------------------------
# Hand-written float baselines: forward and backward written out by hand.
# ----------------------------------------------------------------------------------------------
def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def hand_w1() -> list[float]:
    """The document's network and its gradients in plain floats: [dL/dx, dy, dw1, db1, ...]."""
    x, y, w1, b1, w2, b2 = W1_INPUTS.values()
    z1 = x * w1 + b1
    h = _sigmoid(z1)
    z2 = h * w2 + b2
    y_hat = _sigmoid(z2)
    _loss = 0.5 * (y - y_hat) ** 2
    d_y_hat = y_hat - y
    delta2 = d_y_hat * y_hat * (1.0 - y_hat)
    d_h = delta2 * w2
    delta1 = d_h * h * (1.0 - h)
    return [delta1 * w1, -d_y_hat, delta1 * x, delta1, delta2 * h, delta2]


def _hand_activations(weights: list[list[list[Any]]], x: list[float]) -> list[list[float]]:
    """Every layer's activations for one point, input first (tanh hidden, linear output)."""
    acts = [x]
    for li, layer in enumerate(weights):
        last = li == len(weights) - 1
        nxt = []
        for ws, b in layer:
            z = b
            for wi, ai in zip(ws, acts[-1]):
                z += wi * ai
            nxt.append(z if last else math.tanh(z))
        acts.append(nxt)
    return acts


def hand_w2_step(
    weights: list[list[list[Any]]],
    xs: list[list[float]],
    ys: list[float],
    lr: float | None,
) -> tuple[float, list[float]]:
    """W2 by hand: loss and flat gradients; with lr, also the SGD update (in place).

    `weights[layer][neuron] = [ws, b]` (mutable lists). Gradients are in `model_params` order.
    """
    n_layers = len(weights)
    grads = [[[[0.0] * len(ws), 0.0] for ws, _ in layer] for layer in weights]
    data_loss = 0.0
    inv_n = 1.0 / len(xs)
    for x, yv in zip(xs, ys):
        acts = _hand_activations(weights, x)
        margin = 1.0 - yv * acts[-1][0]
        if margin <= 0.0:
            continue  # relu is flat here: no loss, no gradient
        data_loss += margin
        delta = [-yv * inv_n]
        for li in range(n_layers - 1, -1, -1):
            a_in = acts[li]
            layer, glayer = weights[li], grads[li]
            d_in = [0.0] * len(a_in)
            for j, (ws, _b) in enumerate(layer):
                dj = delta[j]
                gw = glayer[j][0]
                for i, ai in enumerate(a_in):
                    gw[i] += dj * ai
                    d_in[i] += dj * ws[i]
                glayer[j][1] += dj
            if li:
                delta = [d * (1.0 - ai * ai) for d, ai in zip(d_in, a_in)]
    reg = 0.0
    flat_grads: list[float] = []
    for layer, glayer in zip(weights, grads):
        for neuron, gneuron in zip(layer, glayer):
            ws, gws = neuron[0], gneuron[0]
            for i, w in enumerate(ws):
                reg += w * w
                gws[i] += 2.0 * W2_ALPHA * w
            b = neuron[1]
            reg += b * b
            gneuron[1] += 2.0 * W2_ALPHA * b
            flat_grads.extend(gws)
            flat_grads.append(gneuron[1])
            if lr is not None:
                for i, g in enumerate(gws):
                    ws[i] -= lr * g
                neuron[1] = b - lr * gneuron[1]
    return data_loss * inv_n + W2_ALPHA * reg, flat_grads


def hand_w2_forward(
    weights: list[list[list[Any]]], xs: list[list[float]], ys: list[float]
) -> float:
    """W2's loss only, in plain floats (the baseline for the no_grad comparison)."""
    data_loss = 0.0
    for x, yv in zip(xs, ys):
        margin = 1.0 - yv * _hand_activations(weights, x)[-1][0]
        if margin > 0.0:
            data_loss += margin
    reg = sum(w * w for layer in weights for ws, b in layer for w in (*ws, b))
    return data_loss / len(xs) + W2_ALPHA * reg


def hand_w3(n: int) -> tuple[float, float]:
    """The chain's value and dy/dx by hand: forward loop, then the backward loop."""
    y = 1.0
    for _ in range(n):
        y = y * CHAIN_MUL + CHAIN_ADD
    g = 1.0
    for _ in range(n):
        g = g * CHAIN_MUL
    return y, g


def hand_w4(a: list[float], b: list[float]) -> tuple[float, list[float], list[float]]:
    """sum(a_i b_i) and its gradients (d/da_i = b_i, d/db_i = a_i) by hand."""
    s = 0.0
    for ai, bi in zip(a, b):
        s += ai * bi
    ga = [bi * 1.0 for bi in b]
    gb = [ai * 1.0 for ai in a]
    return s, ga, gb


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------
def make_weights(rng: np.random.Generator) -> list[list[tuple[list[float], float]]]:
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


# ----------------------------------------------------------------------------------------------
# Workload definitions
# ----------------------------------------------------------------------------------------------
def close(a: float, b: float, rel: float = 1e-9) -> bool:
    """True if a and b agree to rel (relative) or 1e-12 (absolute)."""
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), 1e-12)


def w1_workload(engines: list[Engine], args: argparse.Namespace) -> Workload:
    """W1: the document network, leaves + build + backward, per call (calibrated loop)."""
    want = hand_w1()
    runners: dict[str, Runner] = {}
    notes = []
    for e in engines:
        loss, leaves = build_w1(e.leaf)
        e.backward(loss)
        got = [e.grad(v) for v in leaves]
        ok = all(close(g, w) for g, w in zip(got, want))
        notes.append(f"{e.name}: gradients {'match' if ok else 'DIFFER from'} the hand derivation")

        def once(e: Engine = e) -> None:
            loss, _ = build_w1(e.leaf)
            e.backward(loss)

        runners[e.name] = calibrated(once, args.w1_target)
    if args.with_hand:
        runners[HAND] = calibrated(hand_w1, args.w1_target)
    return Workload(
        "W1",
        "document network: leaves + build + backward",
        runners,
        ("total",),
        args.repeats,
        notes,
    )


def w2_setup(args: argparse.Namespace) -> tuple[Any, list[list[float]], list[float]]:
    """The seeded weights and data shared by W2 and W2-eval."""
    rng = np.random.default_rng(SEED)
    weights = make_weights(rng)
    xs, ys = make_moons(rng, args.points)
    return weights, xs, ys


def _hand_weights(weights: list[list[tuple[list[float], float]]]) -> list[list[list[Any]]]:
    return [[[list(ws), b] for ws, b in layer] for layer in weights]


def w2_workload(engines: list[Engine], args: argparse.Namespace) -> Workload:
    """W2: one SGD step of MLP(2,[16,16,1]) over all points: forward, backward, update."""
    weights, xs, ys = w2_setup(args)
    want_loss, want_grads = hand_w2_step(_hand_weights(weights), xs, ys, None)
    runners: dict[str, Runner] = {}
    notes = []
    extra: dict[str, Any] = {}
    for e in engines:
        model = make_model(e.leaf, weights)
        params = model_params(model)
        loss = w2_loss(model, e.leaf, xs, ys)
        e.backward(loss)
        worst = max(abs(e.grad(p) - g) for p, g in zip(params, want_grads))
        nodes, ops = e.count_nodes(loss)
        extra[e.name] = {"graph_objects": nodes, "op_nodes": ops, "max_grad_diff": worst}
        notes.append(
            f"{e.name}: loss {e.data(loss):.12g} (hand {want_loss:.12g}), "
            f"max |grad - hand grad| {worst:.1e}; graph: {nodes:,} objects, {ops:,} op nodes"
        )
        del loss
        e.sgd(params, 0.0)  # reset gradients

        def step(
            t: PhaseTimer, e: Engine = e, model: Model = model, params: list[Any] = params
        ) -> None:
            with t("forward"):
                loss = w2_loss(model, e.leaf, xs, ys)
            with t("backward"):
                e.backward(loss)
            with t("update"):
                e.sgd(params, W2_LR)
            with t("free"):
                del loss

        runners[e.name] = step
    if args.with_hand:
        hand_weights = _hand_weights(weights)

        def hand_step(t: PhaseTimer) -> None:
            with t("forward+backward+update"):
                hand_w2_step(hand_weights, xs, ys, W2_LR)

        runners[HAND] = hand_step
    title = f"MLP(2,[16,16,1]) over {args.points} points: one SGD step (forward+backward+update)"
    phases = ("forward", "backward", "update", "forward+backward+update")
    return Workload("W2", title, runners, phases, args.repeats, notes, extra)


def w2_eval_workload(engines: list[Engine], args: argparse.Namespace) -> Workload:
    """W2's forward pass only: with a graph recorded, and under the engine's no_grad()."""
    weights, xs, ys = w2_setup(args)
    runners: dict[str, Runner] = {}
    for e in engines:
        model = make_model(e.leaf, weights)

        def graph(t: PhaseTimer, e: Engine = e, model: Model = model) -> None:
            with t("forward"):
                loss = w2_loss(model, e.leaf, xs, ys)
            with t("free"):
                del loss

        runners[f"{e.name} (graph)"] = graph
        if e.no_grad is not None:

            def nograd(t: PhaseTimer, e: Engine = e, model: Model = model) -> None:
                assert e.no_grad is not None
                with t("forward"), e.no_grad():
                    loss = w2_loss(model, e.leaf, xs, ys)
                with t("free"):
                    del loss

            runners[f"{e.name} (no_grad)"] = nograd
    if args.with_hand:
        hand_weights = _hand_weights(weights)

        def hand_fwd(t: PhaseTimer) -> None:
            with t("forward"):
                hand_w2_forward(hand_weights, xs, ys)

        runners[HAND] = hand_fwd
    title = f"W2's forward pass over {args.points} points (loss only): graph vs no_grad"
    return Workload("W2-eval", title, runners, ("forward",), args.repeats)


def w3_workload(engines: list[Engine], args: argparse.Namespace) -> Workload:
    """W3: the chain x -> x*1.0001+0.0001, N times; build + backward (free timed apart)."""
    n = args.n_chain
    want_y, want_g = hand_w3(n)
    runners: dict[str, Runner] = {}
    notes = [f"dy/dx should be 1.0001**N = {want_g:.12g}"]
    checked: dict[str, bool] = {}

    def make_runner(e: Engine, limit: int | None) -> Runner:
        def run(t: PhaseTimer) -> None:
            with t("build"):
                y, x = build_w3(e.leaf, n)
            old = sys.getrecursionlimit()
            if limit is not None:
                sys.setrecursionlimit(limit)
            try:
                with t("backward"):
                    e.backward(y)
            finally:
                sys.setrecursionlimit(old)
            if e.name not in checked:
                checked[e.name] = close(e.grad(x), want_g, 1e-9) and close(e.data(y), want_y)
                notes.append(
                    f"{e.name}: y and dy/dx {'match' if checked[e.name] else 'DIFFER from'} "
                    "the hand values"
                )
            with t("free"):
                del y, x

        return run

    for e in engines:
        runners[e.name] = make_runner(e, None)
        if e.name == "micrograd" and args.micrograd_raise_limit:
            runners["micrograd (raised limit)"] = make_runner(e, 4 * n + 1000)
    if args.with_hand:

        def hand(t: PhaseTimer) -> None:
            with t("build+backward"):
                hand_w3(n)

        runners[HAND] = hand
    title = f"chain x -> x*{CHAIN_MUL}+{CHAIN_ADD}, N = {n:,}: build + backward"
    notes.append(f"run at the default recursion limit ({DEFAULT_RECURSION_LIMIT})")
    return Workload(
        "W3", title, runners, ("build", "backward", "build+backward"), args.w3_repeats, notes
    )


def w4_workload(engines: list[Engine], args: argparse.Namespace) -> Workload:
    """W4: builtin sum of n products, then backward (leaves made outside the timed region)."""
    n = args.n_sum
    rng = np.random.default_rng(SEED + 1)
    a_vals = [float(v) for v in rng.normal(size=n)]
    b_vals = [float(v) for v in rng.normal(size=n)]
    want_s, want_ga, _ = hand_w4(a_vals, b_vals)
    runners: dict[str, Runner] = {}
    notes: list[str] = []
    checked: set[str] = set()
    for e in engines:

        def run(t: PhaseTimer, e: Engine = e) -> None:
            a = [e.leaf(v) for v in a_vals]
            b = [e.leaf(v) for v in b_vals]
            with t("build"):
                s = build_w4(a, b)
            with t("backward"):
                e.backward(s)
            if e.name not in checked:
                checked.add(e.name)
                ok = close(e.data(s), want_s) and all(
                    close(e.grad(ai), g) for ai, g in zip(a[:100], want_ga)
                )
                notes.append(f"{e.name}: sum and gradients {'match' if ok else 'DIFFER'}")
            with t("free"):
                del s, a, b

        runners[e.name] = run
    if args.with_hand:

        def hand(t: PhaseTimer) -> None:
            with t("build+backward"):
                hand_w4(a_vals, b_vals)

        runners[HAND] = hand
    title = f"sum(a_i*b_i for {n:,} i) with the builtin sum, then backward"
    return Workload(
        "W4", title, runners, ("build", "backward", "build+backward"), args.repeats, notes
    )
