"""The sweep every backward pass makes (backward.py's `backward` and `grad`): the count of
each node's users, with the stale-data check, and the reverse topological walk that runs each
op node's derivative rule once its gradient is complete, written for speed (it runs once per
node of every training step; tests/reference.py holds the same sweep written plainly).
"""

from __future__ import annotations

from typing import Any

from .node import Node
from .release import RELEASED, RELEASED_STAMP
from .stale import stale_error

__all__ = ["count_uses", "sweep"]


def count_uses(root: Node) -> dict[Node, int]:
    """For each node below root, how many operand slots of nodes below root refer to it;
    StaleDataError if a node's data changed after the graph used it.

    It checks every operand slot's write stamp on the way (see `check_unchanged`): one
    comparison per slot, on the pass the sweep makes anyway. Only op nodes go on its stack
    (a leaf has nothing below it to count), and one seen first is counted next without it.
    """
    if root._stamp == RELEASED_STAMP:
        stale_error(None, root)
    uses = {root: 0}
    if root._a is None:
        return uses
    stack: list[Node] = []
    node = root
    while True:
        a = node._a
        b = node._b
        s = node._stamp
        nxt = None  # the node counted next: an operand seen first here (as if pushed, popped)
        if b is None and type(a) is tuple:  # an op of three or more operands: a holds them
            for x in a:
                if x._stamp > s:
                    stale_error(node, x)
                if x in uses:
                    uses[x] += 1
                else:
                    uses[x] = 1
                    if x._a is not None:
                        stack.append(x)
        else:  # the first two operands written out: most nodes then build no tuple
            if a._stamp > s or (b is not None and b._stamp > s):
                stale_error(node, next(x for x in (a, b) if x is not None and x._stamp > s))
            if a in uses:
                uses[a] += 1
            else:
                uses[a] = 1
                if a._a is not None:
                    nxt = a
            if b is not None:
                if b in uses:
                    uses[b] += 1
                else:
                    uses[b] = 1
                    if b._a is not None:
                        if nxt is not None:
                            stack.append(nxt)
                        nxt = b
        if nxt is None:
            if not stack:
                return uses
            nxt = stack.pop()
        node = nxt


def sweep(
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
    - a share that completes its node's gradient goes straight on, without a dict entry:
      a leaf's to the done lists, the first operand's rule runs next (as the stack would
      have it), any other goes on the stack;
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
    nodes: list[Node] = []  # op nodes whose gradient is complete, whose rule is to run
    grads: list[Any] = []  # and those gradients
    done: list[Node] = []  # the nodes walked (the leaves only, with `released` or `cut`)
    done_grads: list[Any] = []  # and their gradients
    owning = released is not None or cut  # else every op node's gradient is kept: none is
    own: set[Node] = set() if owned is None else owned  # the walk's to write into
    gone: list[Node] = [] if released is None else released
    node, g = root, seed
    try:
        while True:
            a = node._a
            if a is None:  # a root that is a leaf (a leaf below is done once complete)
                done.append(node)
                done_grads.append(g)
                break
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
                    if pending and b in pending:
                        sb = pending.pop(b) + sb
                    if b._a is None:  # a leaf: done
                        if fresh:
                            own.add(b)
                        done.append(b)
                        done_grads.append(sb)
                    else:
                        if fresh and b._op.vjp_into is not None:
                            own.add(b)
                        nodes.append(b)
                        grads.append(sb)
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
                    node, a, g, create_graph, plain, checked, uses, pending,
                    (nodes, grads, done, done_grads), own if fresh else None,
                )  # fmt: skip
            if checked and type(sa) is not plain:
                sa = a._as_gradient(sa, op, create_graph)
            if sa is None:
                pass  # a takes no gradient
            elif (n := uses[a]) == 1:
                if pending and a in pending:
                    sa = pending.pop(a) + sa
                if a._a is not None:  # an op node: its rule runs next, as if pushed and popped
                    if fresh and a._op.vjp_into is not None:
                        own.add(a)
                    node, g = a, sa
                    continue
                if fresh:
                    own.add(a)
                done.append(a)
                done_grads.append(sa)
            else:
                pending[a] = sa if (old := pending.get(a)) is None else old + sa
                uses[a] = n - 1
            if not nodes:
                break
            node = nodes.pop()
            g = grads.pop()
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
    lists: tuple[list[Node], list[Any], list[Node], list[Any]],
    owned: set[Node] | None,
) -> tuple[Node, Any]:
    """For an op of three or more operands: hand on the shares of all operands but the first
    (each checked if `checked`, and dropped, parked in `pending` or put on the sweep's
    `lists`, nodes, grads, done, done_grads, as the sweep does; given
    `owned`, the op's shares are fresh and the walk's own: noted there as the sweep does);
    return the first operand and its share, unchecked. The op has checked that there is one
    share per operand."""
    op = node._op  # operands: node's three or more (`_a` held them, before a `cut`)
    nodes, grads, done, done_grads = lists
    if create_graph:
        shares = op.vjp(g, node, *operands)
    elif len(operands) == 3:  # (linear's): no list of the data
        x, y, z = operands
        shares = op.vjp(g, node._data, x._data, y._data, z._data)
    else:
        shares = op.vjp(g, node._data, *[x._data for x in operands])
    for i in range(1, len(operands)):
        x, share = operands[i], shares[i]
        if checked and type(share) is not plain:
            share = x._as_gradient(share, op, create_graph)
        if share is None:
            continue  # x takes no gradient
        if pending and x in pending:
            share = pending.pop(x) + share
        if uses[x] == 1:
            if owned is not None and (x._a is None or x._op.vjp_into is not None):
                owned.add(x)
            if x._a is None:  # a leaf is done
                done.append(x)
                done_grads.append(share)
            else:
                nodes.append(x)
                grads.append(share)
        else:
            pending[x] = share
            uses[x] -= 1
    return operands[0], shares[0]
