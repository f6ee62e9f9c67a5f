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
import gc
import json
import subprocess
import sys
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from engines import ENGINE_FACTORIES, ENGINE_ORDER, HAND, Engine
from measure import Result, RssSampler, Workload, rss_bytes, run_workload
from profiling import profile
from report import check_targets, machine_line, report_memory, report_workload
from workloads import (
    DEFAULT_RECURSION_LIMIT,
    build_w3,
    w1_workload,
    w2_eval_workload,
    w2_workload,
    w3_workload,
    w4_workload,
)

WORKLOADS = ("W1", "W2", "W2-eval", "W3", "W4", "MEM")


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
        base = rss_bytes()
        with RssSampler() as sampler:
            y, _x = build_w3(engine.leaf, n)
            out["graph_bytes"] = rss_bytes() - base
            try:
                engine.backward(y)
                out["after_backward_bytes"] = rss_bytes() - base
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
