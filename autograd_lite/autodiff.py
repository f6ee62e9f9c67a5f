"""How the graph is walked: reverse-mode gradients (`backward`, `grad`), `zero_grad`, `hessian`.

Nothing here knows any op's derivative: each node's `Op.vjp` gives it. Every walk is
iterative (an explicit stack), so graph depth is limited only by memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .context import enable_grad
from .value import Value, to_float


def graph_nodes(root: Value) -> list[Value]:
    """Every node below `root` (itself included) once, operands before their results.

    Deterministic: the order depends only on the graph's structure.
    """
    if not isinstance(root, Value):
        raise TypeError(f"graph_nodes: root must be a Value, got {type(root).__name__}: {root!r}")
    order: list[Value] = []
    seen = {root}
    stack: list[tuple[Value, int]] = [(root, 0)]
    while stack:
        node, i = stack.pop()
        prev = node.operands
        if i < len(prev):
            stack.append((node, i + 1))
            child = prev[i]
            if child not in seen:
                seen.add(child)
                stack.append((child, 0))
        else:
            order.append(node)
    return order


def _count_uses(root: Value) -> dict[Value, int]:
    """For each node below root, how many operand slots of nodes below root refer to it."""
    uses = {root: 0}
    stack = [root]
    while stack:
        node = stack.pop()
        a = node._a
        if a is None:
            continue
        n = uses.get(a)
        if n is None:
            uses[a] = 1
            stack.append(a)
        else:
            uses[a] = n + 1
        b = node._b
        if b is not None:
            n = uses.get(b)
            if n is None:
                uses[b] = 1
                stack.append(b)
            else:
                uses[b] = n + 1
    return uses


def _propagate(
    root: Value, seed: Any, create_graph: bool, keep: set[Value] | None
) -> tuple[list[Value], list[Any]]:
    """d(root)/d(node) * seed for every node below root, in one reverse topological sweep.

    A node is processed once every result that uses it has passed its share down (Kahn's
    order), so each gradient is complete when it is read. Returns the nodes (all, or those in
    `keep`) and their gradients; nothing is written, so a failing rule changes nothing.
    `create_graph` runs the rules on Values, so the gradients are differentiable themselves.
    """
    uses = _count_uses(root)
    pending: dict[Value, Any] = {}  # partial gradients of nodes still awaiting other users
    done: list[Value] = []
    done_grads: list[Any] = []
    nodes, grads = [root], [seed]  # nodes whose gradient is complete, and those gradients
    node = root
    try:
        while nodes:
            node = nodes.pop()
            g = grads.pop()
            if keep is None or node in keep:
                done.append(node)
                done_grads.append(g)
            a = node._a
            if a is None:
                continue
            vjp = node._op.vjp  # type: ignore[union-attr]
            b = node._b
            if b is None:
                (share,) = vjp(g, node, a) if create_graph else vjp(g, node.data, a.data)
            else:
                share, b_share = (
                    vjp(g, node, a, b) if create_graph else vjp(g, node.data, a.data, b.data)
                )
                # Send b its share; a's share follows below (the same steps, unrolled for speed).
                n = uses[b]
                if n == 1:  # b's last user (often its only one): its gradient is complete
                    old = pending.pop(b, None)
                    nodes.append(b)
                    grads.append(b_share if old is None else old + b_share)
                else:
                    old = pending.get(b)
                    pending[b] = b_share if old is None else old + b_share
                    uses[b] = n - 1
            n = uses[a]
            if n == 1:
                old = pending.pop(a, None)
                nodes.append(a)
                grads.append(share if old is None else old + share)
            else:
                old = pending.get(a)
                pending[a] = share if old is None else old + share
                uses[a] = n - 1
    except Exception as exc:
        if hasattr(exc, "add_note"):  # Python >= 3.11: say whose rule failed
            exc.add_note(f"while applying the derivative rule of {node._op!r} in backward")
        raise
    return done, done_grads


def local_derivatives(node: Value) -> tuple[float, ...]:
    """d(node)/d(operand) for each operand, at the recorded values: the chain rule's factors.

    >>> from autograd_lite import Value
    >>> a, b = Value(2.0), Value(5.0)
    >>> local_derivatives(a * b)
    (5.0, 2.0)
    """
    operands = node.operands
    if not operands:
        return ()
    op = node._op
    assert op is not None
    return tuple(float(d) for d in op.vjp(1.0, node.data, *[p.data for p in operands]))


def backward(root: Value, gradient: float = 1.0) -> None:
    """Add d(root)/d(node) * gradient to `.grad` of every node below root (see Value.backward).

    All gradients are computed before any `.grad` is written, so an error changes nothing.
    """
    nodes, grads = _propagate(root, to_float(gradient, "backward"), False, None)
    for node, g in zip(nodes, grads):
        node.grad += g


def _check_graph_args(where: str, output: object, inputs: object) -> list[Value]:
    if not isinstance(output, Value):
        raise TypeError(f"{where}: output must be a Value, got {type(output).__name__}: {output!r}")
    if isinstance(inputs, Value) or not isinstance(inputs, Iterable):
        raise TypeError(f"{where}: inputs must be a sequence of Values, got {inputs!r}")
    found = list(inputs)
    for x in found:
        if not isinstance(x, Value):
            raise TypeError(f"{where}: inputs must be Values, got {type(x).__name__}: {x!r}")
    return found


def grad(output: Value, inputs: Sequence[Value], create_graph: bool = False) -> list[Any]:
    """d(output)/d(input) for each of `inputs`, in order, without touching any `.grad`.

    With `create_graph=False` each result is a float. With `create_graph=True` each is a
    `Value` whose graph depends on the inputs, so `grad` can be applied to it again, to any
    order. An input that `output` does not depend on gets 0.0 (with `create_graph=True`, a
    new `Value(0.0)` with no history). An input listed twice gets its gradient twice.

    >>> from autograd_lite import Value, grad
    >>> x = Value(3.0)
    >>> (dy,) = grad(x ** 3, [x], create_graph=True)
    >>> dy.data, grad(dy, [x])[0]
    (27.0, 18.0)
    """
    inputs = _check_graph_args("grad", output, inputs)
    if not create_graph:
        found = dict(zip(*_propagate(output, 1.0, False, set(inputs))))
        return [found.get(x, 0.0) for x in inputs]
    with enable_grad():  # the rules must record, even when called inside no_grad()
        found = dict(zip(*_propagate(output, Value(1.0), True, set(inputs))))
        return [found[x] if x in found else Value(0.0) for x in inputs]


def hessian(output: Value, inputs: Sequence[Value]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The n x n numpy array of d²(output)/d(inputs[i]) d(inputs[j]).

    Row i is the gradient of d(output)/d(inputs[i]); the matrix is symmetric up to rounding
    (it is not symmetrised, so an asymmetry would show a wrong rule). A first derivative that
    a custom rule returned as a plain number has second derivatives 0.

    >>> from autograd_lite import Value, hessian
    >>> x, y = Value(1.0), Value(2.0)
    >>> hessian(x * x * y, [x, y]).tolist()
    [[4.0, 2.0], [2.0, 0.0]]
    """
    inputs = _check_graph_args("hessian", output, inputs)
    first = grad(output, inputs, create_graph=True)
    rows = [grad(g, inputs) if isinstance(g, Value) else [0.0] * len(inputs) for g in first]
    return np.array(rows, dtype=np.float64).reshape(len(inputs), len(inputs))


def zero_grad(root: Value | Iterable[Value]) -> None:
    """Set `.grad` to 0.0 on every node below `root` (a Value, or several)."""
    roots = [root] if isinstance(root, Value) else list(root)
    for r in roots:
        for node in graph_nodes(r):
            node.grad = 0.0
