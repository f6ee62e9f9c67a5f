"""Reporting for bench.py and tensors.py: the tables, autograd-lite's ratios to the other
engines, the memory tables, the performance targets."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from engines import HAND
from measure import Result, Workload, fmt_time
from trainers import HAND_TORCH

Out = Callable[[str], None]


@dataclass(frozen=True)
class StepTarget:
    """A W5 target: `engine`'s median step (or peak memory) at most `limit` times `versus`'s,
    at the batch sizes `batches` (all if empty), in every dtype measured. One row each."""

    engine: str
    versus: str
    limit: float
    what: str
    """How the report names `versus`."""
    batches: tuple[int, ...] = ()

    def label(self, config: str, measure: str = "") -> str:
        """The target's line in the report, for one configuration ("batch 64 float32")."""
        return f"W5 {config}: {self.engine}{measure} <= {self.limit}x {self.what}"

    def applies(self, batch: int) -> bool:
        """Whether the target holds at this batch size."""
        return not self.batches or batch in self.batches


_SMALL, _LARGE = 64, 1024
"""The batch sizes of issue 22's table of targets (others have no time target)."""
_HAND_STEP = "the hand numpy step"
W5_TARGETS = (
    StepTarget("autograd-lite-ops", HAND, 1.15, _HAND_STEP, batches=(_SMALL,)),
    StepTarget("autograd-lite-ops", HAND, 1.05, _HAND_STEP, batches=(_LARGE,)),
    StepTarget("autograd-lite", HAND, 1.10, _HAND_STEP, batches=(_SMALL,)),
    StepTarget("autograd-lite", HAND, 1.05, _HAND_STEP, batches=(_LARGE,)),
    StepTarget("autograd-lite", "torch", 1.0, "PyTorch", batches=(_SMALL, _LARGE)),
    StepTarget("autograd-lite-ops", "torch", 1.0, "PyTorch", batches=(_SMALL, _LARGE)),
    StepTarget("autograd-lite-compiled", HAND, 1.05, _HAND_STEP, batches=(_SMALL,)),
    StepTarget("autograd-lite-compiled", HAND, 1.02, _HAND_STEP, batches=(_LARGE,)),
)
"""The time targets of a W5 step (issue 22's table: the step in Tensor ops and with nn
against the hand step and PyTorch's, the compiled step against the hand step), checked per
batch size and dtype."""

W5_MEMORY_TARGETS = tuple(
    StepTarget(engine, HAND, 1.5, "the hand step's")
    for engine in ("autograd-lite", "autograd-lite-ops", "autograd-lite-compiled")
)
"""The peak-memory targets of a W5 step (issue 22: at most 1.5x the hand step's), by the
malloc counter (RSS as the cross-check)."""


def printers(quiet: bool) -> tuple[Out, Out]:
    """`out` for the report (stdout) and `log` for progress lines (stderr, none if quiet)."""

    def out(line: str) -> None:
        print(line, flush=True)

    def log(line: str) -> None:
        if not quiet:
            print(line, file=sys.stderr, flush=True)

    return out, log


def write_json(path: Path | None, report: dict[str, Any], out: Out) -> None:
    """`--json`: the whole report as a file, if a path was given."""
    if path is not None:
        path.write_text(json.dumps(report, indent=2))
        out(f"\nwrote {path}")


def fmt_ratio(mine: float, other: float, me: str, them: str) -> str:
    """'me is 3.2x faster than them' (or slower)."""
    r = other / mine
    if r >= 1:
        return f"{me} is {r:.2f}x faster than {them}"
    return f"{me} is {1 / r:.2f}x slower than {them}"


def _split_row(row: str) -> tuple[str, str]:
    """A row's engine and variant: "torch (no_grad)" -> ("torch", " (no_grad)")."""
    engine, sep, variant = row.partition(" (")
    return engine, sep + variant


def ratio(r: float) -> str:
    """A ratio as "1.07x", or "1471x" once the decimals say nothing."""
    return f"{r:.2f}x" if r < 100 else f"{r:.0f}x"


