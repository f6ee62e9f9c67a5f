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
from dataclasses import dataclass
from typing import Any

import numpy as np

from .engine.backward import grad, hessian
from .engine.grad_mode import enable_grad, no_grad
from .engine.node import DomainError, Node
from .engine.tensor import Tensor
from .engine.value import Number, Value
from .validate import describe, real, sequence, tolerance

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
Function = Callable[..., Any]
"""What a check takes as fn: called on Values, it returns a scalar Value; called on Tensors,
a one-element Tensor."""
Inputs = Iterable[Value | Tensor | Number | np.ndarray[Any, Any]]
"""What a check takes as inputs: numbers, or Values whose data and label are used; or
Tensors (data, label, requires_grad), numpy arrays and numbers, which fn gets as Tensors."""

_SHOWN = 40
"""A tensor check's table lists every entry up to this many, else only the failing ones."""


class GradcheckError(AssertionError):
    """A derivative from the engine disagrees with its finite-difference estimate.

    The message is a table of every checked entry with the failing rows marked (for tensor
    inputs with more than 40 entries, of the failing ones); the same numbers are in `rows`
    (one dict per entry, keys as the table's columns plus "ok").
    """

    def __init__(self, message: str, rows: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.rows = rows


@dataclass(frozen=True)
class _Inputs:
    """A check's inputs as one flat list of the numbers it differentiates by.

    For Values, one number per input. For Tensors, every element of every input that
    requires a gradient, in input order and C order within each (as `hessian` orders them);
    inputs with requires_grad=False are passed to fn unchanged and not checked.
    """

    tensors: bool
    flat: list[float]  # the checked numbers
    labels: list[str | None]  # per input
    entries: list[tuple[int, tuple[int, ...]]]  # per flat number: its input, its element
    arrays: list[FloatArray]  # per input, for Tensors: its data as float64
    checked: list[bool]  # per input, for Tensors: whether it is differentiated by

    def leaves(self, xs: Sequence[float]) -> tuple[list[Node], list[Node]]:
        """Fresh leaves holding xs in place of the checked numbers: all of them, and those
        differentiated by."""
        if not self.tensors:
            values: list[Node] = [Value(x, label) for x, label in zip(xs, self.labels)]
            return values, values
        made: list[Node] = []
        start = 0
        for array, label, checked in zip(self.arrays, self.labels, self.checked):
            if checked:
                data = np.array(xs[start : start + array.size], dtype=np.float64)
                start += array.size
                made.append(Tensor(data.reshape(array.shape), label))
            else:
                made.append(Tensor(array, label, requires_grad=False))
        return made, [t for t, checked in zip(made, self.checked) if checked]

    def name(self, k: int) -> str:
        """Flat number k as the table's short name: "x0", "w", "w[1, 2]"."""
        i, element = self.entries[k]
        base = self.labels[i] or f"x{i}"
        return f"{base}[{', '.join(map(str, element))}]" if element else base


def _prepare(
    where: str,
    fn: object,
    inputs: Iterable[Any],
    eps: object,
    atol: object,
    rtol: object,
) -> tuple[_Inputs, float, float, float]:
    """Validate the arguments: the inputs, flattened, and eps, atol, rtol as floats."""
    if not callable(fn):
        raise TypeError(f"{where}: fn must be callable, got {type(fn).__name__}")
    accepted = "a sequence of numbers, Values, Tensors or numpy arrays"
    if isinstance(inputs, Node):
        raise TypeError(
            f"{where}: inputs must be {accepted}, got a {type(inputs).__name__} (write [x])"
        )
    if isinstance(inputs, np.ndarray) and inputs.ndim != 1:
        raise TypeError(
            f"{where}: inputs must be {accepted}, got an array of shape {inputs.shape}; to "
            f"check it as one Tensor input, pass [array]"
        )
    items = sequence(inputs, f"{where}: inputs", accepted)
    if not items:
        raise ValueError(f"{where}: inputs must not be empty")
    found = (
        _tensor_inputs(where, items)
        if any(isinstance(x, (Tensor, np.ndarray)) for x in items)
        else _value_inputs(where, items)
    )
    return (
        found,
        tolerance(eps, f"{where}: eps", positive=True),
        tolerance(atol, f"{where}: atol"),
        tolerance(rtol, f"{where}: rtol"),
    )


def _value_inputs(where: str, items: list[Any]) -> _Inputs:
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
    return _Inputs(False, datas, labels, [(i, ()) for i in range(len(datas))], [], [])


def _tensor_inputs(where: str, items: list[Any]) -> _Inputs:
    """Tensors, arrays and numbers (as 0-d tensors), all as float64: float32 differences
    would be too coarse to check anything."""
    labels: list[str | None] = []
    arrays: list[FloatArray] = []
    checked: list[bool] = []
    for i, x in enumerate(items):
        if isinstance(x, Node) and not isinstance(x, Tensor):
            raise TypeError(
                f"{where}: inputs[{i}] is a {type(x).__name__} among Tensors and arrays; fn is "
                f"called on one kind: make every input a Tensor (Tensor(v.data)) or a number"
            )
        data = x.data if isinstance(x, Tensor) else x
        if isinstance(data, np.ndarray):
            if data.dtype.kind not in "biuf":
                raise TypeError(
                    f"{where}: inputs[{i}] must hold real numbers, got an array of dtype "
                    f"{data.dtype}"
                )
            array = data.astype(np.float64)
        else:
            array = np.array(real(data, f"{where}: inputs[{i}]"), dtype=np.float64)
        requires = x.requires_grad if isinstance(x, Tensor) else True
        if requires and not np.isfinite(array).all():
            k = int(np.flatnonzero(~np.isfinite(array))[0])
            element = tuple(int(j) for j in np.unravel_index(k, array.shape))
            at = f" at element {element}" if array.ndim else ""
            raise ValueError(f"{where}: inputs[{i}] must be finite, got {array.flat[k]!r}{at}")
        labels.append(x.label if isinstance(x, Tensor) else None)
        arrays.append(array)
        checked.append(requires)
    flat: list[float] = []
    entries: list[tuple[int, tuple[int, ...]]] = []
    for i, (array, requires) in enumerate(zip(arrays, checked)):
        if requires:
            flat.extend(float(v) for v in array.reshape(-1))
            entries.extend((i, tuple(int(j) for j in e)) for e in np.ndindex(array.shape))
    if not flat:
        raise ValueError(
            f"{where}: no input element to check: every input is empty or has requires_grad=False"
        )
    return _Inputs(True, flat, labels, entries, arrays, checked)


def _call(where: str, fn: Callable[..., Any], leaves: list[Node], tensors: bool) -> Node:
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


def _probe_name(found: _Inputs, k: int) -> str:
    """How a probe error names flat number k: "input 2", or "input 2 element (0, 1)"."""
    i, element = found.entries[k]
    return f"input {i} element {element}" if found.tensors else f"input {i}"


def _fmt(x: float) -> str:
    return f"{x:.10g}"


def _compare(
    where: str,
    header: list[str],
    entries: Sequence[tuple[tuple[Any, ...], tuple[str, ...], Any, Any]],
    eps: float,
    atol: float,
    rtol: float,
    shown: int | None = None,
) -> None:
    """Compare each entry's analytical and numerical value; raise GradcheckError with the
    table if any differ. An entry is (its fields, named by `header`; those fields as table
    cells; analytical; numerical). With `shown`, a table of more entries than that lists
    only the failing ones (at most `shown` of them)."""
    rows: list[dict[str, Any]] = []
    cells: list[list[str]] = []
    for fields, cell_text, analytical, numerical in entries:
        a, n = float(analytical), float(numerical)
        row = dict(zip(header, fields))
        row.update(analytical=a, numerical=n, difference=a - n, ok=_close(a, n, atol, rtol))
        rows.append(row)
        cells.append([*cell_text, _fmt(a), _fmt(n), _fmt(a - n)])
    header = [*header, "analytical", "numerical", "difference"]
    failed = sum(not r["ok"] for r in rows)
    if not failed:
        return
    listed = list(range(len(rows)))
    note = []
    if shown is not None and len(rows) > shown:
        listed = [k for k in listed if not rows[k]["ok"]][:shown]
        note = [
            f"  (listing {len(listed)} of the {failed} failing entries; every entry is in "
            f"the error's .rows)"
        ]
    table = [header, *(cells[k] for k in listed)]
    widths = [max(len(line[c]) for line in table) for c in range(len(header))]
    lines = [
        f"{where} failed: {failed} of {len(rows)} entries differ by more than "
        f"atol + rtol*|numerical| (eps={eps:g}, atol={atol:g}, rtol={rtol:g})",
        *note,
    ]
    for k, line in enumerate(table):
        text = "  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip()
        mark = "" if k == 0 or rows[listed[k - 1]]["ok"] else "  <-- FAIL"
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

    With Tensors or numpy arrays among the inputs, fn is called on fresh float64 Tensors
    (numbers among them become 0-d Tensors; a Tensor's label and requires_grad are kept)
    and must return a one-element Tensor. Each element of each input that requires a
    gradient is an entry of its own; inputs with requires_grad=False are passed unchanged
    and not checked, as in PyTorch. (A 1-d array as `inputs` itself is a sequence of
    numbers, as before: fn gets Values. Pass [array] to check one Tensor input.)

    Because of `no_grad()`, fn must not call `grad` itself (it would see no graph and give
    0); to check a derivative, check the function it derives from with `gradgradcheck`.

    Returns True, or raises `GradcheckError` whose message is a table of input, label,
    value, analytical, numerical and difference (for tensors also the element's index),
    with failing rows marked.
    TypeError if fn does not return a Value (a one-element Tensor for tensor inputs);
    ValueError for eps <= 0, atol or rtol < 0, empty or non-finite inputs.

    >>> from autograd_lite import gradcheck
    >>> gradcheck(lambda a, b: a * b.exp() + a / b, [0.5, 1.5])
    True
    """
    where = "gradcheck"
    found, eps, atol, rtol = _prepare(where, fn, inputs, eps, atol, rtol)
    datas = found.flat

    with enable_grad():  # the analytical side needs a graph, even inside no_grad()
        analytical = _first_derivatives(where, fn, found, datas)

    def value_at(xs: list[float]) -> FloatArray:
        with no_grad():
            out = _call(where, fn, found.leaves(xs)[0], found.tensors)
            return np.array(out.data, dtype=np.float64).reshape(1)

    numerical = np.array(
        [
            _central_difference(where, value_at, datas, k, eps, _probe_name(found, k))[0]
            for k in range(len(datas))
        ],
        dtype=np.float64,
    )

    labels, tensors = found.labels, found.tensors
    header = ["input", "label", "element", "value"] if tensors else ["input", "label", "value"]
    entries = [
        (
            (i, labels[i], e, x) if tensors else (i, labels[i], x),
            (str(i), labels[i] or "-", *([str(e)] if tensors else []), _fmt(x)),
            a,
            n,
        )
        for (i, e), x, a, n in zip(found.entries, datas, analytical, numerical)
    ]
    _compare(where, header, entries, eps, atol, rtol, _SHOWN if tensors else None)
    return True


def _first_derivatives(
    where: str, fn: Callable[..., Any], found: _Inputs, xs: Sequence[float]
) -> FloatArray:
    """The engine's gradient of fn at xs, flattened as `found.flat`."""
    leaves, checked = found.leaves(xs)
    parts = grad(_call(where, fn, leaves, found.tensors), checked)
    return np.concatenate([np.ravel(np.asarray(p, dtype=np.float64)) for p in parts])


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
    `gradcheck`; for tensor inputs the entries are those of `hessian`'s flattened matrix,
    named by element ("w[0, 1], x[2]"), and the rules run on Tensors and arrays.

    >>> from autograd_lite import gradgradcheck
    >>> gradgradcheck(lambda a, b: a * b.exp() + a / b, [0.5, 1.5])
    True
    """
    where = "gradgradcheck"
    found, eps, atol, rtol = _prepare(where, fn, inputs, eps, atol, rtol)
    datas = found.flat
    n = len(datas)

    with enable_grad():  # the analytical side needs a graph, even inside no_grad()
        leaves, checked = found.leaves(datas)
        # A rule that returned a plain float dropped the graph: hessian counts that as 0.
        analytical = hessian(_call(where, fn, leaves, found.tensors), checked)

        def gradient_at(xs: list[float]) -> FloatArray:
            return _first_derivatives(where, fn, found, xs)

        numerical = np.empty((n, n), dtype=np.float64)
        for j in range(n):
            numerical[:, j] = _central_difference(
                where, gradient_at, datas, j, eps, _probe_name(found, j)
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
                f"({_fmt(datas[i])}, {_fmt(datas[j])})",
            ),
            analytical[i, j],
            numerical[i, j],
        )
        for i in range(n)
        for j in range(n)
    ]
    _compare(where, header, entries, eps, atol, rtol, _SHOWN if tensors else None)
    return True
