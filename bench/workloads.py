"""Workloads W1..W4: generic graph builders (the same expression for every engine), the
hand-written float baselines, and each workload's rows as set up in an engine's process.

Pure Python: an engine's process imports this module, and nothing here may bring another
engine's (or numpy's) objects into its heap. The seeded data is made in bench/data.py.
"""

from __future__ import annotations

import contextlib
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engines import HAND, Engine
from measure import PhaseTimer, Runner, calibrated

DEFAULT_RECURSION_LIMIT = sys.getrecursionlimit()

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


Weights = list[list[tuple[list[float], float]]]
"""MLP weights as floats: per layer, per neuron, (weights, bias) (lists after JSON)."""


def make_model(leaf: Callable[..., Any], weights: Weights) -> Model:
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
    grads: list[list[list[Any]]] = [
        [[[0.0] * len(ws), 0.0] for ws, _ in layer] for layer in weights
    ]
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
    reg: float = sum(w * w for layer in weights for ws, b in layer for w in (*ws, b))
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
# Workload definitions: each engine's rows, set up in the engine's own process
# ----------------------------------------------------------------------------------------------
Params = dict[str, Any]
"""A workload's inputs, made in the parent (bench/data.py) and sent to each engine's process."""


@dataclass
class Setup:
    """One engine's part of a workload: a runner per row, notes (correctness) and extra data."""

    rows: dict[str, Runner] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    """True if a and b agree to rel (relative) or 1e-12 (absolute)."""
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), 1e-12)


def timed(phase: str, fn: Callable[[], object]) -> Runner:
    """A runner timing one call of `fn` as the phase `phase` (the hand baselines)."""

    def run(t: PhaseTimer) -> None:
        with t(phase):
            fn()

    return run


def _hand_weights(weights: Weights) -> list[list[list[Any]]]:
    return [[[list(ws), b] for ws, b in layer] for layer in weights]


def setup_w1(e: Engine | None, p: Params) -> Setup:
    """W1: the document network, leaves + build + backward, per call (calibrated loop)."""
    if e is None:
        return Setup({HAND: calibrated(hand_w1, p["target_s"])})
    loss, leaves = build_w1(e.leaf)
    e.backward(loss)
    ok = all(close(e.grad(v), w) for v, w in zip(leaves, hand_w1()))
    note = f"{e.name}: gradients {'match' if ok else 'DIFFER from'} the hand derivation"

    def once() -> None:
        loss, _ = build_w1(e.leaf)
        e.backward(loss)

    return Setup({e.name: calibrated(once, p["target_s"])}, [note])


def setup_w2(e: Engine | None, p: Params) -> Setup:
    """W2: one SGD step of MLP(2,[16,16,1]) over all points: forward, backward, update."""
    weights, xs, ys = p["weights"], p["xs"], p["ys"]
    if e is None:
        hand_weights = _hand_weights(weights)
        return Setup(
            {
                HAND: timed(
                    "forward+backward+update", lambda: hand_w2_step(hand_weights, xs, ys, W2_LR)
                )
            }
        )
    want_loss, want_grads = hand_w2_step(_hand_weights(weights), xs, ys, None)
    model = make_model(e.leaf, weights)
    params = model_params(model)
    loss = w2_loss(model, e.leaf, xs, ys)
    e.backward(loss)
    worst = max(abs(e.grad(q) - g) for q, g in zip(params, want_grads))
    nodes, ops = e.count_nodes(loss)
    note = (
        f"{e.name}: loss {e.data(loss):.12g} (hand {want_loss:.12g}), "
        f"max |grad - hand grad| {worst:.1e}; graph: {nodes:,} objects, {ops:,} op nodes"
    )
    extra = {e.name: {"graph_objects": nodes, "op_nodes": ops, "max_grad_diff": worst}}
    del loss
    e.sgd(params, 0.0)  # reset gradients

    def step(t: PhaseTimer) -> None:
        with t("forward"):
            loss = w2_loss(model, e.leaf, xs, ys)
        with t("backward"):
            e.backward(loss)
        with t("update"):
            e.sgd(params, W2_LR)
        with t("free"):
            del loss

    return Setup({e.name: step}, [note], extra)


