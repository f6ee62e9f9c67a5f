"""How the graph is walked: reverse-mode gradients (`backward`, `grad`), `zero_grad`, `hessian`.

Nothing here knows any op's derivative (each node's `Op.vjp` gives it) or any node type: it
reads only what `Node` declares, and the node type makes the seed and checks each gradient
(and may mark nodes that take no gradient with a false `requires_grad`, as Tensor does).
Every walk is iterative (an explicit stack), so graph depth is limited only by memory.
Every walk that uses recorded values first checks that no node's data changed since the
graph used it (`check_unchanged`, merged into the count of uses the sweep makes anyway).
The sweep of backward and grad, written for speed, is sweep.py's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ..validate import describe, flag
from .grad_args import check_graph_args as check_graph_args  # (compile_grad reads it here)
from .grad_args import seed_value
from .grad_mode import enable_grad
from .node import Node
from .release import RELEASED, RELEASED_STAMP, released_error
from .stale import stale_error
from .sweep import count_uses, sweep


def graph_nodes(root: Node) -> list[Node]:
    """Every node below `root` (itself included) once, operands before their results, in an
    order that depends only on the graph's structure. A graph that backward(retain_graph=False)
    let go is refused (ReleasedGraphError): its links are gone."""
    if not isinstance(root, Node):
        raise TypeError(f"graph_nodes: root must be a Value or Tensor, got {describe(root)}")
    if root._stamp == RELEASED_STAMP:
        released_error(root, "graph_nodes (a drawing, zero_grad, ...)")
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
                if child._stamp == RELEASED_STAMP:
                    released_error(child, "graph_nodes (a drawing, zero_grad, ...)")
                seen.add(child)
                stack.append((child, 0))
        else:
            order.append(node)
    return order


def check_unchanged(root: Node) -> None:
    """Raise `StaleDataError` if the data of a node below `root` changed after an op of the
    graph used it (its write stamp is later than the op node's; see `Node`), naming that
    node and the op. Walks that use recorded values call it (backward and grad do it while
    counting uses). Iterative, one pass over the graph.

    >>> from autograd_lite import Value
    >>> x = Value(2.0, label="x")
    >>> y = x * x
    >>> x.data = 3.0
    >>> check_unchanged(y)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    autograd_lite.engine.node.StaleDataError: the data of Value 'x' was changed after ...
    """
    if not isinstance(root, Node):
        raise TypeError(f"check_unchanged: root must be a Value or Tensor, got {describe(root)}")
    count_uses(root)


def _propagate(
    root: Node, seed: Any, create_graph: bool, keep: set[Node] | None
) -> tuple[list[Node], list[Any]]:
    """d(root)/d(node) * seed for every node below root (all, or those in `keep`), as the
    node type hands them out (`_finish_gradients`). Nothing is written, so a failing rule
    changes nothing."""
    nodes, grads = sweep(root, seed, create_graph)
    if keep is not None:
        nodes, grads = (
            [n for n in nodes if n in keep],
            [g for n, g in zip(nodes, grads) if n in keep],
        )
    return root._finish_gradients(nodes, grads, create_graph)


def local_derivatives(node: Node) -> tuple[float, ...]:
    """d(node)/d(operand) for each operand, at the recorded values: the chain rule's factors.

    Numbers, so for `Value` nodes only: a Tensor's local derivatives are Jacobians, and
    asking for one is a TypeError that says how to get vector-Jacobian products instead
    (`grad(node, [operand], grad_outputs=v)`).

    >>> from autograd_lite import Value
    >>> a, b = Value(2.0), Value(5.0)
    >>> local_derivatives(a * b)
    (5.0, 2.0)
    """
    if not isinstance(node, Node):
        raise TypeError(f"local_derivatives: node must be a Value, got {describe(node)}")
    if type(node._data) is not float:  # an array: each factor would be a Jacobian
        raise TypeError(
            f"local_derivatives: the node holds an array of shape {np.shape(node._data)}; "
            f"local derivatives are numbers, for Value nodes only. For a "
            f"{type(node).__name__}, grad(node, [operand], grad_outputs=v) gives v times "
            f"the Jacobian d(node)/d(operand)"
        )
    operands = node.operands
    if not operands:
        return ()
    for x in operands:  # the factors are taken at the operands' data: it must be unchanged
        if x._stamp > node._stamp:
            stale_error(node, x)
    if node._stamp == RELEASED_STAMP:
        stale_error(None, node)
    op = node._op
    shares = op.vjp(node._seed(1.0, False), node._data, *[p._data for p in operands])
    return tuple(float(x._as_gradient(d, op, False)) for x, d in zip(operands, shares))


def backward(
    root: Node, gradient: object = 1.0, retain_grads: bool = True, retain_graph: bool = True
) -> None:
    """Add d(root)/d(node) * gradient to `.grad` of every node below root (see Value.backward).

    All gradients are computed and checked before any `.grad` is written, so an error
    changes no `.grad`. With `retain_grads=False` only the leaves get their gradient; every
    op node's `.grad` is released (`RELEASED`: reading it raises), so that the walk need not
    hold all of them until it ends. `retain_graph=False` (which implies it) also lets the
    graph go as the walk passes each op node: it loses its links (release.py), keeping its
    data, so what nobody else holds is freed before the walk goes further down (a rule that
    fails then leaves the part of the graph above it let go).
    """
    seed = root._seed(gradient, False)
    if retain_grads and retain_graph:
        nodes, grads = _propagate(root, seed, False, None)
    else:  # without retain_graph, each op node let go as the walk passes it (release.py)
        released: list[Node] = []
        owned: set[Node] = set()  # the leaves whose gradient is an array the walk made
        cut = not retain_graph
        found = sweep(root, seed, False, None if cut else released, cut, owned)
        nodes, grads = root._finish_gradients(*found, False, owned)
        for node in released:
            node._grad = RELEASED
    for node, g in zip(nodes, grads):
        # None: no gradient yet (a Tensor's, until its first backward); never added in
        # place, since one array may be several nodes' gradient.
        node._grad = g if (old := node._grad) is None else old + g


def grad(
    output: Node,
    inputs: Sequence[Node],
    create_graph: bool = False,
    *,
    grad_outputs: object = None,
) -> list[Any]:
    """d(output)/d(input) for each of `inputs`, in order, without touching any `.grad`.

    `output` and `inputs` are `Value`s, or `Tensor`s (not both). With `create_graph=False`
    each result is a float for a Value input and an array of the input's shape and dtype (a
    new one) for a Tensor. With `create_graph=True` each is a `Value` or `Tensor` whose graph
    depends on the inputs, so `grad` can be applied to it again, to any order. An input
    that `output` does not depend on gets zero (0.0, or zeros of its shape; with
    `create_graph=True`, a new leaf with no history). An input listed twice gets its
    gradient twice. A Tensor input with `requires_grad=False` is a ValueError (PyTorch
    raises too): its gradient is not computed, and zeros would be wrong.

    The output must have one element, unless `grad_outputs` (PyTorch's name) is given:
    numbers of the output's shape, v, for which grad gives v times the Jacobian (the
    vector-Jacobian product). It is data: nothing is differentiated through it.

    >>> from autograd_lite import Value, grad
    >>> x = Value(3.0)
    >>> (dy,) = grad(x ** 3, [x], create_graph=True)
    >>> dy.data, grad(dy, [x])[0]
    (27.0, 18.0)
    """
    create_graph = flag(create_graph, "grad: create_graph")
    inputs = check_graph_args("grad", output, inputs)
    recording = enable_grad() if create_graph else contextlib.nullcontext()
    with recording:  # with create_graph, rules record, even inside no_grad()
        start = seed_value(output, grad_outputs)
        found = {}
        if _takes(output):
            seed = output._seed(start, create_graph)
            found = dict(zip(*_propagate(output, seed, create_graph, set(inputs))))
        return [_own(found[x]) if x in found else x._zero(create_graph) for x in inputs]


def _own(g: Any) -> Any:
    """g, or a copy of it if it is an array: one the walk made may be shared (an input
    listed twice, a + b handing one array to both), a read-only view (a broadcast), or even
    a node's data (a rule returning an operand); each result of grad is the caller's own."""
    return g.copy() if type(g) is np.ndarray else g


def _takes(output: Node) -> bool:
    """False for an output a node type marks as depending on nothing that takes a gradient
    (a Tensor of constants, or made under no_grad()): every input then gets zeros, as for a
    Value leaf. Its grad_outputs is still checked."""
    return bool(getattr(output, "requires_grad", True))


Rows = Callable[[Node, list[Node], list[tuple[int, ...]]], Iterator[Any]]
"""How the rows of a Hessian are computed: from the output, the checked inputs and their
shapes, the n rows in order (each n numbers, the inputs' elements flattened)."""


def hessian(
    output: Node, inputs: Sequence[Node], rows: Rows | None = None
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The n x n numpy float64 array of d²(output)/d(x_i) d(x_j), x the inputs' elements.

    For Values, n is the number of inputs. For Tensors (a one-element output), x is every
    element of every input, in input order and C order within each, flattened: n is their
    total size (the input's .reshape(-1) order). Row i is the gradient of d(output)/d(x_i);
    the matrix is symmetric up to rounding (it is not symmetrised, so an asymmetry would show
    a wrong rule). A first derivative that a custom rule returned as a plain number has
    second derivatives 0. It costs one backward pass per row: reverse over reverse, unless
    `rows` computes them otherwise (`transforms.hessian`'s forward over reverse).

    >>> from autograd_lite import Value, hessian
    >>> x, y = Value(1.0), Value(2.0)
    >>> hessian(x * x * y, [x, y]).tolist()
    [[4.0, 2.0], [2.0, 0.0]]
    """
    inputs = check_graph_args("hessian", output, inputs)
    shape = np.shape(output._data)
    if int(np.prod(shape)) != 1:
        raise ValueError(
            f"hessian: the output has shape {shape}; a Hessian is of one number: reduce the "
            f"output first (.sum())"
        )
    shapes = [np.shape(x._data) for x in inputs]
    n = sum(int(np.prod(s)) for s in shapes)
    out = np.zeros((n, n), dtype=np.float64)
    for i, row in enumerate((rows or _reverse_rows)(output, inputs, shapes)):
        out[i] = row
    return out


def _reverse_rows(output: Node, inputs: list[Node], shapes: list[tuple[int, ...]]) -> Iterator[Any]:
    """The Hessian's rows by reverse over reverse: one backward pass through the graph of
    each element of the first derivatives."""
    for g, s in zip(grad(output, inputs, create_graph=True), shapes):
        for k in range(int(np.prod(s))):
            if not isinstance(g, Node):  # a plain number from a custom rule: its row is 0
                yield 0.0
                continue
            pick = np.zeros(s)  # d(g.flat[k])/d(inputs): the seed picks element k
            pick.flat[k] = 1.0
            parts = grad(g, inputs, grad_outputs=pick)
            yield np.concatenate([np.ravel(p) for p in parts])


def zero_grad(root: Node | Iterable[Node]) -> None:
    """Set `.grad` to zero on every node below `root` (a Value or Tensor, or several): 0.0
    for a Value, zeros of its shape for a Tensor."""
    if isinstance(root, Node):
        roots = [root]
    elif isinstance(root, Iterable) and not isinstance(root, (str, bytes)):
        roots = list(root)
    else:
        raise TypeError(
            f"zero_grad: expected a Value or Tensor, or an iterable of them, got {describe(root)}"
        )
    for r in roots:
        if not isinstance(r, Node):
            raise TypeError(f"zero_grad: expected Values or Tensors, got {describe(r)}")
    # All first: graph_nodes refuses a graph that was let go before anything changes.
    nodes = [node for r in roots for node in graph_nodes(r)]
    for node in nodes:
        node._grad = node._zero(False)
