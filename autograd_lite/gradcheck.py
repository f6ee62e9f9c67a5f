"""Gradient checks: the engine's derivatives against central finite differences.

`gradcheck` compares first derivatives with differences of `fn` itself; `gradgradcheck`
compares the Hessian (rules run on Values, `create_graph=True`) with differences of the
engine's first derivatives (rules run on floats). Both pass an entry when

    |analytical - numerical| <= atol + rtol * |numerical|

as PyTorch does, and otherwise raise `GradcheckError` with a table of every entry.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .engine.backward import grad, hessian
from .engine.grad_mode import enable_grad, no_grad
from .engine.node import DomainError
from .engine.value import Number, Value
from .validate import describe, real, sequence, tolerance

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
Function = Callable[..., Any]
"""What a check takes as fn: called on Values, it returns a scalar Value."""
Inputs = Iterable[Value | Number]
"""What a check takes as inputs: numbers, or Values whose data and label are used."""


class GradcheckError(AssertionError):
    """A derivative from the engine disagrees with its finite-difference estimate.

    The message is a table of every checked entry with the failing rows marked; the same
    numbers are in `rows` (one dict per entry, keys as the table's columns plus "ok").
    """

    def __init__(self, message: str, rows: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.rows = rows


def _prepare(
    where: str,
    fn: object,
    inputs: Iterable[Value | Number],
    eps: object,
    atol: object,
    rtol: object,
) -> tuple[list[float], list[str | None], float, float, float]:
    """Validate the arguments: the inputs' floats and labels, and eps, atol, rtol as floats."""
    if not callable(fn):
        raise TypeError(f"{where}: fn must be callable, got {type(fn).__name__}")
    if isinstance(inputs, Value):
        raise TypeError(f"{where}: inputs must be a sequence of numbers or Values, got a Value")
    items = sequence(inputs, f"{where}: inputs", "a sequence of numbers or Values")
    datas: list[float] = []
    labels: list[str | None] = []
    for i, x in enumerate(items):
        if isinstance(x, Value):
            datas.append(x.data)
            labels.append(x.label)
        else:
            datas.append(real(x, f"{where}: inputs[{i}]"))
            labels.append(None)
        if not math.isfinite(datas[-1]):
            raise ValueError(f"{where}: inputs[{i}] must be finite, got {datas[-1]!r}")
    if not datas:
        raise ValueError(f"{where}: inputs must not be empty")
    return (
        datas,
        labels,
        tolerance(eps, f"{where}: eps", positive=True),
        tolerance(atol, f"{where}: atol"),
        tolerance(rtol, f"{where}: rtol"),
    )


def _call(where: str, fn: Callable[..., Any], leaves: list[Value]) -> Value:
    out = fn(*leaves)
    if not isinstance(out, Value):
        raise TypeError(
            f"{where}: fn must return a scalar Value built from its arguments, got {describe(out)}"
        )
    return out


def _leaves(datas: Sequence[float], labels: Sequence[str | None]) -> list[Value]:
    return [Value(d, label) for d, label in zip(datas, labels)]


def _central_difference(
    where: str, f: Callable[[list[float]], FloatArray], datas: list[float], i: int, eps: float
) -> FloatArray:
    """(f(x + eps e_i) - f(x - eps e_i)) / (2 eps) in float64, dividing by the step taken."""
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
            f"{where}: the finite-difference probes of input {i} ({datas[i]!r} - eps and "
            f"{datas[i]!r} + eps, eps={eps:g}) left fn's domain ({exc}); use a smaller eps, "
            f"such as eps={smaller:.1g}, or an input further from the domain's edge"
        ) from exc


def _fmt(x: float) -> str:
    return f"{x:.10g}"


def _compare(
    where: str,
    header: list[str],
    entries: Sequence[tuple[tuple[Any, ...], tuple[str, ...], Any, Any]],
    eps: float,
    atol: float,
    rtol: float,
) -> None:
    """Compare each entry's analytical and numerical value; raise GradcheckError with the
    table if any differ. An entry is (its fields, named by `header`; those fields as table
    cells; analytical; numerical)."""
    rows: list[dict[str, Any]] = []
    cells: list[list[str]] = []
    for fields, shown, analytical, numerical in entries:
        a, n = float(analytical), float(numerical)
        row = dict(zip(header, fields))
        row.update(analytical=a, numerical=n, difference=a - n, ok=_close(a, n, atol, rtol))
        rows.append(row)
        cells.append([*shown, _fmt(a), _fmt(n), _fmt(a - n)])
    header = [*header, "analytical", "numerical", "difference"]
    failed = sum(not r["ok"] for r in rows)
    if not failed:
        return
    table = [header, *cells]
    widths = [max(len(line[c]) for line in table) for c in range(len(header))]
    lines = [
        f"{where} failed: {failed} of {len(rows)} entries differ by more than "
        f"atol + rtol*|numerical| (eps={eps:g}, atol={atol:g}, rtol={rtol:g})"
    ]
    for k, line in enumerate(table):
        text = "  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip()
        mark = "" if k == 0 or rows[k - 1]["ok"] else "  <-- FAIL"
        lines.append(f"  {text}{mark}")
    raise GradcheckError("\n".join(lines), rows)


