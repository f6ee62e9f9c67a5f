"""Writes into a tensor's array between the forward pass and backward() (issue 19, item 2's
last variant): every write that the write stamps would not see is refused before anything
changes; in-place arithmetic through `t.data` and the optimizers change the array in place
with numpy's semantics and are seen.

References: closed-form gradients written in each test (d/dw sum(w * w) = 2w, d/dw sum(w *
x) = x), the optimizers' update rules worked out by hand, and numpy's in-place operators
applied to a plain copy of the numbers.
"""

from __future__ import annotations

import contextlib
import copy
import operator
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_lite import Dual, StaleDataError, Tensor, nn, no_grad
from autograd_lite.nn import SGD, Adam

FIX = r"t\.data = d"  # every refusal says to assign a new array


def _leaf() -> tuple[Tensor, Tensor]:
    """W and the loss sum(W * W) built from it."""
    w = Tensor([[1.0, -2.0], [3.0, 0.5]], label="W")
    return w, (w * w).sum()


WRITES: dict[str, tuple[Callable[[Any], object], str]] = {
    # name: (the write into `d`, W.data; what the error names)
    "setitem": (lambda d: d.__setitem__((0, 0), 5.0), r"t\.data\[\.\.\.\] = \.\.\."),
    "setitem slice": (lambda d: d.__setitem__(slice(None), 0.0), r"t\.data\[\.\.\.\] = "),
    "setitem of a view": (lambda d: d.T.__setitem__(0, 1.0), r"t\.data\[\.\.\.\] = "),
    "in-place on a part": (lambda d: d[0].__isub__(1.0), r"t\.data\[\.\.\.\] -= "),
    "in-place on a column": (lambda d: d[:, 1].__imul__(2.0), r"t\.data\[\.\.\.\] \*= "),
    "fill": (lambda d: d.fill(0.0), r"t\.data\.fill"),
    "fill of a row": (lambda d: d[1].fill(0.0), r"t\.data\.fill"),
    "sort": (lambda d: d.sort(), r"t\.data\.sort"),
    "partition": (lambda d: d.partition(0), r"t\.data\.partition"),
    "put method": (lambda d: d.put(0, 9.0), r"t\.data\.put"),
    "resize": (lambda d: d.resize((4,)), r"t\.data\.resize"),
    "setflags": (lambda d: d.setflags(write=True), r"t\.data\.setflags"),
    "copyto": (lambda d: np.copyto(d, 1.0), r"np\.copyto"),
    "copyto by keyword": (lambda d: np.copyto(dst=d, src=1.0), r"np\.copyto"),
    "put": (lambda d: np.put(d, [0], [9.0]), r"np\.put"),
    "place": (lambda d: np.place(d, d > 0, [0.0]), r"np\.place"),
    "putmask": (lambda d: np.putmask(d, d > 0, 0.0), r"np\.putmask"),
    "fill_diagonal": (lambda d: np.fill_diagonal(d, 0.0), r"np\.fill_diagonal"),
    "put_along_axis": (
        lambda d: np.put_along_axis(d, np.zeros((2, 1), dtype=int), 0.0, axis=1),
        r"np\.put_along_axis",
    ),
    "ufunc out": (lambda d: np.add(d, 1.0, out=d), r"np\.add\(\.\.\., out=t\.data\)"),
    "ufunc out tuple": (lambda d: np.negative(d, out=(d,)), r"np\.negative"),
    "ufunc out into a row": (lambda d: np.exp(d[0], out=d[0]), r"np\.exp"),
    "reduce out": (lambda d: np.add.reduce(d, axis=0, out=d[0]), r"np\.add"),
    "matmul out": (lambda d: np.matmul(np.eye(2), np.eye(2), out=d), r"np\.matmul"),
    "dot out": (lambda d: np.dot(np.eye(2), np.eye(2), out=d), r"np\.dot"),
    "clip out": (lambda d: np.clip(d, 0.0, 1.0, out=d), r"np\.(clip|minimum|maximum)"),
    # out given by position, as numpy's signatures allow: the same refusal as out=
    "ufunc out by position": (lambda d: np.add(d, 1.0, d), r"np\.add\(\.\.\., out=t\.data\)"),
    "dot out by position": (lambda d: np.dot(np.eye(2), np.eye(2), d), r"np\.dot\(\.\.\., out="),
    "sum out by position": (lambda d: np.sum(np.ones((3, 2, 2)), 0, None, d), r"np\.sum\("),
    "mean out by position": (lambda d: np.mean(np.ones((3, 2, 2)), 0, None, d), r"np\.mean\("),
    "clip out by position": (lambda d: np.clip(d, 0.0, 1.0, d), r"np\.clip\(\.\.\., out="),
    "cumsum out by position": (lambda d: np.cumsum(np.ones((2, 2)), 0, None, d), r"np\.cumsum"),
    "round out by position": (lambda d: np.round(d, 0, d), r"np\.round\(\.\.\., out="),
    "take out by position": (lambda d: np.take(np.ones(4), [[0, 1], [2, 3]], None, d), r"np\.take"),
    "concatenate out by position": (
        lambda d: np.concatenate([np.ones((1, 2))] * 2, 0, d),
        r"np\.concatenate\(\.\.\., out=",
    ),
}


