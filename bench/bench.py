"""Benchmark for issue 7: autograd-lite against micrograd, PyTorch and hand-written floats.

Every engine runs exactly the same expressions: each workload has one generic builder that only
uses Value arithmetic (`+ - * **`, `.sigmoid()`, `.tanh()`, `.relu()`) and a per-engine leaf
factory. All engines are interleaved in one process (the order rotates every repeat), and the
table reports medians and ratios. Memory per node is measured in fresh subprocesses.

    .venv-bench/bin/python bench/bench.py            # full run (a few minutes)
    .venv-bench/bin/python bench/bench.py --quick    # smoke run (under a minute)
    .venv-bench/bin/python bench/bench.py --profile W2   # cProfile autograd-lite on W2

See bench/README.md for the workloads, the node definition and how memory is measured.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import importlib.metadata
import itertools
import json
import math
import os
import platform
import pstats
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))  # for micrograd_ext when run as a script

DEFAULT_RECURSION_LIMIT = sys.getrecursionlimit()
WORKLOADS = ("W1", "W2", "W2-eval", "W3", "W4", "MEM")
ENGINE_ORDER = ("autograd-lite", "micrograd", "torch", "hand")
HAND = "hand"
SEED = 7

# W3's chain step and W2's training constants.
CHAIN_MUL, CHAIN_ADD = 1.0001, 0.0001
W2_SIZES = (2, 16, 16, 1)
W2_ALPHA = 1e-4  # L2 regularisation, as in micrograd's demo
W2_LR = 0.1


# ----------------------------------------------------------------------------------------------
# Engines: a leaf factory and the few operations the harness needs besides Value arithmetic.
# ----------------------------------------------------------------------------------------------
@dataclass
class Engine:
    """How the harness drives one autodiff engine; the builders only use `leaf` and arithmetic."""

    name: str
    version: str
    leaf: Callable[..., Any]
    """`leaf(x, requires_grad=True)`: a scalar input or parameter holding the float x."""
    backward: Callable[[Any], None]
    data: Callable[[Any], float]
    grad: Callable[[Any], float]
    sgd: Callable[[Sequence[Any], float], None]
    """`sgd(params, lr)`: p.data -= lr * p.grad, then reset p's gradient."""
    count_nodes: Callable[[Any], tuple[int, int]]
    """(all graph objects, op nodes) reachable from a root, in the engine's own terms."""
    no_grad: Callable[[], contextlib.AbstractContextManager[Any]] | None = None
    notes: list[str] = field(default_factory=list)


def _walk_count(root: Any, children: Callable[[Any], Sequence[Any]]) -> tuple[int, int]:
    """(nodes, nodes with children) reachable from root, iteratively, each counted once."""
    seen = {id(root)}
    keep = [root]  # hold references so ids stay unique during the walk
    stack = [root]
    ops = 0
    while stack:
        kids = children(stack.pop())
        if kids:
            ops += 1
        for k in kids:
            if id(k) not in seen:
                seen.add(id(k))
                keep.append(k)
                stack.append(k)
    return len(seen), ops


def make_autograd_lite() -> Engine:
    """The engine under test (the editable install of this checkout)."""
    import autograd_lite as al
    from autograd_lite import Value

    def sgd(params: Sequence[Any], lr: float) -> None:
        for p in params:
            p.data -= lr * p.grad
            p.grad = 0.0

    def count(root: Any) -> tuple[int, int]:
        nodes = al.graph_nodes(root)
        return len(nodes), sum(1 for n in nodes if n.operands)

    def backward(root: Any) -> None:
        root.backward()

    return Engine(
        name="autograd-lite",
        version=f"{al.__version__} ({_git_state()})",
        leaf=lambda x, requires_grad=True: Value(x),
        backward=backward,
        data=lambda v: v.data,
        grad=lambda v: v.grad,
        sgd=sgd,
        count_nodes=count,
        no_grad=al.no_grad,
    )


