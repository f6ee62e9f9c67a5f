"""In-place operators on nodes: `p -= lr * p.grad` updates a leaf under no_grad() (stamped,
as PyTorch does), is refused while gradients are recorded, and on an op's result makes a new
node (Python's fallback). Before, it rebound the name and the model never changed.

References: closed-form SGD steps worked out in each test; numpy's own in-place operators on
plain copies.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from autograd_lite import StaleDataError, Tensor, Value, nn, no_grad


def test_a_parameter_updated_in_place_under_no_grad_changes_the_model() -> None:
    """Reference: one SGD step by hand. loss = (w.x)^2 with w = [1, -1], x = [1, 2]:
    w.x = -1, d loss/dw = 2 (w.x) x = [-2, -4], so w - 0.1 grad = [1.2, -0.6]."""
    lin = nn.Linear(2, 1, bias=False)
    lin.weight.data = np.array([[1.0, -1.0]])
    loss = (lin(np.array([[1.0, 2.0]])) ** 2).sum()
    loss.backward()
    with no_grad():
        for p in lin.parameters():
            p -= 0.1 * p.grad
    np.testing.assert_allclose(lin.weight.data, [[1.2, -0.6]], rtol=1e-15)
    assert [name for name, _ in lin.named_parameters()] == ["weight"]
    assert lin.weight.requires_grad
    with pytest.raises(StaleDataError, match="'weight'"):
        loss.backward()  # the graph used the old weights


@pytest.mark.parametrize("symbol", ["+=", "-=", "*=", "/=", "**="])
def test_in_place_on_a_leaf_that_takes_a_gradient_is_refused_while_recording(symbol: str) -> None:
    """Reference: PyTorch's rule -- refused before anything changes, with the fix named."""
    w = Tensor([1.0, 2.0], label="w")
    v = Value(3.0, label="v")
    for node, before in ((w, [1.0, 2.0]), (v, 3.0)):
        with pytest.raises(RuntimeError, match=rf"'{node.label}'.*p\.data {re.escape(symbol)}"):
            exec(f"node {symbol} 2.0", {"node": node})
        assert (node.data.tolist() if isinstance(node, Tensor) else node.data) == before


def test_values_update_in_place_under_no_grad() -> None:
    """Reference: 2 - 0.1 * 4 = 1.6 (d(v*v)/dv = 2v = 4)."""
    v = Value(2.0)
    kept = v  # the model's reference: it must see the update
    (v * v).backward()
    with no_grad():
        v -= 0.1 * v.grad
    assert v is kept and kept.data == pytest.approx(1.6, rel=1e-15)


def test_a_leaf_that_takes_no_gradient_updates_in_place_with_numpys_semantics() -> None:
    """Reference: numpy's in-place operator on a plain float32 copy (the dtype kept)."""
    x = Tensor([1.0, 2.0], requires_grad=False, dtype=np.float32)
    kept = x
    x += np.array([0.1, 0.2])
    expected = np.array([1.0, 2.0], dtype=np.float32)
    expected += np.array([0.1, 0.2])
    assert kept is x and x.data.dtype == np.float32
    np.testing.assert_array_equal(x.data, expected)


def test_on_an_op_result_it_makes_a_new_node() -> None:
    """Reference: h + 1 by hand; the old node keeps its numbers, the new one's gradient."""
    a = Tensor([1.0, 2.0])
    h = a * 2.0
    old = h
    h += 1.0
    assert old.data.tolist() == [2.0, 4.0] and h.data.tolist() == [3.0, 5.0]
    h.sum().backward()
    assert a.grad.tolist() == [2.0, 2.0]


def test_matmul_in_place_updates_the_parameter_the_module_holds() -> None:
    """`@=` is an in-place operator like `-=`: under no_grad() `layer.weight @= r` changes
    the weight the module (and an optimizer) holds; while recording it is refused. Before,
    Python's fallback rebound the attribute to a new tensor: the parameter never changed
    (and, while recording, the module silently lost its weight from parameters()).
    Reference: numpy's `@=` on a plain copy, [[1, 2], [3, 4]] @ [[0, 1], [1, 0]] swaps the
    columns: [[2, 1], [4, 3]]."""
    lin = nn.Linear(2, 2, bias=False)
    lin.weight.data = np.array([[1.0, 2.0], [3.0, 4.0]])
    kept = lin.weight
    swap = np.array([[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(RuntimeError, match=r"'weight'.*p\.data @= step"):
        lin.weight @= swap
    assert lin.weight is kept and kept.data.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with no_grad():
        lin.weight @= swap
    assert lin.weight is kept and lin.parameters() == [kept]
    assert kept.data.tolist() == [[2.0, 1.0], [4.0, 3.0]]
    with no_grad(), pytest.raises(ValueError, match=r"t @= x.*'weight'"):
        lin.weight @= np.ones((2, 3))  # numpy refuses a result of another shape
    assert lin.weight is kept and kept.data.tolist() == [[2.0, 1.0], [4.0, 3.0]]
    h = kept * 1.0
    old = h
    h @= swap  # an op's result: a new node, as for `+=`
    assert old.data.tolist() == [[2.0, 1.0], [4.0, 3.0]] and h.data.tolist() == [
        [1.0, 2.0],
        [3.0, 4.0],
    ]