def setup_w2_eval(e: Engine | None, p: Params) -> Setup:
    """W2's forward pass only: with a graph recorded, and under the engine's no_grad()."""
    weights, xs, ys = p["weights"], p["xs"], p["ys"]
    if e is None:
        hand_weights = _hand_weights(weights)
        return Setup({HAND: timed("forward", lambda: hand_w2_forward(hand_weights, xs, ys))})
    model = make_model(e.leaf, weights)

    def forward(mode: Callable[[], contextlib.AbstractContextManager[Any]]) -> Runner:
        def run(t: PhaseTimer) -> None:
            with t("forward"), mode():
                loss = w2_loss(model, e.leaf, xs, ys)
            with t("free"):
                del loss

        return run

    rows = {f"{e.name} (graph)": forward(contextlib.nullcontext)}
    if e.no_grad is not None:
        rows[f"{e.name} (no_grad)"] = forward(e.no_grad)
    return Setup(rows)


def setup_w3(e: Engine | None, p: Params) -> Setup:
    """W3: the chain x -> x*1.0001+0.0001, N times; build + backward (free timed apart)."""
    n = p["n"]
    if e is None:
        return Setup({HAND: timed("build+backward", lambda: hand_w3(n))})
    want_y, want_g = hand_w3(n)
    setup = Setup()

    def runner(limit: int | None) -> Runner:
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
            if not setup.notes:  # the first completed sample checks the values
                ok = close(e.grad(x), want_g, 1e-9) and close(e.data(y), want_y)
                setup.notes.append(
                    f"{e.name}: y and dy/dx {'match' if ok else 'DIFFER from'} the hand values"
                )
            with t("free"):
                del y, x

        return run

    setup.rows[e.name] = runner(None)
    if e.name == "micrograd" and p["raise_limit"]:
        setup.rows[f"{e.name} (raised limit)"] = runner(4 * n + 1000)
    return setup


def setup_w4(e: Engine | None, p: Params) -> Setup:
    """W4: builtin sum of n products, then backward (leaves made outside the timed region)."""
    a_vals, b_vals = p["a"], p["b"]
    if e is None:
        return Setup({HAND: timed("build+backward", lambda: hand_w4(a_vals, b_vals))})
    want_s, want_ga, _ = hand_w4(a_vals, b_vals)
    setup = Setup()

    def run(t: PhaseTimer) -> None:
        a = [e.leaf(v) for v in a_vals]
        b = [e.leaf(v) for v in b_vals]
        with t("build"):
            s = build_w4(a, b)
        with t("backward"):
            e.backward(s)
        if not setup.notes:  # the first completed sample checks the values
            ok = close(e.data(s), want_s) and all(
                close(e.grad(ai), g) for ai, g in zip(a[:100], want_ga)
            )
            setup.notes.append(f"{e.name}: sum and gradients {'match' if ok else 'DIFFER'}")
        with t("free"):
            del s, a, b

    setup.rows[e.name] = run
    return setup


@dataclass(frozen=True)
class Spec:
    """What a workload is: its per-engine setup, the phases of a total, its title."""

    setup: Callable[[Engine | None, Params], Setup]
    """Run in each engine's process; `None` for the hand baseline."""
    total_phases: tuple[str, ...]
    title: str
    """Formatted with the workload's params."""


BUILD_BACKWARD = ("build", "backward", "build+backward")
SPECS = {
    "W1": Spec(setup_w1, ("total",), "document network: leaves + build + backward"),
    "W2": Spec(
        setup_w2,
        ("forward", "backward", "update", "forward+backward+update"),
        "MLP(2,[16,16,1]) over {points} points: one SGD step (forward+backward+update)",
    ),
    "W2-eval": Spec(
        setup_w2_eval,
        ("forward",),
        "W2's forward pass over {points} points (loss only): graph vs no_grad",
    ),
    "W3": Spec(
        setup_w3,
        BUILD_BACKWARD,
        f"chain x -> x*{CHAIN_MUL}+{CHAIN_ADD}, N = {{n:,}}: build + backward",
    ),
    "W4": Spec(
        setup_w4, BUILD_BACKWARD, "sum(a_i*b_i for {n:,} i) with the builtin sum, then backward"
    ),
}


def describe(key: str, p: Params) -> tuple[str, list[str]]:
    """A workload's title and the notes that hold for every engine (in the parent process)."""
    fields = {"points": len(p.get("xs", ())), "n": p.get("n", len(p.get("a", ())))}
    notes = []
    if key == "W3":
        notes.append(f"dy/dx should be 1.0001**N = {hand_w3(p['n'])[1]:.12g}")
        notes.append(f"run at the default recursion limit ({DEFAULT_RECURSION_LIMIT})")
    return SPECS[key].title.format(**fields), notes