def make_micrograd() -> Engine | None:
    """micrograd 0.1.0 with exp/tanh/sigmoid added in its own closure style (micrograd_ext)."""
    try:
        from micrograd.engine import Value
    except ImportError:
        return None
    import micrograd_ext

    added = micrograd_ext.install()

    def sgd(params: Sequence[Any], lr: float) -> None:
        for p in params:
            p.data -= lr * p.grad
            p.grad = 0

    def backward(root: Any) -> None:
        root.backward()

    engine = Engine(
        name="micrograd",
        version=importlib.metadata.version("micrograd"),
        leaf=lambda x, requires_grad=True: Value(x),
        backward=backward,
        data=lambda v: float(v.data),
        grad=lambda v: float(v.grad),
        sgd=sgd,
        count_nodes=lambda root: _walk_count(root, lambda v: tuple(v._prev)),
    )
    if added:
        engine.notes.append(
            f"micrograd 0.1.0 lacks {', '.join(added)}: added for the benchmark in its own "
            "closure style (bench/micrograd_ext.py)"
        )
    engine.notes.append("micrograd records a - b as a + b*(-1) (its own __sub__)")
    return engine


def make_torch() -> Engine | None:
    """PyTorch on 0-d float64 tensors with requires_grad, one thread."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)

    def leaf(x: float, requires_grad: bool = True) -> Any:
        return torch.tensor(x, dtype=torch.float64, requires_grad=requires_grad)

    def sgd(params: Sequence[Any], lr: float) -> None:
        with torch.no_grad():
            for p in params:
                p.sub_(p.grad, alpha=lr)
                p.grad = None

    def grad(v: Any) -> float:
        return 0.0 if v.grad is None else float(v.grad.item())

    def children(fn: Any) -> tuple[Any, ...]:
        return tuple(f for f, _ in fn.next_functions if f is not None)

    def count(root: Any) -> tuple[int, int]:
        if root.grad_fn is None:
            return 1, 0
        return _walk_count(root.grad_fn, children)

    def backward(root: Any) -> None:
        root.backward()

    return Engine(
        name="torch",
        version=f"{torch.__version__}, {torch.get_num_threads()} thread",
        leaf=leaf,
        backward=backward,
        data=lambda v: float(v.item()),
        grad=grad,
        sgd=sgd,
        count_nodes=count,
        no_grad=torch.no_grad,
        notes=["torch: 0-d float64 tensors; numbers mixed in are wrapped scalars, not tensors"],
    )


ENGINE_FACTORIES: dict[str, Callable[[], Engine | None]] = {
    "autograd-lite": make_autograd_lite,
    "micrograd": make_micrograd,
    "torch": make_torch,
}


def _git_state() -> str:
    """The checkout's commit, with "+modified" if autograd_lite/ has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO_DIR), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_DIR), "status", "--porcelain", "--", "autograd_lite"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "git unknown"
    return f"git {head}{' +modified' if dirty else ''}"


# ----------------------------------------------------------------------------------------------
# Generic builders: the same expression for every engine (Value arithmetic and a leaf factory).
# ----------------------------------------------------------------------------------------------
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
# Timing harness
# ----------------------------------------------------------------------------------------------
class PhaseTimer:
    """Times named phases of one sample; remembers the phase an exception escaped from."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self.phase = ""

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        """Time the block as phase `name` (accumulating if the phase repeats)."""
        self.phase = name
        t0 = time.perf_counter()
        yield
        self.times[name] = self.times.get(name, 0.0) + time.perf_counter() - t0


Runner = Callable[[PhaseTimer], None]


@dataclass
class Workload:
    """One row group of the table: a runner per engine, which phases make up its total."""

    key: str
    title: str
    runners: dict[str, Runner]
    total_phases: tuple[str, ...]
    repeats: int
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Result:
    """One engine's samples on one workload."""

    totals: list[float] = field(default_factory=list)
    phases: dict[str, list[float]] = field(default_factory=dict)
    error: str | None = None

    @property
    def median(self) -> float | None:
        """Median of the totals, or None if no sample completed."""
        return statistics.median(self.totals) if self.totals else None

    def as_json(self) -> dict[str, Any]:
        """Plain-data form for --json."""
        return {
            "median_s": self.median,
            "min_s": min(self.totals) if self.totals else None,
            "samples_s": self.totals,
            "phase_medians_s": {k: statistics.median(v) for k, v in self.phases.items()},
            "error": self.error,
        }