def report_table(
    title: str,
    how: str,
    results: dict[str, Result],
    out: Out,
    ks: dict[str, int] | None = None,
    base: str = HAND,
) -> None:
    """One workload's table, scalar or tensor: median, min, x `base` (the hand-written row),
    (k,) phase medians; then
    each autograd-lite row's ratio to the other rows (rows with a variant, like
    "torch (no_grad)", against rows of the same variant only)."""
    out("")
    out(title)
    out(f"  ({how})")
    hand = results.get(base)
    hand_med = hand.median if hand else None
    k_head = f"{'k':>6}" if ks is not None else ""
    w = max(30, *(len(name) + 2 for name in results))
    out(f"  {'engine':<{w}}{'median':>11}{'min':>11}{'x hand':>9}{k_head}   phases")
    for name, res in results.items():
        if res.error is not None and not res.totals:
            out(f"  {name:<{w}}{'FAILED':>11}   {res.error[:150]}")
            continue
        med = res.median
        assert med is not None
        xh = ratio(med / hand_med) if hand_med and name != base else ""
        k = f"{ks.get(name, 0):>6}" if ks is not None else ""
        phases = ", ".join(
            f"{p} {fmt_time(statistics.median(v))}" for p, v in res.phases.items() if p != "total"
        )
        out(f"  {name:<{w}}{fmt_time(med):>11}{fmt_time(min(res.totals)):>11}{xh:>9}{k}   {phases}")
    for mine_name, mine in results.items():
        engine, variant = _split_row(mine_name)
        if engine != "autograd-lite" or not mine.median:
            continue
        for name, res in results.items():
            other_variant = _split_row(name)[1]
            if name in (mine_name, HAND) or (variant and other_variant != variant):
                continue
            if res.median:
                out(f"  -> {fmt_ratio(mine.median, res.median, mine_name, name)}")


def report_workload(wl: Workload, results: dict[str, Result], out: Out) -> None:
    """A scalar workload's table, W2-eval's no_grad speed-ups, and the notes."""
    how = f"{wl.repeats} repeats; median and min of the total; phases are medians"
    report_table(f"{wl.key}  {wl.title}", how, results, out)
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


def report_graph_memory(rows: list[dict[str, Any]], n: int, out: Out) -> None:
    """Bytes per node of W3's graph for each engine and method (the scalar MEM)."""
    all_nodes, op_nodes = 4 * n + 1, 2 * n
    out("")
    out(f"MEM  bytes held by W3's graph (N = {n:,}), each engine in a fresh process")
    out("  node = one Value of the expression: leaf x, each op result, and each number mixed in")
    out(f"  (a constant leaf): {all_nodes:,} nodes, {op_nodes:,} of them op nodes (* and +).")
    out("  The same logical counts are used for every engine. tracemalloc sees Python objects")
    out("  only; torch allocates in C++, so it is measured as the RSS delta (less precise).")
    out(
        f"  {'engine':<20}{'method':<13}{'graph':>10}{'B/node':>9}{'B/op-node':>11}"
        f"{'after bwd B/node':>18}{'peak':>10}   own objects"
    )
    for row in rows:
        if "error" in row:
            out(f"  {row['engine']:<20}{row['method']:<13}FAILED: {row['error'][-200:]}")
            continue
        gb = row["graph_bytes"]
        after = row.get("after_backward_bytes")
        after_s = f"{after / all_nodes:.0f}" if after is not None else row.get("backward_error")
        peak = row.get("peak_bytes")
        peak_s = f"{peak / 2**20:.1f} MB" if peak else "-"
        out(
            f"  {row['engine']:<20}{row['method']:<13}{gb / 2**20:>7.1f} MB{gb / all_nodes:>9.0f}"
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
    out: Out,
) -> list[dict[str, Any]]:
    """The performance targets for autograd-lite, each with its measured value and PASS/FAIL."""
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
    print_targets(checks, out)
    return checks


# -- the tensor workloads (bench/tensors.py) --------------------------------------------------


