"""The benchmark: autograd-lite against micrograd, PyTorch and hand-written floats.

Every engine runs exactly the same expressions: each workload has one generic builder that only
uses Value arithmetic (`+ - * **`, `.sigmoid()`, `.tanh()`, `.relu()`) and a per-engine leaf
factory. Each engine runs in a process of its own (bench/worker.py), as its users run it; the
repeats are interleaved across those processes (the order rotates every repeat), and the table
reports medians and ratios. Memory per node is measured in fresh processes.

    .venv-bench/bin/python bench/bench.py            # full run (a few minutes)
    .venv-bench/bin/python bench/bench.py --quick    # smoke run (under a minute)
    .venv-bench/bin/python bench/bench.py --profile W2   # cProfile autograd-lite on W2

See bench/README.md for the workloads, the method, the node definition and how memory is
measured. Layout: engines.py (adapters), workloads.py (builders, hand baselines, rows),
data.py (seeded data), measure.py (timing, processes, memory), worker.py (an engine's process),
report.py (tables, ratios, targets), profiling.py (--profile).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from data import workload_params
from engines import BASE, ENGINE_ORDER, HAND
from measure import (
    EngineProcess,
    Result,
    Sampler,
    Workload,
    in_engine_process,
    interleave,
    memory_rows,
)
from profiling import profile
from report import (
    check_targets,
    machine_line,
    printers,
    report_graph_memory,
    report_workload,
    write_json,
)
from workloads import DEFAULT_RECURSION_LIMIT, SPECS, describe

WORKLOADS = ("W1", "W2", "W2-eval", "W3", "W4", "MEM")


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
        default=",".join(e for e in ENGINE_ORDER if e != BASE),
        help=f"comma-separated, from {','.join(ENGINE_ORDER)}\n({BASE} is added by --baseline-src)",
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
    p.add_argument(
        "--baseline-src",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"also run {BASE!r}: autograd_lite imported from the source tree DIR\n"
        "(e.g. a git worktree of an older commit), in its own process",
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

    out, log = printers(args.quiet)
    if args.profile:
        profile(args.profile, args, out)
        return 0

    wanted = [w.strip() for w in args.engines.split(",") if w.strip()]
    only = [w.strip() for w in args.only.split(",") if w.strip()]
    for w in only:
        if w not in WORKLOADS:
            raise SystemExit(f"unknown workload {w!r}; choose from {', '.join(WORKLOADS)}")
    for name in wanted:
        if name not in ENGINE_ORDER:
            raise SystemExit(f"unknown engine {name!r}; choose from {', '.join(ENGINE_ORDER)}")
    if HAND in wanted:  # the baseline's row comes last, as in the tables
        wanted = [name for name in wanted if name != HAND] + [HAND]
    base_src: Path | None = args.baseline_src
    if base_src is not None:
        if not (base_src / "autograd_lite" / "__init__.py").is_file():
            raise SystemExit(f"--baseline-src: no autograd_lite/__init__.py under {base_src}")
        if BASE not in wanted:
            at = wanted.index("autograd-lite") + 1 if "autograd-lite" in wanted else 0
            wanted.insert(at, BASE)
    elif BASE in wanted:
        raise SystemExit(f"{BASE} needs --baseline-src DIR")
    srcs = {BASE: base_src}

    with contextlib.ExitStack() as stack:
        procs: list[EngineProcess] = []
        missing = []
        for name in wanted:
            log(f"starting {name} ...")
            proc = stack.enter_context(EngineProcess(name, srcs.get(name), args.disable_gc))
            if "missing" in proc.hello:
                missing.append(name)
            else:
                procs.append(proc)
        engines = [p for p in procs if p.name != HAND]

        out("autograd-lite benchmark")
        out(f"machine: {machine_line()}")
        for p in engines:
            out(f"engine: {p.name} {p.hello['version']}")
        for name in missing:
            out(f"engine: {name} not installed, skipped")
        out(
            f"recursion limit: {DEFAULT_RECURSION_LIMIT} (default, unchanged"
            f"{'' if not args.micrograd_raise_limit else ' except the micrograd raised-limit row'})"
            f"; cyclic GC {'off' if args.disable_gc else 'on'} in timed samples; "
            "each engine in a process of its own"
        )
        for p in engines:
            for note in p.hello["notes"]:
                out(f"note: {note}")

        all_results: dict[str, dict[str, Result]] = {}
        report: dict[str, Any] = {
            "machine": machine_line(),
            "engines": {p.name: p.hello["version"] for p in engines},
            "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "workloads": {},
        }
        for key in WORKLOADS:
            if key not in only or key == "MEM":
                continue
            log(f"{key} ...")
            params = workload_params(key, args)
            title, notes = describe(key, params)
            repeats = args.w3_repeats if key == "W3" else args.repeats
            wl = Workload(key, title, SPECS[key].total_phases, repeats, notes)
            rows: dict[str, Sampler] = {}
            for p in procs:
                got = p.request({"cmd": "setup", "workload": key, "params": params})
                rows.update({row: in_engine_process(p, row) for row in got["rows"]})
                wl.notes += got["notes"]
                wl.extra.update(got["extra"])
            results = interleave(key, rows, wl.repeats, log, wl.total_phases, wl.notes)
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
        mem_rows = memory_rows([(p.name, srcs.get(p.name)) for p in engines], args.n_mem, log)
        report_graph_memory(mem_rows, args.n_mem, out)
        report["memory"] = {"n": args.n_mem, "rows": mem_rows}
    report["targets"] = check_targets(all_results, mem_rows, args, out)
    write_json(args.json, report, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
