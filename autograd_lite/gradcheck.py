"""Gradient checks: the engine's derivatives against central finite differences.

`gradcheck` compares first derivatives with differences of `fn` itself; `gradgradcheck`
compares the Hessian (rules run on Values, `create_graph=True`) with differences of the
engine's first derivatives (rules run on floats). Both pass an entry when

    |analytical - numerical| <= atol + rtol * |numerical|

as PyTorch does, and otherwise raise `GradcheckError` with a table of every entry.

With `modes=("fwd", "rev")` they check along random directions instead, as HIPS autograd's
`check_grads` does: forward mode (a jvp), reverse mode (a vjp) and finite differences must
agree on the derivative along one random direction, and a failure names the op whose rule is
wrong (rulecheck.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .engine.backward import grad, hessian
from .engine.dual import Dual
from .engine.grad_mode import enable_grad, no_grad
from .engine.node import DomainError, Node
from .engine.tensor import Tensor
from .engine.value import Number, Value
from .flat_inputs import FlatInputs, flat_inputs
from .rulecheck import MODES, RuleFault, find_wrong_rule
from .validate import choice, describe, sequence, tolerance

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
Function = Callable[..., Any]
"""What a check takes as fn: called on Values, it returns a scalar Value; called on Tensors,
a one-element Tensor."""
Locate = Callable[[], RuleFault | None]
"""Searches the graph of a failing check for the op whose rule is wrong (find_wrong_rule)."""
Entry = tuple[tuple[Any, ...], tuple[str, ...], Any, Any]
"""One entry of a check: its fields (named by the table's header), those fields as table
cells, the analytical and the numerical value."""
Table = tuple[list[str], Sequence[Entry], Sequence[str]]
"""A check's table before judging: header, entries and notes to print below it."""
Inputs = Iterable[Value | Tensor | Number | np.ndarray[Any, Any]]
"""What a check takes as inputs: numbers, or Values whose data and label are used; or
Tensors (data, label, requires_grad), numpy arrays and numbers, which fn gets as Tensors."""

_SHOWN = 40
"""A tensor check's table lists every entry up to this many, else only the failing ones."""


class GradcheckError(AssertionError):
    """A derivative from the engine disagrees with its finite-difference estimate.

    The message is a table of every checked entry with the failing rows marked (for tensor
    inputs with more than 40 entries, of the failing ones); the same numbers are in `rows`
    (one dict per entry, keys as the table's columns plus "ok"). Every failing check also
    looks for the op whose rule is wrong (`find_wrong_rule`, with the rules of the modes
    checked: reverse mode's without `modes`): `fault` is that `RuleFault`, and the message
    ends with it; when no op's rule disagrees with finite differences (fn is not
    differentiable there, or leaves the graph), `fault` is None and the last line says so.
    """

    def __init__(
        self, message: str, rows: list[dict[str, Any]], fault: RuleFault | None = None
    ) -> None:
        super().__init__(message)
        self.rows = rows
        self.fault = fault


def _prepare(
    where: str,
    fn: object,
    inputs: Iterable[Any],
    eps: object,
    atol: object,
    rtol: object,
) -> tuple[FlatInputs, float, float, float]:
    """Validate the arguments: the inputs, flattened, and eps, atol, rtol as floats."""
    if not callable(fn):
        raise TypeError(f"{where}: fn must be callable, got {type(fn).__name__}")
    return (
        flat_inputs(where, inputs),
        tolerance(eps, f"{where}: eps", positive=True),
        tolerance(atol, f"{where}: atol"),
        tolerance(rtol, f"{where}: rtol"),
    )


def _call(where: str, fn: Callable[..., Any], leaves: list[Node], tensors: bool) -> Node:
    out = fn(*leaves)
    if type(leaves[0]) is Dual:  # forward mode
        if type(out) is not Dual or out.size != 1:
            raise TypeError(
                f"{where}: in forward mode fn is called on Duals and must return a "
                f"{'one-element' if tensors else 'scalar'} Dual built from them, got "
                f"{describe(out)}"
            )
        return out
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


def _fmt(x: float) -> str:
    return f"{x:.10g}"


def _compare(
    where: str,
    header: list[str],
    entries: Sequence[Entry],
    notes: Sequence[str],
    eps: float,
    atol: float,
    rtol: float,
    locate: Locate,
    shown: int | None,
) -> None:
    """Compare each entry's analytical and numerical value; raise GradcheckError with the
    table if any differ. With `shown`, a table of more entries than that lists
    only the failing ones (at most `shown` of them). On failure, `notes` follow the table,
    then the op at fault `locate` finds, or a line that says none was found."""
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
    lines += notes
    fault = None
    try:
        fault = locate()
        lines.append(f"  {fault}" if fault is not None else _NO_FAULT)
    except Exception as e:  # the table is what was asked for: a failed search must not hide it
        lines.append(f"  the search for the op at fault stopped: {type(e).__name__}: {e}")
    raise GradcheckError("\n".join(lines), rows, fault)


_NO_FAULT = (
    "  no single op's rule was found at fault: every op's rule agrees with finite differences "
    "at the values recorded in the graph, so the difference comes from fn itself: it is not "
    "differentiable there (a probe across a kink such as relu's at 0, or a step), or it "
    "leaves the graph (reads .data or .item())"
)


def _close(analytical: float, numerical: float, atol: float, rtol: float) -> bool:
    # Written so that nan or inf on either side fails.
    return bool(abs(analytical - numerical) <= atol + rtol * abs(numerical))


def gradcheck(
    fn: Function,
    inputs: Inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    *,
    modes: Sequence[str] | None = None,
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
    with failing rows marked, and ends with the op whose rule is wrong (`find_wrong_rule`;
    also `GradcheckError.fault`) or a line that says no single op's rule was found at fault.
    TypeError if fn does not return a Value (a one-element Tensor for tensor inputs);
    ValueError for eps <= 0, atol or rtol < 0, empty or non-finite inputs.

    With `modes`, "fwd", "rev" or both, the check is HIPS autograd's instead: one random
    direction v (the same every run), and the derivative along it by forward mode (fn called
    on Duals: the tangent), by reverse mode (<gradient, v>) and by finite differences
    (fn(x + eps v) - fn(x - eps v)) / (2 eps); one table row per mode; a failure names the
    op at fault in the rules of those modes.

    >>> from autograd_lite import gradcheck
    >>> gradcheck(lambda a, b: a * b.exp() + a / b, [0.5, 1.5])
    True
    >>> gradcheck(lambda a, b: a * b.exp() + a / b, [0.5, 1.5], modes=("fwd", "rev"))
    True
    """
    return _check("gradcheck", 1, fn, inputs, eps, atol, rtol, modes)


def _check(
    where: str,
    order: int,
    fn: Function,
    inputs: Iterable[Any],
    eps: object,
    atol: object,
    rtol: object,
    modes: Sequence[str] | None,
) -> bool:
    """gradcheck (order 1) and gradgradcheck (order 2): the arguments checked, then the
    check by entries or, with `modes`, along random directions. Each failure ends with the
    op at fault, or a line that says no op's rule was found at fault."""
    found, eps_, atol_, rtol_ = _prepare(where, fn, inputs, eps, atol, rtol)
    chosen = ("rev",) if modes is None else _modes(where, modes)

    def locate() -> RuleFault | None:
        with enable_grad():
            leaves, _ = found.leaves(found.flat)
            out = _call(where, fn, leaves, found.tensors)
        return find_wrong_rule(out, chosen, order, eps_, atol_, rtol_)

    if modes is not None:
        table = _directions(where, fn, found, eps_, chosen, order)
    elif order == 1:
        table = _gradient_table(where, fn, found, eps_)
    else:
        table = _hessian_table(where, fn, found, eps_)
    _compare(where, *table, eps_, atol_, rtol_, locate, _SHOWN if found.tensors else None)
    return True


def _gradient_table(where: str, fn: Callable[..., Any], found: FlatInputs, eps: float) -> Table:
    """The engine's gradient of fn against central differences of fn, entry by entry."""
    datas = found.flat
    with enable_grad():  # the analytical side needs a graph, even inside no_grad()
        analytical = _first_derivatives(where, fn, found, datas)

    value_at = _value_at(where, fn, found)
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
    return header, entries, ()


def _value_at(
    where: str, fn: Callable[..., Any], found: FlatInputs
) -> Callable[[list[float]], FloatArray]:
    """fn's value at xs (the flat numbers), as an array of one float, computed without a
    graph."""

    def value_at(xs: list[float]) -> FloatArray:
        with no_grad():
            out = _call(where, fn, found.leaves(xs)[0], found.tensors)
            return np.array(out.data, dtype=np.float64).reshape(1)

    return value_at


def _gradient_at(
    where: str, fn: Callable[..., Any], found: FlatInputs
) -> Callable[[list[float]], FloatArray]:
    """The engine's gradient of fn as a function of the flat numbers (for differences)."""

    def gradient_at(xs: list[float]) -> FloatArray:
        return _first_derivatives(where, fn, found, xs)

    return gradient_at


def _first_derivatives(
    where: str, fn: Callable[..., Any], found: FlatInputs, xs: Sequence[float]
) -> FloatArray:
    """The engine's gradient of fn at xs, flattened as `found.flat`."""
    leaves, checked = found.leaves(xs)
    parts = grad(_call(where, fn, leaves, found.tensors), checked)
    return np.concatenate([np.ravel(np.asarray(p, dtype=np.float64)) for p in parts])


def gradgradcheck(
    fn: Function,
    inputs: Inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    *,
    modes: Sequence[str] | None = None,
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

    With `modes`, as in `gradcheck`: along random directions v and w, <w, H v> by forward
    over reverse ("fwd": the rules run on Duals, the tangent of the gradient), by reverse over
    reverse ("rev") and by differences of the first derivatives; a failure names the op
    whose rule does not differentiate correctly.

    >>> from autograd_lite import gradgradcheck
    >>> f = lambda a, b: (a * b).tanh() + a / b
    >>> gradgradcheck(f, [0.5, 1.5]) and gradgradcheck(f, [0.5, 1.5], modes=("fwd", "rev"))
    True
    """
    return _check("gradgradcheck", 2, fn, inputs, eps, atol, rtol, modes)


def _hessian_table(where: str, fn: Callable[..., Any], found: FlatInputs, eps: float) -> Table:
    """The engine's Hessian of fn against central differences of its first derivatives."""
    datas = found.flat
    n = len(datas)
    with enable_grad():  # the analytical side needs a graph, even inside no_grad()
        leaves, checked = found.leaves(datas)
        # A rule that returned a plain float dropped the graph: hessian counts that as 0.
        analytical = hessian(_call(where, fn, leaves, found.tensors), checked)
        gradient_at = _gradient_at(where, fn, found)
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
    return header, entries, ()


# -- checks along random directions (modes=) ----------------------------------------------------
def _modes(where: str, modes: object) -> tuple[str, ...]:
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


def _directions(
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
            numerical = float(_along(where, _value_at(where, fn, found), x, v, eps)[0])
        else:
            numerical = float(w @ _along(where, _gradient_at(where, fn, found), x, v, eps))
        entries = []
        for mode in modes:
            if mode == "fwd":
                analytical = _fwd(where, fn, found, x, v, w)
            elif w is None:
                analytical = float(_first_derivatives(where, fn, found, x.tolist()) @ v)
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
    out = _call(where, fn, duals, found.tensors)
    if w is None:
        return float(np.sum(out.tangent))  # type: ignore[attr-defined]
    tangents = [np.ravel(g.tangent) for g in grad(out, checked, create_graph=True)]
    return float(w @ np.concatenate(tangents))


def _rev_rev(
    where: str, fn: Callable[..., Any], found: FlatInputs, x: FloatArray, v: FloatArray, w: Any
) -> float:
    """Reverse over reverse: <v, H w>, the gradient of <w, gradient> (H is symmetric)."""
    leaves, checked = found.leaves(x.tolist())
    first = grad(_call(where, fn, leaves, found.tensors), checked, create_graph=True)
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