@pytest.mark.parametrize("name", list(WRITES))
def test_every_write_into_a_leafs_array_is_refused_before_anything_changes(name: str) -> None:
    """The error names the operation, the tensor and the fix; the numbers, and the graph
    built before (not stale: nothing changed), are as they were. Reference: d/dW sum(W * W)
    = 2W."""
    write, doing = WRITES[name]
    w, loss = _leaf()
    before = np.array(w.data)
    with pytest.raises(ValueError, match=rf"^{doing}.*Tensor 'W' is read-only.*{FIX}"):
        write(w.data)
    np.testing.assert_array_equal(w.data, before)
    loss.backward()  # the write stamps never moved
    np.testing.assert_array_equal(w.grad, 2.0 * before)


@pytest.mark.parametrize(
    "write",
    [
        lambda d: np.asarray(d).__setitem__(0, 1.0),  # a plain view of it
        lambda d: d.flat.__setitem__(0, 1.0),
        lambda d: np.asarray(d).setflags(write=True),
    ],
    ids=["plain view", "flat", "plain view setflags"],
)
def test_numpys_own_read_only_error_guards_plain_views(write: Callable[[Any], object]) -> None:
    """Views outside DataView's methods get numpy's own error, before any change."""
    w, loss = _leaf()
    before = np.array(w.data)
    with pytest.raises(ValueError, match=r"read-only|WRITEABLE"):
        write(w.data)
    np.testing.assert_array_equal(w.data, before)
    loss.backward()
    np.testing.assert_array_equal(w.grad, 2.0 * before)


def test_in_place_arithmetic_is_seen_and_a_fresh_forward_pass_is_right() -> None:
    """`W.data -= 0.5` and a write through a view kept from before (`a = W.data; a -= 1`)
    change W in place; each makes the graph built before stale. Reference: d/dW sum(W * W)
    = 2W at the new numbers."""
    w, loss = _leaf()
    w.data -= 0.5
    with pytest.raises(StaleDataError, match="Tensor 'W' was changed after the graph used it"):
        loss.backward()
    np.testing.assert_array_equal(w.data, [[0.5, -2.5], [2.5, 0.0]])
    loss = (w * w).sum()
    kept = w.data
    kept -= 1.0  # a view of W: W changes, as with numpy's views
    np.testing.assert_array_equal(w.data, [[-0.5, -3.5], [1.5, -1.0]])
    with pytest.raises(StaleDataError, match="Tensor 'W'"):
        loss.backward()
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [[-1.0, -7.0], [3.0, -2.0]])


