"""Checking a derivation done by hand: someone's gradients against backward()'s, node by node.

`compare_gradients(output, expected)` takes the gradients a person worked out (d output /
d node for parameters and for any intermediate node, such as a layer's δ) and lines them up
with backward()'s in backward order. Where one disagrees, the report shows the chain-rule
step that made that gradient, grad(result) × ∂result/∂operand, and what ∂result/∂operand
would have to be for the person's value: the first wrong gradient in backward order is the
one whose own step went wrong, since everything before it agrees.

The gradients come from `backward_steps` (the same walk and the same floats as backward()),
so nothing is written: `.grad` stays as it is, and backward() need not have run.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .engine.backward import graph_nodes
from .engine.node import Node
from .engine.tensor import Tensor
from .engine.value import Value
from .render.step_table import BackwardSteps, StepRow, backward_steps, number_text
from .validate import describe, real, tolerance

__all__ = [
    "GradientMismatch",
    "GradientReport",
    "GradientRow",
    "assert_gradients_match",
    "compare_gradients",
]

_WHERE = "compare_gradients"
_WIDTH = 92  # the explanation's sentences are wrapped to this width
_DIGITS = 10  # significant digits of the gradients in the table: enough to see rtol=1e-6 fail


class GradientRow:
    """One node's gradient d(output)/d(node), by hand and by autodiff.

    - `name`: the node's name in `backward_steps`' table (its label; the table's first column);
    - `node`: the node itself;
    - `hand`: the gradient given, a float (an array of the node's shape, float64, for a Tensor);
    - `autodiff`: backward()'s gradient, the same kind;
    - `difference`: hand - autodiff (elementwise for arrays);
    - `ok`: True when |hand - autodiff| <= atol + rtol × |autodiff| (for every element), or
      the two are equal (equal infinities).
    """

    def __init__(self, name: str, node: Node, hand: Any, autodiff: Any, ok: bool) -> None:
        self.name = name
        self.node = node
        self.hand = hand
        self.autodiff = autodiff
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf is nan; 1e308 - -1e308 inf
            self.difference: Any = hand - autodiff
        self.ok = ok

    def __repr__(self) -> str:
        verdict = "ok" if self.ok else "differs"
        return f"<GradientRow {self.name}: {verdict}>"


class GradientReport:
    """What `compare_gradients` found: one `GradientRow` per gradient given, in backward order.

    `ok` is True when every row agrees; `first_mismatch` is the first row (in backward order)
    that does not, and `culprit` the chain-rule steps of backward() that made its gradient
    (one per use of the node); `steps` is the whole backward pass. `str()` is the table, with
    the first disagreement explained below it.
    """

    def __init__(
        self,
        output: Node,
        rows: Sequence[GradientRow],
        steps: BackwardSteps,
        given: Mapping[Node, Any],
        rtol: float,
        atol: float,
    ) -> None:
        self.output = output
        self.rows = tuple(rows)
        self.steps = steps
        self.rtol = rtol
        self.atol = atol
        self._given = given

    @property
    def ok(self) -> bool:
        """True when every gradient given agrees with backward()'s."""
        return all(row.ok for row in self.rows)

    @property
    def mismatches(self) -> tuple[GradientRow, ...]:
        """The rows that disagree, in backward order."""
        return tuple(row for row in self.rows if not row.ok)

    @property
    def first_mismatch(self) -> GradientRow | None:
        """The first row that disagrees, in backward order; None when all agree."""
        return next((row for row in self.rows if not row.ok), None)

    @property
    def culprit(self) -> tuple[StepRow, ...]:
        """The chain-rule steps that made the first mismatch's gradient (one per use of the
        node, in backward()'s order); () when all agree or when it is the output's own."""
        row = self.first_mismatch
        if row is None:
            return ()
        return tuple(s for s in self.steps if s.operand is row.node)

    def __str__(self) -> str:
        # The explanation's sentences are wrapped; its indented formulas are kept whole.
        prose = [
            line if line.startswith("  ") else textwrap.fill(line, _WIDTH)
            for line in self._explanation()
        ]
        return "\n".join([*self._table(), *prose])

    def __repr__(self) -> str:
        n, bad = len(self.rows), len(self.mismatches)
        return (
            f"<GradientReport of {self.steps.names[self.output]}: {n} gradient"
            f"{'s' if n != 1 else ''}, {bad} disagree{'s' if bad == 1 else ''}>"
        )

    def _table(self) -> list[str]:
        out = self.steps.names[self.output]
        lines = [f"d{out}/d(node) by hand and by backward(), in backward order:"]
        table = [["label", "by hand", "by autodiff", "difference", "ok"]]
        for row in self.rows:
            table.append(
                [
                    row.name,
                    _number(row.hand),
                    _number(row.autodiff),
                    _difference(row.difference),
                    "yes" if row.ok else "NO",
                ]
            )
        widths = [max(len(r[k]) for r in table) for k in range(5)]
        for r in table:
            cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:4], widths[1:4])]
            lines.append("  ".join([*cells, r[4]]).rstrip())
        lines.append(
            f"ok: |by hand - by autodiff| <= atol + rtol × |by autodiff| "
            f"(rtol={self.rtol:g}, atol={self.atol:g})"
        )
        return lines

    def _explanation(self) -> list[str]:
        row = self.first_mismatch
        if row is None:
            n = len(self.rows)
            return [f"All {n} agree." if n > 1 else "It agrees."]
        bad = len(self.mismatches)
        lines = [
            f"{bad} of {len(self.rows)} disagree{'s' if bad == 1 else ''}; the first in "
            f"backward order is grad({row.name})."
        ]
        steps = self.culprit
        if not steps:
            return [
                *lines,
                f"{row.name} is the output: backward() starts from grad({row.name}) = "
                f"{_number(row.autodiff)}, d{row.name}/d{row.name} = 1.",
            ]
        if len(steps) == 1:
            return lines + self._one_step(row, steps[0])
        return lines + self._several_steps(row, steps)

    def _upstream(self, step: StepRow) -> str:
        """grad(result), and whether the person's table has it."""
        r = step.result_name
        if step.result in self._given:
            return f"grad({r}) = {_number(step.upstream)} is in your table and agrees."
        return f"grad({r}) = {_number(step.upstream)} is not in your table (backward()'s)."

    def _one_step(self, row: GradientRow, step: StepRow) -> list[str]:
        r, x = step.result_name, row.name
        lines = [
            f"grad({x}) comes from one chain-rule step of backward(), step {step.number}:",
            f"  {r} = {self.steps.definitions[r]}",
            f"  grad({x}) = {_product(step, x)}",
            self._upstream(step),
        ]
        if step.local is None:  # a Tensor: the factor is a Jacobian, not one number
            lines.append(
                f"For Tensors ∂{r}/∂{x} is a Jacobian: compare your numbers with this share, "
                f"element by element."
            )
            return lines
        upstream = float(step.upstream)
        if upstream == 0:
            lines.append(f"grad({r}) is 0, so this step gives 0 whatever ∂{r}/∂{x} is.")
            return lines
        implied = float(row.hand) / upstream
        lines.append(
            f"So the factor that differs is ∂{r}/∂{x} = {_number(step.local)}: for your value "
            f"it would have to be {_number(row.hand)} / {_number(upstream)} = {_number(implied)}."
        )
        return lines

    def _several_steps(self, row: GradientRow, steps: Sequence[StepRow]) -> list[str]:
        x = row.name
        numbers = ", ".join(str(s.number) for s in steps)
        lines = [
            f"{x} is used {len(steps)} times, so grad({x}) is the sum of {len(steps)} shares, "
            f"one per use (steps {numbers} of backward()):"
        ]
        for s in steps:
            r = s.result_name
            lines.append(f"  {r} = {self.steps.definitions[r]}: {_product(s, x)}")
        lines.append(f"  sum: grad({x}) = {_number(row.autodiff)}; yours is {_number(row.hand)}")
        alone = [s for s in steps if s.share is not None and _close(row.hand, s.share, 0, 1e-9)]
        if alone:
            lines.append(
                f"Yours equals the share from {alone[0].result_name} alone: the other uses of "
                f"{x} are missing."
            )
        else:
            lines.append("Check each share: every use of a node adds its own.")
        return lines


