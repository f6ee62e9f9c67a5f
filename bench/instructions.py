"""Instruction counts of W1, W2, W3 and W5's steps on tiny arrays under valgrind's callgrind: a
same-run comparison of two source trees that the load of a shared machine does not blur.

    python bench/instructions.py                      # this checkout
    python bench/instructions.py --baseline-src DIR   # and the tree DIR (e.g. a git worktree)
    python bench/instructions.py --only W5-nn,W5-hand # some workloads only

The W5 rows run bench/trainers.py's steps (nn, op-style, compiled, the hand numpy step) on a
network of W5's shape with tiny arrays (8-8-8-4, batch 4), where numpy's work is small and
what is left is each engine's Python per step: the part of a batch-64 step that trimming can
change (bench/tensors.py times the real sizes).

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
_W5_UNIT = "200 W5-shaped training steps on tiny arrays"
W5_ENGINES = {  # name: the engine in trainers.MAKERS
    "W5-hand": "hand",
    "W5-nn": "autograd-lite",
    "W5-ops": "autograd-lite-ops",
    "W5-compiled": "autograd-lite-compiled",
}
WORKLOADS.update({name: (_W5_UNIT, 200) for name in W5_ENGINES})


def run_workload(src: Path, name: str, size: int) -> None:
    """Inside valgrind: run workload `name` at `size` with autograd_lite from the tree `src`."""
    sys.path[:0] = [str(src), str(BENCH)]  # imported below, once the tree to measure is first
    import data
    import numpy as np
    import workloads as w

    from autograd_lite import Value

    def leaf(x: float, requires_grad: bool = True) -> Any:
        return Value(x)

    if name in W5_ENGINES:
        _run_w5_steps(W5_ENGINES[name], size)
    elif name == "W1":
        for _ in range(size):
            w.build_w1(leaf)[0].backward()
    elif name == "W2":
        rng = np.random.default_rng(data.SEED)
        model = w.make_model(leaf, data.make_weights(rng))
        xs, ys = data.make_moons(rng, size)
        w.w2_loss(model, leaf, xs, ys).backward()
    else:
        w.build_w3(leaf, size)[0].backward()


def _run_w5_steps(engine: str, steps: int) -> None:
    """`steps` training steps of `engine` on W5's network shape with tiny arrays, after 20
    untimed ones (compiling, first allocations)."""
    import numpy as np
    import trainers

    sizes = (8, 8, 8, 4)
    trainers.W5_SIZES = sizes  # the nn model reads its shape from here
    rng = np.random.default_rng(0)
    dtype = np.dtype(np.float32)
    x, labels = rng.standard_normal((4, sizes[0])).astype(dtype), rng.integers(0, 4, 4)
    trainer = trainers.make_trainer(engine, trainers.init_params(sizes, dtype), x, labels)
    for _ in range(20 + steps):
        trainer.step()


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
    p.add_argument("--only", help="comma-separated workloads (W1,W2,W3,W5-hand,W5-nn,...)")
    args = p.parse_args()
    if args.run:
        run_workload(args.src, args.run[0], int(args.run[1]))
        return
    trees = {"this checkout": BENCH.parent}
    if args.baseline_src:
        trees["baseline"] = args.baseline_src
    names = args.only.split(",") if args.only else list(WORKLOADS)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        p.error(f"unknown workloads {unknown}; known: {', '.join(WORKLOADS)}")
    for name in names:
        unit, k = WORKLOADS[name]
        per_unit = {t: (count(s, name, 2 * k) - count(s, name, k)) / 1e6 for t, s in trees.items()}
        shown = ", ".join(f"{t} {n:.1f}M" for t, n in per_unit.items())
        if len(per_unit) == 2:
            shown += f"; ratio {per_unit['this checkout'] / per_unit['baseline']:.3f}"
        print(f"{name} instructions per unit ({unit}): {shown}")


if __name__ == "__main__":
    main()
