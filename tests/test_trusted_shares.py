"""Shares a first-order walk takes unchecked (issue 22): a built-in op declares its rule's
shares right by construction (`Op.trusted`: each of its operand's shape and a float dtype, or
None for an operand that takes no gradient), so backward skips the check a custom op's
shares go through (`_as_gradient`), which still names a bad custom rule.

Reference for the first tests: that check itself, applied to every share of every op node of
graphs that use every built-in op on arrays (every row of the method table, broadcasting, 0-d
operands, constants, requires_grad=False, float32, float64 and both mixed, a gradient of
another dtype than its node's as a mixed graph hands on): it must return each share as it is.
Reference for the others: the shapes the test gives, and d(sum(3x))/dx = 3 by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from autograd_lite import Op, Tensor, Value, graph_nodes, nn, stack
from autograd_lite.engine import ops
from autograd_lite.engine.array_ops import linear
from autograd_lite.engine.methods import ArrayMethods, rows
from autograd_lite.engine.tensor import concatenate, maximum, minimum, where

RNG = np.random.default_rng(7)
DTYPES = [(np.float64, np.float64), (np.float32, np.float32), (np.float32, np.float64)]


def _tensor(shape: tuple[int, ...], dtype: Any, positive: bool = False, **kw: Any) -> Tensor:
    data = RNG.uniform(0.5, 2.0, shape) if positive else RNG.normal(size=shape)
    return Tensor(data, dtype=dtype, **kw)


# Every method of the table that takes no argument (elementwise ops, reductions over all)
UNARY = sorted(
    name
    for name in rows(ArrayMethods)
    if not name.startswith("_") or name in {"__abs__", "__neg__"}
    if name not in {"argmax", "argmin", "clamp", "clip", "maximum", "minimum", "reshape"}
    if name not in {"expand_dims", "transpose", "unsqueeze"}
)


def _method(t: Tensor, name: str) -> Any:
    found = getattr(t, name)
    return found() if callable(found) else found  # (.T is a property)


def _graphs(dtype: Any, other: Any) -> list[Tensor]:
    """Outputs of one element using every built-in op, several ways each."""
    x = _tensor((2, 3), dtype, positive=True)
    v = _tensor((3,), other, positive=True)
    s = _tensor((), other, positive=True)
    col = _tensor((2, 1), dtype)
    w = _tensor((4, 3), other)
    b = _tensor((4,), dtype)
    data = _tensor((2, 3), other, requires_grad=False)
    batch = _tensor((5, 2, 3), dtype)
    outs: list[Any] = []
    for name in UNARY:  # every argument-free method, and each with x broadcast against v
        outs += [_method(x, name), _method(x * v, name)]
        if name not in {"log_softmax", "softmax", "logsumexp"}:  # (an axis: none for 0-d)
            outs.append(_method(s, name))
    outs += [getattr(x, name)(other_) for name in ("__add__", "__sub__", "__mul__",
             "__truediv__", "__radd__", "__rsub__", "__rmul__", "__rtruediv__")
             for other_ in (v, s, col, data, 2.5, np.full((1, 3), 1.5))]  # fmt: skip
    outs += [x**2, x**v, 2.0**x, s**x, x**s, x.clamp(0.8, 1.5), x.clip(None, 1.0)]
    outs += [x.leaky_relu(0.1), (x - 1.2).leaky_relu(), x.reshape(3, 2), x.transpose(1, 0)]
    outs += [x.unsqueeze(0), x.expand_dims(1), x.sum(0), x.sum(1, keepdims=True), x.mean(0)]
    outs += [x.max(1), x.min(0, keepdims=True), x.prod(1), x.norm(axis=1), x.var(0), x.std(1)]
    outs += [x.softmax(1), x.log_softmax(0), x.logsumexp(1), x.maximum(v), x.minimum(s)]
    outs += [maximum(x, col), minimum(data, x), where(x.data > 1.0, x, v), where(True, s, x)]
    outs += [x[0], x[:, 1:], x[[0, 1, 1], [2, 0, 2]], x[x.data > 1.0], x[None, ..., 0]]
    outs += [concatenate([x, data], 0), stack([x, v * x], 1), concatenate([v, s[None]])]
    outs += [x @ v, v @ w.T, x @ w.T, w @ x.T, x.T @ col, batch @ w.T, v @ v, data @ w.T]
    outs += [linear(x, w, b), linear(data, w, b), linear(batch, w, b), linear(v, w, 0.5)]
    outs += [linear(x, w, b).relu(), (x @ w.T + b).relu(), -x, abs(x - 1.0)]
    logits = linear(x, w, b)
    outs += [nn.cross_entropy(logits, [1, 3]), nn.cross_entropy(logits, [0, 2], "sum")]
    outs += [nn.cross_entropy(logits, [2, 2], "none"), nn.mse_loss(x, data)]
    outs += [nn.cross_entropy(logits, [1, 3], label_smoothing=0.1, ignore_index=3)]
    outs += [-logits.log_softmax(axis=1)[np.arange(2), [1, 3]].mean()]
    return [out.sum() if out.size != 1 else out for out in outs]


def _shares_of(node: Any, g: Any) -> tuple[Any, ...]:
    operands = node.operands
    shares: tuple[Any, ...] = node.rule(g, node._data, *[x._data for x in operands])
    return shares


def _gradients_for(node: Any) -> list[Any]:
    """What the walk may hand a node: an array of its shape in its dtype and in float64
    (a mixed graph's), and for a 0-d node also numpy's scalars (what 0-d arithmetic gives)."""
    data = node._data
    g = RNG.normal(size=data.shape)
    found = [g.astype(data.dtype), g]
    if data.ndim == 0:
        found += [data.dtype.type(g), np.float64(g)]
    return found


def _as_it_is(checked: Any, share: Any) -> bool:
    """Whether the check gave the share itself, or (a writeable array: a user's rule may
    keep it) a copy of the same type, dtype, shape and numbers."""
    if checked is share:
        return True
    return (
        type(share) is np.ndarray
        and type(checked) is np.ndarray
        and checked.dtype == share.dtype
        and checked.shape == share.shape
        and bool(np.array_equal(checked, share, equal_nan=True))
    )


@pytest.mark.parametrize("dtype,other", DTYPES)
def test_every_share_of_a_built_in_op_passes_the_check_as_it_is(dtype: Any, other: Any) -> None:
    checked = 0
    for root in _graphs(dtype, other):
        for node in graph_nodes(root):
            if node.is_leaf:
                continue
            op = node._op
            assert op.trusted, f"{op!r} is built in: its shares are right by construction"
            for g in _gradients_for(node):
                operands: list[Any] = list(node.operands)  # Tensors
                for x, share in zip(operands, _shares_of(node, g), strict=True):
                    if share is None:  # only for an operand that takes no gradient
                        assert not x.requires_grad, (op, x)
                        continue
                    assert _as_it_is(x._as_gradient(share, op, False), share), (op, x, share)
                    checked += 1
    assert checked > 500  # the graphs above are walked, not skipped


def test_every_share_of_a_built_in_op_on_values_is_a_float() -> None:
    """On Values a float passes the walk as it is (the plain gradient type): a trusted op's
    share must be one (the check would convert anything else)."""
    a, b = Value(0.7), Value(-1.3)
    outs = [a + b, a - b, a * b, a / b, -a, a**2, a ** b.abs(), 2.0**a, a.exp(), a.abs().log()]
    outs += [a.tanh(), a.sigmoid(), a.relu(), b.relu(), a.sin(), a.cos(), a.tan(), a.abs().sqrt()]
    outs += [a.abs().log1p(), a.expm1(), a.softplus(), a.gelu(), a.leaky_relu(), b.leaky_relu()]
    outs += [a.clamp(-1.0, 0.5), b.clip(-1.0, 0.5), a.maximum(b), a.minimum(b), abs(b)]
    for root in outs:
        for node in graph_nodes(root):
            if node.is_leaf:
                continue
            assert node._op.trusted
            shares = node.rule(1.0, node.data, *[x.data for x in node.operands])
            assert all(type(s) is float for s in shares), (node._op, shares)


BAD_RULES: dict[str, Callable[[Any, Any, Any], tuple[Any]]] = {
    "wrong shape": lambda g, out, x: (np.ones(7),),
    "None": lambda g, out, x: (None,),
    "a Tensor": lambda g, out, x: (Tensor(np.ones(3)),),
    "text": lambda g, out, x: ("3",),
}


@pytest.mark.parametrize("keep", [True, False])
@pytest.mark.parametrize("bad", sorted(BAD_RULES))
def test_a_custom_op_is_not_trusted_and_its_bad_share_is_named(bad: str, keep: bool) -> None:
    """A custom op's shares are still checked in every kind of pass, after a built-in op
    and before one: the error names the rule; a good custom rule gives the right numbers."""
    custom = Op("custom", lambda x: 3.0 * x, BAD_RULES[bad])
    assert not custom.trusted
    x = Tensor(np.arange(3.0), label="x")
    with pytest.raises((TypeError, ValueError), match=r"derivative rule of Op\('custom'\)"):
        (custom(x * 1.0) + 1.0).relu().sum().backward(retain_graph=keep)
    assert x._grad is None  # nothing written
    good = Op("custom", lambda x: 3.0 * x, lambda g, out, x: (3.0 * g,))
    (good(x * 1.0) + 1.0).relu().sum().backward(retain_graph=keep)
    assert x.grad.tolist() == [3.0, 3.0, 3.0]  # Reference: d(sum(3x + 1))/dx = 3 (all > 0)


def test_no_option_makes_a_users_op_trusted() -> None:
    """Exemption from the check is the engine's own (its rules are checked above): an op
    made by a user with a wrong rule and trusted=True asked for is refused at construction,
    not let through to a sum. Reference: Op's documented options (docs/derivatives.md)."""
    with pytest.raises(TypeError, match="trusted"):
        asked: dict[str, Any] = {"trusted": True}
        Op("custom", lambda x: 3.0 * x, BAD_RULES["wrong shape"], **asked)


@pytest.mark.parametrize("keep", [True, False])
def test_a_built_in_op_given_another_rule_is_not_trusted(keep: bool) -> None:
    """`Op.specialised` (public) puts a user's rule on a built-in op: that rule's shares are
    checked, not taken unchecked as the built-in rule's would be (was: x.grad of shape (1,)
    for x of shape (3,), no error). The engine's own adaptations stay trusted.
    Reference: the shapes the test gives; d(sum(exp(x)))/dx = exp(x) by hand."""
    wrong = ops.exp.specialised(BAD_RULES["wrong shape"])
    assert not wrong.trusted
    x = Tensor(np.zeros(3), label="x")
    with pytest.raises(ValueError, match=r"derivative rule of Op\('exp'\) gave a gradient"):
        wrong(x * 1.0).sum().backward(retain_graph=keep)
    assert x._grad is None  # nothing written
    (x * 1.0).exp().sum().backward(retain_graph=keep)
    assert x.grad.tolist() == [1.0, 1.0, 1.0]  # exp(0) = 1
    assert all(node._op.trusted for node in graph_nodes(x.exp() + 1.0) if not node.is_leaf)
