"""Reporting for the tensor workloads: each configuration's table, the summary of ratios to the
hand step, the memory table, and the W5 targets (printed like bench/report.py's)."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from measure import Result, fmt_time
from report import fmt_ratio, print_targets
from tensor_engines import HAND

Out = Callable[[str], None]

TARGET_HAND = 1.15
"""autograd-lite's W5 step within 1.15x of the hand-written numpy step."""
TARGET_TORCH = 1.2
"""... within 1.2x of PyTorch's."""
TARGET_MEMORY = 1.5
"""... and its peak memory within 1.5x of PyTorch's."""


def report_timing(
    title: str,
    results: dict[str, Result],
    ks: dict[str, int],
    notes: list[str],
    out: Out,
) -> None:
    """One configuration's table: time per step (median, min), x hand, k, phase medians."""
    out("")
    out(title)
    n = max((len(r.totals) for r in results.values()), default=0)
    out(f"  ({n} repeats, interleaved; a sample is k steps: time per step, median and min;")
    out("  phases are medians)")
    hand = results.get(HAND)
    hand_med = hand.median if hand else None
    out(f"  {'engine':<24}{'median':>11}{'min':>11}{'x hand':>9}{'k':>6}   phases")
    for name, res in results.items():
        med = res.median
        if med is None:
            out(f"  {name:<24}{'-':>11}")
            continue
        xh = _times(med / hand_med) if hand_med and name != HAND else ""
        phases = ", ".join(f"{k} {fmt_time(statistics.median(v))}" for k, v in res.phases.items())
        out(
            f"  {name:<24}{fmt_time(med):>11}{fmt_time(min(res.totals)):>11}{xh:>9}"
            f"{ks.get(name, 0):>6}   {phases}"
        )
    mine = results.get("autograd-lite")
    if mine is not None and mine.median:
        for name, res in results.items():
            if name not in ("autograd-lite", HAND) and res.median:
                out(f"  -> {fmt_ratio(mine.median, res.median, 'autograd-lite', name)}")
    for note in notes:
        out(f"  note: {note}")


def _times(r: float) -> str:
    """A ratio as "1.07x", or "1471x" once the decimals say nothing."""
    return f"{r:.2f}x" if r < 100 else f"{r:.0f}x"


def report_summary(w5: dict[str, dict[str, Result]], out: Out) -> None:
    """Every configuration's median per step and its ratio to the hand step, side by side."""
    if not w5:
        return
    configs = list(w5)
    engines = list(dict.fromkeys(e for res in w5.values() for e in res))
    out("")
    out("W5 summary: median time per step (x the hand step of the same run)")
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


def report_memory(rows: list[dict[str, Any]], counter_note: str, out: Out) -> None:
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
        f"{'peak':>7}{'x torch':>8}   {'RSS: held':>9}{'step':>7}{'peak':>7}{'x torch':>8}"
    )
    torch_rows = {(r["batch"], r["dtype"]): r for r in rows if r["engine"] == "torch"}
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
        t = torch_rows.get((r["batch"], r["dtype"]), {})
        cells = []
        for method, fields in columns.items():
            f = r.get(method)
            if f is None:
                cells.append("".join(f"{'-':>{w}}" for _, w in fields) + " " * 8)
                continue
            tp = t.get(method, {}).get("peak")
            xt = f"{f['peak'] / tp:.2f}x" if tp and r["engine"] != "torch" else ""
            cells.append("".join(f"{f[k] / mb:>{w}.2f}" for k, w in fields) + f"{xt:>8}")
        out(head + "   ".join(cells))
    sizes = sorted({(r["dtype"], r["params"]) for r in rows if "params" in r})
    if sizes:
        out("  (parameters: " + ", ".join(f"{p / mb:.2f} MB in {d}" for d, p in sizes) + ")")


def check_w5_targets(
    w5: dict[str, dict[str, Result]], mem: list[dict[str, Any]], out: Out
) -> list[dict[str, Any]]:
    """W5's targets for autograd-lite per configuration, PASS / FAIL / n/a; returns them."""
    checks: list[dict[str, Any]] = []

    def add(target: str, value: str, ok: bool | None) -> None:
        checks.append({"target": target, "value": value, "ok": ok})

    for config, res in w5.items():
        mine = res.get("autograd-lite")
        a = mine.median if mine else None
        for other, label, limit, strict in (
            (HAND, f"<= {TARGET_HAND}x the hand numpy step", TARGET_HAND, False),
            ("torch", f"<= {TARGET_TORCH}x PyTorch", TARGET_TORCH, False),
            ("hips-autograd", "faster than HIPS autograd", 1.0, True),
        ):
            o = res.get(other)
            b = o.median if o else None
            if a is None or b is None:
                add(f"W5 {config}: {label}", "not measured", None)
            else:
                ratio = a / b
                ok = ratio < limit if strict else ratio <= limit
                add(f"W5 {config}: {label}", f"{ratio:.2f}x", ok)
    peaks: dict[tuple[str, int, str], tuple[int, int | None]] = {}
    for row in mem:
        f = _mem(row)
        if f is not None:
            rss = row.get("rss", {}).get("peak")
            peaks[(row["engine"], row["batch"], row["dtype"])] = (f["peak"], rss)
    for batch, dtype in dict.fromkeys((row["batch"], row["dtype"]) for row in mem):
        al, t = peaks.get(("autograd-lite", batch, dtype)), peaks.get(("torch", batch, dtype))
        label = f"W5 batch {batch} {dtype}: peak memory <= {TARGET_MEMORY}x PyTorch's"
        if al is None or t is None or not t[0]:
            add(label, "not measured", None)
            continue
        value = f"{al[0] / t[0]:.2f}x ({al[0] / 2**20:.2f} vs {t[0] / 2**20:.2f} MB"
        if al[1] is not None and t[1]:
            value += f"; RSS {al[1] / t[1]:.2f}x"
        add(label, value + ")", al[0] / t[0] <= TARGET_MEMORY)
    print_targets(checks, out, "W5 targets (autograd-lite; ratios of medians per step)")
    return checks