def run_workload(wl: Workload, disable_gc: bool, log: Callable[[str], None]) -> dict[str, Result]:
    """Run every engine's runner `wl.repeats` times, interleaved (order rotates each repeat)."""
    names = list(wl.runners)
    results = {name: Result() for name in names}
    for r in range(wl.repeats):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            res = results[name]
            if res.error is not None:
                continue  # a failure (RecursionError) is deterministic: don't repeat it
            gc.collect()
            timer = PhaseTimer()
            if disable_gc:
                gc.disable()
            try:
                wl.runners[name](timer)
            except RecursionError as exc:
                done = ", ".join(f"{k} {fmt_time(v)}" for k, v in timer.times.items())
                res.error = (
                    f"RecursionError in {timer.phase or 'run'}"
                    f" (limit {sys.getrecursionlimit()}){'; ' + done if done else ''}: {exc}"
                )
                log(f"  {wl.key} {name}: {res.error}")
                continue
            finally:
                gc.enable()
            total = sum(timer.times.get(p, 0.0) for p in wl.total_phases)
            res.totals.append(total)
            for k, v in timer.times.items():
                res.phases.setdefault(k, []).append(v)
            log(f"  {wl.key} repeat {r + 1}/{wl.repeats} {name}: {fmt_time(total)}")
    return results


def calibrated(fn: Callable[[], object], target_s: float) -> Runner:
    """A runner timing `fn` in a loop long enough (~target_s) to time a microsecond-scale call."""
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    t0 = time.perf_counter()
    for _ in range(3):
        fn()
    once = min(once, (time.perf_counter() - t0) / 3)
    number = max(1, int(target_s / once))

    def run(t: PhaseTimer) -> None:
        with t("total"):
            for _ in range(number):
                fn()
        t.times["total"] /= number

    return run


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


# ----------------------------------------------------------------------------------------------
# Memory (fresh subprocess per engine and method)
# ----------------------------------------------------------------------------------------------
def _rss_bytes() -> int:
    """Current resident set size (Linux /proc), or 0 where unavailable."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


class _RssSampler:
    """Samples RSS every millisecond in a thread while the block runs; `.peak` is the maximum."""

    def __init__(self) -> None:
        self.peak = _rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, _rss_bytes())

    def __enter__(self) -> _RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())


def mem_child(engine_name: str, method: str, n: int) -> dict[str, Any]:
    """In a fresh process: bytes held by W3's graph of size n, and the peak over backward."""
    engine = ENGINE_FACTORIES[engine_name]()
    assert engine is not None
    warm, _ = build_w3(engine.leaf, 100)  # import-time and first-use allocations happen here
    engine.backward(warm)
    del warm
    gc.collect()
    out: dict[str, Any] = {"engine": engine_name, "method": method, "n": n}
    if method == "tracemalloc":
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        y, _x = build_w3(engine.leaf, n)
        out["graph_bytes"] = tracemalloc.get_traced_memory()[0] - base
        try:
            engine.backward(y)
            out["after_backward_bytes"] = tracemalloc.get_traced_memory()[0] - base
        except RecursionError:
            out["backward_error"] = "RecursionError"
        out["peak_bytes"] = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    else:
        base = _rss_bytes()
        with _RssSampler() as sampler:
            y, _x = build_w3(engine.leaf, n)
            out["graph_bytes"] = _rss_bytes() - base
            try:
                engine.backward(y)
                out["after_backward_bytes"] = _rss_bytes() - base
            except RecursionError:
                out["backward_error"] = "RecursionError"
        out["peak_bytes"] = sampler.peak - base
    if engine_name == "torch":
        # Walking a deep torch graph from Python creates a wrapper per autograd node, and the
        # graph's teardown then overflows the C stack (segfault at N = 2e5); don't walk it.
        out["graph_objects"], out["op_objects"] = None, None
    else:
        out["graph_objects"], out["op_objects"] = engine.count_nodes(y)
    return out