def test_an_assigned_array_is_copied_and_read_only() -> None:
    """`t.data = a` copies a (a later write into a cannot reach t); the documented way to
    change one number, `d = t.data.copy(); d[0] = 5; t.data = d`, works and is seen, and the
    new data is read-only too. A view kept from before the assignment no longer shows t:
    in-place arithmetic on it is refused."""
    t = Tensor([1.0, 2.0], label="t")
    a = np.array([3.0, 4.0])
    t.data = a
    a[0] = 9.0
    assert t.data.tolist() == [3.0, 4.0]
    loss = (t * t).sum()
    kept = t.data
    d = t.data.copy()
    d[0] = 5.0
    t.data = d
    d[1] = 7.0
    assert t.data.tolist() == [5.0, 4.0]
    with pytest.raises(StaleDataError, match="Tensor 't'"):
        loss.backward()
    with pytest.raises(ValueError, match=r"no longer the data of Tensor 't'"):
        kept -= 1.0
    with pytest.raises(ValueError, match=r"Tensor 't' is read-only"):
        t.data[0] = 1.0
    assert t.data.tolist() == [5.0, 4.0]


IN_PLACE = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
}


@given(
    symbol=st.sampled_from(sorted(IN_PLACE)),
    dtype=st.sampled_from([np.float64, np.float32]),
    data=st.lists(st.floats(-4, 4, width=32), min_size=3, max_size=3),
    other=st.one_of(
        st.floats(-3, 3).filter(lambda v: v != 0.0),
        st.lists(st.floats(0.5, 3), min_size=3, max_size=3).map(np.array),
        st.lists(st.floats(0.5, 3, width=32), min_size=1, max_size=1).map(
            lambda v: np.array(v, dtype=np.float32)
        ),
    ),
    kept=st.booleans(),
)
def test_in_place_operators_give_numpys_numbers_and_dtype(
    symbol: str, dtype: Any, data: list[float], other: Any, kept: bool
) -> None:
    """Reference: numpy's in-place operator on a plain copy of the numbers (same numbers bit
    for bit, the tensor's dtype); through `t.data` or a view kept from before, and either
    way the graph built before is stale."""
    op = IN_PLACE[symbol]
    t = Tensor(data, dtype=dtype, label="t")
    loss = (t * t).sum()
    expected = np.array(data, dtype=dtype)
    with np.errstate(all="ignore"):
        expected = op(expected, other)
        if kept:
            view = t.data
            op(view, other)
        else:
            t.data = op(t.data, other)  # what `t.data -= other` does
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.data, expected)
    with pytest.raises(StaleDataError, match="Tensor 't'"):
        loss.backward()


