"""Timing the tensor workloads in one process: the correctness check before timing, calibrated
loops of whole steps with their phases, the repeat count, and the interleaved repeats.

The phase timers, samples and medians are bench/measure.py's; what differs from the scalar
bench is that every engine lives in this one process (the issue asks for it: a tensor step
allocates a handful of Python objects, so the cyclic collector has little to walk) and that a
sample is a loop of k steps, k chosen per engine so that a sample lasts about `target_s`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from measure import PhaseTimer, Result, Runner, fmt_time, time_sample
from tensor_engines import Params, Trainer

RTOL = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-10}
"""How closely an engine's loss and updated weights must agree with the hand step's."""


class Disagreement(AssertionError):
    """An engine's step does not match the hand-written step: its timings would mean nothing."""


def _rel(got: np.ndarray, want: np.ndarray) -> float:
    """max |got - want| / max |want|: a relative error at the array's own scale."""
    scale = float(np.max(np.abs(want))) or 1.0
    return float(np.max(np.abs(np.asarray(got, dtype=np.float64) - want))) / scale


def check_against(ref: Trainer, other: Trainer, init: Params, rtol: float) -> str:
    """Compare `other`'s loss, updated weights and updates (new - initial) with `ref`'s.

    Both must have made exactly one step from `init`. The updates are compared too because
    lr * grad is small next to the weights: a wrong gradient could hide under the weights'
    tolerance. Raises `Disagreement` naming the worst array; returns a one-line note.
    """
    want_loss, got_loss = ref.loss(), other.loss()
    worst = {"loss": abs(got_loss - want_loss) / max(abs(want_loss), 1e-30)}
    names = ["W1", "b1", "W2", "b2", "W3", "b3"]
    for name, g, w, p0 in zip(names, other.params(), ref.params(), init):
        if g.shape != w.shape:
            raise Disagreement(
                f"{other.name}: {name} has shape {g.shape}, the hand step's {w.shape}"
            )
        worst[name] = _rel(g, w)
        worst[f"update of {name}"] = _rel(np.asarray(g, np.float64) - p0, w.astype(np.float64) - p0)
    key = max(worst, key=lambda k: worst[k])
    if not worst[key] <= rtol:  # also catches NaN
        raise Disagreement(
            f"{other.name} disagrees with the {ref.name} step after one step: {key} differs by "
            f"{worst[key]:.2e} relative (tolerance {rtol:g}); loss {got_loss!r} vs {want_loss!r}"
        )
    return f"{other.name}: matches the {ref.name} step (worst: {key}, {worst[key]:.1e} relative)"


def check_finite(trainer: Trainer) -> str | None:
    """After timing: a note if the engine's loss or weights stopped being finite (NaN or
    infinity, whose arithmetic can be slower), else None."""
    if math.isfinite(trainer.loss()) and all(np.isfinite(p).all() for p in trainer.params()):
        return None
    return f"{trainer.name}: loss or weights are not finite after the timed steps"


@dataclass
class Calibrated:
    """A runner timing k steps of a trainer (each phase summed, then divided by k)."""

    runner: Runner
    k: int
    step_s: float
    """One step's time during calibration (after warm-up)."""


def calibrate(trainer: Trainer, target_s: float, warmup: int = 2) -> Calibrated:
    """Warm up, time a step, and make a runner of k steps, k such that a sample takes ~target_s."""
    for _ in range(warmup):
        trainer.step()
    t0 = time.perf_counter()
    trainer.step()
    once = time.perf_counter() - t0
    t0 = time.perf_counter()
    n = max(1, min(20, int(0.2 * target_s / max(once, 1e-9))))
    for _ in range(n):
        trainer.step()
    once = min(once, (time.perf_counter() - t0) / n)
    k = max(1, round(target_s / once))
    phases = trainer.phases
    clock = time.perf_counter

    def run(t: PhaseTimer) -> None:
        acc = [0.0] * len(phases)
        for _ in range(k):
            state = None
            for i, (_, fn) in enumerate(phases):
                t0 = clock()
                state = fn(state)
                acc[i] += clock() - t0
        for (name, _), s in zip(phases, acc):
            t.times[name] = s / k

    return Calibrated(run, k, once)


def choose_repeats(sample_s: list[float], budget_s: float, lo: int, hi: int) -> int:
    """Repeats so that one round over every engine times `budget_s` in all, within [lo, hi]."""
    per_round = sum(sample_s)
    return max(lo, min(hi, int(budget_s / max(per_round, 1e-9))))


def interleave(
    runners: dict[str, Runner],
    phases: dict[str, tuple[str, ...]],
    repeats: int,
    disable_gc: bool,
    log: Callable[[str], None],
    label: str,
) -> dict[str, Result]:
    """`repeats` samples of every runner, round-robin, the order rotating each repeat.

    `gc.collect()` runs (untimed) before each sample (bench/measure.py's `time_sample`);
    background load then falls on every engine alike. A sample's total is the sum of the
    engine's phases (`phases[name]`).
    """
    names = list(runners)
    results = {name: Result() for name in names}
    for r in range(repeats):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            sample = time_sample(runners[name], disable_gc)
            times: dict[str, float] = sample["times"]
            res = results[name]
            res.totals.append(sum(times[p] for p in phases[name]))
            for k, v in times.items():
                res.phases.setdefault(k, []).append(v)
        if (r + 1) % max(1, repeats // 5) == 0 or r + 1 == repeats:
            now = ", ".join(f"{n} {fmt_time(results[n].median)}" for n in names)
            log(f"  {label} repeat {r + 1}/{repeats}: medians so far {now}")
    return results
