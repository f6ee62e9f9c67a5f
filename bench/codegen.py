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
Everything runs in this one process, in measure.py's interleaved repeats (every row once per
repeat, the order rotating), with gc.collect() before each sample; report.py's table gives
medians, and ratios of medians from the same run. Every compiled result is first checked
against backward()'s, bit for bit.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's package

from data import w2_data
from measure import Result, Runner, calibrated, fmt_time, in_process, interleave, once
from report import report_table
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


def leaf(x: float, requires_grad: bool = True) -> Value:
    """The leaf factory of workloads.py's builders (data points too are plain Values)."""
    return Value(x)


def interleaved(title: str, rows: dict[str, Runner], repeats: int) -> dict[str, Result]:
    """measure.py's interleaved repeats of the rows, in this process; the table (the first
    row is the hand-written baseline); the results."""
    results = interleave(title, {n: in_process(r, False) for n, r in rows.items()}, repeats, _quiet)
    how = f"{repeats} repeats, interleaved; median and min"
    report_table(title, how, results, print, base=next(iter(rows)))
    return results


def _quiet(line: str) -> None:
    """No progress lines: the runs are short."""


def median(results: dict[str, Result], row: str) -> float:
    """The row's median (every row here completes: a failure raises)."""
    found = results[row].median
    assert found is not None, row
    return found


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
        "W1 the document's network, one call (forward + backward)",
        {
            "hand-written floats": calibrated(hand_w1, target),
            "compile_grad's function": calibrated(lambda: f(*values), target),
            "autograd-lite: build + backward": calibrated(interpreted, target),
        },
        repeats,
    )
    ratio = median(times, "compile_grad's function") / median(times, "hand-written floats")
    print(f"  compiled / hand = {ratio:.2f} (target <= 2)")


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
        f"W2 MLP(2, [16, 16, 1]) on {points} points: one SGD step, and compiling",
        {
            "hand-written floats: one step": once(
                lambda: hand_w2_step(hand_weights, xs, ys, W2_LR)
            ),
            "compile_grad's function: one step": once(compiled_step),
            "autograd-lite: one step (build, backward)": once(interpreted_step),
            "compile_grad (the graph built)": once(compiling),
            "build the graph + compile_grad": once(building_and_compiling),
        },
        repeats,
    )
    step = median(times, "autograd-lite: one step (build, backward)")
    compiled = median(times, "compile_grad's function: one step")
    hand = median(times, "hand-written floats: one step")
    print(f"  compiled step / hand step = {compiled / hand:.2f} (target <= 2)")
    compiling_s = median(times, "compile_grad (the graph built)")
    with_build_s = median(times, "build the graph + compile_grad")
    print(
        f"  compile_grad = {compiling_s / step:.1f} interpreted steps; with building the graph "
        f"{with_build_s / step:.1f} (target <= 20)"
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

    interleaved(
        f"W3 chain x -> x*1.0001+0.0001, N = {n:,} ({4 * n + 1:,} nodes)",
        {
            "hand-written floats: forward + backward": once(lambda: hand_w3(n)),
            "compile_grad's function: one call": once(lambda: f(1.0)),
            "autograd-lite: build + backward": once(interpreted),
            "compile_grad": once(compiling),
        },
        repeats,
    )
    print(f"  the first compile_grad took {fmt_time(first)}")


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
