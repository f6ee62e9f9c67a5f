"""cross_entropy and logsumexp on arrays without passes the result does not need (issue 22):
the labels read by one numpy call per check, no np.errstate on finite logits, the gradient
written into the op's own array; the numbers and errors as before.

Reference: numpy calls are counted by an ndarray subclass that records each ufunc and array
function it is given (numpy's own protocol); values against logsumexp written in float64 with
math.fsum, and PyTorch's documented results for infinite and nan logits (logsumexp of a row
holding inf is inf, of a row of -inf only -inf, of a row holding nan nan).
"""

from __future__ import annotations

import math
import tracemalloc
from typing import Any

import numpy as np
import pytest

from autograd_lite import Tensor, grad
from autograd_lite.engine.reductions import logsumexp_array
from autograd_lite.nn import cross_entropy, cross_entropy_op

Array = np.ndarray[Any, Any]


class Counted(np.ndarray[Any, Any]):
    """An int array that counts the numpy calls that read it (views share the count)."""

    calls: list[str]

    def __array_finalize__(self, obj: Any) -> None:
        self.calls = getattr(obj, "calls", [])

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        self.calls.append(f"{ufunc.__name__}.{method}")
        plain = [x.view(np.ndarray) if isinstance(x, Counted) else x for x in inputs]
        return getattr(ufunc, method)(*plain, **kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        self.calls.append(func.__name__)
        return func(*[_plain(x) for x in args], **kwargs)


def _plain(x: Any) -> Any:
    """x, or the tuple x, with Counted arrays as plain ones (ravel_multi_index takes a tuple)."""
    if isinstance(x, tuple):
        return tuple(_plain(i) for i in x)
    return x.view(np.ndarray) if isinstance(x, Counted) else x


def counted(values: list[int], dtype: Any = np.int64) -> Counted:
    found: Counted = np.array(values, dtype=dtype).view(Counted)
    found.calls = []
    return found


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_the_range_check_reads_the_labels_once(dtype: Any) -> None:
    labels = counted([0, 3, 9, 2], dtype)
    cross_entropy_op._check_range(labels, 10, -100)
    assert len(labels.calls) == 1, labels.calls  # main: a min and a max


def test_the_rows_kept_are_found_in_one_call_when_no_label_can_be_ignored() -> None:
    """Reference: the positions row * 10 + label of (4, 10) logits, written out."""
    labels = counted([0, 3, 9, 2])
    kept, picks, count = cross_entropy_op._kept(labels, -100, (4, 10))
    assert (kept, count) == (None, 4) and picks.tolist() == [0, 13, 29, 32]
    # main: the range's reduction and the positions' add; now one call checks and places them
    assert labels.calls == ["ravel_multi_index"], labels.calls
    # an ignore_index that is a class: the mask, as before (an ignored row: its first logit)
    labels = counted([0, 3, 9, 3])
    kept, picks, count = cross_entropy_op._kept(labels, 3, (4, 10))
    assert count == 2 and kept.tolist() == [True, False, True, False]
    assert picks.tolist() == [0, 10, 29, 30]


@pytest.mark.parametrize(
    ("values", "bad"),
    [([0, -1, 2], "labels[1] = -1"), ([0, 1, 10], "labels[2] = 10"),
     ([-(2**63), 0, 1], f"labels[0] = {-(2**63)}"), ([], None)],
)  # fmt: skip
def test_labels_out_of_range_are_still_an_error_naming_the_label(
    values: list[int], bad: str | None
) -> None:
    labels = np.array(values, dtype=np.int64)
    if bad is None:  # no labels: nothing is out of range
        cross_entropy_op._check_range(labels, 10, -100)
        return
    with pytest.raises(ValueError, match=r"cross_entropy: labels must be in \[0, 10\)") as e:
        cross_entropy_op._check_range(labels, 10, -100)
    assert bad in str(e.value)


def test_logsumexp_on_finite_rows_enters_no_errstate(monkeypatch: pytest.MonkeyPatch) -> None:
    entered: list[object] = []
    real = np.errstate

    def counting(**kwargs: Any) -> Any:
        entered.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(np, "errstate", counting)
    x = np.array([[0.5, -1.25, 3.0], [100.0, 99.0, -50.0]])
    got = logsumexp_array(x, 1, False)
    assert entered == []  # main: one np.errstate per call
    want = [math.log(math.fsum(math.exp(v - max(row)) for v in row)) + max(row) for row in x]
    np.testing.assert_allclose(got, want, rtol=1e-15)


def test_logsumexp_of_infinite_and_nan_rows_is_pytorchs() -> None:
    inf, nan = math.inf, math.nan
    x = np.array([[-inf, -inf], [inf, 1.0], [nan, 1.0], [-inf, 2.0]], dtype=np.float32)
    with np.errstate(all="raise"):  # no warning either
        got = logsumexp_array(x, 1, True)
    assert got.dtype == np.float32 and got.shape == (4, 1)
    assert got[0, 0] == -inf and got[1, 0] == inf and math.isnan(got[2, 0])
    assert got[3, 0] == np.float32(2.0)


def test_cross_entropys_gradient_is_one_array_of_the_logits_shape() -> None:
    """The derivative exp(z - lse) - one_hot, / N, times the seed: numpy's difference, its
    exp and the product in one array (main: three, two alive at once), the numbers those of
    the closed form (softmax(z) - one_hot) / N."""
    rng = np.random.default_rng(5)
    z = rng.standard_normal((2000, 50))
    labels = rng.integers(0, 50, 2000)
    g = np.ones(())
    tracemalloc.start()
    try:
        (error,) = cross_entropy_op._cross_entropy_vjp(g, None, z, labels, "mean", -100, 0.0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * z.nbytes, peak / z.nbytes  # main: 2 arrays of z's size at once
    e = np.exp(z - z.max(axis=1, keepdims=True))
    want = (e / e.sum(axis=1, keepdims=True) - np.eye(50)[labels]) / 2000
    np.testing.assert_allclose(error, want, rtol=1e-12, atol=1e-18)


def test_cross_entropy_end_to_end_matches_the_closed_form() -> None:
    """Reference: loss mean(lse_i - z_i,y_i) and gradient (softmax - one_hot) / N, float64."""
    rng = np.random.default_rng(3)
    z = rng.standard_normal((5, 4))
    y = np.array([3, 0, 1, 1, 2])
    logits = Tensor(z)
    loss = cross_entropy(logits, y)
    (dz,) = grad(loss, [logits])
    lse = np.log(np.exp(z).sum(axis=1))
    assert loss.item() == pytest.approx(np.mean(lse - z[np.arange(5), y]), rel=1e-14)
    soft = np.exp(z - lse[:, None])
    np.testing.assert_allclose(dz, (soft - np.eye(4)[y]) / 5, rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("dtype", ["i1", "<i2", ">i2", "i4", ">i8", "u1", ">u4", "u8", "<i8"])
def test_the_positions_and_the_range_come_right_for_every_integer_dtype(dtype: str) -> None:
    """Reference: the positions row * 5 + label, written out; a label outside [0, 5) named
    by its index, whatever its dtype or byte order (a negative one is not read as a row
    before, nor a huge unsigned one as a small one)."""
    labels = np.array([4, 0, 3], dtype=dtype)
    kept, picks, count = cross_entropy_op._kept(labels, -100, (3, 5))
    assert (kept, count) == (None, 3) and picks.tolist() == [4, 5, 13]
    bad = np.array([1, 5, 0], dtype=dtype)  # 5: one past the classes (row 1's would be 10)
    with pytest.raises(ValueError, match=r"the first is labels\[1\] = 5"):
        cross_entropy_op._kept(bad, -100, (3, 5))
    if np.dtype(dtype).kind == "i":
        negative = np.array([1, 2, -1], dtype=dtype)  # -1: row 2's position 9 at row 1's
        with pytest.raises(ValueError, match=r"the first is labels\[2\] = -1"):
            cross_entropy_op._kept(negative, -100, (3, 5))
    else:
        huge = np.array([1, np.iinfo(dtype).max, 0], dtype=dtype)
        with pytest.raises(ValueError, match=r"the first is labels\[1\] = "):
            cross_entropy_op._kept(huge, -100, (3, 5))


@pytest.mark.parametrize("ignore", [-100, -1, 2, 7])
def test_ignored_labels_outside_the_classes_are_kept_apart(ignore: int) -> None:
    """Reference: the kept rows and positions written out (an ignored row's pick is its
    first logit); an ignore_index among the labels is skipped, any other label outside
    [0, 4) an error."""
    labels = np.array([1, ignore, 3, ignore])
    kept, picks, count = cross_entropy_op._kept(labels, ignore, (4, 4))
    assert count == 2 and kept.tolist() == [True, False, True, False]
    assert picks.tolist() == [1, 4, 11, 12]
    if not 0 <= ignore < 4:  # not a class: the same labels with another ignore_index
        with pytest.raises(ValueError, match=rf"labels\[1\] = {ignore}"):
            cross_entropy_op._kept(labels, ignore + 1000, (4, 4))


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_logsumexps_finite_check_sees_each_non_finite_row(bad: float) -> None:
    """Reference: PyTorch's logsumexp of a row holding inf (inf), of -inf only (-inf) and of
    nan (nan); the finite rows as math.fsum in float64 gives them, in any row position."""
    for row in range(3):
        x = np.array([[0.5, -1.0], [2.0, 1.0], [-3.0, 0.25]])
        x[row] = [bad, bad] if bad < 0 else [bad, 1.0]
        got = logsumexp_array(x, 1, False)
        for i in range(3):
            if i == row:
                assert got[i] == bad or (math.isnan(bad) and math.isnan(got[i]))
            else:
                m = max(x[i])
                want = math.log(math.fsum(math.exp(v - m) for v in x[i])) + m
                assert got[i] == pytest.approx(want, rel=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_seeds_product_is_not_computed_and_the_numbers_stay(
    dtype: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reference: the derivative written out in numpy in the logits' dtype, exp(z - lse),
    1 off each label's, / N (times g = 2 by hand): bit for bit. backward's seed 1 multiplies
    nothing (main: one product of the logits' size); another g still does."""
    rng = np.random.default_rng(11)
    z = rng.standard_normal((6, 5)).astype(dtype)
    labels = np.array([4, 0, 2, 2, 1, 3])
    lse = logsumexp_array(z, 1, True)
    want = np.exp(z - lse)
    want[np.arange(6), labels] -= dtype(1.0)
    want /= dtype(6)
    products: list[object] = []
    real = np.multiply

    def counting(*args: Any) -> Any:
        products.append(args[1])
        return real(*args)

    monkeypatch.setattr(np, "multiply", counting)
    for g, scale in [(np.array(1.0, dtype), 1.0), (np.array(2.0, dtype), 2.0)]:
        got = cross_entropy_op._softmax_error(z, lse, g, labels, "mean", -100, 0.0)
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want * dtype(scale))
    assert len(products) == 1 and products[0].item() == 2.0  # the seed's product left out


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.complex128])
def test_the_finite_check_reads_every_element_in_any_layout(dtype: Any) -> None:
    """Reference: math.isfinite (cmath's for complex) of each element, in Python."""
    from autograd_lite.engine.reductions import _all_finite

    def finite(a: Any) -> bool:
        return all(math.isfinite(abs(v)) if v == v else False for v in a.ravel().tolist())

    base = np.arange(24, dtype=dtype).reshape(4, 6)
    for bad in (None, math.inf, -math.inf, math.nan):
        for at in [(0, 0), (3, 5), (2, 3)]:
            a = base.copy()
            if bad is not None:
                a[at] = bad
            for view in (a, a.T, a[::2, 1::2], a[:0], a[1:2, 5:6]):
                assert _all_finite(view) == finite(view), (bad, at, view.shape)


def test_a_batch_size_seen_before_makes_no_new_row_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows 0..N-1 that place each label are made once per batch size, read-only (main:
    an np.arange per call). Reference: the loss mean(lse_i - z_i,y_i) written out in float64,
    for labels that differ between calls of one size."""
    rng = np.random.default_rng(21)
    z = rng.standard_normal((7, 3))
    cross_entropy(Tensor(z), np.zeros(7, dtype=np.int64))  # this size seen once
    made: list[object] = []
    real = np.arange
    monkeypatch.setattr(np, "arange", lambda *a, **k: made.append(a) or real(*a, **k))
    for _ in range(3):
        y = rng.integers(0, 3, 7)
        loss = cross_entropy(Tensor(z), y)
        lse = np.log(np.exp(z).sum(axis=1))
        assert loss.item() == pytest.approx(np.mean(lse - z[real(7), y]), rel=1e-14)
    assert made == []
    rows = cross_entropy_op._rows(7)
    assert rows.tolist() == list(range(7)) and not rows.flags.writeable


def test_the_rows_cached_per_batch_size_cannot_be_made_writeable() -> None:
    """Reference: numpy's rule that a view of a read-only array cannot be made writeable: the
    rows 0..N-1 shared by every call of one batch size (`_rows`) stay 0..N-1, so no write
    can move a later call's labels to other rows."""
    rows = cross_entropy_op._rows(7)
    with pytest.raises(ValueError):
        rows.setflags(write=True)
    assert rows.tolist() == list(range(7))