def _product(step: StepRow, x: str) -> str:
    """The step's share with its factors: grad(r) × ∂r/∂x = ... (a Tensor's: the share)."""
    r = step.result_name
    if step.local is None:
        return f"grad({r}) · ∂{r}/∂{x} = {_number(step.share)}"
    return (
        f"grad({r}) × ∂{r}/∂{x} = {_number(step.upstream)} × {_number(step.local)} = "
        f"{_number(step.share)}"
    )


def _number(x: Any) -> str:
    """A gradient in the report: a float to 10 digits, an array's elements to 4 (a row of
    the table stays readable; the difference column shows the largest gap)."""
    return number_text(x, 4 if isinstance(x, np.ndarray) else _DIGITS)


def _difference(d: Any) -> str:
    """hand - autodiff in 3 digits; for an array the largest in size, and where it is."""
    if not isinstance(d, np.ndarray):
        return number_text(d, 3)
    if d.size == 0:
        return "-"
    flat = np.nan_to_num(np.abs(d), nan=np.inf)
    if not flat.any():
        return "0"
    at = np.unravel_index(int(np.argmax(flat)), d.shape)
    where = f" at {tuple(int(i) for i in at)}" if d.ndim else ""
    return number_text(float(d[at]), 3) + where


def _close(hand: Any, autodiff: Any, atol: float, rtol: float) -> bool:
    """|hand - autodiff| <= atol + rtol × |autodiff| everywhere, or equal (equal infinities)."""
    h = np.asarray(hand, dtype=np.float64)
    a = np.asarray(autodiff, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        near = np.abs(h - a) <= atol + rtol * np.abs(a)
    return bool(np.all((h == a) | (np.isfinite(h) & np.isfinite(a) & near)))


def _key_text(key: object, *, label: str = "") -> str:
    """A key of `expected` as the messages name it (a label after `label`, if given)."""
    if isinstance(key, str):
        return f"{label}{key!r}"
    if isinstance(key, Node) and key.label:
        return f"the node labelled {key.label!r}"
    return describe(key)


def _nodes_named(
    expected: object, output: Node, out_name: str
) -> list[tuple[Node, object, object]]:
    """(node, key, value) for each entry of `expected`, with the key resolved to its node."""
    if not isinstance(expected, Mapping):
        raise TypeError(
            f"{_WHERE}: expected must be a dict from node labels (or nodes) to the gradients "
            f"you derived, got {describe(expected)}"
        )
    if not expected:
        raise ValueError(f"{_WHERE}: expected is empty; give at least one gradient to compare")
    nodes = graph_nodes(output)
    members = set(nodes)
    labelled: dict[str, list[Node]] = {}
    for node in nodes:
        if node.label:
            labelled.setdefault(node.label, []).append(node)
    found: list[tuple[Node, object, object]] = []
    keys: dict[Node, object] = {}
    for key, value in expected.items():
        if isinstance(key, str):
            candidates = labelled.get(key, [])
            if not candidates:
                known = ", ".join(map(repr, sorted(labelled)[:20])) or "none"
                raise ValueError(
                    f"{_WHERE}: no node labelled {key!r} in the graph of {out_name} "
                    f"(its labels: {known}); label the node or pass it itself"
                )
            if len(candidates) > 1:
                raise ValueError(
                    f"{_WHERE}: the label {key!r} is on {len(candidates)} nodes of the graph "
                    f"of {out_name}, so it is ambiguous; pass the node itself as the key "
                    f"(expected={{node: gradient}}) or give the nodes different labels"
                )
            node = candidates[0]
        elif isinstance(key, Node):
            if key not in members:
                raise ValueError(
                    f"{_WHERE}: {_key_text(key)} is not in the graph of {out_name} "
                    f"({out_name} was not computed from it), so it has no gradient to compare"
                )
            node = key
        else:
            raise TypeError(
                f"{_WHERE}: the keys of expected must be node labels (str) or nodes, got "
                f"{describe(key)}"
            )
        if node in keys:
            raise ValueError(
                f"{_WHERE}: {_key_text(keys[node], label='the label ')} and "
                f"{_key_text(key, label='the label ')} name the same node; "
                f"give its gradient once"
            )
        keys[node] = key
        found.append((node, key, value))
    return found


def _hand_value(node: Node, key: object, value: object) -> Any:
    """The gradient given for `node` as a float (a Value) or a float64 array of the node's
    shape (a Tensor); a clear error for anything else."""
    where = f"{_WHERE}: the gradient given for {_key_text(key)}"
    if isinstance(value, Node):
        raise TypeError(
            f"{where} is a {type(value).__name__}; give the number you derived (x.data for a "
            f"node's value)"
        )
    if isinstance(node, Value):
        number = real(value, where)
        if math.isnan(number):
            raise ValueError(f"{where} is nan; give the number you derived")
        return number
    shape = node.data.shape
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{where} must be real numbers (an array of shape {shape}), got {describe(value)}"
        )
    if array.shape != shape:
        raise ValueError(
            f"{where} has shape {array.shape}, and the node has shape {shape}; give one "
            f"number per element"
        )
    array = array.astype(np.float64)
    if np.isnan(array).any():
        raise ValueError(f"{where} holds nan; give the numbers you derived")
    return array


