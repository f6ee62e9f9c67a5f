"""compile_grad's args: a batch, labels and index arrays taken anew at each call.

Reference: the issue's definition, the graph built again on the new values and its
backward() (`.grad` of each parameter), compared bit for bit; for one case, the gradient of
a linear softmax classifier written by hand in numpy, (softmax(XWᵀ + b) - onehot(y))ᵀ X / n.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from autograd_lite import CodegenError, Tensor, Value, backward_code, compile_grad, where
from autograd_lite.nn import cross_entropy
from tests.codegen_helpers import same

Array = np.ndarray[Any, Any]
DTYPES = [np.float32, np.float64]


def _params(rng: np.random.Generator, dtype: Any) -> list[Array]:
    return [
        rng.normal(size=(6, 4)).astype(dtype),
        rng.normal(size=6).astype(dtype),
        rng.normal(size=(3, 6)).astype(dtype),
        rng.normal(size=3).astype(dtype),
    ]


def _mlp_loss(params: list[Tensor], x: Tensor, y: Array) -> Tensor:
    w1, b1, w2, b2 = params
    loss: Tensor = cross_entropy((x @ w1.T + b1).relu() @ w2.T + b2, y)
    return loss


def _rebuilt(
    loss_of: Callable[[list[Tensor], Tensor, Any], Tensor],
    values: list[Array],
    x: Array,
    y: Any,
    dtype: Any,
) -> tuple[Array, list[Array]]:
    """The issue's reference: the graph built on these values, and backward()'s .grad."""
    params = [Tensor(v, dtype=dtype) for v in values]
    loss = loss_of(params, Tensor(x, requires_grad=False, dtype=dtype), y)
    loss.backward()
    return loss.data, [p.grad for p in params]


def _mlp_step(rng: np.random.Generator, values: list[Array], n: int, dtype: Any) -> Any:
    """The MLP's step compiled from a graph of a batch of n, its batch and labels as args."""
    params = [Tensor(v, dtype=dtype) for v in values]
    batch = Tensor(rng.normal(size=(n, 4)), requires_grad=False, dtype=dtype, label="X")
    labels = np.arange(n) % 3
    return compile_grad(_mlp_loss(params, batch, labels), params, args=[batch, labels])


@pytest.mark.parametrize("dtype", DTYPES)
def test_an_mlp_step_on_new_batches_is_the_rebuilt_graphs_backward(dtype: Any) -> None:
    rng = np.random.default_rng(0)
    values = _params(rng, dtype)
    f = _mlp_step(rng, values, 5, dtype)
    for _ in range(3):  # new batches, new labels, new parameter values
        values = [v + np.asarray(rng.normal(size=v.shape) * 0.1, dtype) for v in values]
        x = rng.normal(size=(5, 4)).astype(dtype)
        y = rng.integers(0, 3, size=5)
        value, grads = f(*values, x, y)
        ref_value, ref_grads = _rebuilt(_mlp_loss, values, x, y, dtype)
        assert same(value, ref_value) and same(list(grads), ref_grads)
        assert grads[0].dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_batch_of_another_size_needs_a_step_compiled_for_it(dtype: Any) -> None:
    rng = np.random.default_rng(1)
    values = _params(rng, dtype)
    f = _mlp_step(rng, values, 5, dtype)
    x3, y3 = rng.normal(size=(3, 4)).astype(dtype), np.array([2, 0, 1])
    # the code holds the recorded shapes (the mean's 1/5 among them): refused, both shapes named
    with pytest.raises(ValueError, match=r"args\[0\] \('X'\) has shape \(3, 4\); .*\(5, 4\)"):
        f(*values, x3, np.array([2, 0, 1, 1, 1]))
    with pytest.raises(ValueError, match=r"args\[1\] has shape \(3,\); .*\(5,\)"):
        f(*values, rng.normal(size=(5, 4)), y3)
    # a step compiled from a graph of that size divides by 3
    g = _mlp_step(rng, values, 3, dtype)
    value, grads = g(*values, x3, y3)
    ref_value, ref_grads = _rebuilt(_mlp_loss, values, x3, y3, dtype)
    assert same(value, ref_value) and same(list(grads), ref_grads)