def memory_section(
    engine_names: list[str], args: argparse.Namespace, log: Callable[[str], None]
) -> list[dict[str, Any]]:
    """Run mem_child for each engine: tracemalloc for Python engines, RSS for all."""
    rows = []
    for name in engine_names:
        methods = ["rss"] if name == "torch" else ["tracemalloc", "rss"]
        for method in methods:
            cmd = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--mem-child",
                name,
                "--mem-method",
                method,
                "--n-mem",
                str(args.n_mem),
            ]
            log(f"  MEM {name} {method} N={args.n_mem:,}")
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
            if proc.returncode != 0:
                rows.append({"engine": name, "method": method, "error": proc.stderr[-500:]})
                continue
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return rows


# ----------------------------------------------------------------------------------------------
# Reporting
# ----------------------------------------------------------------------------------------------
def fmt_time(s: float | None) -> str:
    """Seconds in a readable unit."""
    if s is None:
        return "-"
    if s < 1e-6:
        return f"{s * 1e9:.0f} ns"
    if s < 1e-3:
        return f"{s * 1e6:.2f} µs"
    if s < 1.0:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def fmt_ratio(mine: float, other: float, me: str, them: str) -> str:
    """'me is 3.2x faster than them' (or slower)."""
    r = other / mine
    if r >= 1:
        return f"{me} is {r:.2f}x faster than {them}"
    return f"{me} is {1 / r:.2f}x slower than {them}"


def report_workload(wl: Workload, results: dict[str, Result], out: Callable[[str], None]) -> None:
    """The workload's table: median, min, x hand, phase medians; then the ratios."""
    out("")
    out(f"{wl.key}  {wl.title}")
    out(f"  ({wl.repeats} repeats; median and min of the total; phases are medians)")
    hand = results.get(HAND)
    hand_med = hand.median if hand else None
    out(f"  {'engine':<26}{'median':>11}{'min':>11}{'x hand':>9}   phases")
    for name, res in results.items():
        if res.error is not None and not res.totals:
            out(f"  {name:<26}{'FAILED':>11}   {res.error[:150]}")
            continue
        med = res.median
        assert med is not None
        xh = f"{med / hand_med:.1f}x" if hand_med and name != HAND else ""
        phases = ", ".join(
            f"{k} {fmt_time(statistics.median(v))}" for k, v in res.phases.items() if k != "total"
        )
        out(f"  {name:<26}{fmt_time(med):>11}{fmt_time(min(res.totals)):>11}{xh:>9}   {phases}")
    mine = results.get("autograd-lite") or results.get("autograd-lite (graph)")
    if mine is not None and mine.median:
        base = "autograd-lite"
        for name, res in results.items():
            if name.startswith(base) or name == HAND or not res.median:
                continue
            if wl.key == "W2-eval" and "no_grad" in name:
                continue
            out(f"  -> {fmt_ratio(mine.median, res.median, base, name)}")
    if wl.key == "W2-eval":
        for name in results:
            if name.endswith("(graph)"):
                ng = results.get(name.replace("(graph)", "(no_grad)"))
                g = results[name].median
                if ng is not None and ng.median and g:
                    eng = name.replace(" (graph)", "")
                    out(
                        f"  -> {eng}: no_grad forward is {g / ng.median:.2f}x faster than "
                        "with a graph"
                    )
    for note in wl.notes:
        out(f"  note: {note}")