def test_in_place_matmul_and_refused_casts_are_numpys() -> None:
    """`@=` gives np.matmul's numbers; a complex step into a float tensor, or a bitwise
    operator on floats, raise numpy's own error for a plain copy (its kind and text, with
    the operation and the tensor named), and nothing changes (the graph is not stale).
    Reference: numpy on plain arrays; d/dm sum(m * m) = 2m."""
    m = Tensor([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32, label="m")
    rotate = np.array([[0.0, 1.0], [1.0, 0.0]])
    m.data @= rotate
    np.testing.assert_array_equal(m.data, np.array([[2.0, 1.0], [4.0, 3.0]], np.float32))
    assert m.dtype == np.float32
    with pytest.raises(ValueError, match="read-only"):  # read-only again after the write
        m.data[0, 0] = 0.0
    loss = (m * m).sum()
    before = np.array(m.data)
    for symbol, write in (
        ("-=", lambda d: operator.isub(d, np.array([1j, 0.0]))),
        ("|=", lambda d: operator.ior(d, 1)),
        ("+=", lambda d: operator.iadd(d, np.ones(3))),  # shapes that do not broadcast
        ("+=", lambda d: operator.iadd(d, np.ones((2, 2, 2)))),
    ):
        plain = np.array(before)
        with pytest.raises((TypeError, ValueError)) as expected:
            write(plain)
        kind = TypeError if isinstance(expected.value, TypeError) else ValueError
        with pytest.raises(kind) as found:
            m.data = write(m.data)
        assert str(expected.value) in str(found.value)
        assert str(found.value).startswith(f"t.data {symbol} x with x of shape")
        assert "Tensor 'm' (float32) is unchanged" in str(found.value)
        np.testing.assert_array_equal(m.data, before)
    with no_grad(), pytest.raises(ValueError, match=r"^t \+= x with x of shape \(3,\).*'m'"):
        m += np.ones(3)
    np.testing.assert_array_equal(m.data, before)
    loss.backward()
    np.testing.assert_array_equal(m.grad, 2.0 * before)


def test_results_computed_from_the_view_are_plain_writeable_arrays() -> None:
    """t.data + 1, copies, astype, np.array, ufuncs and reductions are plain numpy arrays
    that can be written; the view itself cannot. Reference: numpy on a plain copy."""
    t = Tensor([[1.0, 2.0], [3.0, 4.0]], label="t")
    plain = np.array([[1.0, 2.0], [3.0, 4.0]])
    results = {
        "t.data + 1": (t.data + 1, plain + 1),
        "copy": (t.data.copy(), plain.copy()),
        "copy.copy": (copy.copy(t.data), plain),
        "deepcopy": (copy.deepcopy(t.data), plain),
        "pickle": (pickle.loads(pickle.dumps(t.data)), plain),
        "astype": (t.data.astype(np.float32), plain.astype(np.float32)),
        "np.array": (np.array(t.data), plain),
        "np.exp": (np.exp(t.data), np.exp(plain)),
        "@": (t.data @ t.data, plain @ plain),
        "sum(axis=0)": (t.data.sum(axis=0), plain.sum(axis=0)),
        "np.concatenate": (np.concatenate([t.data, t.data]), np.concatenate([plain, plain])),
        "np.sort": (np.sort(t.data, axis=None), np.sort(plain, axis=None)),
    }
    for name, (got, want) in results.items():
        assert type(got) is np.ndarray, name
        np.testing.assert_array_equal(got, want)
        got.flat[0] = -1.0  # theirs to change
    assert t.data.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(ValueError, match="read-only"):
        t.data[0, 0] = -1.0


def test_optimizer_steps_match_their_rules_in_place_and_stay_read_only() -> None:
    """SGD and Adam update the array in place (a view kept before shows the step), keep it
    read-only, and make the graph built before stale. Reference, loss sum(p * p), g = 2p:
    SGD p - lr g = p (1 - 2 lr); Adam's first step m̂ = g, v̂ = g², p - lr g / (|g| + eps)."""
    p0 = np.array([1.5, -0.25])
    lr, eps = 0.1, 1e-8
    g = 2.0 * p0
    expected = {
        "SGD": p0 * (1.0 - 2.0 * lr),
        "Adam": p0 - lr * g / (np.abs(g) + eps),
    }
    for name, make in (("SGD", lambda ps: SGD(ps, lr=lr)), ("Adam", lambda ps: Adam(ps, lr=lr))):
        p = Tensor(p0, label="p")
        opt = make([p])
        loss = (p * p).sum()
        loss.backward()
        kept = p.data
        opt.step()
        np.testing.assert_allclose(p.data, expected[name], rtol=1e-15, err_msg=name)
        np.testing.assert_array_equal(kept, p.data)  # in place
        with pytest.raises(StaleDataError, match="Tensor 'p'"):
            loss.backward()
        with pytest.raises(ValueError, match="Tensor 'p' is read-only"):
            p.data[0] = 0.0


def _copies(w: Tensor) -> dict[str, Tensor]:
    """Every way a leaf gets an array of its own, from w."""
    model = nn.Linear(2, 2)
    model32 = nn.Linear(2, 2).to(np.float32)
    loaded = nn.Linear(2, 2)
    loaded.load_state_dict(nn.Linear(2, 2).state_dict())
    with_constant = Tensor([1.0, 1.0]) * [2.0, 3.0]  # a list: numpy makes a new array
    return {
        "Tensor()": w,
        "detach": w.detach(),
        "copy.copy": copy.copy(w),
        "deepcopy": copy.deepcopy(w),
        "pickle": pickle.loads(pickle.dumps(w)),
        "nn init": model.weight,
        "Module.to": model32.weight,
        "load_state_dict": loaded.weight,
        "a constant": with_constant.operands[1],
    }


@pytest.mark.parametrize("name", list(_copies(Tensor([1.0]))))
def test_every_tensor_holds_a_read_only_array(name: str) -> None:
    """Whatever made the tensor, a write into its data is refused and changes nothing;
    its gradient stays writeable."""
    t = _copies(Tensor([[1.0, 2.0], [3.0, 4.0]], label="w"))[name]
    before = np.array(t.data)
    with pytest.raises(ValueError, match="read-only"):
        t.data.flat[0] = 42.0
    with pytest.raises(ValueError, match="read-only"):
        np.copyto(t.data, 42.0)
    np.testing.assert_array_equal(t.data, before)
    t.grad[...] = 1.0  # gradients stay writeable
    assert np.all(t.grad == 1.0)


def test_graph_data_and_dual_primals_refuse_in_place_arithmetic() -> None:
    """An op's result belongs to its graph: `y.data -= 1` is refused (its rule reads it).
    A Dual's primal is read-only. Reference: d/dx sum(exp(x)) = exp(x); d(x*x)/dx = 2x."""
    x = Tensor([0.0, 1.0], label="x")
    y = x.exp()
    with pytest.raises(ValueError, match="belongs to its graph"):
        y.data -= 1.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.exp([0.0, 1.0]))
    d = Dual(np.array([2.0]), tangent=np.array([1.0]), label="d")
    out = d * d
    with pytest.raises(ValueError, match="primal of Dual 'd' is read-only"):
        d.data += 1.0
    for twin in (copy.copy(d), copy.deepcopy(d), pickle.loads(pickle.dumps(d))):
        with pytest.raises(ValueError, match="primal of Dual 'd' is read-only"):
            twin.data[0] = 5.0
    assert out.tangent.tolist() == [4.0] and d.data.tolist() == [2.0]


