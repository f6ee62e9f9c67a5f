"""W5, the tensor benchmark: one training step of an MLP 784-256-256-10 (ReLU) with
cross-entropy and SGD, on autograd-lite's Tensor, PyTorch, HIPS autograd and a hand-written
numpy step (the baseline), all in one process, one thread each, interleaved, medians; the peak
memory of a step; and W2 again as tensors against the scalar engine.

    .venv-bench/bin/python bench/tensors.py              # full run, a few minutes
    .venv-bench/bin/python bench/tensors.py --quick      # smoke run, about a minute
    .venv-bench/bin/python bench/tensors.py --batch 1024 --dtype float32 --engines torch,hand
    .venv-bench/bin/python bench/tensors.py --profile    # cProfile autograd-lite's step

Run it by hand (it is not part of the test suite). Before any timing, every engine's loss and
weights after one step are checked against the hand step (rtol 1e-4 in float32, 1e-10 in
float64); a disagreement stops the run. See bench/README.md, section "Tensors (W5)".
Layout: trainers.py (the engines and data), w2_tensors.py (W2 as tensors),
measure.py (calibrated loops, the interleaved runner), step_memory.py (peak memory, a
process per engine), report.py (tables, targets).
"""

from __future__ import annotations

import os

# One thread for every BLAS and OpenMP pool: the variables must be set before numpy loads its
# BLAS (threadpoolctl then holds the limit, including torch's OpenMP runtime).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import cProfile  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from engines import git_state  # noqa: E402
from measure import Result, Sampler, calibrate, choose_repeats, in_process, interleave  # noqa: E402
from profiling import per_op_profile, print_profile  # noqa: E402
from report import (  # noqa: E402
    check_w5_targets,
    machine_line,
    printers,
    report_step_memory,
    report_steps,
    report_summary,
    write_json,
)
from step_memory import build_malloc_counter, run_child  # noqa: E402
from trainers import (  # noqa: E402
    DEFAULT_ENGINES,
    ENGINES,
    HAND,
    RTOL,
    W5_LR,
    W5_SIZES,
    Disagreement,
    EngineMissing,
    Params,
    Trainer,
    check_against,
    check_finite,
    init_params,
    limit_threads,
    make_trainer,
    thread_report,
    w5_batch,
)
from w2_tensors import W2_MAKERS, check_hand_w2, w2_problem, w2_title  # noqa: E402

REPO_DIR = Path(__file__).resolve().parent.parent


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options (see --help)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--batch", default="64,1024", help="comma-separated batch sizes (64,1024)")
    p.add_argument("--dtype", default="float32,float64", help="float32,float64 or one of them")
    p.add_argument(
        "--engines",
        default=",".join(DEFAULT_ENGINES),
        help=f"comma-separated, from {','.join(ENGINES)}\n(hand is always run: the baseline)",
    )
    p.add_argument("--only", default=",".join(PARTS), help=f"parts to run, from {','.join(PARTS)}")
    p.add_argument("--quick", action="store_true", help="a smoke run: short samples, few repeats")
    p.add_argument("--repeats", type=int, default=None, help="fix the repeats (default: budget)")
    p.add_argument(
        "--budget",
        type=float,
        default=None,
        help="seconds of timed samples per configuration, which set the repeats (default 15)",
    )
    p.add_argument(
        "--sample", type=float, default=None, help="seconds per sample (k steps; default 0.05)"
    )
    p.add_argument("--points", type=int, default=100, help="W2's points, one batch (100)")
    p.add_argument("--disable-gc", action="store_true", help="cyclic GC off in timed samples")
    p.add_argument("--json", type=Path, default=None, help="also write the results to this file")
    p.add_argument(
        "--profile",
        action="store_true",
        help="instead: profile autograd-lite's W5 step at the first --batch and --dtype:\n"
        "phases against the hand step, time per op, cProfile's top functions",
    )
    p.add_argument("--profile-steps", type=int, default=50, help="steps under --profile (50)")
    p.add_argument("--profile-top", type=int, default=25, help="functions listed by --profile")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = p.parse_args(argv)
    args.batches = [int(b) for b in args.batch.split(",") if b.strip()]
    args.dtypes = [np.dtype(d.strip()) for d in args.dtype.split(",") if d.strip()]
    for d in args.dtypes:
        if d not in RTOL:
            raise SystemExit(f"--dtype: {d} is not float32 or float64")
    args.engine_list = [e.strip() for e in args.engines.split(",") if e.strip()]
    for e in args.engine_list:
        if e not in ENGINES:
            raise SystemExit(f"unknown engine {e!r}; choose from {', '.join(ENGINES)}")
    args.engine_list = [e for e in ENGINES if e in args.engine_list and e != HAND] + [HAND]
    args.parts = [w.strip() for w in args.only.split(",") if w.strip()]
    for w in args.parts:
        if w not in PARTS:
            raise SystemExit(f"unknown part {w!r}; choose from {', '.join(PARTS)}")
    args.sample = args.sample or (0.02 if args.quick else 0.05)
    args.budget = args.budget or (1.0 if args.quick else 15.0)
    args.repeats_range = (3, 5) if args.quick else (11, 101)
    return args


