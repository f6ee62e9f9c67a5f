"""Data changed between forward and backward (issue 19, item 2): every walk that uses the
recorded values raises StaleDataError naming the node and the op that used it; the
documented updates, zero_grad, fresh forward passes and second backward passes keep working.

References: closed-form gradients worked out in each test (d(x²)/dx = 2x, the least-squares
gradient sum 2 (w x_i - t_i) x_i, ...); the error cases are the ones PyTorch refuses with
"modified by an inplace operation".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograd_lite import (
    Dual,
    Op,
    StaleDataError,
    Tensor,
    Value,
    backward_code,
    backward_steps,
    compile_grad,
    explore,
    format_backward_steps,
    grad,
    hvp,
    jacobian,
    local_derivatives,
    render_graph,
    transforms,
    vjp,
    zero_grad,
)
from autograd_lite.engine import backward as engine_backward
from autograd_lite.engine.backward import check_unchanged
from autograd_lite.engine.replay import replay
from autograd_lite.nn import SGD, Adam, Linear

NAMED = r"'x'.*changed after the graph used it.*'\*'"


def _square() -> tuple[Value, Value]:
    x = Value(2.0, label="x")
    return x, x * x  # a reused operand: x is both operands of '*'


def test_issue_example_raises_naming_the_node_and_op() -> None:
    """The issue's example: x.grad was 6 (2 * 3) while y.data is 4 (2 * 2)."""
    x, y = _square()
    x.data = 3.0
    with pytest.raises(StaleDataError, match=NAMED):
        y.backward()
    assert x.grad == 0.0 and y.grad == 0.0  # nothing written


