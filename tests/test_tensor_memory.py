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

from autograd_lite import ReleasedGradientError, Tensor, draw_graph, nn

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
    (as tests/test_render_tensors.py reads it) is present after a default backward and
    absent, rather than wrong, after retain_grads=False."""
    data = network(2)
    loss, _, _, z = build(*data)
    loss.backward()
    np.testing.assert_allclose(z.grad, hand_gradients(*data)[2], rtol=1e-12, atol=1e-12)
    assert _grad_rows(draw_graph(loss).source, "z") == 1
    released, _, _, _ = build(*data)
    released.backward(retain_grads=False)
    source = draw_graph(released).source
    assert _grad_rows(source, "z") == 0
    assert _grad_rows(source, "W") == 1  # the leaves keep theirs
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
