"""What a function compile_grad made for a Tensor graph does at each call, beyond the numpy
work: the output's seed is a constant made once (main: `np.full((), 1.0, ...)` at every
call), and numpy's warnings are silenced by one wrapper around the call (main: a `with
np.errstate(...)` block, three Python frames per call).

Reference: the graph built again on the new values and its backward() (`.grad` of each
parameter), bit for bit; numpy's own error state before and after the call.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest

from autograd_lite import Tensor, compile_grad, nn
from autograd_lite.codegen.args import resolve
from autograd_lite.codegen.emit import write
from tests.codegen_helpers import same

Array = np.ndarray[Any, Any]
DTYPES = [np.float32, np.float64]


def _model(rng: np.random.Generator, dtype: Any) -> tuple[nn.Sequential, list[Tensor]]:
    """bench/tensors.py's W5 model in small: Linear, ReLU, Linear, ReLU, Linear."""
    model = nn.Sequential(
        nn.Linear(4, 6, rng=rng), nn.ReLU(), nn.Linear(6, 5, rng=rng), nn.ReLU(),
        nn.Linear(5, 3, rng=rng),
    )  # fmt: skip
    model.to(dtype)
    return model, list(model.parameters())


def _step(rng: np.random.Generator, n: int, dtype: Any) -> tuple[Any, list[Tensor], str]:
    """The model's step compiled from a graph of a batch of n (batch and labels as args),
    its parameters, and the source compile_grad compiles."""
    model, ps = _model(rng, dtype)
    batch = Tensor(rng.normal(size=(n, 4)), requires_grad=False, dtype=dtype)
    labels = np.arange(n) % 3
    loss = nn.cross_entropy(model(batch), labels)
    taken = resolve(loss, ps, [batch, labels])
    source = write(loss, ps, "f", compact=True, standalone=False, max_nodes=10**6, args=taken)
    return compile_grad(loss, ps, args=[batch, labels]), ps, source.source


def _rebuilt(values: list[Array], x: Array, y: Array, dtype: Any) -> tuple[Array, list[Array]]:
    """The reference: the same model on these values, its loss and backward()'s .grad."""
    model, ps = _model(np.random.default_rng(0), dtype)
    for p, v in zip(ps, values):
        p.data = v
    loss = nn.cross_entropy(model(Tensor(x, requires_grad=False, dtype=dtype)), y)
    loss.backward()
    return loss.data, [p.grad for p in ps]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [5, 7])
def test_the_seed_and_the_error_state_cost_nothing_per_call(dtype: Any, n: int) -> None:
    rng = np.random.default_rng(n)
    f, ps, source = _step(rng, n, dtype)
    assert "np.full(" not in source and "np.errstate" not in source  # main: both per call
    for k in range(3):  # new batches and labels, parameters given as .data and as arrays
        values = [p.data + np.asarray(rng.normal(size=p.shape) * 0.1, dtype) for p in ps]
        for p, v in zip(ps, values):
            p.data = v
        x, y = rng.normal(size=(n, 4)).astype(dtype), rng.integers(0, 3, size=n)
        given = [p.data for p in ps] if k % 2 else [np.array(v) for v in values]
        value, grads = f(*given, x, y)
        ref_value, ref_grads = _rebuilt(values, x, y, dtype)
        assert same(value, ref_value) and same(list(grads), ref_grads)
        assert all(g.flags.writeable and g.flags.owndata for g in grads)


def test_the_seed_constant_is_read_only_and_never_returned() -> None:
    # The output is the input: its gradient is the seed itself, returned as an array of its
    # own (reference: d x / d x = 1); writing into it does not reach the next call.
    x = Tensor(np.array(3.0), label="x")
    f = compile_grad(x, [x])
    held = [v for k, v in inspect.unwrap(f).__globals__.items() if isinstance(v, np.ndarray)]
    assert held and all(not a.flags.writeable for a in held)
    _, (g,) = f(np.array(2.0))
    assert g.flags.writeable and not any(np.shares_memory(g, a) for a in held)
    g += 5.0
    assert f(np.array(2.0))[1][0] == 1.0