def _indexed_loss(params: list[Tensor], x: Tensor, index: tuple[Array, Array]) -> Tensor:
    """-mean log softmax at (rows, labels), written with integer-array indexing."""
    w, b = params
    rows, labels = index
    loss: Tensor = -(x @ w.T + b).log_softmax(axis=1)[rows, labels].mean()
    return loss


@pytest.mark.parametrize("dtype", DTYPES)
def test_integer_index_arrays_as_args(dtype: Any) -> None:
    rng = np.random.default_rng(2)
    values = [rng.normal(size=(3, 4)).astype(dtype), rng.normal(size=3).astype(dtype)]
    rows, labels = np.array([0, 1, 2, 3]), np.array([2, 2, 0, 1])
    params = [Tensor(v, dtype=dtype) for v in values]
    batch = Tensor(rng.normal(size=(4, 4)), requires_grad=False, dtype=dtype)
    loss = _indexed_loss(params, batch, (rows, labels))
    f = compile_grad(loss, params, args=[batch, rows, labels])  # rows go with the batch too
    for _ in range(2):
        x, new = rng.normal(size=(4, 4)).astype(dtype), rng.integers(0, 3, size=4)
        value, grads = f(*values, x, rows, new)
        ref_value, ref_grads = _rebuilt(_indexed_loss, values, x, (rows, new), dtype)
        assert same(value, ref_value) and same(list(grads), ref_grads)
    # the index gathers with repeats and negative indices as numpy does: scatter adds them up
    x, new = rng.normal(size=(4, 4)).astype(dtype), np.array([-1, -1, 0, 2])
    value, grads = f(*values, x, rows, new)
    ref_value, ref_grads = _rebuilt(_indexed_loss, values, x, (rows, new), dtype)
    assert same(value, ref_value) and same(list(grads), ref_grads)
    with pytest.raises(IndexError):  # out of bounds: numpy's IndexError, as the engine's
        f(*values, x, rows, np.array([0, 3, 0, 0]))


def test_a_node_computed_from_an_arg_array_alone_is_not_folded() -> None:
    # table[idx] depends on no input, only on the arg idx: it is computed at each call
    # (table is a parameter not differentiated here: a frozen embedding)
    table = Tensor(np.arange(12.0).reshape(4, 3))
    w = Tensor([0.5, -1.0, 2.0])
    idx = np.array([3, 0])

    def loss_of(params: list[Tensor], _: Tensor, index: Array) -> Tensor:
        loss: Tensor = (table[index] * params[0]).sum()
        return loss

    f = compile_grad(loss_of([w], table, idx), [w], args=[idx])
    value, (dw,) = f(w.data, np.array([1, 1]))
    # Reference by hand: rows 1 and 1 of table are [3, 4, 5]; d/dw sum = their sum
    assert dw.tolist() == [6.0, 8.0, 10.0]
    assert value.item() == 2 * (3 * 0.5 - 4.0 + 10.0)


