"""What a Tensor backward pass keeps: every gradient by default (drawings, teaching), only the
leaves' with `backward(retain_grads=False)` (training loops, docs/tensors.md "Memory"), and
each leaf's `.grad` an array of its own either way.

References, never the engine itself: the gradients of a one-hidden-layer network written out
by hand in numpy (the chain rule of relu(x @ W.T + b)), closed forms worked out in each test,
and byte counts of the arrays involved (tracemalloc counts numpy's buffers).
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest

from autograd_lite import ReleasedGradientError, ReleasedGraphError, Tensor, draw_graph, nn

Array = np.ndarray[Any, Any]


def network(seed: int = 0) -> tuple[Array, Array, Array, Array]:
    """x (2, 2), W (3, 2), b (3,), v (3,): the data of loss = sum(relu(x @ W.T + b) * v)
    (drawings show the numbers of arrays of at most six elements)."""
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(2, 2)),
        rng.normal(size=(3, 2)),
        rng.normal(size=3),
        rng.normal(size=3),
    )


def hand_gradients(x: Array, w: Array, b: Array, v: Array) -> tuple[Array, Array, Array]:
    """Reference: the chain rule by hand. z = x @ W.T + b, h = relu(z), loss = sum(h * v):
    dh = v (per row), dz = dh * (z > 0), dW = dz.T @ x, db = sum of dz's rows; and dz itself
    (the gradient of the intermediate z)."""
    z = x @ w.T + b
    dz = np.broadcast_to(v, z.shape) * (z > 0)
    return dz.T @ x, dz.sum(axis=0), dz


def build(x: Array, w: Array, b: Array, v: Array) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The loss as Tensors, and W, b and the intermediate z."""
    wt, bt = Tensor(w, label="W"), Tensor(b, label="b")
    z = Tensor(x, requires_grad=False) @ wt.T + bt
    z.label = "z"
    return ((z.relu() * v).sum(), wt, bt, z)


def test_retain_grads_false_gives_the_leaves_their_gradients() -> None:
    """Reference: hand_gradients (the chain rule written out in numpy)."""
    data = network()
    loss, w, b, _ = build(*data)
    loss.backward(retain_grads=False)
    dw, db, _ = hand_gradients(*data)
    np.testing.assert_allclose(w.grad, dw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad, db, rtol=1e-12, atol=1e-12)


def test_an_intermediate_gradient_released_is_an_error_not_a_number() -> None:
    """Reference: the documented rule -- an op result's .grad after retain_grads=False
    raises, naming the option; it is never zeros (which would be a wrong number)."""
    loss, _, _, z = build(*network())
    loss.backward(retain_grads=False)
    with pytest.raises(ReleasedGradientError, match=r"'z'.*retain_grads=False"):
        _ = z.grad
    with pytest.raises(ReleasedGradientError):
        _ = loss.grad  # the output itself is an op's result too


def test_a_second_backward_after_release_adds_to_the_leaves_and_keeps_the_error() -> None:
    """Reference: hand_gradients; two passes add twice the gradient to each leaf (as the
    first backward documents). The intermediate missed a pass, so it stays released even
    if the second pass keeps gradients: a partial sum would be a wrong number."""
    data = network(1)
    loss, w, b, z = build(*data)
    loss.backward(retain_grads=False)
    loss.backward()  # the data is all kept: a second pass is exact
    dw, db, _ = hand_gradients(*data)
    np.testing.assert_allclose(w.grad, 2 * dw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad, 2 * db, rtol=1e-12, atol=1e-12)
    with pytest.raises(ReleasedGradientError):
        _ = z.grad


def test_by_default_every_intermediate_keeps_its_gradient_and_the_drawing_shows_it() -> None:
    """Reference: hand_gradients' dz for the intermediate z; the drawing's grad row of z
    (as tests/test_render_tensors.py reads it) is present after a default backward and says
    "released", rather than a wrong number or nothing, after retain_grads=False."""
    data = network(2)
    loss, _, _, z = build(*data)
    loss.backward()
    np.testing.assert_allclose(z.grad, hand_gradients(*data)[2], rtol=1e-12, atol=1e-12)
    assert _grad_rows(draw_graph(loss).source, "z") == 1
    released, _, _, _ = build(*data)
    released.backward(retain_grads=False)
    source = draw_graph(released).source
    assert _grad_rows(source, "z") == 1
    assert ">released</TD>" in _line_of(source, "z")
    assert _grad_rows(source, "W") == 1  # the leaves keep theirs
    assert "released" not in _line_of(source, "W")
    assert ">data</TD>" in _line_of(source, "z")  # and every node its data