# -- found by a review: writes numpy lets through, and params --------------------------------


def test_ufunc_at_into_a_tensors_data_is_refused() -> None:
    """Reference: numpy's ufunc.at ignores an array's read-only flag; the view refuses it
    before anything changes (the data as made)."""
    for t in (Tensor([1.0, 2.0], label="t"), Tensor([1.0, 2.0]).exp()):
        before = np.array(t.data)
        with pytest.raises(ValueError, match=r"np\.add\.at\(t\.data"):
            np.add.at(t.data, 0, 2.0)
        np.testing.assert_array_equal(t.data, before)


def test_numpy_conversion_of_a_tensor_is_a_copy() -> None:
    """Reference: numpy's own copy semantics -- np.asarray(t) of a tensor that takes no
    gradient is a copy, so numpy functions that write anyway (ufunc.at) cannot change the
    tensor; d sum(c * w)/dw stays c = [1, 2]."""
    c = Tensor([1.0, 2.0], requires_grad=False)
    w = Tensor([1.0, 1.0])
    loss = (c * w).sum()
    plain = np.asarray(c)
    np.add.at(plain, 0, 10.0)
    loss.backward()
    assert w.grad.tolist() == [1.0, 2.0] and c.data.tolist() == [1.0, 2.0]


def test_an_ops_array_params_are_read_only_copies() -> None:
    """Reference: cross_entropy's gradient by hand, softmax(z) - onehot(label) per row
    divided by 2 (the mean): writing into op.params or into the caller's array changes
    neither the params nor the gradient."""
    z0 = np.array([[1.0, 2.0, 3.0], [1.0, 0.0, 0.0]])
    labels = np.array([0, 1])
    z = Tensor(z0)
    loss = nn.cross_entropy(z, labels)
    with pytest.raises(ValueError, match="read-only"):
        loss.op.params["labels"][:] = 2
    labels[:] = 2
    loss.backward()
    soft = np.exp(z0) / np.exp(z0).sum(axis=1, keepdims=True)
    soft[[0, 1], [0, 1]] -= 1.0
    np.testing.assert_allclose(z.grad, soft / 2, rtol=1e-12)


def test_an_op_of_your_own_keeps_a_copy_of_its_array_params() -> None:
    """Reference: d sum(x * w)/dx = w = [2, 3], whatever happens to the caller's w later."""
    from autograd_lite import Op

    w = np.array([2.0, 3.0])
    scale = Op("scale", lambda x, *, w: x * w, lambda g, out, x, *, w: (g * w,), params={"w": w})
    x = Tensor([1.0, 1.0])
    loss = scale(x).sum()
    w[0] = 100.0
    loss.backward()
    assert x.grad.tolist() == [2.0, 3.0]


