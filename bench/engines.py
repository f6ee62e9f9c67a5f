"""Engine adapters: how the harness drives autograd-lite, micrograd, PyTorch (and names the hand
baseline). The workloads only use an engine's `leaf` factory and Value arithmetic.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent

BASE = "autograd-lite@base"
"""autograd-lite imported from another source tree (--baseline-src), for same-run ratios."""
ENGINE_ORDER = ("autograd-lite", BASE, "micrograd", "torch", "hand")
"""The engines in the order of the tables (the order of the first repeat)."""
HAND = "hand"
"""The hand-written plain-float baseline: no engine, a process of its own like the others."""


@dataclass
class Engine:
    """How the harness drives one autodiff engine; the builders only use `leaf` and arithmetic."""

    name: str
    version: str
    leaf: Callable[..., Any]
    """`leaf(x, requires_grad=True)`: a scalar input or parameter holding the float x."""
    backward: Callable[[Any], None]
    data: Callable[[Any], float]
    grad: Callable[[Any], float]
    sgd: Callable[[Sequence[Any], float], None]
    """`sgd(params, lr)`: p.data -= lr * p.grad, then reset p's gradient."""
    count_nodes: Callable[[Any], tuple[int, int]]
    """(all graph objects, op nodes) reachable from a root, in the engine's own terms."""
    no_grad: Callable[[], contextlib.AbstractContextManager[Any]] | None = None
    notes: list[str] = field(default_factory=list)


def _walk_count(root: Any, children: Callable[[Any], Sequence[Any]]) -> tuple[int, int]:
    """(nodes, nodes with children) reachable from root, iteratively, each counted once."""
    seen = {id(root)}
    keep = [root]  # hold references so ids stay unique during the walk
    stack = [root]
    ops = 0
    while stack:
        kids = children(stack.pop())
        if kids:
            ops += 1
        for k in kids:
            if id(k) not in seen:
                seen.add(id(k))
                keep.append(k)
                stack.append(k)
    return len(seen), ops


def make_autograd_lite(src: Path = REPO_DIR, name: str = "autograd-lite") -> Engine:
    """autograd-lite imported from the source tree `src` (default: this checkout).

    Only the public API is used (`Value`, its arithmetic and methods, `.data`, `.grad`,
    `.operands`, `no_grad`, `graph_nodes`), so an older or newer tree can be driven the same way.
    Call it once per process: the first `autograd_lite` imported is the one a process keeps.
    """
    sys.path.insert(0, str(src))
    import autograd_lite as al
    from autograd_lite import Value

    where = Path(al.__file__).resolve().parent.parent
    if where != src.resolve():
        raise SystemExit(f"{name}: autograd_lite was imported from {where}, not from {src}")

    def sgd(params: Sequence[Any], lr: float) -> None:
        for p in params:
            p.data -= lr * p.grad
            p.grad = 0.0

    def count(root: Any) -> tuple[int, int]:
        nodes = al.graph_nodes(root)
        return len(nodes), sum(1 for n in nodes if n.operands)

    def backward(root: Any) -> None:
        root.backward()

    return Engine(
        name=name,
        version=f"{al.__version__} ({git_state(src)}"
        + ("" if src.resolve() == REPO_DIR else f", {src}")
        + ")",
        leaf=lambda x, requires_grad=True: Value(x),
        backward=backward,
        data=lambda v: v.data,
        grad=lambda v: v.grad,
        sgd=sgd,
        count_nodes=count,
        no_grad=al.no_grad,
    )


def make_micrograd() -> Engine | None:
    """micrograd 0.1.0 with exp/tanh/sigmoid added in its own closure style (micrograd_ext)."""
    try:
        from micrograd.engine import Value  # type: ignore[import-untyped]
    except ImportError:
        return None
    import micrograd_ext

    added = micrograd_ext.install()

    def sgd(params: Sequence[Any], lr: float) -> None:
        for p in params:
            p.data -= lr * p.grad
            p.grad = 0

    def backward(root: Any) -> None:
        root.backward()

    engine = Engine(
        name="micrograd",
        version=importlib.metadata.version("micrograd"),
        leaf=lambda x, requires_grad=True: Value(x),
        backward=backward,
        data=lambda v: float(v.data),
        grad=lambda v: float(v.grad),
        sgd=sgd,
        count_nodes=lambda root: _walk_count(root, lambda v: tuple(v._prev)),
    )
    if added:
        engine.notes.append(
            f"micrograd 0.1.0 lacks {', '.join(added)}: added for the benchmark in its own "
            "closure style (bench/micrograd_ext.py)"
        )
    engine.notes.append("micrograd records a - b as a + b*(-1) (its own __sub__)")
    return engine


def make_torch() -> Engine | None:
    """PyTorch on 0-d float64 tensors with requires_grad, one thread."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)

    def leaf(x: float, requires_grad: bool = True) -> Any:
        return torch.tensor(x, dtype=torch.float64, requires_grad=requires_grad)

    def sgd(params: Sequence[Any], lr: float) -> None:
        with torch.no_grad():
            for p in params:
                p.sub_(p.grad, alpha=lr)
                p.grad = None

    def grad(v: Any) -> float:
        return 0.0 if v.grad is None else float(v.grad.item())

    def children(fn: Any) -> tuple[Any, ...]:
        return tuple(f for f, _ in fn.next_functions if f is not None)

    def count(root: Any) -> tuple[int, int]:
        if root.grad_fn is None:
            return 1, 0
        return _walk_count(root.grad_fn, children)

    def backward(root: Any) -> None:
        root.backward()

    return Engine(
        name="torch",
        version=f"{torch.__version__}, {torch.get_num_threads()} thread",
        leaf=leaf,
        backward=backward,
        data=lambda v: float(v.item()),
        grad=grad,
        sgd=sgd,
        count_nodes=count,
        no_grad=torch.no_grad,
        notes=["torch: 0-d float64 tensors; numbers mixed in are wrapped scalars, not tensors"],
    )


def make_engine(name: str, src: Path | None = None) -> Engine | None:
    """The named engine's adapter (None if it is not installed); `src`: autograd-lite's tree."""
    if name == "autograd-lite":
        return make_autograd_lite(src or REPO_DIR, name)
    if name == BASE:
        if src is None:
            raise ValueError(f"{BASE} needs a source tree (--baseline-src)")
        return make_autograd_lite(src, name)
    if name == "micrograd":
        return make_micrograd()
    if name == "torch":
        return make_torch()
    raise ValueError(f"unknown engine {name!r}")


def git_state(tree: Path) -> str:
    """The tree's commit, with "+modified" if its autograd_lite/ has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(tree), "status", "--porcelain", "--", "autograd_lite"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "git unknown"
    return f"git {head}{' +modified' if dirty else ''}"