def time_engines(
    label: str,
    trainers: dict[str, Trainer],
    rtol: float,
    init: Any,
    args: argparse.Namespace,
    log: Callable[[str], None],
) -> tuple[dict[str, Result], dict[str, int], list[str]]:
    """Check every trainer's first step against the hand one, then time them interleaved."""
    notes: list[str] = []
    for t in trainers.values():
        t.step()  # exactly one step from init, then the check
    ref = trainers[HAND]
    for t in trainers.values():
        if t is not ref:
            notes.append(check_against(ref, t, init, rtol))
    rows: dict[str, Sampler] = {}
    ks: dict[str, int] = {}
    samples = []
    for name, t in trainers.items():
        cal = calibrate(t, args.sample)
        rows[name], ks[name] = in_process(cal.runner, args.disable_gc), cal.k
        samples.append(cal.k * cal.step_s)
        notes += t.notes
    repeats = args.repeats or choose_repeats(samples, args.budget, *args.repeats_range)
    log(f"{label}: k = {ks}, {repeats} repeats")
    results = interleave(label, rows, repeats, log)
    for t in trainers.values():
        bad = check_finite(t)
        if bad:
            notes.append(bad)
    return results, ks, notes


@dataclass
class Config:
    """One table of a tensor workload: its engines set up on the same start and data."""

    name: str
    """What sets it apart from the workload's other tables, e.g. "batch 64 float32"."""
    title: str
    init: Params
    rtol: float
    """How closely every engine's first step must match the hand step's (measure.RTOL)."""
    engines: list[str]
    make: Callable[[str], Trainer]
    """The named engine set up on `init` and the data; EngineMissing if it cannot load."""
    notes: list[str] = field(default_factory=list)


def w2_configs(args: argparse.Namespace) -> list[Config]:
    """W2 as tensors against the scalar engine, float64, one table; its hand step is first
    checked against the scalar bench's plain-float step."""
    weights, init, x, y = w2_problem(args.points)
    anchor = check_hand_w2(weights, init, x, y)
    return [
        Config(
            f"{args.points} points",
            w2_title(args.points),
            init,
            RTOL[np.dtype(np.float64)],
            list(W2_MAKERS),
            lambda name: W2_MAKERS[name](weights, init, x, y),
            [anchor, f"torch loaded in this process during W2: {'torch' in sys.modules}"],
        )
    ]


def w5_configs(args: argparse.Namespace) -> list[Config]:
    """W5, one table per dtype and batch size."""
    configs = []
    for dtype in args.dtypes:
        init = init_params(W5_SIZES, dtype)
        for batch in args.batches:
            x, labels = w5_batch(batch, dtype)
            title = (
                f"W5  MLP {'-'.join(map(str, W5_SIZES))} ReLU, batch {batch} {dtype.name}: one "
                f"training step (forward, cross-entropy, backward, SGD lr {W5_LR})"
            )

            def make(name: str, init: Params = init, x: Any = x, labels: Any = labels) -> Trainer:
                return make_trainer(name, init, x, labels)

            configs.append(
                Config(
                    f"batch {batch} {dtype.name}", title, init, RTOL[dtype], args.engine_list, make
                )
            )
    return configs


WORKLOADS: dict[str, Callable[[argparse.Namespace], list[Config]]] = {
    "W2": w2_configs,  # first: torch is not loaded yet, so the scalar engine's cyclic GC
    "W5": w5_configs,  # walks no torch objects, as in bench/bench.py's own processes
}
"""The tensor workloads, in the order they run: each gives its tables (configurations)."""

PARTS = (*WORKLOADS, "MEM")
"""What --only chooses from: the workloads, and the memory of a W5 step."""


