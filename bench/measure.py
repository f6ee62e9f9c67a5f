"""Timing: phases of a sample, calibrated loops for microsecond calls, interleaved repeats,
and the memory probes (RSS, sampled peak).
"""

from __future__ import annotations

import contextlib
import gc
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


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


def rss_bytes() -> int:
    """Current resident set size (Linux /proc), or 0 where unavailable."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


class RssSampler:
    """Samples RSS every millisecond in a thread while the block runs; `.peak` is the maximum."""

    def __init__(self) -> None:
        self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, rss_bytes())

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())