def test_a_linear_softmax_classifier_against_its_hand_written_gradient() -> None:
    rng = np.random.default_rng(3)
    w, b = Tensor(rng.normal(size=(3, 5))), Tensor(np.zeros(3))
    x = Tensor(rng.normal(size=(8, 5)), requires_grad=False)
    y = rng.integers(0, 3, size=8)
    f = compile_grad(cross_entropy(x @ w.T + b, y), [w, b], args=[x, y])
    x2, y2 = rng.normal(size=(8, 5)), rng.integers(0, 3, size=8)
    value, (dw, db) = f(w.data, b.data, x2, y2)
    # Reference: numpy by hand, p = softmax(x Wᵀ + b); dL/dz = (p - onehot) / n
    z = x2 @ w.data.T + b.data
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(8), y2]))
    dz = p.copy()
    dz[np.arange(8), y2] -= 1.0
    dz /= 8
    np.testing.assert_allclose(value, loss, rtol=1e-13)
    np.testing.assert_allclose(dw, dz.T @ x2, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(db, dz.sum(axis=0), rtol=1e-12, atol=1e-15)


def test_a_value_leaf_as_an_arg() -> None:
    x, c = Value(0.5), Value(3.0)
    f = compile_grad((x * c).tanh() + c * c, [x], args=[c])
    value, (dx,) = f(0.25, -2.0)
    # Reference: d/dx [tanh(xc) + c²] = c (1 - tanh(xc)²), at x = 0.25, c = -2
    t = np.tanh(-0.5)
    assert value == pytest.approx(t + 4.0, rel=1e-15)
    assert dx == pytest.approx(-2.0 * (1 - t * t), rel=1e-15)
    with pytest.raises(TypeError, match=r"args\[0\]"):
        f(0.25, "2")


def _small() -> tuple[Tensor, list[Tensor], Tensor, Array]:
    w, b = Tensor(np.ones((3, 2))), Tensor(np.zeros(3))
    x = Tensor(np.ones((4, 2)), requires_grad=False, label="X")
    y = np.array([0, 1, 2, 0])
    return cross_entropy(x @ w.T + b, y), [w, b], x, y


def test_bad_args_are_refused_when_compiling() -> None:
    loss, params, x, y = _small()
    elsewhere = Tensor(np.ones((4, 2)), requires_grad=False)
    with pytest.raises(ValueError, match=r"args\[0\] is not in the output's graph"):
        compile_grad(loss, params, args=[elsewhere])
    with pytest.raises(ValueError, match=r"args\[0\] is inputs\[1\]; an input is differentiated"):
        compile_grad(loss, params, args=[params[1]])
    with pytest.raises(ValueError, match=r"args\[1\] is args\[0\]; list each arg once"):
        compile_grad(loss, params, args=[x, x])
    with pytest.raises(ValueError, match=r"args\[1\] is args\[0\]"):
        compile_grad(loss, params, args=[y, y.copy()])
    with pytest.raises(ValueError, match=r"args\[0\] is computed by op"):
        compile_grad(loss, params, args=[loss])
    with pytest.raises(ValueError, match=r"args\[0\] .* is no array the graph uses"):
        compile_grad(loss, params, args=[np.array([0, 1, 2, 1])])
    with pytest.raises(ValueError, match=r"args\[0\] .* is no array the graph uses"):
        compile_grad(loss, params, args=[np.array([True, False])])
    with pytest.raises(ValueError, match=r"op 'cross_entropy' .* holds an array 'labels' of shape"):
        compile_grad(loss, params, args=[x])  # the batch without its labels
    with pytest.raises(TypeError, match=r"args must be a sequence, got a single Tensor"):
        compile_grad(loss, params, args=x)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"args\[0\] must be a leaf"):
        compile_grad(loss, params, args=["X"])  # type: ignore[list-item]


def test_equal_arrays_are_told_apart_by_the_graphs_own() -> None:
    w = Tensor(np.ones((4, 3)))
    rows = np.array([0, 1, 2])
    out = w[rows, rows].sum()  # two index arrays of equal values: which is meant is unclear
    with pytest.raises(ValueError, match=r"equals 2 arrays the graph uses"):
        compile_grad(out, [w], args=[rows])
    assert out.op is not None
    first = out.operands[0].op.params["index"][0]  # type: ignore[union-attr]
    f = compile_grad(out, [w], args=[first])
    _, (dw,) = f(w.data, np.array([3, 3, 0]))
    # Reference by hand: w[[3, 3, 0], [0, 1, 2]] picks (3, 0), (3, 1), (0, 2)
    assert np.argwhere(dw).tolist() == [[0, 2], [3, 0], [3, 1]]


def test_bad_values_at_a_call_are_clear_errors() -> None:
    loss, params, x, y = _small()
    f = compile_grad(loss, params, args=[x, y])
    w, b = params[0].data, params[1].data
    with pytest.raises(TypeError, match=r"args\[1\] must be integers .* got dtype float64"):
        f(w, b, x.data, np.array([0.0, 1.0, 2.0, 0.0]))
    # the engine's own check of the labels' range (cross_entropy's message)
    with pytest.raises(ValueError, match=r"cross_entropy: labels must be in \[0, 3\) .* = 3"):
        f(w, b, x.data, np.array([0, 1, 3, 0]))
    with pytest.raises(ValueError, match=r"labels\[0\] = -1"):
        f(w, b, x.data, np.array([-1, 1, 2, 0]))
    with pytest.raises(TypeError, match=r"args\[0\] \('X'\)"):
        f(w, b, [["a", "b"]] * 4, y)
    with pytest.raises(
        TypeError, match=r"args\[1\] must be a numpy array of integers, got a Tensor"
    ):
        f(w, b, x.data, Tensor(y))