def run_workload(
    key: str, args: argparse.Namespace, out: Callable[[str], None], log: Callable[[str], None]
) -> dict[str, dict[str, Result]]:
    """Every table of workload `key`: the engines' check against the hand step, then the
    interleaved timing; a summary across the tables when there are several."""
    results: dict[str, dict[str, Result]] = {}
    for c in WORKLOADS[key](args):
        label = f"{key} {c.name}"
        trainers: dict[str, Trainer] = {}
        for name in c.engines:
            try:
                trainers[name] = c.make(name)
            except EngineMissing as exc:
                out(f"{label}: {name} skipped: {exc}")
        keep = limit_threads()  # again: torch brings its own OpenMP runtime
        res, ks, notes = time_engines(label, trainers, c.rtol, c.init, args, log)
        del keep
        report_steps(c.title, res, ks, c.notes + notes, out)
        results[c.name] = res
    if len(results) > 1:
        report_summary(key, results, out)
    return results


def run_memory(args: argparse.Namespace, log: Callable[[str], None]) -> tuple[list[Any], str]:
    """Each engine's memory figures, a fresh process per engine and size; and a note on the
    malloc counter if it could not be built."""
    counter, why = build_malloc_counter()
    rows = []
    for dtype in args.dtypes:
        for batch in args.batches:
            for name in args.engine_list:
                log(f"  MEM {name} batch {batch} {dtype.name}")
                rows.append(run_child(name, batch, dtype.name, counter))
    return rows, why


def run_profile(args: argparse.Namespace, out: Callable[[str], None]) -> None:
    """The phases of each autograd-lite engine of --engines and the hand step, timed as in the
    benchmark; then, per autograd-lite engine, a per-op profile and cProfile's top functions.
    At the first --batch and --dtype."""
    dtype, batch = args.dtypes[0], args.batches[0]
    init = init_params(W5_SIZES, dtype)
    x, labels = w5_batch(batch, dtype)
    mine = [e for e in args.engine_list if e.startswith("autograd-lite")] or ["autograd-lite"]
    trainers = {name: make_trainer(name, init, x, labels) for name in [*mine, HAND]}
    keep = limit_threads()
    results, ks, notes = time_engines(
        f"profile batch {batch} {dtype.name}", trainers, RTOL[dtype], init, args, lambda s: None
    )
    report_steps(f"W5 batch {batch} {dtype.name}: phases", results, ks, notes, out)
    for name in mine:
        t = trainers[name]
        per_op_profile(t, args.profile_steps, out)
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.profile_steps):
            t.step()
        prof.disable()
        out("")
        what = f"{name}'s W5 step, batch {batch} {dtype.name}, {args.profile_steps} steps"
        print_profile(prof, what, args.profile_top, out)
    del keep


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected parts and print the report."""
    args = parse_args(argv)

    out, log = printers(args.quiet)
    keep = limit_threads()
    if args.profile:
        run_profile(args, out)
        return 0
    out("autograd-lite tensor benchmark (W5, W2 as tensors)")
    out(f"machine: {machine_line()}")
    out(f"autograd-lite tree: {git_state(REPO_DIR)}")
    out(
        "method: every engine in this one process, one BLAS/OpenMP thread each, interleaved "
        "round-robin; each sample times k steps (k per engine, a sample ~"
        f"{args.sample * 1e3:.0f} ms); cyclic GC {'off' if args.disable_gc else 'on'}; "
        "gc.collect() before each sample, untimed"
    )
    report: dict[str, Any] = {"machine": machine_line(), "options": vars(args).copy()}
    report["options"] = {k: str(v) for k, v in report["options"].items()}
    try:
        runs: dict[str, dict[str, dict[str, Result]]] = {}
        for key in WORKLOADS:
            if key in args.parts:
                log(f"{key} ...")
                runs[key] = run_workload(key, args, out, log)
                report[key] = {c: _as_json(r) for c, r in runs[key].items()}
    except Disagreement as exc:
        out(f"\nFAILED the correctness check, nothing timed after it: {exc}")
        return 1
    out("")
    out("thread pools at the end of the run (threadpoolctl):")
    for line in thread_report():
        out(f"  {line}")
    del keep
    mem: list[dict[str, Any]] = []
    if "MEM" in args.parts:
        log("MEM ...")
        mem, why = run_memory(args, log)
        report_step_memory(mem, why, out)
        report["memory"] = mem
    report["targets"] = check_w5_targets(runs.get("W5", {}), mem, out)
    write_json(args.json, report, out)
    return 0


def _as_json(results: dict[str, Result]) -> dict[str, Any]:
    return {name: r.as_json() for name, r in results.items()}


if __name__ == "__main__":
    sys.exit(main())
