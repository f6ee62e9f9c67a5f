"""Which op's rule is wrong: each node's local derivatives against finite differences.

A gradient check compares a whole function's derivative with finite differences; when they
disagree, the fault is in one op's rule somewhere in the graph. `find_wrong_rule` looks at each
op node in evaluation order, at the values recorded there: it perturbs one operand along a
random direction, runs the op's forward again, and compares the difference with what the
op's rules give (vjp for reverse mode, the forward rule for forward mode, and with `order=2`
the derivative of vjp itself, run on Values, Tensors or Duals). The first op that disagrees
is returned as a `RuleFault`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .engine.backward import grad, graph_nodes
from .engine.dual import Dual, leaf, tangent_of
from .engine.grad_mode import enable_grad
from .engine.node import Node, Op
from .engine.tensor import Tensor
from .engine.value import Value
from .validate import choice, count, describe, sequence, tolerance

__all__ = ["RuleFault", "find_wrong_rule"]

MODES = ("fwd", "rev")
"""Forward mode (the forward rule: Op.jvp, or vjp for an elementwise op) and reverse mode."""


@dataclass(frozen=True)
class RuleFault:
    """An op node whose rule disagrees with finite differences of the op's forward function.

    `rule` says which: "vjp" (reverse mode), "forward rule" (forward mode: Op.jvp, or
    "forward rule derived from its vjp" for an op without one), "vjp
    differentiated in reverse mode" or "vjp differentiated in forward mode" (second order: the
    rule run on nodes, differentiated by operand `by`). For a scalar op the two numbers are
    the local derivative d(out)/d(operand) (second order: d²(out)/d(operand)d(by)); for arrays
    they are the same projected on random directions (deterministic): <u, J v> for the
    Jacobian J of out by the operand, and at second order the derivative of <w, vjp(u)'s share
    of the operand> by operand `by` along a random direction.
    """

    op: Op
    position: int  # 1-based, among the graph's nodes in evaluation order (operands first)
    nodes: int  # how many nodes the graph has
    label: str | None
    operands: tuple[Any, ...]  # the operands' data at the node (floats or arrays)
    operand: int  # the operand whose derivative disagrees
    by: int | None  # second order: the operand it is differentiated by
    rule: str
    analytical: float
    numerical: float
    local: bool  # True when the numbers are the local derivative itself (scalar ops)

    def __str__(self) -> str:
        where = f"node {self.position} of {self.nodes} in evaluation order"
        if self.label is not None:
            where += f", label {self.label!r}"
        values = ", ".join(_show(x) for x in self.operands)
        i, j = self.operand, self.by
        if j is None:
            what = f"d(out)/d(operand {i})" if self.local else f"<u, J v> for operand {i}"
            reference = "its forward"
        else:
            what = (
                f"d²(out)/d(operand {i})d(operand {j})"
                if self.local
                else f"d/d(operand {j}) of <w, vjp's share for operand {i}>"
            )
            reference = "its vjp on numbers"
        random = "" if self.local else " (along random directions)"
        return (
            f"the rule at fault: op {self.op.display!r} ({where}), operands ({values}): "
            f"{what}{random} is {self.analytical:.6g} by its {self.rule}, "
            f"{self.numerical:.6g} by finite differences of {reference}"
        )


def _show(x: Any) -> str:
    if type(x) is float:
        return f"{x:.10g}"
    if x.size <= 6:  # on one line, so that the fault is the last line of a check's message
        return " ".join(np.array2string(x, separator=", ", precision=6).split())
    return f"<array of shape {x.shape}>"


def find_wrong_rule(
    output: Node,
    modes: Sequence[str] = MODES,
    order: int = 1,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> RuleFault | None:
    """The first op node below `output` whose rule disagrees with finite differences, or None.

    Op nodes are checked in evaluation order (operands before results), each at the operand
    values recorded in the graph, in float64: for each operand that takes a gradient (not a
    constant), the op's forward is run at the operand moved by ±eps along a random direction
    v, and <u, (forward(+) - forward(-)) / 2 eps> (u random, of the result's shape; 1 and 1 for
    numbers) is compared with what the rules of `modes` give: "rev", the vjp the backward walk
    applies; "fwd", the forward rule. With `order=2`, also the vjp's own derivative by each
    operand (the rule run on Values or Tensors for "rev", on Duals for "fwd") against finite
    differences of the rule on numbers. Agreement is |rule - numerical| <= atol + rtol *
    |numerical|, gradcheck's criterion; a numerical value that is not finite (a probe outside
    the op's domain) proves nothing and is skipped.

    >>> from autograd_lite import Op, Value
    >>> bad_square = Op("bad_square", lambda x: x * x, lambda g, out, x: (g * 3 * x,))
    >>> x = Value(1.5, label="x")
    >>> fault = find_wrong_rule((bad_square(x * 2.0) + x).tanh())
    >>> fault.op.name, fault.position, fault.operands, fault.analytical, round(fault.numerical, 6)
    ('bad_square', 4, (3.0,), 9.0, 6.0)
    >>> print(fault)  # doctest: +ELLIPSIS
    the rule at fault: op 'bad_square' (node 4 of 6 in evaluation order), operands (3): ...
    """
    if not isinstance(output, Node):
        raise TypeError(f"find_wrong_rule: output must be a node, got {describe(output)}")
    found = [
        choice(m, "find_wrong_rule: modes", MODES)
        for m in sequence(modes, "find_wrong_rule: modes", "a sequence of 'fwd' and 'rev'")
    ]
    order = count(order, "find_wrong_rule: order")
    if order > 2:
        raise ValueError(f"find_wrong_rule: order must be 1 or 2, got {order}")
    eps = tolerance(eps, "find_wrong_rule: eps", positive=True)
    atol = tolerance(atol, "find_wrong_rule: atol")
    rtol = tolerance(rtol, "find_wrong_rule: rtol")
    nodes = graph_nodes(output)
    with enable_grad():
        for k, node in enumerate(nodes, 1):
            if node.is_leaf:
                continue
            checker = _Local(node, eps, atol, rtol)
            for i in checker.taking:
                checks = checker.first(i, found) + (checker.second(i, found) if order == 2 else [])
                for rule, by, a, n in checks:
                    if not checker.agree(a, n):
                        return checker.fault(k, len(nodes), i, by, rule, a, n)
    return None


class _Local:
    """One op node's rules, checked at its recorded values."""

    def __init__(self, node: Node, eps: float, atol: float, rtol: float) -> None:
        self.node = node
        self.op: Op = node._op
        self.base: Op = node._op.base
        operands = node.operands
        self.scalar = type(node._data) is float
        self.xs: list[Any] = [
            x._data if self.scalar else np.asarray(x._data, dtype=np.float64) for x in operands
        ]
        self.taking = [
            i
            for i, x in enumerate(operands)
            if not x.is_constant and getattr(x, "requires_grad", True)
        ]
        self.eps, self.atol, self.rtol = eps, atol, rtol
        rng = np.random.default_rng(0)
        self.out = self.base(*self.xs)
        self.u: Any = 1.0 if self.scalar else rng.standard_normal(np.shape(self.out))
        self.w: Any = 1.0 if self.scalar else [rng.standard_normal(np.shape(x)) for x in self.xs]
        self.v: Any = [1.0 if self.scalar else rng.standard_normal(np.shape(x)) for x in self.xs]

    def agree(self, analytical: float, numerical: float) -> bool:
        if not np.isfinite(numerical):
            return True
        return bool(abs(analytical - numerical) <= self.atol + self.rtol * abs(numerical))

    def fault(
        self, k: int, n: int, i: int, by: int | None, rule: str, a: float, num: float
    ) -> RuleFault:
        label = self.node.label
        xs = tuple(self.xs)
        return RuleFault(self.base, k, n, label, xs, i, by, rule, a, num, self.scalar)

    def _moved(self, j: int, sign: float) -> list[Any]:
        xs = list(self.xs)
        xs[j] = xs[j] + sign * self.eps * self.v[j]
        return xs

    def _difference(self, f: Callable[[list[Any]], float], j: int) -> float:
        """The central difference of f along operand j's direction; nan (which proves
        nothing) if a probe leaves the op's domain."""
        try:
            with np.errstate(all="ignore"):
                return (f(self._moved(j, 1.0)) - f(self._moved(j, -1.0))) / (2 * self.eps)
        except (ArithmeticError, ValueError):
            return math.nan

    def _project(self, y: Any) -> float:
        return float(np.sum(np.multiply(self.u, y)))

    def first(self, i: int, modes: list[str]) -> list[tuple[str, int | None, float, float]]:
        """(rule, None, analytical, numerical) for d(out)/d(operand i), for each mode."""
        numerical = self._difference(lambda xs: self._project(self.base(*xs)), i)
        found: list[tuple[str, int | None, float, float]] = []
        if "rev" in modes:
            share = self.op.vjp(self.u, self.out, *self.xs)[i]
            found.append(("vjp", None, float(np.sum(np.multiply(share, self.v[i]))), numerical))
        if "fwd" in modes:
            tangents = [None] * len(self.xs)
            tangents[i] = self.v[i]
            tangent = tangent_of(self.base, tangents, self.out, self.xs)
            rule = (
                "forward rule" if callable(self.base.jvp) else "forward rule derived from its vjp"
            )
            found.append((rule, None, self._project(tangent), numerical))
        return found

    def second(self, i: int, modes: list[str]) -> list[tuple[str, int | None, float, float]]:
        """(rule, j, analytical, numerical) for the derivative of <w, vjp's share of operand
        i> by each operand j, for each mode."""
        w = self.w if self.scalar else self.w[i]

        def on_numbers(xs: list[Any]) -> float:
            share = self.op.vjp(self.u, self.base(*xs), *xs)[i]
            return float(np.sum(np.multiply(w, share)))

        kind = Value if self.scalar else Tensor
        found: list[tuple[str, int | None, float, float]] = []
        for j in self.taking:
            numerical = self._difference(on_numbers, j)
            if "rev" in modes:
                leaves: list[Node] = [kind(x) for x in self.xs]
                share = self._shares(leaves)[i]
                a = 0.0  # a share that is a number: the rule dropped the graph
                if isinstance(share, Node):
                    (g,) = grad(_inner(share, w), [leaves[j]])
                    a = float(np.sum(np.multiply(g, self.v[j])))
                found.append(("vjp differentiated in reverse mode", j, a, numerical))
            if "fwd" in modes:
                duals: list[Node] = [
                    leaf(x, self.v[j] if k == j else None) for k, x in enumerate(self.xs)
                ]
                share = self._shares(duals)[i]
                a = float(_inner(share, w).tangent) if isinstance(share, Dual) else 0.0
                found.append(("vjp differentiated in forward mode", j, a, numerical))
        return found

    def _shares(self, operands: list[Node]) -> tuple[Any, ...]:
        """The rule's shares with the op applied to `operands` (nodes), as a walk with
        create_graph=True applies it."""
        out: Node = self.base(*operands)
        return out.rule(self.u, out, *operands)


def _inner(share: Node, w: Any) -> Any:
    """<w, share> as a node."""
    product = share * w
    return product if type(share._data) is float else product.sum()
