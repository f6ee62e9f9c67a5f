"""The chain-rule steps of `backward()` as a table: who hands whom what, with the numbers.

`backward_steps(output)` reads the steps from `engine.steps.backward_order` (backward()'s own
order) and adds what a reader needs beside each: names for the nodes, the local derivative
d(result)/d(operand) (a number for Values; for Tensors a Jacobian, so only the share is
given) and whether the operand's gradient is now complete. `format_backward_steps` prints
them; the stepping page (page.py) shows the same rows one at a time.

Names: a node's label; a constant, its value; another result `t1, t2, ...`; another leaf
`leaf1, leaf2, ...` (numbered in `graph_nodes` order, skipping names labels already use).
Steps into constants (and, for Tensors, into operands that take no gradient) are left out
unless `constants=True`, as the drawing leaves out constants' gradients.
What each made-up name stands for is written by `notation.formula`, the writer of the
stepping page's formulas and of generated code's comments too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from ..engine.backward import graph_nodes, local_derivatives
from ..engine.node import Node
from ..engine.steps import backward_order
from ..engine.tensor import Tensor
from ..engine.value import Value
from ..notation import formula, one_line
from ..validate import describe, flag
from .numbers import SMALL, number_text

__all__ = [
    "BackwardSteps",
    "StepRow",
    "backward_steps",
    "format_backward_steps",
    "node_names",
    "number_text",
]

TENSOR_NOTE = (
    "share = grad(result) through d(result)/d(operand), a Jacobian for Tensors, not one\n"
    "number, so only the share is given (summed back to the operand's shape where it was\n"
    "broadcast); backward() adds it to grad(operand)."
)
"""What a table of Tensor steps says about its missing ∂ column."""

VALUE_NOTE = "share = grad(result) × ∂result/∂operand, which backward() adds to grad(operand)."
"""What a table of Value steps says below its rows."""


@dataclass(frozen=True)
class StepRow:
    """One chain-rule step of backward(): `result` hands `operand` its share of the gradient.

    - `number`: the step's position in the table, from 1;
    - `index`: which operand of `result` this is (0 for the first);
    - `result_name`, `operand_name`: the nodes' names in the table;
    - `upstream`: grad(result), complete when the step runs;
    - `local`: d(result)/d(operand) at the recorded values, a float for Values; None for
      Tensors (a Jacobian);
    - `share`: upstream × local, what backward() adds to grad(operand); None for an operand
      that takes no gradient (a Tensor constant or `requires_grad=False` tensor);
    - `gradient`: grad(operand) after this share is added;
    - `first`: this is the operand's first share; `complete`: its last (`gradient` is final).
    """

    number: int
    result: Node
    operand: Node
    index: int
    result_name: str
    operand_name: str
    upstream: Any
    local: float | None
    share: Any
    gradient: Any
    first: bool
    complete: bool


class BackwardSteps(Sequence[StepRow]):
    """The steps of one backward pass from `output`, in backward()'s order (a sequence of
    `StepRow`); `str()` is the table `format_backward_steps` prints.

    `seed` is grad(output) at the start; `names` the name of every node of the graph;
    `definitions` what each result is (`"t1": "x * w1"`); `hidden` how many steps into
    constants (or, for Tensors, into operands that take no gradient) were left out.
    """

    def __init__(
        self,
        output: Node,
        seed: Any,
        rows: Sequence[StepRow],
        names: Mapping[Node, str],
        definitions: Mapping[str, str],
        hidden: int,
    ) -> None:
        self.output = output
        self.seed = seed
        self.rows = tuple(rows)
        self.names = names
        self.definitions = definitions
        self.hidden = hidden

    @property
    def tensors(self) -> bool:
        """True for a graph of Tensors (the rows have no local derivative)."""
        return isinstance(self.output, Tensor)

    @overload
    def __getitem__(self, i: int) -> StepRow: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[StepRow]: ...
    def __getitem__(self, i: int | slice) -> StepRow | Sequence[StepRow]:
        return self.rows[i]

    def __len__(self) -> int:
        return len(self.rows)

    def __str__(self) -> str:
        return format_backward_steps(self)

    def __repr__(self) -> str:
        name = self.names[self.output]
        return f"<BackwardSteps of {name}: {len(self.rows)} steps, {self.hidden} left out>"


def _constant_name(node: Node) -> str:
    data = node.data
    if isinstance(data, np.ndarray) and data.size > SMALL:
        return f"constant{data.shape}"
    return number_text(data, 6)


def node_names(nodes: Sequence[Node]) -> dict[Node, str]:
    """A name for each node (see the module's docstring): labels first, so that a made-up
    name never takes one; a label used twice is `label#2` the second time."""
    names: dict[Node, str] = {}
    taken: set[str] = set()
    for node in nodes:
        if node.label:
            name = base = one_line(node.label)
            k = 1
            while name in taken:
                k += 1
                name = f"{base}#{k}"
            names[node] = name
            taken.add(name)
    counters = {"t": 0, "leaf": 0}
    for node in nodes:
        if node in names:
            continue
        if node.is_constant:
            names[node] = _constant_name(node)
            continue
        prefix = "leaf" if node.is_leaf else "t"
        while True:
            counters[prefix] += 1
            name = f"{prefix}{counters[prefix]}"
            if name not in taken:
                break
        names[node] = name
        taken.add(name)
    return names


def _seed(output: Node, gradient: object) -> Any:
    try:
        return output.backward_seed(gradient)
    except (TypeError, ValueError, RuntimeError, OverflowError) as e:
        # The node type's message names backward(); say which function was called.
        raise type(e)(str(e).replace("backward", "backward_steps", 1)) from None


def backward_steps(
    output: Node, gradient: object = 1.0, *, constants: bool = False
) -> BackwardSteps:
    """The chain-rule steps `output.backward(gradient)` takes, in the order it takes them.

    Each `StepRow` gives the result, the operand, grad(result), the local derivative
    d(result)/d(operand) (Values only), the share backward() adds to grad(operand) (their
    product) and grad(operand) after it. Nothing is written: `.grad` stays as it is.
    Steps into constants are left out unless `constants=True` (they are the gradient of a
    number nobody can change); `str()` of the result is a readable table.

    >>> from autograd_lite import Value, backward_steps
    >>> a, b = Value(2.0, label="a"), Value(3.0, label="b")
    >>> y = a * b + a
    >>> y.label = "y"
    >>> [(s.result_name, s.operand_name, s.share, s.gradient) for s in backward_steps(y)]
    [('y', 'a', 1.0, 1.0), ('y', 't1', 1.0, 1.0), ('t1', 'b', 2.0, 2.0), ('t1', 'a', 3.0, 4.0)]
    """
    if not isinstance(output, (Value, Tensor)):
        hint = " (forward mode has no backward steps)" if isinstance(output, Node) else ""
        raise TypeError(
            f"backward_steps: output must be a Value or a Tensor, got {describe(output)}{hint}"
        )
    flag(constants, "backward_steps: constants")
    seed = _seed(output, gradient)
    nodes = graph_nodes(output)
    names = node_names(nodes)
    definitions = {
        names[n]: formula(n.op.display, [names[x] for x in n.operands])
        for n in nodes
        if n.op is not None and n.operands
    }
    tensors = isinstance(output, Tensor)
    rows: list[StepRow] = []
    hidden = 0
    locals_of: tuple[Node, tuple[float, ...]] | None = None  # the last result's, cached
    for step in backward_order(output, seed):
        operand = step.operand
        if not constants and (operand.is_constant or step.share is None):
            hidden += 1
            continue
        local: float | None = None
        if not tensors:
            if locals_of is None or locals_of[0] is not step.result:
                locals_of = (step.result, local_derivatives(step.result))
            local = locals_of[1][step.index]
        rows.append(
            StepRow(
                len(rows) + 1, step.result, operand, step.index, names[step.result],
                names[operand], step.upstream, local, step.share, step.gradient,
                step.first, step.complete,
            )
        )  # fmt: skip
    return BackwardSteps(output, seed, rows, names, definitions, hidden)


HEADINGS = ("step", "result", "operand", "grad(result)", "∂result/∂operand", "share",
            "grad(operand)", "")  # fmt: skip
"""The table's column headings; numbers are right-aligned under theirs."""

_RIGHT = {0, 3, 4, 5, 6}
_LOCAL = 4  # the ∂ column, which a table of Tensor steps has not


def format_backward_steps(
    steps: Node | BackwardSteps, *, precision: int = 4, constants: bool = False
) -> str:
    """The steps of backward() from `steps` (an output node, or `backward_steps`' result) as
    a table: one row per chain-rule step, in the order backward() takes them, with
    `precision` significant digits, and below it what each made-up name stands for.
    `constants` is `backward_steps`' (for an output node).

    >>> from autograd_lite import Value, format_backward_steps
    >>> x, w = Value(3.0, label="x"), Value(0.5, label="w")
    >>> y = (x * w + 1.5) ** 2
    >>> y.label = "y"
    >>> print(format_backward_steps(y))
    backward() from y, step by step (grad(y) = 1 to start):
    step  result  operand  grad(result)  ∂result/∂operand  share  grad(operand)
       1  y       t2                  1                 6      6              6  complete
       2  t2      t1                  6                 1      6              6  complete
       3  t1      w                   6                 3     18             18  complete
       4  t1      x                   6               0.5      3              3  complete
    share = grad(result) × ∂result/∂operand, which backward() adds to grad(operand).
    1 step into constants left out (constants=True shows them).
    where t1 = x * w
          t2 = t1 + 1.5
    """
    if isinstance(precision, bool) or not isinstance(precision, int) or not 1 <= precision <= 17:
        raise ValueError(
            f"format_backward_steps: precision must be an int from 1 to 17, got "
            f"{describe(precision)}"
        )
    if isinstance(steps, Node):
        steps = backward_steps(steps, constants=constants)
    elif not isinstance(steps, BackwardSteps):
        raise TypeError(
            f"format_backward_steps: expected an output Value or Tensor, or backward_steps(...), "
            f"got {describe(steps)}"
        )
    p = precision
    out_name = steps.names[steps.output]
    lines = [
        f"backward() from {out_name}, step by step "
        f"(grad({out_name}) = {number_text(steps.seed, p)} to start):"
    ]
    tensors = steps.tensors
    table = [list(HEADINGS)]
    for row in steps:
        table.append(
            [
                str(row.number), row.result_name, row.operand_name, number_text(row.upstream, p),
                number_text(row.local, p), number_text(row.share, p),
                number_text(row.gradient, p), "complete" if row.complete else "so far",
            ]
        )  # fmt: skip
    shown = [k for k in range(len(HEADINGS)) if not (tensors and k == _LOCAL)]
    widths = {k: max(len(r[k]) for r in table) for k in shown}
    for r in table:
        cells = [r[k].rjust(widths[k]) if k in _RIGHT else r[k].ljust(widths[k]) for k in shown]
        lines.append("  ".join(cells).rstrip())
    if not steps:
        lines.append(f"(no steps: {out_name} has no operands)")
    lines.append(TENSOR_NOTE if tensors else VALUE_NOTE)
    if steps.hidden:
        what = "constants or operands that take no gradient" if tensors else "constants"
        lines.append(
            f"{steps.hidden} step{'s' if steps.hidden != 1 else ''} into {what} left out "
            f"(constants=True shows them)."
        )
    made_up = [
        (name, text)
        for node, name in steps.names.items()
        if not node.label and (text := steps.definitions.get(name)) is not None
    ]
    if made_up:
        lines.append("where " + "\n      ".join(f"{name} = {text}" for name, text in made_up))
    if any(n.is_leaf and not n.label and not n.is_constant for n in steps.names):
        lines.append(
            '(leaf1, leaf2, ...: leaves without a label; Value(0.4, label="w1") names one)'
        )
    return "\n".join(lines)
