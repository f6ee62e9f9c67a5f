"""How the graph is walked: reverse-mode gradients (`backward`, `grad`), `zero_grad`, `hessian`.

Nothing here knows any op's derivative (each node's `Op.vjp` gives it) or any node type: it
reads only what `Node` declares, and the node type makes the seed and checks each gradient
(and may mark nodes that take no gradient with a false `requires_grad`, as Tensor does).
Every walk is iterative (an explicit stack), so graph depth is limited only by memory.
Every walk that uses recorded values first checks that no node's data changed since the
graph used it (`check_unchanged`, merged into the count of uses the sweep makes anyway).
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


def count_uses(root: Node) -> dict[Node, int]:
    """For each node below root, how many operand slots of nodes below root refer to it;
    StaleDataError if a node's data changed after the graph used it.

    It checks every operand slot's write stamp on the way (see `check_unchanged`): one
    comparison per slot, on the pass the sweep makes anyway.
    """
    if root._stamp == RELEASED_STAMP:
        stale_error(None, root)
    uses = {root: 0}
    stack = [root]
    while stack:
        node = stack.pop()
        a = node._a
        if a is None:
            continue
        b = node._b
        s = node._stamp
        if b is None and type(a) is tuple:  # an op of three or more operands: a holds them
            for x in a:
                if x._stamp > s:
                    stale_error(node, x)
                if (k := uses.get(x, 0)) == 0:
                    stack.append(x)
                uses[x] = k + 1
            continue
        # The first two operands are written out: most nodes then build no tuple of operands.
        if a._stamp > s or (b is not None and b._stamp > s):
            stale_error(node, next(x for x in (a, b) if x is not None and x._stamp > s))
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
    """d(root)/d(node) * seed for every node below root (all, or those in `keep`), as the
    node type hands them out (`_finish_gradients`). Nothing is written, so a failing rule
    changes nothing."""
    nodes, grads = _sweep(root, seed, create_graph)
    if keep is not None:
        nodes, grads = (
            [n for n in nodes if n in keep],
            [g for n, g in zip(nodes, grads) if n in keep],
        )
    return root._finish_gradients(nodes, grads, create_graph)


def _sweep(
    root: Node,
    seed: Any,
    create_graph: bool,
    released: list[Node] | None = None,
    cut: bool = False,
    owned: set[Node] | None = None,
) -> tuple[list[Node], list[Any]]:
    """One reverse topological sweep: a node's rule runs once every result that uses it has
    passed its share down (Kahn's order), so each gradient is complete when it is read.
    `create_graph` runs the rules on nodes, so the gradients are differentiable themselves.
    It returns the nodes and their gradients; given a list `released`, only the leaves':
    each op node's gradient is then dropped once its rule has run (memory), and the op node
    goes into `released`. With `cut` (backward's retain_graph=False), only the leaves' too,
    and each op node is let go when its rule runs (release.py: it loses its links, gradient
    and use count, and is stamped `RELEASED_STAMP`), so that an intermediate result nobody
    holds is freed before the walk goes further down: a rule that fails leaves the part
    above it let go.

    Each rule's share is checked as it is made, so that a bad one is named with its rule
    (the rule runs once) and never reaches another rule or a sum: a share of the node type's
    plain gradient type (`_plain_gradient`: a float for Values) passes as it is, and so does,
    in a first-order walk, a share of an op whose rules make every share right by
    construction (`Op.trusted`: the built-in ops); any other goes through the operand's
    `_as_gradient`, which converts it, raises a TypeError naming the rule, or gives None for
    an operand that takes no gradient (Tensor's constants; a trusted op gives None itself):
    that share is dropped, and the nodes below it are not walked. An error inside a rule
    gets a note naming the rule.

    tests/reference.py holds the same sweep written plainly. This one runs once per node,
    and its optimisations are these, all here:
    - operands are read from Node's slots, and for the first two operands the lines that
      hand a share on are written out (a loop costs a tuple and an iterator per node);
    - a share that completes its node's gradient goes straight on, without a dict entry;
    - the check of a share is one or two comparisons unless it fails (see above);
    - given `released` or `cut`, a rule may write into the gradient it is handed
      (`Op.vjp_into`, relu's), when the walk owns that array: nothing else reads it
      afterwards. The walk owns a node's gradient when it is the sum of two shares (made
      here), or a share from a rule whose op declares its shares new arrays of their own
      (`Op.fresh`: matmul and linear); `owned` holds such nodes among the leaves and the
      nodes with a `vjp_into` (a node is read once from it, then forgotten). Op nodes'
      gradients are not kept then, so no `.grad` holds the array, and a fresh share is no
      other share, no g, no data. A root's seed or any other share is never written into
      (add hands g to both operands). The set `owned` the caller may pass ends holding the
      leaves so owned, whose arrays `_finish_gradients` then need not compare with every
      other gradient's.
    """
    uses = count_uses(root)  # also the stale-data check: before any rule runs
    plain = root._plain_gradient(create_graph)
    trusting = None if create_graph else True  # `op.trusted is not trusting`: check its shares
    pending: dict[Node, Any] = {}  # partial gradients of nodes still awaiting other users
    nodes, grads = [root], [seed]  # nodes whose gradient is complete, and those gradients
    done: list[Node] = []  # the nodes walked (the leaves only, with `released` or `cut`)
    done_grads: list[Any] = []  # and their gradients
    owning = released is not None or cut  # else every op node's gradient is kept: none is
    own: set[Node] = set() if owned is None else owned  # the walk's to write into
    gone: list[Node] = [] if released is None else released
    node = root
    try:
        while nodes:
            node = nodes.pop()
            g = grads.pop()
            a = node._a
            if a is None:
                done.append(node)
                done_grads.append(g)
                continue
            b = node._b
            op = node._op
            if cut:  # let go (release.py); a and b keep its operands for the rule
                del uses[node]
                node._stamp = RELEASED_STAMP
                node._grad = RELEASED
                node._a, node._b = (), None  # the form of an op of three or more operands
            elif owning:
                gone.append(node)
            else:
                done.append(node)
                done_grads.append(g)
            checked = op.trusted is not trusting
            fresh = op.fresh and owning
            if b is not None:  # two operands, the most common case, first
                sa, sb = (  # their count and kind checked by the op (see Op's check_returns)
                    op.vjp(g, node, a, b)
                    if create_graph
                    else op.vjp(g, node._data, a._data, b._data)
                )
                if checked and type(sb) is not plain:
                    sb = b._as_gradient(sb, op, create_graph)
                if sb is None:
                    pass  # b takes no gradient
                elif (n := uses[b]) == 1:  # b's last user (often its only one): b is complete
                    if fresh and (b._a is None or b._op.vjp_into is not None):
                        own.add(b)
                    nodes.append(b)
                    grads.append(pending.pop(b) + sb if b in pending else sb)
                else:
                    pending[b] = sb if (old := pending.get(b)) is None else old + sb
                    uses[b] = n - 1
            elif type(a) is not tuple:
                if create_graph:
                    (sa,) = op.vjp(g, node, a)
                elif op.vjp_into is not None and node in own:
                    own.discard(node)  # read once: the set holds the node no longer
                    (sa,) = op.vjp_into(g, node._data, a._data)  # g is the walk's own
                else:
                    (sa,) = op.vjp(g, node._data, a._data)
            else:
                a, sa = _many_shares(
                    node,
                    a,
                    g,
                    create_graph,
                    plain,
                    checked,
                    uses,
                    pending,
                    nodes,
                    grads,
                    own if fresh else None,
                )
            if checked and type(sa) is not plain:
                sa = a._as_gradient(sa, op, create_graph)
            if sa is None:
                continue  # a takes no gradient
            if (n := uses[a]) == 1:
                if fresh and (a._a is None or a._op.vjp_into is not None):
                    own.add(a)
                nodes.append(a)
                grads.append(pending.pop(a) + sa if a in pending else sa)
            else:
                pending[a] = sa if (old := pending.get(a)) is None else old + sa
                uses[a] = n - 1
    except Exception as exc:
        if hasattr(exc, "add_note"):  # Python >= 3.11: say whose rule failed
            exc.add_note(f"while applying the derivative rule of {node._op!r} in backward")
        raise
    return done, done_grads


def _many_shares(
    node: Node,
    operands: tuple[Node, ...],
    g: Any,
    create_graph: bool,
    plain: type | None,
    checked: bool,
    uses: dict[Node, int],
    pending: dict[Node, Any],
    nodes: list[Node],
    grads: list[Any],
    owned: set[Node] | None,
) -> tuple[Node, Any]:
    """For an op of three or more operands: hand on the shares of all operands but the first
    (each checked if `checked`, and dropped or parked in `pending` as the sweep does; given
    `owned`, the op's shares are fresh and the walk's own: noted there as the sweep does);
    return the first operand and its share, unchecked. The op has checked that there is one
    share per operand."""
    op = node._op  # operands: node's three or more (`_a` held them, before a `cut`)
    args = operands if create_graph else [x._data for x in operands]
    shares = op.vjp(g, node if create_graph else node._data, *args)
    for x, share in zip(operands[1:], shares[1:]):
        if checked and type(share) is not plain:
            share = x._as_gradient(share, op, create_graph)
        if share is None:
            continue  # x takes no gradient
        if x in pending:
            share = pending.pop(x) + share
        if uses[x] == 1:
            if owned is not None and (x._a is None or x._op.vjp_into is not None):
                owned.add(x)
            nodes.append(x)
            grads.append(share)
        else:
            pending[x] = share
            uses[x] -= 1
    return operands[0], shares[0]


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
        found = _sweep(root, seed, False, None if cut else released, cut, owned)
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
