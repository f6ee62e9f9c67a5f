"""How the graph is walked: reverse-mode gradients (`backward`, `grad`), `zero_grad`, `hessian`.

Nothing here knows any op's derivative (each node's `Op.vjp` gives it) or any node type: it
reads only what `Node` declares, and the node type makes the seed and checks each gradient.
Every walk is iterative (an explicit stack), so graph depth is limited only by memory.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..validate import describe, sequence
from .grad_mode import enable_grad
from .node import Node


def graph_nodes(root: Node) -> list[Node]:
    """Every node below `root` (itself included) once, operands before their results.

    Deterministic: the order depends only on the graph's structure.
    """
    if not isinstance(root, Node):
        raise TypeError(f"graph_nodes: root must be a Value, got {describe(root)}")
    order: list[Node] = []
    seen = {root}
    stack: list[tuple[Node, int]] = [(root, 0)]
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


def _count_uses(root: Node) -> dict[Node, int]:
    """For each node below root, how many operand slots of nodes below root refer to it."""
    uses = {root: 0}
    stack = [root]
    while stack:
        node = stack.pop()
        a = node._a
        if a is None:
            continue
        b = node._b
        if b is None and type(a) is tuple:  # an op of three or more operands: a holds them
            for x in a:
                if x not in uses:
                    stack.append(x)
                uses[x] = uses.get(x, 0) + 1
            continue
        # The first two operands are written out: most nodes then build no tuple of operands.
        if (n := uses.get(a)) is None:
            uses[a] = 1
            stack.append(a)
        else:
            uses[a] = n + 1
        if b is not None:
            if (n := uses.get(b)) is None:
                uses[b] = 1
                stack.append(b)
            else:
                uses[b] = n + 1
    return uses


def _propagate(
    root: Node, seed: Any, create_graph: bool, keep: set[Node] | None
) -> tuple[list[Node], list[Any]]:
    """d(root)/d(node) * seed for every node below root (all, or those in `keep`).

    Returns the nodes and their gradients; nothing is written, so a failing rule changes
    nothing. The sweep runs first without checking what each rule returns (a check per share
    costs about 5% of a backward pass); if it fails, or the node type's cheap check of all
    gradients at once fails, it runs again checking every share, so that a wrong rule is
    named (and numbers of another type are converted).
    """
    try:
        accepted = root._accept_gradients(
            *_sweep(root, seed, create_graph, keep, False), create_graph
        )
        if accepted is not None:
            return accepted
    except Exception:  # the checked sweep raises it again, saying whose rule failed
        pass
    accepted = root._accept_gradients(*_sweep(root, seed, create_graph, keep, True), create_graph)
    if accepted is None:  # every share was checked and converted: a node type's bug
        raise TypeError(f"backward: {type(root).__name__} refused its checked gradients")
    return accepted


def _sweep(
    root: Node, seed: Any, create_graph: bool, keep: set[Node] | None, checked: bool
) -> tuple[list[Node], list[Any]]:
    """One reverse topological sweep: a node's rule runs once every result that uses it has
    passed its share down (Kahn's order), so each gradient is complete when it is read.
    `create_graph` runs the rules on nodes, so the gradients are differentiable themselves;
    `checked` checks and converts each share through the operand's node type.

    tests/reference.py holds the same sweep written plainly; this one is tuned for speed,
    since it runs once per node:
    - operands are read from Node's slots, and for the first two operands the five lines
      that hand a share on are written out (a loop costs a tuple and an iterator per node);
    - a share that completes its node's gradient goes straight on, without a dict entry.
    """
    uses = _count_uses(root)
    pending: dict[Node, Any] = {}  # partial gradients of nodes still awaiting other users
    nodes, grads = [root], [seed]  # nodes whose gradient is complete, and those gradients
    done: list[Node] = []
    done_grads: list[Any] = []
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
            vjp = node._op.vjp
            b = node._b
            if b is not None:  # two operands, the most common case, first
                shares = (
                    vjp(g, node, a, b) if create_graph else vjp(g, node._data, a._data, b._data)
                )
                sa, sb = shares  # its count and kind checked by the op (see Op's check_returns)
                if checked:
                    sb = b._as_gradient(sb, node._op, create_graph)
                if (n := uses[b]) == 1:  # b's last user (often its only one): b is complete
                    nodes.append(b)
                    grads.append(sb if (old := pending.pop(b, None)) is None else old + sb)
                else:
                    pending[b] = sb if (old := pending.get(b)) is None else old + sb
                    uses[b] = n - 1
            elif type(a) is not tuple:
                shares = vjp(g, node, a) if create_graph else vjp(g, node._data, a._data)
                (sa,) = shares
            else:
                a, sa = _many_shares(node, g, create_graph, uses, pending, nodes, grads)
            if checked:
                sa = a._as_gradient(sa, node._op, create_graph)
            if (n := uses[a]) == 1:
                nodes.append(a)
                grads.append(sa if (old := pending.pop(a, None)) is None else old + sa)
            else:
                pending[a] = sa if (old := pending.get(a)) is None else old + sa
                uses[a] = n - 1
    except Exception as exc:
        if checked and hasattr(exc, "add_note"):  # Python >= 3.11: say whose rule failed
            exc.add_note(f"while applying the derivative rule of {node._op!r} in backward")
        raise
    return done, done_grads


def _many_shares(
    node: Node,
    g: Any,
    create_graph: bool,
    uses: dict[Node, int],
    pending: dict[Node, Any],
    nodes: list[Node],
    grads: list[Any],
) -> tuple[Node, Any]:
    """For an op of three or more operands: hand on the shares of all operands but the first
    (each checked by its node type, and parked in `pending` until complete); return the first
    operand and its share. The op has checked that there is one share per operand."""
    op = node._op
    operands = node.operands
    args = operands if create_graph else tuple(x._data for x in operands)
    shares = op.vjp(g, node if create_graph else node._data, *args)
    for x, share in zip(operands[1:], shares[1:]):
        share = x._as_gradient(share, op, create_graph)
        old = pending.get(x)
        pending[x] = share if old is None else old + share
        uses[x] -= 1
        if not uses[x]:
            nodes.append(x)
            grads.append(pending.pop(x))
    return operands[0], shares[0]


def local_derivatives(node: Node) -> tuple[float, ...]:
    """d(node)/d(operand) for each operand, at the recorded values: the chain rule's factors.

    >>> from autograd_lite import Value
    >>> a, b = Value(2.0), Value(5.0)
    >>> local_derivatives(a * b)
    (5.0, 2.0)
    """
    if not isinstance(node, Node):
        raise TypeError(f"local_derivatives: node must be a Value, got {describe(node)}")
    operands = node.operands
    if not operands:
        return ()
    op = node._op
    shares = op.vjp(node._seed(1.0, False), node._data, *[p._data for p in operands])
    return tuple(float(x._as_gradient(d, op, False)) for x, d in zip(operands, shares))


def backward(root: Node, gradient: object = 1.0) -> None:
    """Add d(root)/d(node) * gradient to `.grad` of every node below root (see Value.backward).

    All gradients are computed and checked before any `.grad` is written, so an error
    changes nothing.
    """
    nodes, grads = _propagate(root, root._seed(gradient, False), False, None)
    for node, g in zip(nodes, grads):
        # None: no gradient yet (a Tensor's, until its first backward); never added in
        # place, since one array may be several nodes' gradient.
        node._grad = g if (old := node._grad) is None else old + g


def _check_graph_args(where: str, output: object, inputs: object) -> list[Node]:
    if not isinstance(output, Node):
        raise TypeError(f"{where}: output must be a Value, got {describe(output)}")
    if isinstance(inputs, Node):
        raise TypeError(f"{where}: inputs must be a sequence of Values, got a single Value")
    found = sequence(inputs, f"{where}: inputs", "a sequence of Values")
    for x in found:
        if not isinstance(x, Node):
            raise TypeError(f"{where}: inputs must be Values, got {describe(x)}")
    return found


def grad(output: Node, inputs: Sequence[Node], create_graph: bool = False) -> list[Any]:
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
    recording = enable_grad() if create_graph else contextlib.nullcontext()
    with recording:  # with create_graph, rules record, even inside no_grad()
        seed = output._seed(1.0, create_graph)
        found = dict(zip(*_propagate(output, seed, create_graph, set(inputs))))
        return [
            x._as_gradient(found[x], None, create_graph) if x in found else x._zero(create_graph)
            for x in inputs
        ]


def hessian(output: Node, inputs: Sequence[Node]) -> np.ndarray[Any, np.dtype[np.float64]]:
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
    rows = [grad(g, inputs) if isinstance(g, Node) else [0.0] * len(inputs) for g in first]
    return np.array(rows, dtype=np.float64).reshape(len(inputs), len(inputs))


def zero_grad(root: Node | Iterable[Node]) -> None:
    """Set `.grad` to zero on every node below `root` (a Value, or several)."""
    if isinstance(root, Node):
        roots = [root]
    elif isinstance(root, Iterable) and not isinstance(root, (str, bytes)):
        roots = list(root)
    else:
        raise TypeError(
            f"zero_grad: expected a Value or an iterable of Values, got {describe(root)}"
        )
    for r in roots:
        if not isinstance(r, Node):
            raise TypeError(f"zero_grad: expected Values, got {describe(r)}")
    for r in roots:
        for node in graph_nodes(r):
            node._grad = node._zero(False)
