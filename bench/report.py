"""Reporting: the tables, autograd-lite's ratios to the other engines, the performance targets."""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from engines import HAND
from measure import Result, Workload, fmt_time


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


def report_workload(wl: Workload, results: dict[str, Result], out: Callable[[str], None]) -> None:
    """The workload's table: median, min, x hand, phase medians; then the ratios."""
    out("")
    out(f"{wl.key}  {wl.title}")
    out(f"  ({wl.repeats} repeats; median and min of the total; phases are medians)")
    hand = results.get(HAND)
    hand_med = hand.median if hand else None
    out(f"  {'engine':<30}{'median':>11}{'min':>11}{'x hand':>9}   phases")
    for name, res in results.items():
        if res.error is not None and not res.totals:
            out(f"  {name:<30}{'FAILED':>11}   {res.error[:150]}")
            continue
        med = res.median
        assert med is not None
        xh = f"{med / hand_med:.1f}x" if hand_med and name != HAND else ""
        phases = ", ".join(
            f"{k} {fmt_time(statistics.median(v))}" for k, v in res.phases.items() if k != "total"
        )
        out(f"  {name:<30}{fmt_time(med):>11}{fmt_time(min(res.totals)):>11}{xh:>9}   {phases}")
    for mine_name, mine in results.items():
        engine, variant = _split_row(mine_name)
        if engine != "autograd-lite" or not mine.median:
            continue
        for name, res in results.items():
            other, other_variant = _split_row(name)
            if other in (engine, HAND) or (variant and other_variant != variant) or not res.median:
                continue
            out(f"  -> {fmt_ratio(mine.median, res.median, mine_name, name)}")
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
    out: Callable[[str], None],
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


def print_targets(
    checks: list[dict[str, Any]],
    out: Callable[[str], None],
    title: str = "Performance targets (autograd-lite)",
) -> None:
    """The targets as PASS / FAIL / n/a lines, each with its measured value."""
    out("")
    out(title)
    for c in checks:
        verdict = {True: "PASS", False: "FAIL", None: "n/a"}[c["ok"]]
        out(f"  {verdict:<5} {c['target']:<62} {c['value']}")


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
