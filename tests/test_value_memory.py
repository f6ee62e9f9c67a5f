"""What a Value backward pass keeps: `retain_graph=False` and `retain_grads=False` mean for a
Value what they mean for a Tensor (docs/engine.md, "backward"; docs/tensors.md, "What a
backward pass keeps"), so that a PyTorch habit, `loss.backward(retain_graph=False)`, works.

References, never the engine itself: closed forms of the gradients worked out in each test
and the documented rules (the leaves keep exact gradients, every node keeps its data, an op
result's gradient and links are refused, never a wrong number or an empty tuple).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from autograd_lite import (
    Op,
    ReleasedGradientError,
    ReleasedGraphError,
    Value,
    backward_steps,
    compile_grad,
    draw_graph,
    grad,
    graph_nodes,
    local_derivatives,
)

FMA = Op("fma", lambda a, b, c: a * b + c, lambda g, out, a, b, c: (g * b, g * a, g))
"""fma(a, b, c) = a b + c, an op of three operands (they are kept in a tuple, not two slots)."""


def build() -> tuple[Value, Value, Value, Value, Value]:
    """loss = fma(a, b, c) * (a + c), with the op results m = fma(a, b, c) and s = a + c.

    Reference (by hand): d loss/da = b (a + c) + (a b + c), d loss/db = a (a + c),
    d loss/dc = (a + c) + (a b + c). At a, b, c = 1.5, -2, 0.25: m = -2.75, s = 1.75, so
    (-3.5 - 2.75, 2.625, 1.75 - 2.75) = (-6.25, 2.625, -1.0) and loss = -4.8125."""
    a, b, c = Value(1.5, "a"), Value(-2.0, "b"), Value(0.25, "c")
    m, s = FMA(a, b, c), a + c
    m.label, s.label = "m", "s"
    loss = m * s
    loss.label = "loss"
    return loss, a, b, c, m


EXPECTED = [-6.25, 2.625, -1.0]


def test_retain_graph_false_gives_the_leaves_their_gradients_and_keeps_the_data() -> None:
    """Reference: the closed form in `build`'s docstring; every node keeps its number."""
    loss, a, b, c, m = build()
    loss.backward(retain_graph=False)
    assert [a.grad, b.grad, c.grad] == EXPECTED
    assert loss.data == -4.8125 and m.data == -2.75
    assert m.op is FMA and not m.is_leaf  # what made it is still known


def _walks(loss: Value, a: Value, m: Value) -> dict[str, Callable[[], Any]]:
    """Every way a user reads the links of a let-go graph or walks it again."""
    return {
        "operands of the output": lambda: loss.operands,
        "operands of a three-operand result": lambda: m.operands,
        "backward again": lambda: loss.backward(),
        "backward of a new expression on a result": lambda: (m * 2.0).backward(),
        "grad": lambda: grad(loss, [a]),
        "zero_grad": lambda: loss.zero_grad(),
        "graph_nodes": lambda: graph_nodes(loss),
        "draw_graph": lambda: draw_graph(loss),
        "backward_steps": lambda: backward_steps(loss),
        "compile_grad": lambda: compile_grad(loss, [a]),
        "local_derivatives": lambda: local_derivatives(m),
    }


@pytest.mark.parametrize("how", list(_walks(*[Value(0.0)] * 3)))
def test_a_let_go_value_graph_refuses_every_walk_and_read_of_its_links(how: str) -> None:
    """Reference: the documented rule -- after retain_graph=False the links are gone, so each
    read of them is a ReleasedGraphError naming the setting (never () or part of a graph),
    and the leaves keep the closed-form gradients of `build`."""
    loss, a, b, c, m = build()
    loss.backward(retain_graph=False)
    with pytest.raises(ReleasedGraphError, match=r"retain_graph=False"):
        _walks(loss, a, m)[how]()
    assert [a.grad, b.grad, c.grad] == EXPECTED


@pytest.mark.parametrize("retain", [{"retain_graph": False}, {"retain_grads": False}])
def test_an_op_results_gradient_is_released(retain: dict[str, bool]) -> None:
    """Reference: the documented rule -- an op result's .grad is a ReleasedGradientError
    naming it (never 0.0 or a partial sum); a leaf's is the closed form of `build`."""
    loss, a, _, _, m = build()
    loss.backward(**retain)
    with pytest.raises(ReleasedGradientError, match=r"Value.grad: .*'m'.*released"):
        _ = m.grad
    assert a.grad == EXPECTED[0]


def test_a_drawing_after_retain_grads_false_says_released() -> None:
    """Reference: `build`'s closed form for the leaf a (grad -6.25) and the documented rule
    that a released gradient is said so in a drawing, not left out or shown as a number."""
    loss, _, _, _, _ = build()
    loss.backward(retain_grads=False)
    lines = draw_graph(loss).source.splitlines()
    (m_line,) = [ln for ln in lines if "<B>m</B>" in ln]
    (a_line,) = [ln for ln in lines if "<B>a</B>" in ln]
    assert "data -2.75" in m_line and "grad released" in m_line
    assert "grad -6.25" in a_line and "released" not in a_line


def test_retain_grads_false_keeps_the_graph_for_another_pass() -> None:
    """Reference: closed form -- the graph is kept, so a second pass adds the same
    gradients again (2 x `build`'s), and the operands are still the leaves."""
    loss, a, b, c, m = build()
    loss.backward(retain_grads=False)
    loss.backward(retain_grads=False)
    assert [a.grad, b.grad, c.grad] == [2 * g for g in EXPECTED]
    assert m.operands == (a, b, c)


@pytest.mark.parametrize(
    ("options", "error", "words"),
    [
        ({"retain_graph": "no"}, TypeError, "Value.backward: retain_graph must be True or False"),
        ({"retain_grads": 0}, TypeError, "Value.backward: retain_grads must be True or False"),
        ({"retain_grads": True, "retain_graph": False}, ValueError, "pass one of them"),
    ],
)
def test_bad_options_are_refused_before_anything_changes(
    options: dict[str, Any], error: type[Exception], words: str
) -> None:
    """Reference: the project's rule for bad input -- an error naming Value.backward and the
    option, raised before any gradient is written or any link let go (a later backward()
    still gives `build`'s closed form)."""
    loss, a, b, c, _ = build()
    with pytest.raises(error, match=words):
        loss.backward(**options)
    assert [a.grad, b.grad, c.grad] == [0.0, 0.0, 0.0]
    loss.backward()
    assert [a.grad, b.grad, c.grad] == EXPECTED


def test_the_options_are_keyword_only_as_a_tensors() -> None:
    """`y.backward(1.0, False)` does not say which option it sets: a TypeError, as for a
    Tensor, before anything changes; the keywords work. Reference: d(x * x + x)/dx = 2x + 1
    = 7 at x = 3."""
    from autograd_lite import Tensor

    x = Value(3.0)
    y = x * x + x
    for node, seed in ((y, 1.0), ((Tensor([3.0]) * 2.0).sum(), None)):
        backward: Any = node.backward  # a call the type checker would refuse
        with pytest.raises(TypeError, match="positional"):
            backward(seed, False)
    assert x.grad == 0.0
    y.backward(1.0, retain_grads=False, retain_graph=True)
    assert x.grad == 7.0
