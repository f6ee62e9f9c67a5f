"""One engine's process: the parent (bench/bench.py) asks, this process sets up and times.

    python bench/worker.py ENGINE [--src DIR] [--disable-gc]

Each engine is timed in a process of its own, as its users run it: its heap holds only this
harness, the engine and what the engine imports, so the cyclic garbage collector (on, as
users run) walks no other engine's objects. The protocol is one JSON object per line: requests
on stdin, answers on the original stdout (the engine's own prints go to stderr). The first
answer is the greeting: the engine's version and notes, or {"missing": ...}. Requests:

- {"cmd": "setup", "workload": KEY, "params": {...}} -> {"rows": [...], "notes", "extra"}
- {"cmd": "sample", "row": NAME} -> {"times": {phase: s}, "error": str | None, "notes": [...]}
- {"cmd": "memory", "method": "tracemalloc" | "rss", "n": N} -> one row of the memory table

The process ends at the end of its input.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engines import HAND, Engine, make_engine
from measure import measure_memory, time_sample
from workloads import SPECS, Setup, build_w3


def memory(engine: Engine, method: str, n: int) -> dict[str, Any]:
    """Bytes held by W3's graph of size n, and the peak over backward (in a fresh process)."""
    warm, _ = build_w3(engine.leaf, 100)  # import-time and first-use allocations happen here
    engine.backward(warm)
    del warm
    gc.collect()
    out: dict[str, Any] = {"engine": engine.name, "method": method, "n": n}
    figures, y = measure_memory(lambda: build_w3(engine.leaf, n)[0], engine.backward, method)
    out.update(figures)
    if engine.name == "torch":
        # Walking a deep torch graph from Python creates a wrapper per autograd node, and the
        # graph's teardown then overflows the C stack (segfault at N = 2e5); don't walk it.
        out["graph_objects"], out["op_objects"] = None, None
    else:
        out["graph_objects"], out["op_objects"] = engine.count_nodes(y)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the parent's requests for one engine until the end of input."""
    p = argparse.ArgumentParser(description="one engine's process of bench/bench.py")
    p.add_argument("engine")
    p.add_argument("--src", type=Path, default=None, help="autograd-lite's source tree")
    p.add_argument("--disable-gc", action="store_true")
    args = p.parse_args(argv)

    # Answers go to the original stdout; anything the engine prints goes to stderr.
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    def answer(msg: dict[str, Any]) -> None:
        channel.write(json.dumps(msg) + "\n")
        channel.flush()

    engine = None if args.engine == HAND else make_engine(args.engine, args.src)
    if engine is None and args.engine != HAND:
        answer({"missing": True})
        return 0
    answer({"version": engine.version if engine else "", "notes": engine.notes if engine else []})
    setup = Setup()
    sent = 0  # how many of setup.notes the parent has
    for line in sys.stdin:
        req = json.loads(line)
        if req["cmd"] == "setup":
            setup = Setup()  # drop the previous workload's graphs and models first
            setup = SPECS[req["workload"]].setup(engine, req["params"])
            sent = len(setup.notes)
            answer({"rows": list(setup.rows), "notes": setup.notes, "extra": setup.extra})
        elif req["cmd"] == "sample":
            sample = time_sample(setup.rows[req["row"]], args.disable_gc)
            answer({**sample, "notes": setup.notes[sent:]})
            sent = len(setup.notes)
        elif req["cmd"] == "memory":
            assert engine is not None
            answer(memory(engine, req["method"], req["n"]))
        else:
            raise ValueError(f"unknown request {req!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