def compare_gradients(
    output: Node, expected: Mapping[Any, Any], *, rtol: float = 1e-6, atol: float = 1e-12
) -> GradientReport:
    """Compare gradients derived by hand with backward()'s: d(output)/d(node) for each node
    `expected` names.

    `expected` maps node labels (or the nodes themselves) to the gradients someone worked
    out: parameters' and any intermediate node's (the δ of a layer is the gradient of its
    pre-activation). For a Tensor graph each is an array of the node's shape, compared
    element by element. A gradient agrees when |hand - autodiff| <= atol + rtol × |autodiff|.
    The report lists them in backward order (`str()` is the table) and explains the first
    that disagrees: the chain-rule step that made it, and which factor differs. Nothing is
    written (`.grad` stays as it is).

    Errors: TypeError for an output that is not a Value or Tensor, keys that are not labels
    or nodes, gradients that are not numbers; ValueError for a label that is on no node or
    on several (pass the node instead), a node not in output's graph, a node named twice, a
    node that takes no gradient, a wrong shape, nan, a negative or non-finite tolerance.

    >>> from autograd_lite import Value, compare_gradients
    >>> x, w = Value(3.0, label="x"), Value(0.5, label="w")
    >>> z = x * w
    >>> z.label = "z"
    >>> y = z**2
    >>> y.label = "y"
    >>> report = compare_gradients(y, {"z": 2 * 1.5, "w": 2 * 1.5})   # dy/dw forgot the x
    >>> report.ok
    False
    >>> print(report)
    dy/d(node) by hand and by backward(), in backward order:
    label  by hand  by autodiff  difference  ok
    z            3            3           0  yes
    w            3            9          -6  NO
    ok: |by hand - by autodiff| <= atol + rtol × |by autodiff| (rtol=1e-06, atol=1e-12)
    1 of 2 disagrees; the first in backward order is grad(w).
    grad(w) comes from one chain-rule step of backward(), step 2:
      z = x * w
      grad(w) = grad(z) × ∂z/∂w = 3 × 3 = 9
    grad(z) = 3 is in your table and agrees.
    So the factor that differs is ∂z/∂w = 3: for your value it would have to be 3 / 3 = 1.
    """
    rtol = tolerance(rtol, f"{_WHERE}: rtol")
    atol = tolerance(atol, f"{_WHERE}: atol")
    if not isinstance(output, (Value, Tensor)):
        raise TypeError(f"{_WHERE}: output must be a Value or a Tensor, got {describe(output)}")
    if isinstance(output, Tensor) and output.data.size != 1:
        raise ValueError(
            f"{_WHERE}: output must have one element (a loss), got shape {output.data.shape}; "
            f"reduce it first (.sum())"
        )
    steps = backward_steps(output)  # numbered as the step table and the page number them
    out_name = steps.names[output]
    given = _nodes_named(expected, output, out_name)
    # Each node's gradient and when it is complete: the output at once, the others at the
    # step that hands them their last share.
    final: dict[Node, tuple[int, Any]] = {output: (0, steps.seed)}
    for step in steps:
        if step.complete:
            final[step.operand] = (step.number, step.gradient)
    rows = []
    values: dict[Node, Any] = {}
    for node, key, value in given:
        when, autodiff = final.get(node, (0, None))  # constants have no steps
        if autodiff is None:
            raise ValueError(
                f"{_WHERE}: {_key_text(key)} takes no gradient in this graph (a constant or "
                f"requires_grad=False), so there is nothing to compare"
            )
        hand = _hand_value(node, key, value)
        if isinstance(node, Tensor):
            autodiff = np.asarray(autodiff, dtype=np.float64)
        else:
            autodiff = float(autodiff)
        values[node] = hand
        row = GradientRow(
            steps.names[node], node, hand, autodiff, _close(hand, autodiff, atol, rtol)
        )
        rows.append((when, row))
    rows.sort(key=lambda item: item[0])
    return GradientReport(output, [row for _, row in rows], steps, values, rtol, atol)


class GradientMismatch(AssertionError):
    """Raised by `assert_gradients_match`; `report` is the `GradientReport` (its text is the
    message)."""

    def __init__(self, report: GradientReport) -> None:
        super().__init__(str(report))
        self.report = report


def assert_gradients_match(
    output: Node, expected: Mapping[Any, Any], *, rtol: float = 1e-6, atol: float = 1e-12
) -> GradientReport:
    """`compare_gradients`, for tests: the report when every gradient agrees, else a
    `GradientMismatch` (an AssertionError) whose message is the report's table and
    explanation. The same arguments and errors as `compare_gradients`.

    >>> from autograd_lite import Value, assert_gradients_match
    >>> a = Value(2.0, label="a")
    >>> y = a * a
    >>> y.label = "y"
    >>> assert_gradients_match(y, {"a": 4.0})   # dy/da = 2a, from both uses of a
    <GradientReport of y: 1 gradient, 0 disagree>
    """
    report = compare_gradients(output, expected, rtol=rtol, atol=atol)
    if not report.ok:
        raise GradientMismatch(report)
    return report
