"""The compiled workloads: compile_grad's functions against hand-written float code.

    .venv/bin/python bench/codegen.py              # W1, W2, W3 (about a minute)
    .venv/bin/python bench/codegen.py --quick      # a smoke run
    .venv/bin/python bench/codegen.py --only W2 --repeats 11

The same graphs as bench/bench.py (workloads.py builds them, data.py seeds W2), compiled once
by `compile_grad` and then called on the leaves' values, against the hand-written baselines
of workloads.py and against autograd-lite building the graph and calling backward():
- W1, the document's network: one call, `f(x, y, w1, b1, w2, b2)`, per sample a loop
  calibrated to about 0.1 s (target: at most 2x the hand-written code);
- W2, MLP(2, [16, 16, 1]) on the moons: one SGD step (the compiled call, then p -= lr * g
  on the values) against hand_w2_step (target: at most 2x), and compiling in interpreted
  steps (target: at most 20); compiling is timed with the graph it compiles already built,
  and also with that build;
- W3, the chain x -> x * 1.0001 + 0.0001 of N = 1e5 links: compiling and one call, against
  the hand-written loops.
Everything runs in this one process, in interleaved repeats (every row once per repeat, the
order rotating), with gc.collect() before each sample; medians are shown, and ratios of
medians from the same run. Every compiled result is first checked against backward()'s,
bit for bit.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's package

from data import w2_data
from measure import fmt_time
from workloads import (
    W1_INPUTS,
    W2_LR,
    build_w1,
    build_w3,
    hand_w1,
    hand_w2_step,
    hand_w3,
    make_model,
    model_params,
    w2_loss,
)

from autograd_lite import Value, compile_grad, grad

Sample = Callable[[], float]
"""Runs once and returns the seconds of what it timed."""


def leaf(x: float, requires_grad: bool = True) -> Value:
    """The leaf factory of workloads.py's builders (data points too are plain Values)."""
    return Value(x)


def timed(fn: Callable[[], object]) -> Sample:
    def run() -> float:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    return run


def looped(fn: Callable[[], object], target_s: float) -> Sample:
    """A sample of a microsecond-scale call: a loop of about target_s, per call."""
    t0 = time.perf_counter()
    for _ in range(10):
        fn()
    number = max(1, int(target_s / max((time.perf_counter() - t0) / 10, 1e-8)))

    def run() -> float:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        return (time.perf_counter() - t0) / number

    return run


def interleaved(rows: dict[str, Sample], repeats: int) -> dict[str, float]:
    """Each row's median over `repeats` rounds, rows rotating within a round."""
    names = list(rows)
    found: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            gc.collect()
            found[name].append(rows[name]())
    return {name: median(times) for name, times in found.items()}


def table(title: str, times: dict[str, float], base: str, notes: list[str]) -> None:
    print(f"\n{title}")
    for name, t in times.items():
        print(f"  {name:44s} {fmt_time(t):>10s}   {t / times[base]:6.2f}x {base}")
    for note in notes:
        print(f"  {note}")


def w1(repeats: int, target: float) -> None:
    loss, leaves = build_w1(leaf)
    f = compile_grad(loss, leaves)
    values = list(W1_INPUTS.values())
    got = f(*values)
    assert got == (loss.data, tuple(grad(loss, leaves))), "W1: compiled != backward()"

    def interpreted() -> None:
        loss, _ = build_w1(leaf)
        loss.backward()

    times = interleaved(
        {
            "hand-written floats": looped(hand_w1, target),
            "compile_grad's function": looped(lambda: f(*values), target),
            "autograd-lite: build + backward": looped(interpreted, target),
        },
        repeats,
    )
    ratio = times["compile_grad's function"] / times["hand-written floats"]
    table(
        "W1 the document's network, one call (forward + backward)",
        times,
        "hand-written floats",
        [f"compiled / hand = {ratio:.2f} (target <= 2)"],
    )


