"""`--profile`: cProfile autograd-lite on a workload and list the functions by own time
(bench.py: W2 or W3); and `tensors.py --profile`'s time per op of a W5 step.

The per-op profile: where an autograd-lite W5 step spends its time, per op.

Forward: the time of each op's node construction (`Tensor._apply`: checks, numpy forward,
node), by op name. Backward: the time of each node's derivative rule, by op name, with the
dtypes of the gradients the rule hands on (a float32 step whose rules hand on float64 runs
its backward matmuls in float64). Both reach into the engine's private hooks (`Tensor._apply`,
`Node._op`, `Op.specialised`), so they may need updating when the engine changes; they
patch only this process, and undo the patch after.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from data import w2_data
from engines import make_autograd_lite
from trainers import Trainer
from workloads import W2_LR, build_w3, make_model, model_params, w2_loss

Out = Callable[[str], None]


def profile(workload: str, args: argparse.Namespace, out: Out) -> None:
    """cProfile autograd-lite on W2 (one step) or W3 (build + backward); print the top functions."""
    e = make_autograd_lite()
    prof = cProfile.Profile()
    if workload == "W2":
        weights, xs, ys = w2_data(args.points)
        model = make_model(e.leaf, weights)
        params = model_params(model)
        prof.enable()
        for _ in range(args.profile_steps):
            loss = w2_loss(model, e.leaf, xs, ys)
            e.backward(loss)
            e.sgd(params, W2_LR)
        prof.disable()
        what = f"W2, {args.profile_steps} steps of {args.points} points"
    elif workload == "W3":
        prof.enable()
        y, _ = build_w3(e.leaf, args.n_chain)
        e.backward(y)
        prof.disable()
        del y
        what = f"W3, N = {args.n_chain:,}"
    else:
        raise SystemExit(f"--profile takes W2 or W3, not {workload!r}")
    print_profile(prof, f"autograd-lite on {what}", args.profile_top, out)


def print_profile(prof: cProfile.Profile, what: str, top: int, out: Out) -> None:
    """The `top` functions of a finished profile by own time, with their share of the total."""
    stats = pstats.Stats(prof)
    entries = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in entries.values())
    out(f"cProfile of {what}: {total:.2f} s of own time (profiled; cProfile")
    out("inflates per-call overhead, so read shares, not absolute times)")
    out(f"  {'ncalls':>10}{'tottime':>9}{'share':>7}{'cumtime':>9}  function")
    rows = sorted(entries.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    for (file, line, func), (_cc, nc, tt, ct, _callers) in rows:
        where = f"{Path(file).parent.name}/{Path(file).name}:{line}" if line else file
        out(f"  {nc:>10,}{tt:>9.3f}{tt / total:>7.1%}{ct:>9.3f}  {func}  ({where})")


@contextmanager
def _timed_apply(times: dict[str, float], counts: Counter[str]) -> Iterator[None]:
    """Time Tensor._apply by op name while the block runs."""
    from autograd_lite.engine.tensor import Tensor

    original = Tensor.__dict__["_apply"]
    inner = original.__func__

    def apply(cls: Any, op: Any, operands: Any) -> Any:
        t0 = time.perf_counter()
        out = inner(cls, op, operands)
        times[op.name] += time.perf_counter() - t0
        counts[op.name] += 1
        return out

    Tensor._apply = classmethod(apply)
    try:
        yield
    finally:
        Tensor._apply = original


def _time_rules(
    root: Any, times: dict[str, float], counts: Counter[str], dtypes: dict[str, set[str]]
) -> None:
    """Give every op node below root a rule that times the original one, by op name."""
    from autograd_lite import graph_nodes

    for node in graph_nodes(root):
        op = node._op
        if node._a is None:
            continue  # a leaf or a constant: no rule runs
        rule, name = op.vjp, op.name

        def vjp(*args: Any, rule: Any = rule, name: str = name) -> Any:
            t0 = time.perf_counter()
            shares = rule(*args)
            times[name] += time.perf_counter() - t0
            counts[name] += 1
            for s in shares:
                if s is not None:
                    dtypes[name].add(str(getattr(s, "dtype", type(s).__name__)))
            return shares

        node._op = op.specialised(vjp)


def per_op_profile(trainer: Trainer, steps: int, out: Out) -> None:
    """Run `steps` steps of an autograd-lite trainer (forward/backward/update phases) and
    print the time per step of each op's forward and of each rule in backward."""
    phases = dict(trainer.phases)
    if set(phases) != {"forward", "backward", "update"}:
        out(f"per-op profile: {trainer.name} has no forward/backward/update phases")
        return
    fwd: dict[str, float] = defaultdict(float)
    bwd: dict[str, float] = defaultdict(float)
    fwd_n: Counter[str] = Counter()
    bwd_n: Counter[str] = Counter()
    dtypes: dict[str, set[str]] = defaultdict(set)
    totals = dict.fromkeys(phases, 0.0)
    try:
        for _ in range(steps):
            t0 = time.perf_counter()
            with _timed_apply(fwd, fwd_n):
                loss = phases["forward"](None)
            t1 = time.perf_counter()
            _time_rules(loss, bwd, bwd_n, dtypes)
            t2 = time.perf_counter()
            phases["backward"](loss)
            t3 = time.perf_counter()
            phases["update"](None)
            t4 = time.perf_counter()
            totals["forward"] += t1 - t0
            totals["backward"] += t3 - t2
            totals["update"] += t4 - t3
    except (AttributeError, TypeError) as exc:
        out(f"per-op profile: the engine's internals changed ({exc!r}); skipped")
        return
    out("")
    out(f"per-op profile of {trainer.name}, {steps} steps (times per step, instrumented):")
    out("  " + ", ".join(f"{k} {v / steps * 1e6:.0f} µs" for k, v in totals.items()))
    out("  forward, per op (node construction: checks, numpy forward, node):")
    for name, s in sorted(fwd.items(), key=lambda kv: -kv[1]):
        out(f"    {name:<16}{s / steps * 1e6:>9.1f} µs  {fwd_n[name] // steps} node(s)")
    out("  backward, per op (its derivative rule; dtypes of the gradients it hands on):")
    for name, s in sorted(bwd.items(), key=lambda kv: -kv[1]):
        out(
            f"    {name:<16}{s / steps * 1e6:>9.1f} µs  {bwd_n[name] // steps} node(s)  "
            f"{', '.join(sorted(dtypes[name]))}"
        )
    rules = sum(bwd.values()) / steps
    out(
        f"  backward outside the rules (the walk, checks, storing .grad): "
        f"{(totals['backward'] / steps - rules) * 1e6:.0f} µs"
    )
