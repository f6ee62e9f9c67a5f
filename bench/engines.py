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
sys.path.insert(0, str(BENCH_DIR))  # for micrograd_ext when run as a script

ENGINE_ORDER = ("autograd-lite", "micrograd", "torch", "hand")
HAND = "hand"


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


def make_autograd_lite() -> Engine:
    """The engine under test (the editable install of this checkout)."""
    import autograd_lite as al
    from autograd_lite import Value

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
        name="autograd-lite",
        version=f"{al.__version__} ({_git_state()})",
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
        from micrograd.engine import Value
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


ENGINE_FACTORIES: dict[str, Callable[[], Engine | None]] = {
    "autograd-lite": make_autograd_lite,
    "micrograd": make_micrograd,
    "torch": make_torch,
}


def _git_state() -> str:
    """The checkout's commit, with "+modified" if autograd_lite/ has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO_DIR), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_DIR), "status", "--porcelain", "--", "autograd_lite"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "git unknown"
    return f"git {head}{' +modified' if dirty else ''}"