def w2(repeats: int, points: int) -> None:
    weights, xs, ys = w2_data(points)
    model = make_model(leaf, weights)
    params = model_params(model)
    loss = w2_loss(model, leaf, xs, ys)
    f = compile_grad(loss, params)
    got = f(*[p.data for p in params])
    assert got == (loss.data, tuple(grad(loss, params))), "W2: compiled != backward()"
    del loss
    values = [p.data for p in params]
    hand_weights = [[[list(ws), b] for ws, b in layer] for layer in weights]

    def compiled_step() -> None:
        _, grads = f(*values)
        for i, g in enumerate(grads):
            values[i] -= W2_LR * g

    def interpreted_step() -> None:
        loss = w2_loss(model, leaf, xs, ys)
        loss.backward()
        for p in params:
            p.data -= W2_LR * p.grad
            p.grad = 0.0

    built = w2_loss(model, leaf, xs, ys)

    def compiling() -> None:
        compile_grad(built, params)

    def building_and_compiling() -> None:
        compile_grad(w2_loss(model, leaf, xs, ys), params)

    times = interleaved(
        {
            "hand-written floats: one step": timed(
                lambda: hand_w2_step(hand_weights, xs, ys, W2_LR)
            ),
            "compile_grad's function: one step": timed(compiled_step),
            "autograd-lite: one step (build, backward)": timed(interpreted_step),
            "compile_grad (the graph built)": timed(compiling),
            "build the graph + compile_grad": timed(building_and_compiling),
        },
        repeats,
    )
    step = times["autograd-lite: one step (build, backward)"]
    ratio = times["compile_grad's function: one step"] / times["hand-written floats: one step"]
    table(
        f"W2 MLP(2, [16, 16, 1]) on {points} points: one SGD step, and compiling",
        times,
        "hand-written floats: one step",
        [
            f"compiled step / hand step = {ratio:.2f} (target <= 2)",
            f"compile_grad = {times['compile_grad (the graph built)'] / step:.1f} interpreted "
            f"steps; with building the graph {times['build the graph + compile_grad'] / step:.1f}"
            f" (target <= 20)",
        ],
    )


def w3(repeats: int, n: int) -> None:
    y, x = build_w3(leaf, n)
    t0 = time.perf_counter()
    f = compile_grad(y, [x])
    first = time.perf_counter() - t0
    got = f(1.0)
    assert got == (y.data, (grad(y, [x])[0],)), "W3: compiled != backward()"

    def interpreted() -> None:
        y, _ = build_w3(leaf, n)
        y.backward()

    def compiling() -> None:
        compile_grad(y, [x])

    times = interleaved(
        {
            "hand-written floats: forward + backward": timed(lambda: hand_w3(n)),
            "compile_grad's function: one call": timed(lambda: f(1.0)),
            "autograd-lite: build + backward": timed(interpreted),
            "compile_grad": timed(compiling),
        },
        repeats,
    )
    table(
        f"W3 chain x -> x*1.0001+0.0001, N = {n:,} ({4 * n + 1:,} nodes)",
        times,
        "hand-written floats: forward + backward",
        [f"the first compile_grad took {fmt_time(first)}"],
    )


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="3 repeats, 20 points, N = 1e4")
    p.add_argument("--repeats", type=int, default=None, help="samples per row (default 7)")
    p.add_argument("--only", default="W1,W2,W3", help="comma-separated, from W1,W2,W3")
    p.add_argument("--points", type=int, default=None, help="W2 data points (default 100)")
    p.add_argument("--n-chain", type=int, default=None, help="W3 chain length (default 1e5)")
    args = p.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 7)
    points = args.points or (20 if args.quick else 100)
    n = args.n_chain or (10_000 if args.quick else 100_000)
    print(f"Python {sys.version.split()[0]}; {repeats} repeats; medians")
    chosen = args.only.split(",")
    if "W1" in chosen:
        w1(repeats, 0.1)
    if "W2" in chosen:
        w2(repeats, points)
    if "W3" in chosen:
        w3(repeats, n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