# Each entry point that walks a recorded graph, as a function of (output, leaf).
ENTRY_POINTS: dict[str, Callable[[Any, Any], object]] = {
    "backward": lambda y, x: y.backward(),
    "grad": lambda y, x: grad(y, [x]),
    "grad create_graph": lambda y, x: grad(y, [x], create_graph=True),
    "engine hessian": lambda y, x: engine_backward.hessian(y, [x]),
    "hessian rev": lambda y, x: transforms.hessian(y, [x]),
    "hessian fwd-over-rev": lambda y, x: transforms.hessian(y, [x], mode="fwd-over-rev"),
    "replay": lambda y, x: replay(y, {x: 1.0}),
    "backward_steps": lambda y, x: backward_steps(y),
    "format_backward_steps": lambda y, x: format_backward_steps(y),
    "backward_code": lambda y, x: backward_code(y, [x]),
    "compile_grad": lambda y, x: compile_grad(y, [x]),
    "check_unchanged": lambda y, x: check_unchanged(y),
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_every_entry_point_refuses_a_changed_value(entry: str) -> None:
    x, y = _square()
    x.data = 3.0
    with pytest.raises(StaleDataError, match=NAMED):
        ENTRY_POINTS[entry](y, x)


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("how", ["setter", "augmented"])
def test_every_entry_point_refuses_a_changed_tensor(entry: str, how: str) -> None:
    w = Tensor([1.0, 2.0], label="W")
    y = (w * w).sum()
    if how == "setter":
        w.data = w.data - 1.0  # a new array, through the setter
    else:
        w.data -= 1.0  # in place first, then the setter with the same array
    with pytest.raises(StaleDataError, match=r"'W'.*changed after the graph used it.*'\*'"):
        ENTRY_POINTS[entry](y, w)


@pytest.mark.needs_dot
@pytest.mark.parametrize("kind", ["value", "tensor"])
def test_the_stepping_page_refuses_a_changed_graph(kind: str, tmp_path: Path) -> None:
    x: Any = Value(2.0, label="x") if kind == "value" else Tensor([2.0], label="x")
    y = (x * x).sum() if kind == "tensor" else x * x
    x.data = 3.0 if kind == "value" else np.array([3.0])
    page = tmp_path / "p.html"
    with pytest.raises(StaleDataError, match=NAMED):
        render_graph(y, page)
    assert not page.exists()
    with pytest.raises(StaleDataError, match=NAMED):
        explore(y)


def test_local_derivatives_refuse_a_changed_operand() -> None:
    """The factors are taken at the operands' data: 2x = 4 at the recorded x = 2."""
    x, y = _square()
    assert local_derivatives(y) == (2.0, 2.0)
    x.data = 3.0
    with pytest.raises(StaleDataError, match=NAMED):
        local_derivatives(y)


def test_transforms_pullback_and_jacobian_refuse_a_changed_captured_leaf() -> None:
    """vjp's pullback walks the graph f recorded, after f returned: a leaf f captured and
    that changed since is refused. jacobian (rev) does the same inside one call when f
    changes what it used."""
    w = Tensor([1.0, 2.0], label="W")
    _, pullback = vjp(lambda x: (x * w).sum(), [np.array([3.0, 4.0])])
    assert [g.tolist() for g in pullback(1.0)] == [[1.0, 2.0]]  # d/dx sum(x w) = w
    w.data -= 1.0
    with pytest.raises(StaleDataError, match="'W'"):
        pullback(1.0)

    def changes_w(x: Any) -> Any:
        y = x * w
        w.data = w.data + 1.0  # changed after y used it
        return (y * w).sum()

    with pytest.raises(StaleDataError, match="'W'"):
        jacobian(changes_w, [np.array([3.0, 4.0])])


def test_forward_mode_is_one_pass_and_cannot_go_stale() -> None:
    """jvp, jacobian(mode="fwd") and hvp compute with the values at hand in one pass; hvp's
    backward pass through Duals is checked too. A Dual's data cannot be assigned, nor
    changed in place through `.data -=` or a write into it: refused before anything changes,
    so the graph stays valid. Reference: d/dx (x² y) = 2xy = 12, d²/dx² = 2y = 4 at (3, 2);
    d/dd sum(d*d) = 2d = 6 at d = 3."""
    assert hvp(lambda x, y: x * x * y, [3.0, 2.0], [1.0, 0.0]) == [4.0, 6.0]
    d = Dual(np.array([3.0]), tangent=np.array([1.0]), label="d")
    out = (d * d).sum()
    with pytest.raises(TypeError, match=r"Dual.data"):
        d.data = np.array([1.0])
    with pytest.raises(ValueError, match=r"primal of Dual 'd' is read-only"):
        d.data -= 1.0
    with pytest.raises(ValueError, match=r"primal of Dual 'd' is read-only"):
        d.data[0] = 1.0
    assert d.data.tolist() == [3.0]
    assert grad(out, [d])[0].tolist() == [6.0]


def test_optimizer_step_between_forward_and_backward_is_refused() -> None:
    for make in (lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda ps: Adam(ps, lr=0.1)):
        w, t = Value(1.0, label="w"), Tensor([1.0, -1.0], label="t")
        loss = w * w
        tensor_loss = (t * t).sum()
        w.grad, t.grad = 1.0, np.ones(2)
        make([w, t]).step()
        with pytest.raises(StaleDataError, match="'w'"):
            loss.backward()
        with pytest.raises(StaleDataError, match="'t'"):
            tensor_loss.backward()


def test_nn_layer_then_step_is_refused() -> None:
    layer = Linear(2, 1)
    x = Tensor([[1.0, 2.0]], requires_grad=False)
    loss = layer(x).sum()
    loss.backward()
    opt = SGD(layer.parameters(), lr=0.1)
    opt.step()
    with pytest.raises(StaleDataError, match="changed after the graph used it"):
        loss.backward()  # a second backward on the old graph after an update
    layer(x).sum().backward()  # a fresh forward pass is fine


def test_a_node_used_by_a_newer_op_is_still_stale() -> None:
    """The op that used x before the change is found even when the output is newer than
    the change (compare every use, not the output's age)."""
    x, y = _square()
    x.data = 3.0
    z = y + x  # made after the change; y is not
    with pytest.raises(StaleDataError, match=NAMED):
        z.backward()


def test_diamond() -> None:
    """y = (2x)(x + 1): dy/dx = 4x + 2 = 10 at x = 2."""
    x = Value(2.0, label="x")
    y = (x * 2.0) * (x + 1.0)
    y.backward()
    assert x.grad == 10.0
    x.data = 3.0
    with pytest.raises(StaleDataError, match="'x'"):
        y.backward()
    assert x.grad == 10.0
    fresh = (x * 2.0) * (x + 1.0)
    fresh.backward()
    assert x.grad == 10.0 + 14.0  # accumulated: 4 * 3 + 2 at the new value


def test_deep_chain_is_checked_iteratively() -> None:
    """100k ops: no RecursionError, and the change at the bottom is found. Reference:
    y = x + n, dy/dx = 1."""
    x = Value(0.0, label="x")
    y = x
    for _ in range(100_000):
        y = y + 1.0
    y.backward()
    assert x.grad == 1.0
    x.data = 1.0
    with pytest.raises(StaleDataError, match="'x'"):
        y.backward()
    with pytest.raises(StaleDataError, match="'x'"):
        check_unchanged(y)


def test_second_backward_without_changes_accumulates() -> None:
    """d(x²)/dx = 2x = 4, twice."""
    x, y = _square()
    y.backward()
    y.backward()
    assert x.grad == 8.0
    assert grad(y, [x]) == [4.0]
    x.data = 2.0  # the same number, but assigned: the graph is refused all the same
    with pytest.raises(StaleDataError):
        y.backward()
    y.zero_grad()  # resetting gradients uses no recorded value: still fine
    assert (x.grad, y.grad) == (0.0, 0.0)


def test_documented_update_loop_trains_with_closed_form_gradients() -> None:
    """Least squares L(w) = sum (w x_i - t_i)², dL/dw = sum 2 (w x_i - t_i) x_i, with
    `w.data -= lr * w.grad` after backward and zero_grad: the gradient matches the closed
    form at every step, and w converges to sum x t / sum x² (= 2 here)."""
    xs, ts = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]
    w = Value(0.0, label="w")
    for _ in range(60):
        loss = sum(((w * x - t) ** 2 for x, t in zip(xs, ts)), Value(0.0))
        w.zero_grad()
        loss.backward()
        expected = sum(2 * (w.data * x - t) * x for x, t in zip(xs, ts))
        assert w.grad == pytest.approx(expected, rel=1e-12, abs=1e-12)
        w.data -= 0.02 * w.grad
    assert w.data == pytest.approx(2.0, abs=1e-9)