def test_backward_code_shows_the_args_as_parameters() -> None:
    loss, params, x, y = _small()
    params[0].label, params[1].label = "W", "b"
    source = backward_code(loss, params, args=[x, y])
    assert "def forward_backward(W, b, X, x1):" in source
    assert (
        "_cross_entropy_loss(t3, logsumexp_array(t3, 1, True), labels=x1, reduction='mean', "
        "ignore_index=-100, label_smoothing=0.0, known=_checked_kept(t3, x1, -100))"
    ) in source


def test_a_dtype_among_a_helpers_constants_is_written_as_that_dtype() -> None:
    # backward_code's module copies cross_entropy's helpers and their constants; _UNSIGNED's
    # keys are dtypes, looked up by labels.dtype (main: written np.int8, the scalar type,
    # which == the dtype but hashes apart, so every lookup missed and the labels took the
    # slow path at every call). Reference: numpy's built-in dtypes are single objects; the
    # engine's own _UNSIGNED and _in_range (labels in [0, 3): True).
    from autograd_lite.nn.cross_entropy_op import _UNSIGNED

    loss, params, x, y = _small()
    module: dict[str, Any] = {}
    exec(backward_code(loss, params, args=[x, y]), module)
    assert module["_UNSIGNED"] == _UNSIGNED
    assert all(k is np.dtype(k.name) for k in module["_UNSIGNED"])
    assert module["_in_range"](np.array([0, 2, 1]), 3) is True
    source = backward_code(loss, params, args=[x, y])
    assert "np.array(d_x1, dtype=np.float64)" in source  # a dtype= argument: numpy's name


def test_a_tensor_computed_from_the_batch_alone_must_be_an_arg_too() -> None:
    # The engine records no op for X * X (X takes no gradient): a leaf holding the recorded
    # batch's squares. Given only X, the code would keep them: refused, never a wrong number.
    rng = np.random.default_rng(6)
    w = Tensor(rng.normal(size=(4, 2)))
    x = Tensor(rng.normal(size=(3, 4)), requires_grad=False, label="X")
    squares = x * x
    out = (squares @ w).sum() + (x @ w).sum()
    with pytest.raises(ValueError, match=r"a Tensor of shape \(3, 4\) that takes no gradient"):
        compile_grad(out, [w], args=[x])
    f = compile_grad(out, [w], args=[x, squares])  # computed from each batch, given too
    x2 = rng.normal(size=(3, 4))
    value, (dw,) = f(w.data, x2, x2 * x2)
    # Reference: the rebuilt graph's backward()
    w2, xt = Tensor(w.data), Tensor(x2, requires_grad=False)
    again = ((xt * xt) @ w2).sum() + (xt @ w2).sum()
    again.backward()
    assert same(value, again.data) and same(dw, w2.grad)
    # a fixed array mixed in as numpy data is a constant, kept as recorded: accepted
    fixed = compile_grad((x @ w + np.ones(2)).sum(), [w], args=[x])
    assert same(fixed(w.data, x2)[0], (Tensor(x2) @ w + np.ones(2)).sum().data)