def report_steps(
    title: str, results: dict[str, Result], ks: dict[str, int], notes: list[str], out: Out
) -> None:
    """A tensor workload's table (a sample is k steps, k per engine) and its notes."""
    n = max((len(r.totals) for r in results.values()), default=0)
    how = f"{n} repeats, interleaved; a sample is k steps: time per step, median and min"
    report_table(title, how + "; phases are medians", results, out, ks)
    for note in notes:
        out(f"  note: {note}")


def report_summary(key: str, w5: dict[str, dict[str, Result]], out: Out) -> None:
    """Every configuration's median per step and its ratio to the hand step, side by side."""
    if not w5:
        return
    configs = list(w5)
    engines = list(dict.fromkeys(e for res in w5.values() for e in res))
    out("")
    out(f"{key} summary: median time per step (x the hand step of the same run)")
    out(f"  {'engine':<22}" + "".join(f"{c:>24}" for c in configs))
    for e in engines:
        cells = []
        for c in configs:
            r, h = w5[c].get(e), w5[c].get(HAND)
            if r is None or r.median is None:
                cells.append("-")
                continue
            xh = f" ({r.median / h.median:.2f}x)" if h and h.median and e != HAND else ""
            cells.append(fmt_time(r.median) + xh)
        out(f"  {e:<22}" + "".join(f"{c:>24}" for c in cells))


MEMORY_METHOD = "malloc"
"""The figure the memory target uses (exact); RSS is the cross-check, or the fallback."""


def _mem(row: dict[str, Any]) -> dict[str, int] | None:
    """The figures of `row` the target uses: malloc's, or RSS's without the counter."""
    figures: dict[str, int] | None = row.get(MEMORY_METHOD) or row.get("rss")
    return figures


def report_step_memory(rows: list[dict[str, Any]], counter_note: str, out: Out) -> None:
    """The memory table: model, held between steps, the step's own peak, their sum; by malloc
    (exact) and by RSS (physical), each engine and size in a fresh process."""
    if not rows:
        return
    mb = 2**20
    out("")
    out("MEM  memory of one W5 step (MB), each engine and size in a fresh process")
    out("  tracemalloc cannot see PyTorch's C++ allocations, so every engine is measured by two")
    out("  methods that see numpy and PyTorch alike, during the same steps: malloc = the bytes")
    out("  of every block obtained through malloc (bench/malloc_peak.c, preloaded; exact, peak")
    out("  reset before the step); RSS = physical memory, with every block >= 16 KiB its own")
    out("  mmap so that freed arrays leave it at once, no transparent huge pages, and the")
    out("  kernel's high-water mark reset before the step (the kernel's counters make it good")
    out("  to about +-0.13 MB). model = the trainer's own parameters; held = kept between steps")
    out("  (gradients, optimizer state); step = the step's peak over that; peak = held + step,")
    out("  what a step needs beyond the parameters and the batch. Median of 3 steps.")
    if counter_note:
        out(f"  note: {counter_note}; malloc figures are missing")
    out(
        f"  {'engine':<22}{'batch':>6}{'dtype':>9}   {'malloc: model':>13}{'held':>7}{'step':>7}"
        f"{'peak':>7}{'x hand':>8}   {'RSS: held':>9}{'step':>7}{'peak':>7}{'x hand':>8}"
    )
    hand_rows = {(r["batch"], r["dtype"]): r for r in rows if r["engine"] == HAND}
    columns: dict[str, tuple[tuple[str, int], ...]] = {
        "malloc": (("model", 13), ("held", 7), ("step", 7), ("peak", 7)),
        "rss": (("held", 9), ("step", 7), ("peak", 7)),
    }
    for r in rows:
        head = f"  {r['engine']:<22}{r['batch']:>6}{r['dtype']:>9}   "
        if "skipped" in r or "error" in r:
            what = f"skipped: {r['skipped']}" if "skipped" in r else f"FAILED: {r['error']}"
            out(f"{head}{what[:150]}")
            continue
        h = hand_rows.get((r["batch"], r["dtype"]), {})
        cells = []
        for method, fields in columns.items():
            f = r.get(method)
            if f is None:
                cells.append("".join(f"{'-':>{w}}" for _, w in fields) + " " * 8)
                continue
            hp = h.get(method, {}).get("peak")
            xh = f"{f['peak'] / hp:.2f}x" if hp and r["engine"] != HAND else ""
            cells.append("".join(f"{f[k] / mb:>{w}.2f}" for k, w in fields) + f"{xh:>8}")
        out(head + "   ".join(cells))
    sizes = sorted({(r["dtype"], r["params"]) for r in rows if "params" in r})
    if sizes:
        out("  (parameters: " + ", ".join(f"{p / mb:.2f} MB in {d}" for d, p in sizes) + ")")