@pytest.mark.parametrize("optimizer", ["manual", "SGD", "Adam"])
def test_tensor_training_loop_keeps_working(optimizer: str) -> None:
    """The same least squares on a Tensor: dL/dw = 2 X^T (X w - t) at each step."""
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(8, 3))
    ts = xs @ np.array([1.0, -2.0, 0.5])
    w = Tensor(np.zeros(3), label="w")
    opt = SGD([w], lr=0.02) if optimizer == "SGD" else Adam([w], lr=0.05)
    X = Tensor(xs, requires_grad=False)
    for _ in range(500):
        loss = ((X @ w - ts) ** 2).sum()
        zero_grad(loss)
        loss.backward()
        np.testing.assert_allclose(w.grad, 2 * xs.T @ (xs @ w.data - ts), rtol=1e-12, atol=1e-12)
        if optimizer == "manual":
            w.data -= 0.02 * w.grad
        else:
            opt.step()
    np.testing.assert_allclose(w.data, [1.0, -2.0, 0.5], atol=1e-3)


def test_assigning_a_computed_node_is_refused() -> None:
    """sigmoid's rule uses its result: a changed result would give a wrong derivative."""
    x = Value(0.0, label="x")
    s = x.sigmoid()
    with pytest.raises(StaleDataError, match=r"Value.data: .*'sigmoid'"):
        s.data = 0.9
    assert s.data == 0.5
    s.backward()
    assert x.grad == 0.25  # s (1 - s) at s = 1/2
    with pytest.raises(StaleDataError, match=r"Tensor.data: .*'sigmoid'"):
        Tensor([0.0]).sigmoid().data = np.array([0.9])