def _line_of(source: str, label: str) -> str:
    """The DOT line of the node labelled `label`."""
    (line,) = [ln for ln in source.splitlines() if f"<B>{label}</B>" in ln]
    return line


def _grad_rows(source: str, label: str) -> int:
    """How many grad rows the drawn node labelled `label` has."""
    return _line_of(source, label).count(">grad</TD>")


@pytest.mark.parametrize("retain", [True, False])
def test_each_leaf_gradient_is_its_own_array(retain: bool) -> None:
    """Reference: the rule that a leaf's .grad shares memory with no other .grad and no
    node's data: W.T's rule hands W a view of the gradient W.T keeps (shared when it is
    kept), a + b hands both the same array. Changing one in place changes no other."""
    data = network(3)
    loss, w, b, z = build(*data)
    loss.backward(retain_grads=retain)
    grads = [w.grad, b.grad] + ([z.grad] if retain else [])
    for i, g in enumerate(grads):
        assert g.flags.writeable
        assert not np.shares_memory(g, w.data) and not np.shares_memory(g, b.data)
        for other in grads[i + 1 :]:
            assert not np.shares_memory(g, other)
    p, q = Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    (p + q).sum().backward(retain_grads=retain)
    assert not np.shares_memory(p.grad, q.grad)
    p.grad *= 5.0
    assert q.grad.tolist() == [1.0, 1.0]  # d(sum(p + q))/dq, unchanged


def test_a_transposed_operand_gets_its_gradient_in_its_own_layout() -> None:
    """Reference: hand_gradients (dW = dz.T @ x, so d(W.T) is its transpose) and PyTorch's
    rule for matmul: the gradient of an operand stored transposed (W.T, a view of W in
    column order) is made in that order, so that W's, its transpose, is in W's row order
    and needs no copy."""
    x, w, b, v = network(4)
    weight = Tensor(w)
    view = weight.T
    z = Tensor(x, requires_grad=False) @ view + Tensor(b)
    (z.relu() * v).sum().backward()
    dw, _, _ = hand_gradients(x, w, b, v)
    assert view.data.flags.f_contiguous and view.grad.flags.f_contiguous
    np.testing.assert_allclose(view.grad, dw.T, rtol=1e-12, atol=0)
    assert weight.grad.flags.c_contiguous
    np.testing.assert_allclose(weight.grad, dw, rtol=1e-12, atol=0)


def test_retain_grads_is_checked() -> None:
    """Reference: the project's rule for bad input -- a TypeError naming the option."""
    loss, _, _, _ = build(*network())
    bad: Any = "no"
    with pytest.raises(TypeError, match="retain_grads"):
        loss.backward(retain_grads=bad)


def test_retain_grads_true_with_retain_graph_false_is_refused_before_anything() -> None:
    """Reference: the project's rule for bad input -- asking to keep every op result's
    gradient while letting the op results go is a ValueError naming both options, raised
    before the walk (a second backward then works: d sum(relu(z) * v)/db by hand), where
    before the explicit retain_grads=True was silently overridden."""
    x, w, b, v = network()
    loss, _, bt, _ = build(x, w, b, v)
    with pytest.raises(ValueError, match=r"retain_grads=True.*retain_graph=False"):
        loss.backward(retain_grads=True, retain_graph=False)
    assert bt.grad.tolist() == [0.0, 0.0, 0.0]  # untouched (zeros until a backward)
    loss.backward(retain_graph=False)  # the graph was not touched: this walk works
    _, db, _ = hand_gradients(x, w, b, v)
    np.testing.assert_allclose(bt.grad, db, rtol=1e-12)


def _backward_peak(retain: bool, n: int, size: int) -> int:
    """Bytes tracemalloc sees allocated at the peak of one backward through a chain of n
    products with a number, on float64 arrays of `size` elements (above what the graph
    already holds)."""
    x = Tensor(np.ones(size))
    y = x
    for _ in range(n):
        y = y * 1.5
    loss = y.sum()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        loss.backward(retain_grads=retain)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_the_training_loop_backward_holds_a_few_gradients_not_all() -> None:
    """Reference: byte counts. Each of the chain's n op nodes has a gradient of `size`
    float64s (8 * size bytes): keeping them all holds n of them, releasing them holds the
    one being passed on and the one being made (the leaf's is the last), so under 4."""
    n, size = 20, 100_000
    one = 8 * size
    assert _backward_peak(True, n, size) >= n * one
    assert _backward_peak(False, n, size) < 4 * one