def test_boolean_masks_as_args() -> None:
    rng = np.random.default_rng(7)
    w = Tensor(rng.normal(size=4))
    mask = np.array([True, False, True, True])
    new = np.array([False, False, True, False])
    # where's rule computes ~condition in numpy: that array would be held as recorded, so
    # the condition cannot be an arg (refused, not a stale mask)
    out = (where(mask, w * 2.0, w.exp()) * w).sum()
    with pytest.raises(CodegenError, match=r"op 'where' holds an array given as an arg"):
        compile_grad(out, [w], args=[mask])
    # a mask as an index sets the shapes (the mean's 1/3): the same count, or an error
    g = compile_grad(w[mask].mean(), [w], args=[mask])
    _, (dw,) = g(w.data, np.array([True, True, False, True]))
    assert same(dw, np.array([1 / 3, 1 / 3, 0.0, 1 / 3]))  # Reference: d mean / d w_i by hand
    with pytest.raises(ValueError, match=r"a mask picking 2 elements; .* one picking 3"):
        g(w.data, new | mask[::-1] & False | np.array([True, False, False, False]))
    with pytest.raises(TypeError, match=r"must be booleans .* got dtype int64"):
        g(w.data, np.array([1, 0, 1, 1]))


def test_an_arg_array_the_code_does_not_read_is_refused() -> None:
    # An op holding the array but writing it as a literal of its own in its emit form: a new
    # value would not reach the result, so compiling says so.
    from autograd_lite import Op

    index = np.array([1, 0])

    def rule(g: Any, out: Any, x: Any, idx: Any) -> tuple[Any]:
        return (g * 0.0,)

    pick = Op("pick", lambda x, idx: x[idx], rule, params={"idx": index}, emit="{0}[::-1]")
    w, c = Tensor([2.0, 3.0]), Tensor([1.0, 1.0])
    with pytest.raises(CodegenError, match=r"args\[0\] is not read by the code"):
        compile_grad((pick(c) * w).sum(), [w], args=[index])


def test_gradients_are_arrays_of_their_own_copied_or_not() -> None:
    # A gradient made by an operator (X.T @ g) is returned as numpy made it, one that may be
    # an operand or shared (a + b gives both the same upstream) is copied: each result owns
    # its memory, none is another result, an argument or the function's own constant.
    rng = np.random.default_rng(8)
    a, b = Tensor(rng.normal(size=(3, 2))), Tensor(rng.normal(size=(3, 2)))
    x = Tensor(rng.normal(size=(4, 3)), requires_grad=False)
    f = compile_grad((x @ a + x @ b).sum() + (a + b).sum() + a.sum(), [a, b], args=[x])
    xs = rng.normal(size=(4, 3))
    args = (a.data, b.data, xs)
    _, grads = f(*args)
    for g in grads:
        assert g.flags.owndata and g.flags.writeable
        assert not any(np.shares_memory(g, other) for other in [*args, *grads] if other is not g)
    # Reference: d/da = xᵀ 1 + 1 + 1 and d/db = xᵀ 1 + 1, by hand
    ones = np.ones((4, 2))
    np.testing.assert_allclose(grads[0], xs.T @ ones + 2.0, rtol=1e-15)
    np.testing.assert_allclose(grads[1], xs.T @ ones + 1.0, rtol=1e-15)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ignore_index_and_label_smoothing_compile_with_new_labels(
    dtype: Any, reduction: str
) -> None:
    # Reference: the rebuilt graph's backward() on the new labels (some ignored), bit for bit.
    rng = np.random.default_rng(7)
    values = _params(rng, dtype)

    def loss_of(params: list[Tensor], x: Tensor, y: Array) -> Tensor:
        w1, b1, w2, b2 = params
        z = (x @ w1.T + b1).relu() @ w2.T + b2
        how: Any = reduction
        loss = cross_entropy(z, y, how, ignore_index=-1, label_smoothing=0.2)
        return loss if reduction != "none" else loss.sum()

    params = [Tensor(v, dtype=dtype) for v in values]
    batch = Tensor(rng.normal(size=(5, 4)), requires_grad=False, dtype=dtype)
    labels = np.array([0, -1, 2, 1, 0])
    f = compile_grad(loss_of(params, batch, labels), params, args=[batch, labels])
    for new_labels in (np.array([2, 2, -1, -1, 1]), np.array([1, 0, 2, 1, 0])):
        x = rng.normal(size=(5, 4)).astype(dtype)
        value, grads = f(*values, x, new_labels)
        want_value, want_grads = _rebuilt(loss_of, values, x, new_labels, dtype)
        assert same(value, want_value)
        assert all(same(g, w) for g, w in zip(grads, want_grads))