def report_memory(rows: list[dict[str, Any]], n: int, out: Callable[[str], None]) -> None:
    """Bytes per node of W3's graph for each engine and method."""
    all_nodes, op_nodes = 4 * n + 1, 2 * n
    out("")
    out(f"MEM  bytes held by W3's graph (N = {n:,}), each engine in a fresh process")
    out("  node = one Value of the expression: leaf x, each op result, and each number mixed in")
    out(f"  (a constant leaf): {all_nodes:,} nodes, {op_nodes:,} of them op nodes (* and +).")
    out("  The same logical counts are used for every engine. tracemalloc sees Python objects")
    out("  only; torch allocates in C++, so it is measured as the RSS delta (less precise).")
    out(
        f"  {'engine':<15}{'method':<13}{'graph':>10}{'B/node':>9}{'B/op-node':>11}"
        f"{'after bwd B/node':>18}{'peak':>10}   own objects"
    )
    for row in rows:
        if "error" in row:
            out(f"  {row['engine']:<15}{row['method']:<13}FAILED: {row['error'][-200:]}")
            continue
        gb = row["graph_bytes"]
        after = row.get("after_backward_bytes")
        after_s = f"{after / all_nodes:.0f}" if after is not None else row.get("backward_error")
        peak = row.get("peak_bytes")
        peak_s = f"{peak / 2**20:.1f} MB" if peak else "-"
        out(
            f"  {row['engine']:<15}{row['method']:<13}{gb / 2**20:>7.1f} MB{gb / all_nodes:>9.0f}"
            f"{gb / op_nodes:>11.0f}{after_s:>18}{peak_s:>10}   "
            + (
                f"{row['graph_objects']:,} ({row['op_objects']:,} with operands)"
                if row["graph_objects"] is not None
                else "not walked"
            )
        )


def check_targets(
    res: dict[str, dict[str, Result]],
    mem: list[dict[str, Any]],
    args: argparse.Namespace,
    out: Callable[[str], None],
) -> list[dict[str, Any]]:
    """Issue 7's targets for autograd-lite, each with its measured value and PASS/FAIL."""
    checks: list[dict[str, Any]] = []

    def med(key: str, name: str) -> float | None:
        r = res.get(key, {}).get(name)
        return r.median if r else None

    def add(target: str, value: str, ok: bool | None) -> None:
        checks.append({"target": target, "value": value, "ok": ok})

    def speedup(key: str, other: str, want: float, label: str) -> None:
        a, b = med(key, "autograd-lite"), med(key, other)
        if key not in res:
            return
        if a is None or b is None:
            add(label, "not measured", None)
        else:
            add(label, f"{b / a:.2f}x", b / a >= want)

    speedup("W1", "micrograd", 3, "W1 >= 3x faster than micrograd")
    speedup("W2", "micrograd", 6, "W2 >= 6x faster than micrograd")
    speedup("W2", "torch", 6, "W2 >= 6x faster than torch")
    if "W3" in res:
        r = res["W3"].get("autograd-lite")
        size = "" if args.n_chain == 1_000_000 else f" (N = {args.n_chain:,}, not 1e6)"
        if r is not None:
            add(
                f"W3 completes at the default recursion limit{size}",
                r.error or "completes",
                r.error is None and bool(r.totals),
            )
            a, h = r.median, med("W3", HAND)
            if a is not None and h is not None:
                add(f"W3 <= 40x the hand baseline{size}", f"{a / h:.1f}x", a / h <= 40)
    for row in mem:
        if row.get("engine") == "autograd-lite" and row.get("method") == "tracemalloc":
            if "graph_bytes" in row:
                per = row["graph_bytes"] / (4 * row["n"] + 1)
                add(
                    f"W3 <= 150 bytes per node (N = {row['n']:,}, tracemalloc)",
                    f"{per:.0f} B/node ({row['graph_bytes'] / (2 * row['n']):.0f} B/op-node)",
                    per <= 150,
                )
    if "W4" in res:
        r = res["W4"].get("autograd-lite")
        if r is not None:
            add("W4 completes", r.error or "completes", r.error is None and bool(r.totals))
    if "W2-eval" in res:
        g, ng = med("W2-eval", "autograd-lite (graph)"), med("W2-eval", "autograd-lite (no_grad)")
        if g is not None and ng is not None:
            add("no_grad W2 forward >= 2x faster than with a graph", f"{g / ng:.2f}x", g / ng >= 2)
    out("")
    out("Issue 7 targets (autograd-lite)")
    for c in checks:
        verdict = {True: "PASS", False: "FAIL", None: "n/a"}[c["ok"]]
        out(f"  {verdict:<5} {c['target']:<62} {c['value']}")
    return checks