def test_the_documented_training_loop_trains_with_released_gradients() -> None:
    """Reference: a least-squares fit by gradient descent worked out in numpy: for
    loss = mean((x @ W.T - y)**2), dW = 2/N (x @ W.T - y).T @ x; the same steps by hand."""
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    w0 = rng.normal(size=(2, 3))
    layer = nn.Linear(3, 2, bias=False)
    layer.weight.data = w0
    opt = nn.SGD(layer.parameters(), lr=0.1)
    hand = w0.copy()
    for _ in range(3):
        opt.zero_grad()
        out = layer(x)
        loss = ((out - y) ** 2).mean()
        loss.backward(retain_grads=False)
        opt.step()
        hand -= 0.1 * (2 / y.size) * (x @ hand.T - y).T @ x
    np.testing.assert_allclose(layer.weight.data, hand, rtol=1e-12, atol=1e-12)
    with pytest.raises(ReleasedGradientError):
        _ = out.grad


# -- backward(retain_graph=False): the graph gives up its data too -------------------------------


def test_retain_graph_false_keeps_the_leaves_gradients_and_every_held_value() -> None:
    """Reference: hand_gradients (the chain rule in numpy); the loss and z computed in numpy,
    z = x @ W.T + b, loss = sum(relu(z) * v); the leaves' data are the arrays they were made
    from. As in PyTorch, a tensor the caller holds keeps its data (an accuracy from the
    logits after backward)."""
    data = network(5)
    x, w0, b0, v = data
    loss, w, b, z = build(*data)
    loss.backward(retain_graph=False)
    dw, db, _ = hand_gradients(*data)
    np.testing.assert_allclose(w.grad, dw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad, db, rtol=1e-12, atol=1e-12)
    expected = float((np.maximum(x @ w0.T + b0, 0) * v).sum())
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(z.data, x @ w0.T + b0, rtol=1e-12)
    np.testing.assert_allclose((z * 2.0).data, 2 * (x @ w0.T + b0), rtol=1e-12)
    assert w.data.tolist() == w0.tolist() and b.data.tolist() == b0.tolist()
    with pytest.raises(ReleasedGradientError):
        _ = z.grad


def _walks(z: Tensor, loss: Tensor, w: Tensor) -> dict[str, Any]:
    """Every way a user walks a graph again, or reads the links an op result had."""
    from autograd_lite import (
        backward_code,
        backward_steps,
        compile_grad,
        explore,
        find_wrong_rule,
        grad,
        graph_nodes,
        hessian,
    )

    return {
        "backward again": lambda: loss.backward(),
        "backward of a held result": lambda: z.sum().backward(),
        "grad": lambda: grad(loss, [w]),
        "zero_grad": lambda: loss.zero_grad(),
        "graph_nodes": lambda: graph_nodes(loss),
        "draw_graph": lambda: draw_graph(loss),
        "draw_graph of a held result": lambda: draw_graph(z),
        "backward_steps": lambda: backward_steps(loss),
        "compile_grad": lambda: compile_grad(loss, [w]),
        "backward_code": lambda: backward_code(loss, [w]),
        "explore": lambda: explore(loss),
        "find_wrong_rule": lambda: find_wrong_rule(loss),
        "hessian": lambda: hessian(loss, [w]),
        "operands of the output": lambda: loss.operands,
        "operands of a held result": lambda: z.operands,
    }