def _libraries_netted(
    res: dict[str, Result], versus: str, mine: float | None, other: float | None
) -> str:
    """Against torch, the ratio with each side's libraries netted out: (mine / the hand numpy
    step) / (torch / the same step on torch's libraries, `hand-torch`); torch's BLAS (MKL)
    is not numpy's (OpenBLAS), and no numpy code can be faster than numpy's BLAS."""
    hand, hand_torch = res.get(HAND), res.get(HAND_TORCH)
    if versus != "torch" or not (mine and other and hand and hand.median and hand_torch):
        return ""
    if not hand_torch.median:
        return ""
    netted = (mine / hand.median) / (other / hand_torch.median)
    return f" (on equal libraries, x hand / torch x hand-torch: {netted:.2f}x)"


def check_w5_targets(
    w5: dict[str, dict[str, Result]], mem: list[dict[str, Any]], out: Out
) -> list[dict[str, Any]]:
    """Every target of W5_TARGETS and W5_MEMORY_TARGETS per configuration, PASS / FAIL / n/a;
    returns them."""
    checks: list[dict[str, Any]] = []

    def check(
        t: StepTarget, label: str, a: float | None, b: float | None, detail: str = ""
    ) -> None:
        if a is None or not b:
            checks.append({"target": label, "value": "not measured", "ok": None})
        elif a < 0 or b < 0:  # a memory figure below the held one: the measurement is off
            checks.append({"target": label, "value": f"invalid ({a / b:.2f}x)", "ok": None})
        else:
            ok = a / b <= t.limit
            checks.append({"target": label, "value": f"{a / b:.2f}x{detail}", "ok": ok})

    for config, res in w5.items():
        batch = int(config.split()[1])  # "batch 64 float32"
        for t in W5_TARGETS:
            mine, other = res.get(t.engine), res.get(t.versus)
            if t.applies(batch):
                a, b = mine and mine.median, other and other.median
                check(t, t.label(config), a, b, _libraries_netted(res, t.versus, a, b))
    peaks: dict[tuple[str, int, str], tuple[int, int | None]] = {}
    for row in mem:
        f = _mem(row)
        if f is not None:
            rss = row.get("rss", {}).get("peak")
            peaks[(row["engine"], row["batch"], row["dtype"])] = (f["peak"], rss)
    for batch, dtype in dict.fromkeys((row["batch"], row["dtype"]) for row in mem):
        for t in W5_MEMORY_TARGETS:
            a, b = peaks.get((t.engine, batch, dtype)), peaks.get((t.versus, batch, dtype))
            if not t.applies(batch):
                continue
            detail = ""
            if a and b:
                detail = f" ({a[0] / 2**20:.2f} vs {b[0] / 2**20:.2f} MB"
                detail += f"; RSS {a[1] / b[1]:.2f}x)" if a[1] is not None and b[1] else ")"
            label = t.label(f"batch {batch} {dtype}", "'s peak memory")
            check(t, label, a and a[0], b and b[0], detail)
    print_targets(checks, out, "W5 targets (ratios of medians per step)")
    return checks


def print_targets(
    checks: list[dict[str, Any]],
    out: Out,
    title: str = "Performance targets (autograd-lite)",
) -> None:
    """The targets as PASS / FAIL / n/a lines, each with its measured value."""
    out("")
    out(title)
    for c in checks:
        verdict = {True: "PASS", False: "FAIL", None: "n/a"}[c["ok"]]
        out(f"  {verdict:<5} {c['target']:<80} {c['value']}")


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