def test_a_computed_tensor_cannot_be_changed_in_place() -> None:
    """An op node's array is read-only: every write, in-place operators included, is refused
    before any change. Reference: d/dt sum(sigmoid(t)) = s (1 - s) = 1/4 at t = 0."""
    t = Tensor([0.0, 0.0], label="t")
    s = t.sigmoid()
    writes: list[Callable[[], object]] = [
        lambda: s.data.__isub__(0.1),
        lambda: s.data.__setitem__(0, 5.0),
        lambda: np.copyto(s.data, 1.0),
        lambda: s.data.fill(0.0),
        lambda: t.T.data.fill(0.0),  # a view of t's array, as an op node's data
    ]
    for write in writes:
        with pytest.raises(ValueError, match=r"belongs to its graph .* read-only"):
            write()
    with pytest.raises(StaleDataError, match="cannot be assigned"):
        s.data = np.zeros(2)
    assert s.data.tolist() == [0.5, 0.5]
    s.sum().backward()
    assert t.grad.tolist() == [0.25, 0.25]


def test_a_computed_dual_cannot_be_changed_in_place() -> None:
    """A Dual op node's array is read-only too: `.data -=` and a write into it are refused,
    assigning it too, and the graph stays valid. Reference: d/dx
    sum(sigmoid(x)) = s (1 - s) with s = 1/(1 + e^-x): 1/4 at 0, e^-1/(1 + e^-1)^2 at 1."""
    x = Dual(np.array([0.0, 1.0]), label="x")
    s = x.sigmoid()
    with pytest.raises(ValueError, match=r"primal of a Dual .* is read-only"):
        s.data -= 0.1
    with pytest.raises(ValueError, match="read-only"):
        s.data[0] = 0.0
    with pytest.raises(TypeError, match=r"Dual\.data"):
        s.data = np.zeros(2)
    e = math.exp(-1.0)
    assert np.allclose(grad(s.sum(), [x])[0], [0.25, e / (1 + e) ** 2], rtol=1e-15)


def test_leaves_never_share_an_array_with_another_node() -> None:
    """detach() copies, and a view made under no_grad() (W.T) is a copy: changing W in
    place (which stamps W) cannot change another leaf's numbers behind its stamp.
    Reference: d/dx sum(x * c) = c, the numbers c held when the graph was built."""
    from autograd_lite import no_grad

    w = Tensor([[1.0, 2.0]], label="W")
    same = Op("same", lambda a: a, lambda g, out, a: (g,))  # forward returns its operand
    with no_grad():
        wt = w.T
        assert not np.shares_memory(same(w).data, w.data)
    frozen = w.detach()
    x = Tensor([[3.0], [4.0]], label="x")
    y = (x * wt).sum() + (x.T * frozen).sum()
    w.data -= 10.0
    y.backward()
    assert x.grad.tolist() == [[2.0], [4.0]]  # 1 + 1 and 2 + 2: the numbers before the change


def test_leaves_made_under_no_grad_and_detached_are_assignable() -> None:
    """Results made under no_grad() and detach() are leaves: assigning them is fine."""
    from autograd_lite import no_grad

    with no_grad():
        v = Value(2.0) * 3.0
    v.data = 1.0
    d = (Value(2.0) * 3.0).detach()
    d.data = 5.0
    assert (v.data, d.data) == (1.0, 5.0)


def test_optimizers_refuse_computed_parameters() -> None:
    w = Value(1.0)
    with pytest.raises(ValueError, match=r"params\[1\] was computed by '\*'"):
        SGD([w, w * 2.0], lr=0.1)


def test_module_to_dtype_makes_old_graphs_stale() -> None:
    layer = Linear(2, 1)
    loss = layer(Tensor([[1.0, 2.0]], requires_grad=False)).sum()
    layer.to(np.float32)
    with pytest.raises(StaleDataError, match="changed after the graph used it"):
        loss.backward()


def test_errors_name_unlabelled_nodes_by_type_and_shape() -> None:
    w = Tensor(np.ones((2, 3)))
    y = (w @ np.ones(3)).sum()
    w.data = np.zeros((2, 3))
    with pytest.raises(StaleDataError, match=r"a Tensor of shape \(2, 3\) .*'@'"):
        y.backward()


