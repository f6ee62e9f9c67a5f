"""The ops a training step written in Tensor ops uses besides matmul, + and relu (indexing
with integer arrays, mean, log_softmax): made without the Python layers they do not need
(numpy's np.mean wrapper, an index's display written before anyone reads it), with the
same numbers, bit for bit, and the same errors.

References: np.mean itself; a count of picks made by hand for the gradient of an index
with repeats; log-softmax and its gradient written out with numpy here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from autograd_lite import Tensor
from autograd_lite.engine import array_ops, shape_ops

DTYPES = (np.float32, np.float64)


def _arrays(dtype: Any) -> Iterator[np.ndarray[Any, Any]]:
    """Arrays of several shapes (0-d, odd lengths, more than numpy's pairwise block of 128)
    and layouts (transposed, strided)."""
    rng = np.random.default_rng(7)
    for shape in [(), (5,), (4, 8), (3, 5, 7), (129, 3), (1000, 37)]:
        x = (rng.standard_normal(shape) * 1e3 + 0.1).astype(dtype)
        yield x
        if x.ndim > 1:
            yield x.T
            yield x[::2]


@pytest.mark.parametrize("dtype", DTYPES)
def test_mean_is_numpys_mean_bit_for_bit(dtype: Any) -> None:
    """Reference: np.mean (numpy's sum divided by the count in float64, rounded to the
    dtype), over every axis, pairs of axes, and all, with and without keepdims."""
    for x in _arrays(dtype):
        t = Tensor(x, dtype=dtype)  # (its data a contiguous copy of x)
        for axis in [None, *range(x.ndim)] + ([(0, x.ndim - 1)] if x.ndim > 1 else []):
            normal = None if axis is None else tuple(np.atleast_1d(axis).tolist())
            for keepdims in (False, True):
                for data, got in (
                    (t.data, t.mean(axis=axis, keepdims=keepdims).data),
                    (x, np.asarray(array_ops.mean(x, normal, keepdims))),  # x as laid out
                ):
                    want = np.asarray(np.mean(data, axis=normal, keepdims=keepdims))
                    assert (got.dtype, got.shape) == (want.dtype, want.shape)
                    assert got.tobytes() == want.tobytes(), (x.shape, axis, keepdims)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_step_in_tensor_ops_enters_no_python_layer_of_numpy(dtype: Any) -> None:
    """README's step in Tensor ops (relu(x @ W.T + b), -log_softmax(z)[rows, labels].mean(),
    backward) calls numpy's ufuncs and array methods only, none of its Python functions
    (np.mean, np.broadcast_to, np.reshape, np.errstate: each costs more than the arithmetic
    on small arrays). Reference: mean's gradient by hand, -1 / 4 at each label."""
    rng = np.random.default_rng(0)
    shapes = [(8, 8), (8,), (8, 8), (8,), (4, 8), (4,)]
    params = [Tensor(rng.standard_normal(s).astype(dtype), dtype=dtype) for s in shapes]
    x = Tensor(rng.standard_normal((4, 8)).astype(dtype), requires_grad=False, dtype=dtype)
    labels = np.array([3, 0, 0, 2])
    entered: list[str] = []

    def profile(frame: Any, event: str, arg: object) -> None:
        if event == "call" and f"{os.sep}numpy{os.sep}" in frame.f_code.co_filename:
            entered.append(frame.f_code.co_name)

    def step() -> Tensor:
        h = x
        for i in range(3):
            h = h @ params[2 * i].T + params[2 * i + 1]
            h = h.relu() if i < 2 else h
        loss = -h.log_softmax(axis=1)[np.arange(4), labels].mean()
        loss.backward(retain_graph=False)
        return h

    step()  # the first makes the ops cached per axis (transpose's inverse: np.argsort)
    for p in params:
        p.grad = None
    sys.setprofile(profile)
    try:
        h = step()
    finally:
        sys.setprofile(None)
    assert entered == []
    assert params[5].grad is not None and params[5].grad.dtype == dtype
    softmax = np.exp(h.data - np.log(np.exp(h.data).sum(axis=1, keepdims=True)))
    picked = np.zeros((4, 4))
    picked[np.arange(4), labels] = 1.0
    want = ((softmax - picked) / 4).sum(axis=0)
    assert np.allclose(params[5].grad, want, atol=1e-6)


