"""`--profile`: cProfile autograd-lite on W2 or W3 and list the functions by own time."""

from __future__ import annotations

import argparse
import cProfile
import pstats
from collections.abc import Callable
from pathlib import Path

from data import w2_data
from engines import make_autograd_lite
from workloads import W2_LR, build_w3, make_model, model_params, w2_loss


def profile(workload: str, args: argparse.Namespace, out: Callable[[str], None]) -> None:
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


def print_profile(prof: cProfile.Profile, what: str, top: int, out: Callable[[str], None]) -> None:
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