def test_copies_and_pickles_take_this_process_clock(tmp_path: Path) -> None:
    """A leaf pickled where the write clock ran far ahead is a fresh leaf where it is
    unpickled: ops made with it there are not taken for stale. Reference: d(x²)/dx = 2x."""
    import copy
    import subprocess
    import sys

    path = tmp_path / "x.pickle"
    write = (
        "import pickle, sys\nfrom autograd_lite import Value\nx = Value(0.0, label='x')\n"
        "for i in range(1000):\n    x.data = 3.0\n"
        "open(sys.argv[1], 'wb').write(pickle.dumps(x))\n"
    )
    read = (
        "import pickle, sys\nx = pickle.loads(open(sys.argv[1], 'rb').read())\n"
        "y = x * x\ny.backward()\nprint(x.grad)\n"
    )
    subprocess.run([sys.executable, "-c", write, str(path)], check=True, timeout=60)
    done = subprocess.run(
        [sys.executable, "-c", read, str(path)], check=True, timeout=60, capture_output=True
    )
    assert done.stdout.decode().strip() == "6.0"
    w = Tensor([1.0, 2.0], label="w")
    y = (w * w).sum()
    twin = copy.deepcopy(w)
    (twin * twin).sum().backward()  # the copy is a new leaf: fine
    assert twin.grad.tolist() == [2.0, 4.0]
    y.backward()  # copying w did not change w
    assert w.grad.tolist() == [2.0, 4.0]


def test_a_numpy_array_mixed_in_is_the_graphs_own_copy() -> None:
    # Reference: d/dx sum(x * a) = a, with a as it was when the graph was built, by hand.
    x = Tensor([1.0, 2.0], label="x")
    a = np.array([3.0, 5.0])
    loss = (x * a).sum()
    f = compile_grad(loss, [x])
    a[0] = 100.0  # the caller's array changes after the forward pass
    loss.backward()
    assert x.grad.tolist() == [3.0, 5.0] and loss.data == 13.0
    value, (g,) = f(np.array([1.0, 2.0]))
    assert value == 13.0 and g.tolist() == [3.0, 5.0]


@pytest.mark.parametrize(
    "write",
    [
        lambda d: d.__setitem__(0, 1.0),
        lambda d: np.copyto(d, [1.0]),
        lambda d: d.fill(1.0),
        lambda d: np.add(d, 1.0, out=d),
    ],
    ids=["setitem", "copyto", "fill", "out"],
)
def test_compile_grad_keeps_the_recorded_values_as_writes_are_refused(write: Any) -> None:
    # Reference: the issue's example; at the recorded W = 0, L = x*0 + x*e**0 = x, so
    # L(1) = 1 and dL/dx = 1. A write into W's array that would mix the two is refused.
    x, w = Tensor([1.0], label="x"), Tensor([0.0], label="W")
    loss = (x * w + x * w.exp()).sum()
    with pytest.raises(ValueError, match="Tensor 'W' is read-only"):
        write(w.data)
    value, (dx,) = compile_grad(loss, [x])(np.array([1.0]))
    assert value == 1.0 and dx.tolist() == [1.0]


def test_the_error_says_requires_grad_changed_when_it_did() -> None:
    """Reference: the history written out here: requires_grad_ was the only change, so the
    error names requires_grad, not the data (which is as it was)."""
    w = Tensor([1.0, 2.0])
    loss = (w * w).sum()
    w.requires_grad_(False)
    with pytest.raises(StaleDataError, match=r"^the requires_grad of .* changed after") as info:
        loss.backward()
    assert "data" not in str(info.value)
    w2 = Tensor([1.0, 2.0])
    loss2 = (w2 * w2).sum()
    w2.requires_grad_(False)
    w2.data = np.array([3.0, 4.0])  # the last change is to the data
    with pytest.raises(StaleDataError, match=r"^the data of .* changed after"):
        loss2.backward()