def machine_line() -> str:
    """CPU, core count, OS, Python and package versions."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"numpy {np.__version__}"
    )


# ----------------------------------------------------------------------------------------------
# Profiling
# ----------------------------------------------------------------------------------------------
def profile(workload: str, args: argparse.Namespace, out: Callable[[str], None]) -> None:
    """cProfile autograd-lite on W2 (one step) or W3 (build + backward); print the top functions."""
    e = make_autograd_lite()
    prof = cProfile.Profile()
    if workload == "W2":
        weights, xs, ys = w2_setup(args)
        model = make_model(e.leaf, weights)
        params = model_params(model)
        prof.enable()
        for _ in range(args.profile_steps):
            loss = w2_loss(model, e.leaf, xs, ys)
            e.backward(loss)
            e.sgd(params, W2_LR)
        prof.disable()
        what = f"W2, {args.profile_steps} steps of {args.points} points"
    elif workload == "W3":
        prof.enable()
        y, _ = build_w3(e.leaf, args.n_chain)
        e.backward(y)
        prof.disable()
        del y
        what = f"W3, N = {args.n_chain:,}"
    else:
        raise SystemExit(f"--profile takes W2 or W3, not {workload!r}")
    stats = pstats.Stats(prof)
    entries = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in entries.values())
    out(f"cProfile of autograd-lite on {what}: {total:.2f} s of own time (profiled; cProfile")
    out("inflates per-call overhead, so read shares, not absolute times)")
    out(f"  {'ncalls':>10}{'tottime':>9}{'share':>7}{'cumtime':>9}  function")
    rows = sorted(entries.items(), key=lambda kv: kv[1][2], reverse=True)[: args.profile_top]
    for (file, line, func), (_cc, nc, tt, ct, _callers) in rows:
        where = f"{Path(file).parent.name}/{Path(file).name}:{line}" if line else file
        out(f"  {nc:>10,}{tt:>9.3f}{tt / total:>7.1%}{ct:>9.3f}  {func}  ({where})")


# ----------------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options (see --help)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke run under a minute")
    p.add_argument("--repeats", type=int, default=None, help="samples per engine (default 7)")
    p.add_argument("--w3-repeats", type=int, default=None, help="samples for W3 (default 3)")
    p.add_argument(
        "--only",
        default=",".join(WORKLOADS),
        help=f"comma-separated workloads, from {','.join(WORKLOADS)}",
    )
    p.add_argument(
        "--engines",
        default=",".join(ENGINE_ORDER),
        help="comma-separated, from autograd-lite,micrograd,torch,hand",
    )
    p.add_argument("--points", type=int, default=None, help="W2 data points (default 100)")
    p.add_argument("--n-chain", type=int, default=None, help="W3 chain length (default 1e6)")
    p.add_argument("--n-sum", type=int, default=None, help="W4 products (default 1e5)")
    p.add_argument(
        "--n-mem",
        type=int,
        default=None,
        help="chain length for the memory measurement (default min(N, 2e5))",
    )
    p.add_argument(
        "--micrograd-raise-limit",
        action="store_true",
        help="also run micrograd's W3 backward with a raised recursion limit (slow)",
    )
    p.add_argument(
        "--disable-gc",
        action="store_true",
        help="switch the cyclic GC off inside timed samples (default: on, as users run)",
    )
    p.add_argument("--json", type=Path, default=None, help="also write the results to this file")
    p.add_argument(
        "--profile",
        default=None,
        metavar="W2|W3",
        help="instead of benchmarking, cProfile autograd-lite on W2 or W3",
    )
    p.add_argument("--profile-steps", type=int, default=3, help="W2 steps under --profile")
    p.add_argument("--profile-top", type=int, default=20, help="functions listed by --profile")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--mem-child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--mem-method", default="tracemalloc", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    quick = args.quick
    args.repeats = args.repeats or (3 if quick else 7)
    args.w3_repeats = args.w3_repeats or (min(3, args.repeats) if quick else 3)
    args.points = args.points or (20 if quick else 100)
    args.n_chain = args.n_chain or (10_000 if quick else 1_000_000)
    args.n_sum = args.n_sum or (10_000 if quick else 100_000)
    args.n_mem = args.n_mem or min(args.n_chain, 200_000)
    args.w1_target = 0.02 if quick else 0.1
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected workloads on the selected engines and print the report."""
    args = parse_args(argv)
    if args.mem_child:
        print(json.dumps(mem_child(args.mem_child, args.mem_method, args.n_mem)))
        return 0

    def out(line: str) -> None:
        print(line, flush=True)

    def log(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    if args.profile:
        profile(args.profile, args, out)
        return 0

    wanted = [w.strip() for w in args.engines.split(",") if w.strip()]
    only = [w.strip() for w in args.only.split(",") if w.strip()]
    for w in only:
        if w not in WORKLOADS:
            raise SystemExit(f"unknown workload {w!r}; choose from {', '.join(WORKLOADS)}")
    engines: list[Engine] = []
    missing = []
    for name in wanted:
        if name == HAND:
            continue
        if name not in ENGINE_FACTORIES:
            raise SystemExit(f"unknown engine {name!r}; choose from {', '.join(ENGINE_ORDER)}")
        eng = ENGINE_FACTORIES[name]()
        if eng is None:
            missing.append(name)
        else:
            engines.append(eng)
    args.with_hand = HAND in wanted

    out("autograd-lite benchmark (issue 7)")
    out(f"machine: {machine_line()}")
    for e in engines:
        out(f"engine: {e.name} {e.version}")
    for name in missing:
        out(f"engine: {name} not installed, skipped")
    out(
        f"recursion limit: {DEFAULT_RECURSION_LIMIT} (default, unchanged"
        f"{'' if not args.micrograd_raise_limit else ' except the micrograd raised-limit row'})"
        f"; cyclic GC {'off' if args.disable_gc else 'on'} in timed samples"
    )
    for e in engines:
        for note in e.notes:
            out(f"note: {note}")

    builders: dict[str, Callable[[list[Engine], argparse.Namespace], Workload]] = {
        "W1": w1_workload,
        "W2": w2_workload,
        "W2-eval": w2_eval_workload,
        "W3": w3_workload,
        "W4": w4_workload,
    }
    all_results: dict[str, dict[str, Result]] = {}
    report: dict[str, Any] = {
        "machine": machine_line(),
        "engines": {e.name: e.version for e in engines},
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "workloads": {},
    }
    for key in WORKLOADS:
        if key not in only or key == "MEM":
            continue
        log(f"{key} ...")
        wl = builders[key](engines, args)
        results = run_workload(wl, args.disable_gc, log)
        all_results[key] = results
        report_workload(wl, results, out)
        report["workloads"][key] = {
            "title": wl.title,
            "repeats": wl.repeats,
            "notes": wl.notes,
            "extra": wl.extra,
            "results": {k: v.as_json() for k, v in results.items()},
        }
    mem_rows: list[dict[str, Any]] = []
    if "MEM" in only and engines:
        log("MEM ...")
        mem_rows = memory_section([e.name for e in engines], args, log)
        report_memory(mem_rows, args.n_mem, out)
        report["memory"] = {"n": args.n_mem, "rows": mem_rows}
    report["targets"] = check_targets(all_results, mem_rows, args, out)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2))
        out(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