@pytest.mark.parametrize("picked", [lambda a: a, lambda a: a[::-1]], ids=["itself", "a view"])
def test_an_op_returning_a_callers_array_keeps_its_own_numbers(picked: Any) -> None:
    """An op whose forward returns its constant operand (a caller's array), or a view of it:
    the result's data followed later writes into the caller's array (a wrong number, no
    error), and a Dual made the caller's array read-only. Reference: the numbers of the
    caller's array when the op ran, written out (and d sum(first(c, t) * t)/dt = c)."""
    from autograd_lite import Op

    first = Op(
        "first",
        lambda a, b: picked(a),
        lambda g, out, a, b: (None, picked(g) * 0.0),
        jvp=lambda ts, out, a, b: ts[1] * 0.0,
    )
    c = np.array([1.0, 2.0, 3.0])
    t = Tensor([5.0, 6.0, 7.0])
    out = first(c, t)
    loss = (out * t).sum()
    c[0] = 100.0
    assert out.data.tolist() == picked(np.array([1.0, 2.0, 3.0])).tolist()
    loss.backward()
    assert t.grad.tolist() == picked(np.array([1.0, 2.0, 3.0])).tolist()
    for grad_mode in (True, False):
        mine = np.array([1.0, 2.0, 3.0])
        with no_grad() if not grad_mode else contextlib.nullcontext():
            d = Dual(np.array([5.0, 6.0, 7.0]), np.ones(3))
            sums = [d + mine, first(mine, d)]
        assert mine.flags.writeable  # still the caller's to change
        mine[0] = 100.0
        assert sums[0].data.tolist() == [6.0, 8.0, 10.0]
        assert sums[1].data.tolist() == picked(np.array([1.0, 2.0, 3.0])).tolist()


def test_a_duals_tangent_is_read_only() -> None:
    """Reference: the tangent of a reshape is a view of its input's; writing into it would
    change both. d sum(d * d) along [1, 0] at [1, 2] is 2 * 1 = 2."""
    d = Dual(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="read-only"):
        d.reshape(2).tangent[0] = 50.0
    assert (d * d).sum().tangent == 2.0


def test_a_drawing_of_a_graph_whose_data_changed_is_refused() -> None:
    """Reference: after an SGD step W is 0.5 while W * x was computed with W = 2: the
    drawing's numbers would not fit together, so it raises as backward would."""
    from autograd_lite import draw_graph

    w, x = Tensor([2.0], label="W"), Tensor([3.0], label="x")
    loss = (w * x).sum()
    loss.backward()
    nn.SGD([w], lr=0.5).step()
    with pytest.raises(StaleDataError, match="'W'"):
        draw_graph(loss)


def test_a_refused_in_place_write_of_a_ragged_list_names_the_operation() -> None:
    """An operand numpy cannot shape (a ragged nested list) is refused as any other: the
    error names the operation and the tensor before numpy's words, and nothing changes (the
    numbers, the write stamp, the array read-only). Before, numpy's bare ValueError came
    out: describing the operand's shape raised again. Reference: numpy's own error for a
    plain copy, and the numbers set here."""
    t = Tensor([1.0, 2.0], label="w")
    stamp = t._stamp
    ragged = [[1.0, 2.0], [3.0]]
    plain = np.array([1.0, 2.0])
    with pytest.raises(ValueError) as expected:
        operator.iadd(plain, ragged)
    for write, doing in (
        ("t.data += ragged", "t.data += x"),
        ("with no_grad():\n    t += ragged", "t += x"),
    ):
        with pytest.raises(ValueError) as found:
            exec(write, {"t": t, "ragged": ragged, "no_grad": no_grad})
        assert str(found.value).startswith(f"{doing} with x of no one shape, list: refused")
        assert "Tensor 'w' (float64) is unchanged" in str(found.value)
        assert str(expected.value) in str(found.value)
        assert t.data.tolist() == [1.0, 2.0] and t._stamp == stamp
        assert not t._data.flags.writeable
