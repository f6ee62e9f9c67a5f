"""Instruction counts of W1, W2 and W3 under valgrind's callgrind: a same-run comparison of two
source trees that the load of a shared machine does not blur.

    python bench/instructions.py                      # this checkout
    python bench/instructions.py --baseline-src DIR   # and the tree DIR (e.g. a git worktree)

For each workload it counts the instructions of the whole process at two sizes, k and 2k, and
prints the difference divided by k, so that start-up and imports cancel out. Needs `valgrind`
(Debian's package). Counts are repeatable to about 0.1% for the same tree and inputs.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
WORKLOADS = {  # name: (what one unit is, units at size k = 1)
    "W1": ("1,000 calls of the document's network, build + backward", 1000),
    "W2": ("one SGD step of MLP(2,[16,16,1]) on 10 points", 10),
    "W3": ("a 10,000-step chain, build + backward", 10_000),
}


def run_workload(src: Path, name: str, size: int) -> None:
    """Inside valgrind: run workload `name` at `size` with autograd_lite from the tree `src`."""
    sys.path[:0] = [str(src), str(BENCH)]  # imported below, once the tree to measure is first
    import data
    import numpy as np
    import workloads as w

    from autograd_lite import Value

    def leaf(x: float, requires_grad: bool = True) -> Any:
        return Value(x)

    if name == "W1":
        for _ in range(size):
            w.build_w1(leaf)[0].backward()
    elif name == "W2":
        rng = np.random.default_rng(data.SEED)
        model = w.make_model(leaf, data.make_weights(rng))
        xs, ys = data.make_moons(rng, size)
        w.w2_loss(model, leaf, xs, ys).backward()
    else:
        w.build_w3(leaf, size)[0].backward()


def count(src: Path, name: str, size: int) -> int:
    """callgrind's instruction count of one process running the workload."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable]
    command += [__file__, "--run", name, str(size), "--src", str(src)]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}  # idle BLAS threads spin otherwise
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return int(re.findall(r"Collected : (\d+)", result.stderr)[-1])


def main() -> None:
    """Print instructions per unit of each workload for this tree and the baseline."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--baseline-src", type=Path, help="also count autograd_lite from this tree")
    p.add_argument("--run", nargs=2, metavar=("WORKLOAD", "SIZE"), help=argparse.SUPPRESS)
    p.add_argument("--src", type=Path, default=BENCH.parent, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.run:
        run_workload(args.src, args.run[0], int(args.run[1]))
        return
    trees = {"this checkout": BENCH.parent}
    if args.baseline_src:
        trees["baseline"] = args.baseline_src
    for name, (unit, k) in WORKLOADS.items():
        per_unit = {t: (count(s, name, 2 * k) - count(s, name, k)) / 1e6 for t, s in trees.items()}
        shown = ", ".join(f"{t} {n:.1f}M" for t, n in per_unit.items())
        if len(per_unit) == 2:
            shown += f"; ratio {per_unit['this checkout'] / per_unit['baseline']:.3f}"
        print(f"{name} instructions per unit ({unit}): {shown}")


if __name__ == "__main__":
    main()