def test_an_index_op_writes_its_display_only_when_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """An op is made for each index; its display (drawings, error messages) is written when
    read, not at every step. Reference: the picks counted by hand (a repeated index adds
    its gradient), the display as closed_op wrote it."""
    shown: list[object] = []
    original = shape_ops._show_index

    def counted(index: tuple[Any, ...]) -> str:
        shown.append(index)
        return original(index)

    monkeypatch.setattr(shape_ops, "_show_index", counted)
    x = Tensor(np.arange(12.0).reshape(3, 4))
    picked = x[np.array([0, 2, 2]), np.array([1, 3, 3])]
    picked.sum().backward()
    assert shown == []
    expected = np.zeros((3, 4))
    expected[0, 1], expected[2, 3] = 1.0, 2.0  # (2, 3) picked twice
    assert x.grad is not None and (x.grad == expected).all()
    assert (picked.data == [1.0, 11.0, 11.0]).all()
    assert picked.op is not None and str(picked.op) == "[[0, 2, 2], [1, 3, 3]]"
    assert len(shown) == 1


@pytest.mark.parametrize(
    "index, words",
    [
        ((slice(None, None, 0),), ["getitem", "(2, 3)", "slice step cannot be zero"]),
        ((np.array([0, 1]), np.array([0, 1, 2])), ["getitem", "(2, 3)", "shape mismatch"]),
        ((np.array([True, False, True]),), ["getitem", "(2, 3)", "boolean index"]),
        ([0, 2], ["getitem", "[0, 2]", "(2, 3)", "out of bounds"]),
    ],
)
def test_an_index_that_does_not_fit_is_an_index_error_naming_it(
    index: Any, words: list[str]
) -> None:
    """The index is tried by the op's forward only (no trial pick before it): numpy's error
    (a ValueError for a slice step of 0) still comes as getitem's IndexError, with the index
    and the shape, and no node is made. Reference: numpy's own messages."""
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(IndexError) as caught:
        x[index]
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax_where_the_maxima_sum_beyond_the_largest_float(dtype: Any) -> None:
    """The maxima's finiteness is read from their sum; a sum of finite maxima that overflows
    takes the other path, with the same numbers. Reference: log-softmax written out in
    float64 (x - max - log(sum(exp(x - max)))), and its rule g - softmax * sum(g)."""
    big = float(np.finfo(dtype).max) * 0.75
    x = np.array([[big, big], [big, 0.0], [1.0, 2.0]], dtype)
    t = Tensor(x, dtype=dtype)
    out = t.log_softmax(axis=1)
    w = x.astype(np.float64)
    shifted = w - w.max(axis=1, keepdims=True)
    want = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    assert np.allclose(out.data, want, rtol=1e-6)
    g = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    out.backward(g)
    softmax = np.exp(want)
    assert t.grad is not None
    assert np.allclose(t.grad, g - softmax * g.sum(axis=1, keepdims=True), atol=1e-6)


def test_an_index_op_holds_every_slot_of_an_op() -> None:
    """An index op is made per call by writing each of Op's slots out (shape_ops._index_op),
    not through Op's constructor: a slot added to Op must be set there too. Reference:
    `Op.__slots__`, what an op holds; an index op is the engine's own (trusted), its own
    base, with no parts, check, emit or vjp_into, and shows its index."""
    from autograd_lite import Op

    x = Tensor(np.arange(6.0).reshape(2, 3))
    op = x[np.array([1, 0]), np.array([2, 2])].op
    assert op is not None
    for slot in Op.__slots__:
        getattr(op, slot)  # AttributeError for a slot left unset
    assert op.trusted and op.base is op and op.fresh is False
    assert (op.parts, op.check, op.array_check, op.emit, op.vjp_into) == (None,) * 5
    assert "[" in op.display and op.forward is op.array_forward