def test_numpys_error_state_is_silenced_during_the_call_and_restored_after() -> None:
    # Reference: numpy's float64 exp(1000) is inf, and softmax's derivative at a row of
    # [1000, 0] is [0, 0] there; the caller's np.errstate is what it was, also after an error.
    z = Tensor(np.zeros((2, 2)), label="z")
    f = compile_grad(z.exp().sum() + nn.cross_entropy(z, np.array([0, 1])), [z])
    before = np.geterr()
    with np.errstate(all="raise"):
        value, (dz,) = f(np.array([[1000.0, 0.0], [0.0, 0.0]]))
        assert np.isinf(value) and np.isinf(dz[0, 0])
        assert np.geterr()["over"] == "raise"
    assert np.geterr() == before
    with pytest.raises(ValueError, match="has shape"):
        f(np.zeros((3, 2)))
    assert np.geterr() == before


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_tensor_given_for_an_argument_stands_for_its_data(dtype: Any) -> None:
    # step(*params, x, y) is step(*[p.data for p in params], x, y), bit for bit, without the
    # read-only views .data makes (main: a TypeError); the batch may be a Tensor too, and one
    # of another dtype is converted as an array is. Reference: the rebuilt graph's backward().
    rng = np.random.default_rng(11)
    f, ps, _ = _step(rng, 6, dtype)
    x, y = rng.normal(size=(6, 4)), rng.integers(0, 3, size=6)
    ref_value, ref_grads = _rebuilt([p.data.copy() for p in ps], x.astype(dtype), y, dtype)
    for batch in [x.astype(dtype), Tensor(x, requires_grad=False, dtype=dtype), Tensor(x)]:
        value, grads = f(*ps, batch, y)
        assert same(value, ref_value) and same(list(grads), ref_grads)
        assert not any(np.shares_memory(g, p.data) for g in grads for p in ps)
    with pytest.raises(
        ValueError, match=r"argument 0 \('0.weight'\) has shape \(5, 4\); .*\(6, 4\)"
    ):
        f(Tensor(np.ones((5, 4))), *ps[1:], x, y)
    with pytest.raises(TypeError, match=r"args\[1\] must be a numpy array of integers, got a"):
        f(*ps, x, Tensor(y.astype(float)))  # labels stay integer arrays


def test_arguments_of_every_kind_in_one_call_are_converted_as_alone() -> None:
    # One call mixing what the prologue keeps (a plain array, a Tensor) with what it converts
    # (a .data view, nested lists, float64 for float32, int32 labels): the same numbers as
    # plain arrays of the recorded dtypes; a wrong shape after a converted argument is still
    # named. Reference: the rebuilt graph's backward() on the converted values.
    rng = np.random.default_rng(12)
    f, ps, _ = _step(rng, 4, np.float32)
    x, y = rng.normal(size=(4, 4)), np.array([2, 0, 1, 1])
    given = [ps[0].data, ps[1].data.tolist(), ps[2], ps[3].data.astype(np.float64), *ps[4:]]
    value, grads = f(*given, x, y.astype(np.int32))
    ref_value, ref_grads = _rebuilt(
        [p.data.copy() for p in ps], x.astype(np.float32), y, np.float32
    )
    assert same(value, ref_value) and same(list(grads), ref_grads)
    with pytest.raises(ValueError, match=r"args\[0\] has shape \(4, 3\); .*\(4, 4\)"):
        f(*given, x[:, :3], y)


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_labels_are_read_once_per_call(dtype: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The labels' range check and the rows the loss keeps are computed once per call for the
    # loss and its derivative (main: three passes over the labels, each with an np.iinfo).
    # Reference: the calls of cross_entropy_op._ravel (ravel_multi_index, which checks the
    # range and places the labels in one call) counted; the values, the rebuilt
    # graph's backward(), with labels in range, labels equal to ignore_index (-100, rows
    # dropped) and of other integer dtypes; a label out of range is cross_entropy's error.
    from autograd_lite.nn import cross_entropy_op

    rng = np.random.default_rng(13)
    f, ps, _ = _step(rng, 5, dtype)
    values = [p.data.copy() for p in ps]
    x = rng.normal(size=(5, 4)).astype(dtype)
    read = []
    original = cross_entropy_op._ravel
    monkeypatch.setattr(cross_entropy_op, "_ravel", lambda *a: read.append(1) or original(*a))
    for y in [
        np.array([2, 0, 1, 1, 0]),
        np.array([2, -100, 1, -100, 0]),
        np.array([1, 0, 2, 2, 1], np.int8),
    ]:
        read.clear()
        value, grads = f(*values, x, y)
        assert len(read) == 1 or -100 in y  # (ignored rows: the targets read them again)
        ref_value, ref_grads = _rebuilt(values, x, y, dtype)
        assert same(value, ref_value) and same(list(grads), ref_grads)
    for bad in [np.array([2, 0, 3, 1, 0]), np.array([2, 0, -1, 1, 0], np.int8)]:
        with pytest.raises(ValueError, match=r"cross_entropy: labels must be in \[0, 3\)"):
            f(*values, x, bad)
