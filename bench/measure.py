"""How samples are taken: phase timers and calibrated loops (inside an engine's process),
the parent's handle on each engine's process and the interleaved repeats, and the memory probes
(tracemalloc, RSS, sampled peak).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WORKER = Path(__file__).resolve().parent / "worker.py"


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
    """One row group of the table: its rows (filled from the engines' processes) and notes."""

    key: str
    title: str
    total_phases: tuple[str, ...]
    """The phases whose sum is a sample's total (the others, like "free", are shown apart)."""
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


def time_sample(runner: Runner, disable_gc: bool) -> dict[str, Any]:
    """One sample of `runner` (in the engine's process): its phase times, or the error.

    `gc.collect()` runs first, untimed. A `RecursionError` is caught and described with the
    phase it escaped from and the phases that completed.
    """
    gc.collect()
    timer = PhaseTimer()
    if disable_gc:
        gc.disable()
    try:
        runner(timer)
    except RecursionError as exc:
        done = ", ".join(f"{k} {fmt_time(v)}" for k, v in timer.times.items())
        error = (
            f"RecursionError in {timer.phase or 'run'}"
            f" (limit {sys.getrecursionlimit()}){'; ' + done if done else ''}: {exc}"
        )
        return {"times": timer.times, "error": error}
    finally:
        gc.enable()
    return {"times": timer.times, "error": None}


class WorkerDied(RuntimeError):
    """An engine's process ended before answering."""


class EngineProcess:
    """The parent's handle on one engine's process (bench/worker.py): JSON lines both ways.

    The process imports only its own engine (and, for autograd-lite@base, from its own source
    tree), so no other engine's objects are in its heap while it is timed. It waits on its
    stdin between requests, so it uses no CPU while another engine is timed.
    """

    def __init__(self, name: str, src: Path | None = None, disable_gc: bool = False) -> None:
        self.name = name
        cmd = [sys.executable, str(WORKER), name]
        if src is not None:
            cmd += ["--src", str(src)]
        if disable_gc:
            cmd.append("--disable-gc")
        # stderr is inherited: a worker's traceback shows up in the run's output.
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.hello = self._read()
        """The first message: the engine's version and notes, or {"missing": ...}."""

    def _read(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise WorkerDied(f"{self.name}: its process ended (exit code {self._proc.wait()})")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def request(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Send one request and wait for its answer."""
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(json.dumps(msg) + "\n")
            self._proc.stdin.flush()
        except BrokenPipeError:
            raise WorkerDied(f"{self.name}: its process ended") from None
        return self._read()

    def close(self) -> None:
        """Let the process end (it exits at the end of its input) and reap it."""
        if self._proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self._proc.stdin.close()
        try:
            self._proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def __enter__(self) -> EngineProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


Sampler = Callable[[], dict[str, Any]]
"""Takes one sample of a row, wherever the row runs (in this process or an engine's), and
gives `time_sample`'s answer: {"times": ..., "error": ..., "notes": [...]}."""


def in_process(runner: Runner, disable_gc: bool) -> Sampler:
    """A row timed in this process (the tensor workloads: every engine in one process)."""
    return lambda: {**time_sample(runner, disable_gc), "notes": []}


def in_engine_process(proc: EngineProcess, row: str) -> Sampler:
    """A row timed in its engine's own process (the scalar workloads)."""
    return lambda: proc.request({"cmd": "sample", "row": row})


def interleave(
    label: str,
    rows: dict[str, Sampler],
    repeats: int,
    log: Callable[[str], None],
    total_phases: tuple[str, ...] | None = None,
    notes: list[str] | None = None,
) -> dict[str, Result]:
    """The one runner: `repeats` samples of every row, the order rotating each repeat.

    A sample's total is the sum of `total_phases` (None: of every phase it timed). A row
    that fails (a RecursionError) is not sampled again: the failure is deterministic. Notes
    that samples bring are added to `notes`.
    """
    names = list(rows)
    results = {name: Result() for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            res = results[name]
            if res.error is not None:
                continue
            sample = rows[name]()
            if notes is not None:
                notes.extend(sample["notes"])
            if sample["error"] is not None:
                res.error = sample["error"]
                log(f"  {label} {name}: {res.error}")
                continue
            times: dict[str, float] = sample["times"]
            wanted = times if total_phases is None else total_phases
            res.totals.append(sum(times.get(p, 0.0) for p in wanted))
            for k, v in times.items():
                res.phases.setdefault(k, []).append(v)
        if (r + 1) % max(1, repeats // 5) == 0 or r + 1 == repeats:
            now = ", ".join(f"{n} {fmt_time(results[n].median)}" for n in names)
            log(f"  {label} repeat {r + 1}/{repeats}: medians so far {now}")
    return results


def once(fn: Callable[[], object]) -> Runner:
    """A runner timing one call of `fn` (a call long enough to time alone)."""

    def run(t: PhaseTimer) -> None:
        with t("total"):
            fn()

    return run


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


@dataclass
class Calibrated:
    """A runner timing k steps of a trainer (each phase summed, then divided by k)."""

    runner: Runner
    k: int
    step_s: float
    """One step's time during calibration (after warm-up)."""


def calibrate(trainer: Any, target_s: float, warmup: int = 2) -> Calibrated:
    """Warm up, time a step, and make a runner of k steps, k such that a sample takes ~target_s.

    `trainer` has `step()` and `phases`, a list of (name, function of the previous phase's
    result) (trainers.Trainer).
    """
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


def measure_memory(
    build: Callable[[], Any], backward: Callable[[Any], None], method: str
) -> tuple[dict[str, Any], Any]:
    """Bytes held once `build()`'s graph exists, after `backward` on it, and the peak over both.

    `method` is "tracemalloc" (exact Python allocations) or "rss" (resident set delta, peak
    sampled every millisecond). Returns the figures and the graph's root (still alive).
    """
    out: dict[str, Any] = {}
    if method == "tracemalloc":
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        root = build()
        out["graph_bytes"] = tracemalloc.get_traced_memory()[0] - base
        try:
            backward(root)
            out["after_backward_bytes"] = tracemalloc.get_traced_memory()[0] - base
        except RecursionError:
            out["backward_error"] = "RecursionError"
        out["peak_bytes"] = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    else:
        base = rss_bytes()
        with RssSampler() as sampler:
            root = build()
            out["graph_bytes"] = rss_bytes() - base
            try:
                backward(root)
                out["after_backward_bytes"] = rss_bytes() - base
            except RecursionError:
                out["backward_error"] = "RecursionError"
        out["peak_bytes"] = sampler.peak - base
    return out, root


def memory_rows(
    engines: list[tuple[str, Path | None]], n: int, log: Callable[[str], None]
) -> list[dict[str, Any]]:
    """W3's memory for each (engine, source tree), each method in a fresh process of its own.

    tracemalloc for the Python engines, RSS for all (PyTorch allocates in C++).
    """
    rows = []
    for name, src in engines:
        for method in ["rss"] if name == "torch" else ["tracemalloc", "rss"]:
            log(f"  MEM {name} {method} N={n:,}")
            try:
                with EngineProcess(name, src) as proc:
                    rows.append(proc.request({"cmd": "memory", "method": method, "n": n}))
            except WorkerDied as exc:
                rows.append({"engine": name, "method": method, "error": str(exc)})
    return rows