def test_an_op_made_per_call_is_no_reference_cycle() -> None:
    """An op made at each call (getitem's, cross_entropy's, pow's with an array exponent,
    where's) is its own `base` without holding itself, and keeps no adapted copy (which
    names it as `base`): a step leaves nothing for the cyclic garbage collector, which
    before found each such op (and what its functions hold) only when it ran. Reference:
    gc.collect's count of unreachable objects, 0 when every object went with its last
    reference; the numbers by hand (0 * 2 + 5 * 2 picked; 0 + 1 + 8 + ... powers)."""
    import gc

    from autograd_lite import where
    from autograd_lite.nn import cross_entropy

    enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(4):
            if i == 1:
                gc.collect()  # what the first call made once (templates, caches)
            x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
            picked = x[np.array([0, 1]), np.array([0, 2])]
            powers = x ** np.array([1.0, 2.0, 3.0])
            kept = where(np.array([True, False, True]), x, 1.0)  # 1.0 takes no share: adapted
            (
                cross_entropy(x, np.array([0, 2])) + picked.sum() + powers.sum() + kept.sum()
            ).backward()
            assert picked.op is not None and picked.op.base is picked.op
            assert kept._op.base is kept.op is not kept._op
            assert (picked * 2).sum().item() == 0 * 2 + 5 * 2
            assert powers.sum().item() == 0 + 1 + 8 + 3 + 16 + 125
            assert kept.sum().item() == 0 + 1 + 2 + 3 + 1 + 5
            del x, picked, powers, kept
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()


def test_a_mean_of_all_checks_what_a_mean_over_axes_checks() -> None:
    """Tensor.mean() (axis=None, keepdims=False) takes a short path: every check of the
    others still holds there (keepdims a bool, elements to average, axes to average over).
    Reference: the closed form 1/n for each element's gradient; np.mean for the number."""
    from autograd_lite import Dual

    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    numpys_false: Any = np.bool_(False)
    y = x.mean(keepdims=numpys_false)
    assert y.shape == () and y.item() == 2.5
    y.backward()
    assert x.grad is not None and np.array_equal(x.grad, np.full((2, 3), 1 / 6))
    bad: Any
    for bad in (0, "no", None):
        with pytest.raises(TypeError, match="mean: keepdims"):
            x.mean(keepdims=bad)
    with pytest.raises(ValueError, match=r"mean: shape \(0, 3\) has no elements"):
        Tensor(np.zeros((0, 3))).mean()
    with pytest.raises(TypeError, match="mean: a scalar Dual has no axes"):
        Dual(2.0, 1.0).mean()
    assert Tensor(np.array(4.0)).mean().item() == 4.0  # 0-d: one element


def test_a_log_softmax_along_an_int_axis_checks_what_the_others_check() -> None:
    """Tensor.log_softmax(axis) with an int axis in range takes a short path: every check
    still holds (an int axis, in range, of an array), and a negative axis counts from the
    end. Reference: log-softmax written out with numpy here (x - max - log(sum(exp)))."""
    from autograd_lite import Dual

    x = np.random.default_rng(3).normal(size=(3, 4))
    axis: Any
    for axis in (1, -1, 0, -2, np.int64(1)):
        shifted = x - x.max(axis=int(axis), keepdims=True)
        want = shifted - np.log(np.exp(shifted).sum(axis=int(axis), keepdims=True))
        assert np.allclose(Tensor(x).log_softmax(axis).data, want, rtol=0, atol=1e-15)
    bad: Any
    for bad, error, words in (
        (2, ValueError, "axis 2 is out of range"),
        (-3, ValueError, "axis -3 is out of range"),
        (True, TypeError, "axis must be an int"),
        (1.0, TypeError, "axis must be an int"),
    ):
        with pytest.raises(error, match=f"log_softmax: {words}"):
            Tensor(x).log_softmax(bad)
    with pytest.raises(ValueError, match="out of range for 0 dimension"):
        Tensor(np.array(1.0)).log_softmax(0)
    with pytest.raises(TypeError, match="log_softmax: a scalar Dual has no axes"):
        Dual(2.0, 1.0).log_softmax(0)


def test_the_adaptations_shared_by_ops_made_per_call_keep_nothing_by_any_route() -> None:
    """Reference: the documented rule that every op made for one call shares one `UNKEPT`
    mapping that keeps nothing: were an entry kept by any dict route, another call's op
    (other labels, another index) would find this one's adapted copy and use its numbers."""
    from autograd_lite import Op
    from autograd_lite.engine.array_base import UNKEPT

    op = Op("probe", lambda x: x, lambda g, out, x: (g,))
    UNKEPT[("k",)] = op
    UNKEPT.setdefault(("s",), op)
    UNKEPT.update({("u",): op})
    UNKEPT.update(v=op)
    kept = UNKEPT
    kept |= {("i",): op}  # dict's |= merges in C, past __setitem__ and update
    with pytest.raises(KeyError):  # the lookup `arrays.adapted` makes
        UNKEPT[("i",)]
    dict.clear(kept)
    assert len(UNKEPT) == 0 and ("k",) not in UNKEPT