@pytest.mark.parametrize("how", list(_walks(*[Tensor(0.0)] * 3)))
def test_a_graph_let_go_refuses_every_walk_before_any_change(how: str) -> None:
    """Reference: the documented rule (docs/tensors.md) -- after retain_graph=False the links
    between the tensors are gone: a walk would miss what lies below, so each one raises
    ReleasedGraphError naming a tensor and the setting, never a gradient or a drawing of part
    of the graph; the leaves keep their gradients (closed form of d loss/dW)."""
    data = network(6)
    loss, w, _, z = build(*data)
    loss.backward(retain_graph=False)
    with pytest.raises(ReleasedGraphError, match=r"retain_graph=False"):
        _walks(z, loss, w)[how]()
    np.testing.assert_allclose(w.grad, hand_gradients(*data)[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("arity", [1, 2, 3])
def test_a_let_go_result_names_its_op_and_refuses_its_operands(arity: int) -> None:
    """Reference: the documented rule (docs/tensors.md) -- a let-go op result of one, two or
    three operands (exp, *, where) is still no leaf and still names the op that made it;
    its operands, whose links are gone, are a ReleasedGraphError naming it, never ()."""
    from autograd_lite import where

    a, b = Tensor([1.0, -2.0], label="a"), Tensor([3.0, 4.0], label="b")
    made = {1: lambda: a.exp(), 2: lambda: a * b, 3: lambda: where(np.array([True, False]), a, b)}
    y = made[arity]()
    y.label = "y"
    name = y.op.name
    y.sum().backward(retain_graph=False)
    assert not y.is_leaf and y.op is not None and y.op.name == name
    with pytest.raises(ReleasedGraphError, match=r"Tensor.operands: .*'y'.*retain_graph=False"):
        _ = y.operands


def test_another_graph_through_a_released_result_is_refused() -> None:
    """Reference: the documented rule -- a graph built before the release that shares an op
    result (z) cannot be walked: z's links below are gone."""
    loss, _, _, z = build(*network(7))
    other = (z * 2.0).sum()
    loss.backward(retain_graph=False)
    with pytest.raises(ReleasedGraphError, match="'z'"):
        other.backward()


def test_a_computed_tensor_without_a_gradient_keeps_its_data_and_feeds_the_rule() -> None:
    """Reference: numpy's exp of the batch -- a computed tensor that needs no gradient (made
    from requires_grad=False data), held by the caller, keeps its numbers after the graph
    is let go, and the rule that read it gave d sum(c * w)/dw = c."""
    x = np.array([0.5, -1.0])
    c = Tensor(x, requires_grad=False).exp()
    w = Tensor([2.0, 3.0])
    loss = (c * w).sum()
    loss.backward(retain_graph=False)
    np.testing.assert_array_equal(c.data, np.exp(x))
    np.testing.assert_array_equal(w.grad, np.exp(x))  # d sum(c * w)/dw = c


def test_a_failing_rule_changes_no_grad_and_lets_go_of_the_part_walked() -> None:
    """Reference: the documented rule (docs/tensors.md) -- with retain_graph=False each op
    node is let go as the walk passes it, so a rule that fails part way leaves every .grad
    as it was, the results above it let go (a second backward is a ReleasedGraphError, never
    a wrong number), every held tensor's data kept; the forward pass run again gives the
    closed form d sum(flaky(w) * 3)/dw = 3 (flaky is the identity)."""
    from autograd_lite import Op

    calls = [0]

    def vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
        calls[0] += 1
        if calls[0] == 1:
            raise ArithmeticError("a rule that fails once")
        return (g,)

    flaky = Op("flaky", lambda x: x, vjp, array_forward=lambda x: x.copy())
    w = Tensor([1.0, 2.0], label="w")
    w.grad = np.array([10.0, 20.0])
    y = flaky(w) * 3.0
    loss = y.sum()
    with pytest.raises(ArithmeticError):
        loss.backward(retain_graph=False)
    assert w.grad.tolist() == [10.0, 20.0] and y.data.tolist() == [3.0, 6.0]
    with pytest.raises(ReleasedGraphError):
        loss.backward(retain_graph=False)
    w.grad = None
    (flaky(w) * 3.0).sum().backward(retain_graph=False)
    assert w.grad.tolist() == [3.0, 3.0]


def test_retain_graph_false_frees_each_result_as_the_walk_passes_it() -> None:
    """Reference: byte counts. loss = sum(probe(x) * 2 * 2 ... (n products)) on float64
    arrays of `size` elements; when the last rule runs (probe's, at the bottom), the n
    products above it are no longer needed: with retain_graph=False they are freed by then
    (what tracemalloc sees is x's data, probe's result and a gradient or two), as PyTorch
    frees saved tensors during its backward; with the graph kept they are all there."""
    from autograd_lite import Op

    n, size = 20, 50_000
    array_bytes = 8 * size
    seen: list[int] = []

    def vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
        seen.append(tracemalloc.get_traced_memory()[0])
        return (g,)

    probe = Op("probe", lambda x: x, vjp, array_forward=lambda x: x.copy())

    def at_the_bottom_rule(retain_graph: bool) -> float:
        x = Tensor(np.ones(size))
        tracemalloc.start()
        try:
            y = probe(x)
            for _ in range(n):
                y = y * 2.0
            loss = y.sum()
            del y
            base = tracemalloc.get_traced_memory()[0]
            loss.backward(retain_graph=retain_graph)
        finally:
            tracemalloc.stop()
        return (seen[-1] - base) / array_bytes  # arrays freed (-) or added (+) by then

    assert at_the_bottom_rule(retain_graph=False) < -(n - 4)  # n products, less a few
    assert at_the_bottom_rule(retain_graph=True) > 0  # every product still held


def test_retain_graph_is_checked() -> None:
    """Reference: the project's rule for bad input -- a TypeError naming the option, before
    anything is released."""
    loss, _, _, z = build(*network())
    bad: Any = "no"
    with pytest.raises(TypeError, match="retain_graph"):
        loss.backward(retain_graph=bad)
    assert z.data.shape == (2, 3)


def test_retain_graph_false_frees_the_graphs_arrays() -> None:
    """Reference: byte counts. A chain of n products with a number on float64 arrays of
    `size` elements holds n arrays of 8 * size bytes (each op's result) plus the numbers'
    constants; after retain_graph=False the graph, still referenced by `loss`, holds none of
    them (the leaf's data and gradient stay: 2 arrays)."""
    n, size = 10, 100_000
    one = 8 * size
    tracemalloc.start()
    try:
        x = Tensor(np.ones(size))
        y = x
        for _ in range(n):
            y = y * np.full(size, 1.5)  # an array constant of `size` elements per op
        loss = y.sum()
        del y
        before = tracemalloc.get_traced_memory()[0]
        loss.backward(retain_graph=False)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert before - after > (2 * n - 2) * one  # the results and the constants, less the grad
    np.testing.assert_allclose(x.grad, np.full(size, 1.5**n), rtol=1e-12)


def test_the_training_loop_with_a_released_graph_trains_as_by_hand() -> None:
    """Reference: a two-layer network trained by SGD written out in numpy: z = x @ W1.T,
    h = tanh(z), out = h @ W2.T, loss = mean((out - y)**2); dout = 2 (out - y) / N,
    dW2 = dout.T @ h, dh = dout @ W2, dz = dh (1 - h**2), dW1 = dz.T @ x."""
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    w1, w2 = rng.normal(size=(4, 3)), rng.normal(size=(2, 4))
    model = nn.Sequential(nn.Linear(3, 4, bias=False), nn.Tanh(), nn.Linear(4, 2, bias=False))
    model[0].weight.data, model[2].weight.data = w1, w2
    opt = nn.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward(retain_graph=False)
        opt.step()
        h = np.tanh(x @ w1.T)
        dout = 2 * (h @ w2.T - y) / y.size
        dz = (dout @ w2) * (1 - h**2)
        w1, w2 = w1 - 0.1 * dz.T @ x, w2 - 0.1 * dout.T @ h
    np.testing.assert_allclose(model[0].weight.data, w1, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model[2].weight.data, w2, rtol=1e-12, atol=1e-12)


def test_a_released_graph_lets_go_of_what_only_it_held() -> None:
    """Reference: byte counts. A batch gathered from a data set that needs no gradient
    (rows of a requires_grad=False tensor: 8 * rows * cols bytes) is held only by the graph;
    after retain_graph=False the graph no longer holds it (as PyTorch drops saved tensors),
    while a tensor the caller holds keeps its data (closed form: the gathered rows)."""
    rows, cols = 2000, 100
    data = np.arange(4000 * cols, dtype=np.float64).reshape(4000, cols)
    dataset = Tensor(data, requires_grad=False)
    w = Tensor(np.ones(cols))
    idx = np.arange(0, 4000, 2)
    kept = dataset[idx[:1]]  # the caller holds this one
    tracemalloc.start()
    try:
        loss = (dataset[idx] * w).sum() + (kept * w).sum()
        before = tracemalloc.get_traced_memory()[0]
        loss.backward(retain_graph=False)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # the gathered rows and their product with w (a few small objects are made meanwhile)
    assert before - after > 1.9 * 8 * rows * cols
    np.testing.assert_array_equal(kept.data, data[:1])
    np.testing.assert_array_equal(w.grad, data[idx].sum(axis=0) + data[0])


def test_zero_grad_through_a_released_graph_is_refused_before_any_change() -> None:
    """Reference: the rule that an error changes nothing -- a released graph no longer
    reaches its leaves, so loss.zero_grad() cannot reset them: it raises, and w.grad is
    still d sum(w * w)/dw = 2w."""
    w = Tensor([1.0, -2.0], label="w")
    loss = (w * w).sum()
    loss.backward(retain_graph=False)
    with pytest.raises(ReleasedGraphError, match="retain_graph=False"):
        loss.zero_grad()
    assert w.grad.tolist() == [2.0, -4.0]