def _close(analytical: float, numerical: float, atol: float, rtol: float) -> bool:
    # Written so that nan or inf on either side fails.
    return bool(abs(analytical - numerical) <= atol + rtol * abs(numerical))


def gradcheck(
    fn: Function, inputs: Inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3
) -> bool:
    """Check the engine's gradient of `fn` at `inputs` against central finite differences.

    `fn(*values)` must return a scalar `Value`; it is called on fresh leaf Values made from
    `inputs` (numbers, or Values whose data and label are used). The analytical gradient is
    `grad(fn(*values), values)`; the numerical one is (fn(x + eps) - fn(x - eps)) / (2 eps)
    per input, in float64, with fn evaluated under `no_grad()`. Every input must satisfy
    |analytical - numerical| <= atol + rtol * |numerical| (PyTorch's criterion and defaults).

    Because of `no_grad()`, fn must not call `grad` itself (it would see no graph and give
    0); to check a derivative, check the function it derives from with `gradgradcheck`.

    Returns True, or raises `GradcheckError` whose message is a table of input, label,
    value, analytical, numerical and difference, with failing rows marked.
    TypeError if fn does not return a Value; ValueError for eps <= 0, atol or rtol < 0,
    empty or non-finite inputs.

    >>> from autograd_lite import gradcheck
    >>> gradcheck(lambda a, b: a * b.exp() + a / b, [0.5, 1.5])
    True
    """
    where = "gradcheck"
    datas, labels, eps, atol, rtol = _prepare(where, fn, inputs, eps, atol, rtol)

    with enable_grad():  # the analytical side needs a graph, even inside no_grad()
        leaves = _leaves(datas, labels)
        analytical = _first_derivatives(where, fn, leaves)

    def value_at(xs: list[float]) -> FloatArray:
        with no_grad():
            return np.array([_call(where, fn, _leaves(xs, labels)).data], dtype=np.float64)

    numerical = np.array(
        [_central_difference(where, value_at, datas, i, eps)[0] for i in range(len(datas))],
        dtype=np.float64,
    )

    header = ["input", "label", "value"]
    entries = [
        ((i, label, x), (str(i), label or "-", _fmt(x)), a, n)
        for i, (x, label, a, n) in enumerate(zip(datas, labels, analytical, numerical))
    ]
    _compare(where, header, entries, eps, atol, rtol)
    return True


def _first_derivatives(where: str, fn: Callable[..., Any], leaves: list[Value]) -> FloatArray:
    return np.array(grad(_call(where, fn, leaves), leaves), dtype=np.float64)


def gradgradcheck(
    fn: Function, inputs: Inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3
) -> bool:
    """Check the engine's second derivatives of `fn` at `inputs` against finite differences.

    The analytical Hessian is `grad` of each `grad(..., create_graph=True)` result, so the
    derivative rules run on Values. The numerical Hessian is the central difference of the
    engine's first derivatives (rules run on floats): column j is
    (grad at x + eps e_j - grad at x - eps e_j) / (2 eps). So this checks that each rule
    differentiates correctly as a Value expression; check the first derivatives themselves
    with `gradcheck`. Same criterion, arguments, errors and table (one row per entry i, j) as
    `gradcheck`.

    >>> from autograd_lite import gradgradcheck
    >>> gradgradcheck(lambda a, b: a * b.exp() + a / b, [0.5, 1.5])
    True
    """
    where = "gradgradcheck"
    datas, labels, eps, atol, rtol = _prepare(where, fn, inputs, eps, atol, rtol)
    n = len(datas)

    with enable_grad():  # the analytical side needs a graph, even inside no_grad()
        leaves = _leaves(datas, labels)
        # A rule that returned a plain float dropped the graph: hessian counts that as 0.
        analytical = hessian(_call(where, fn, leaves), leaves)

        def gradient_at(xs: list[float]) -> FloatArray:
            return _first_derivatives(where, fn, _leaves(xs, labels))

        numerical = np.empty((n, n), dtype=np.float64)
        for j in range(n):
            numerical[:, j] = _central_difference(where, gradient_at, datas, j, eps)

    def name(i: int) -> str:
        return labels[i] or f"x{i}"

    header = ["entry", "labels", "values"]
    entries = [
        (
            ((i, j), (labels[i], labels[j]), (datas[i], datas[j])),
            (f"({i}, {j})", f"{name(i)}, {name(j)}", f"({_fmt(datas[i])}, {_fmt(datas[j])})"),
            analytical[i, j],
            numerical[i, j],
        )
        for i in range(n)
        for j in range(n)
    ]
    _compare(where, header, entries, eps, atol, rtol)
    return True
