"""The checks entry by entry: fn called on fresh leaves, the engine's first derivatives and
Hessian, and central differences of fn and of those derivatives."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .check_report import Table, fmt
from .engine.backward import grad, hessian
from .engine.grad_mode import enable_grad, no_grad
from .engine.node import DomainError, Node
from .engine.tensor import Tensor
from .engine.value import Value
from .flat_inputs import FlatInputs
from .validate import describe

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def call_fn(where: str, fn: Callable[..., Any], leaves: list[Node], tensors: bool) -> Node:
    """fn called on `leaves` (Values or Tensors): its output, or an error if that is not a
    scalar Value (for tensor inputs, a one-element Tensor)."""
    out = fn(*leaves)
    if not tensors:
        if not isinstance(out, Value):
            raise TypeError(
                f"{where}: fn must return a scalar Value built from its arguments, got "
                f"{describe(out)}"
            )
        return out
    if not isinstance(out, Tensor):
        raise TypeError(
            f"{where}: fn must return a one-element Tensor built from its arguments, got "
            f"{describe(out)}"
        )
    if out.size != 1:
        raise ValueError(
            f"{where}: fn returned a Tensor of shape {out.shape}; it must return one element: "
            f"reduce it (.sum(), or (out * weights).sum() to weigh its elements)"
        )
    return out


def _central_difference(
    where: str,
    f: Callable[[list[float]], FloatArray],
    datas: list[float],
    i: int,
    eps: float,
    name: str,
) -> FloatArray:
    """(f(x + eps e_i) - f(x - eps e_i)) / (2 eps) in float64, dividing by the step taken;
    `name` says which input (and element) x_i is, for the error when a probe leaves fn's
    domain."""
    plus, minus = list(datas), list(datas)
    plus[i] = float(np.float64(datas[i]) + eps)
    minus[i] = float(np.float64(datas[i]) - eps)
    # x + eps is rounded; dividing by the difference actually taken removes that error.
    step = np.float64(plus[i]) - np.float64(minus[i])
    try:
        return (f(plus) - f(minus)) / step
    except DomainError as exc:
        smaller = abs(datas[i]) / 1000 or eps / 1000
        raise ValueError(
            f"{where}: the finite-difference probes of {name} ({datas[i]!r} - eps and "
            f"{datas[i]!r} + eps, eps={eps:g}) left fn's domain ({exc}); use a smaller eps, "
            f"such as eps={smaller:.1g}, or an input further from the domain's edge"
        ) from exc


def _probe_name(found: FlatInputs, k: int) -> str:
    """How a probe error names flat number k: "input 2", or "input 2 element (0, 1)"."""
    i, element = found.entries[k]
    return f"input {i} element {element}" if found.tensors else f"input {i}"


def gradient_table(where: str, fn: Callable[..., Any], found: FlatInputs, eps: float) -> Table:
    """The engine's gradient of fn against central differences of fn, entry by entry."""
    datas = found.flat
    with enable_grad():  # the analytical side needs a graph, even inside no_grad()
        analytical = first_derivatives(where, fn, found, datas)

    fn_at = value_at(where, fn, found)
    numerical = np.array(
        [
            _central_difference(where, fn_at, datas, k, eps, _probe_name(found, k))[0]
            for k in range(len(datas))
        ],
        dtype=np.float64,
    )

    labels, tensors = found.labels, found.tensors
    header = ["input", "label", "element", "value"] if tensors else ["input", "label", "value"]
    entries = [
        (
            (i, labels[i], e, x) if tensors else (i, labels[i], x),
            (str(i), labels[i] or "-", *([str(e)] if tensors else []), fmt(x)),
            a,
            n,
        )
        for (i, e), x, a, n in zip(found.entries, datas, analytical, numerical)
    ]
    return header, entries, ()


def value_at(
    where: str, fn: Callable[..., Any], found: FlatInputs
) -> Callable[[list[float]], FloatArray]:
    """fn's value at xs (the flat numbers), as an array of one float, computed without a
    graph."""

    def value_at(xs: list[float]) -> FloatArray:
        with no_grad():
            out = call_fn(where, fn, found.leaves(xs)[0], found.tensors)
            return np.array(out.data, dtype=np.float64).reshape(1)

    return value_at


def gradient_at(
    where: str, fn: Callable[..., Any], found: FlatInputs
) -> Callable[[list[float]], FloatArray]:
    """The engine's gradient of fn as a function of the flat numbers (for differences)."""

    def gradient_at(xs: list[float]) -> FloatArray:
        return first_derivatives(where, fn, found, xs)

    return gradient_at


def first_derivatives(
    where: str, fn: Callable[..., Any], found: FlatInputs, xs: Sequence[float]
) -> FloatArray:
    """The engine's gradient of fn at xs, flattened as `found.flat`."""
    leaves, checked = found.leaves(xs)
    parts = grad(call_fn(where, fn, leaves, found.tensors), checked)
    return np.concatenate([np.ravel(np.asarray(p, dtype=np.float64)) for p in parts])


def hessian_table(where: str, fn: Callable[..., Any], found: FlatInputs, eps: float) -> Table:
    """The engine's Hessian of fn against central differences of its first derivatives."""
    datas = found.flat
    n = len(datas)
    with enable_grad():  # the analytical side needs a graph, even inside no_grad()
        leaves, checked = found.leaves(datas)
        # A rule that returned a plain float dropped the graph: hessian counts that as 0.
        analytical = hessian(call_fn(where, fn, leaves, found.tensors), checked)
        derivatives_at = gradient_at(where, fn, found)
        numerical = np.empty((n, n), dtype=np.float64)
        for j in range(n):
            numerical[:, j] = _central_difference(
                where, derivatives_at, datas, j, eps, _probe_name(found, j)
            )

    # Values are named by label, tensor elements by label and index ("w[0, 1]").
    tensors, labels, at = found.tensors, found.labels, found.entries
    header = ["entry", "elements" if tensors else "labels", "values"]
    entries = [
        (
            ((i, j), (at[i], at[j]) if tensors else (labels[i], labels[j]), (datas[i], datas[j])),
            (
                f"({i}, {j})",
                f"{found.name(i)}, {found.name(j)}",
                f"({fmt(datas[i])}, {fmt(datas[j])})",
            ),
            analytical[i, j],
            numerical[i, j],
        )
        for i in range(n)
        for j in range(n)
    ]
    return header, entries, ()
