"""Checks along random directions (`modes=`), as HIPS autograd's `check_grads`: the derivative
along v (or <w, H v>) by forward mode, by reverse mode and by finite differences."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .check_entries import FloatArray, call_fn, first_derivatives, gradient_at, value_at
from .check_report import Table
from .engine.backward import grad
from .engine.dual import Dual
from .engine.grad_mode import enable_grad
from .engine.node import DomainError, Node
from .engine.value import Value
from .flat_inputs import FlatInputs
from .rulecheck import MODES
from .validate import choice, describe, sequence


def modes_named(where: str, modes: object) -> tuple[str, ...]:
    """The modes a check was given, checked: a non-empty sequence of distinct 'fwd' and 'rev'."""
    found = sequence(modes, f"{where}: modes", "a sequence of 'fwd' and 'rev'")
    if not found:
        raise ValueError(f"{where}: modes must name at least one of 'fwd' and 'rev'")
    names = tuple(choice(m, f"{where}: modes", MODES) for m in found)
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: modes {names!r} names a mode twice")
    return names


def _along(
    where: str, f: Callable[[list[float]], FloatArray], x: FloatArray, v: FloatArray, eps: float
) -> FloatArray:
    """(f(x + eps v) - f(x - eps v)) / (2 eps), in float64."""
    try:
        return (f((x + eps * v).tolist()) - f((x - eps * v).tolist())) / (2 * eps)
    except DomainError as exc:
        raise ValueError(
            f"{where}: the finite-difference probes along a random direction v (x - eps v and "
            f"x + eps v, eps={eps:g}) left fn's domain ({exc}); use a smaller eps, such as "
            f"eps={eps / 1000:.1g}, or inputs further from the domain's edge"
        ) from exc


def direction_table(
    where: str,
    fn: Callable[..., Any],
    found: FlatInputs,
    eps: float,
    modes: tuple[str, ...],
    order: int,
) -> Table:
    """HIPS autograd's check, as a table: the derivative along random directions by each
    mode against finite differences (order 1: along v; order 2: <w, H v>)."""
    rng = np.random.default_rng(0)
    x = np.array(found.flat, dtype=np.float64)
    v = rng.standard_normal(x.size)
    w = rng.standard_normal(x.size) if order == 2 else None
    with enable_grad():  # the analytical side needs a graph, even inside no_grad()
        if w is None:
            numerical = float(_along(where, value_at(where, fn, found), x, v, eps)[0])
        else:
            numerical = float(w @ _along(where, gradient_at(where, fn, found), x, v, eps))
        entries = []
        for mode in modes:
            if mode == "fwd":
                analytical = _fwd(where, fn, found, x, v, w)
            elif w is None:
                analytical = float(first_derivatives(where, fn, found, x.tolist()) @ v)
            else:
                analytical = _rev_rev(where, fn, found, x, v, w)
            name = mode if w is None else f"{mode} over rev"
            entries.append(((mode,), (name,), analytical, numerical))
    what = "the derivative along v" if w is None else "<w, H v>, H the Hessian,"
    of = "" if w is None else " of the engine's first derivatives"
    rand = "a random v" if w is None else "random v and w"
    note = f"  (each row is {what} for {rand}: by the mode and by finite differences{of})"
    return ["mode"], entries, [note]


def _fwd(
    where: str,
    fn: Callable[..., Any],
    found: FlatInputs,
    x: FloatArray,
    v: FloatArray,
    w: FloatArray | None,
) -> float:
    """Forward mode: the tangent of fn on Duals with tangent v; with w, forward over
    reverse: <w, the tangents of the gradient> = <w, H v>."""
    duals, checked = found.duals(x.tolist(), v.tolist())
    out = _dual_out(where, fn(*duals), found.tensors)
    if w is None:
        return float(np.sum(out.tangent))
    tangents = [np.ravel(g.tangent) for g in grad(out, checked, create_graph=True)]
    return float(w @ np.concatenate(tangents))


def _rev_rev(
    where: str, fn: Callable[..., Any], found: FlatInputs, x: FloatArray, v: FloatArray, w: Any
) -> float:
    """Reverse over reverse: <v, H w>, the gradient of <w, gradient> (H is symmetric)."""
    leaves, checked = found.leaves(x.tolist())
    first = grad(call_fn(where, fn, leaves, found.tensors), checked, create_graph=True)
    total = np.zeros(x.size)
    start = 0
    for g in first:
        size = int(np.size(g.data if isinstance(g, Node) else g))
        if isinstance(g, Node):  # else a number: a rule dropped the graph, its derivative 0
            part = w[start : start + size].reshape(np.shape(g.data))
            seed = float(part) if isinstance(g, Value) else part
            second = grad(g, checked, grad_outputs=seed)
            total += np.concatenate([np.ravel(np.asarray(p, dtype=np.float64)) for p in second])
        start += size
    return float(v @ total)


def _dual_out(where: str, out: object, tensors: bool) -> Dual:
    """fn's output on Duals, or a TypeError if it is not a scalar (one-element) Dual."""
    if type(out) is not Dual or out.size != 1:
        raise TypeError(
            f"{where}: in forward mode fn is called on Duals and must return a "
            f"{'one-element' if tensors else 'scalar'} Dual built from them, got "
            f"{describe(out)}"
        )
    return out
