"""cross_entropy's ignore_index and label_smoothing (issue 21), against a numpy implementation
of PyTorch's documented formula written here.

Reference (PyTorch's CrossEntropyLoss documentation): with log-probabilities
lp = log_softmax(z), the loss of sample i is (1 - e) * (-lp[i, y_i]) + e * sum_c(-lp[i, c]) / C;
a sample whose target is ignore_index contributes 0 and is not counted: "mean" divides the sum
by the number of counted samples. Gradients: central finite differences of that numpy function,
and the closed form softmax(z_i) - q_i, q_i = (1 - e) one_hot(y_i) + e / C (0 for ignored rows).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from autograd_lite import Op, Tensor, grad
from autograd_lite.nn import TensorReduction, cross_entropy, cross_entropy_op

from .array_reference import assert_close, numeric_gradients

Array = np.ndarray[Any, Any]


def reference(z: Array, y: Array, reduction: str, ignore: int, e: float) -> Array:
    """PyTorch's formula in numpy."""
    shifted = z - z.max(axis=1, keepdims=True)
    lp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n, c = z.shape
    kept = y != ignore
    losses = np.zeros(n)
    for i in range(n):
        if kept[i]:
            losses[i] = (1 - e) * -lp[i, y[i]] + e * -lp[i].sum() / c
    if reduction == "none":
        return losses
    total = losses.sum()
    return np.asarray(total / kept.sum() if reduction == "mean" else total)


def closed_form_gradient(z: Array, y: Array, reduction: str, ignore: int, e: float) -> Array:
    """d mean/sum of the losses / dz: (softmax - q) per counted row, scaled."""
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    n, c = z.shape
    out = np.zeros_like(z)
    for i in range(n):
        if y[i] != ignore:
            q = np.full(c, e / c)
            q[y[i]] += 1 - e
            out[i] = p[i] - q
    count = max(int((y != ignore).sum()), 1)
    return out / count if reduction == "mean" else out


CASES = [
    (np.array([0, -100, 4, 2, -100, 1]), -100),
    (np.array([3, 7, 1, 0, 7, 2]), 7),  # an ignore_index that is a class number's neighbour
    (np.array([3, 2, 1, 0, 4, 2]), 2),  # an ignore_index that is a valid class
    (np.array([3, 2, 1, 0, 4, 2]), -100),  # nothing ignored
]


@pytest.mark.parametrize("labels, ignore", CASES)
@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.75, 1.0])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_matches_pytorchs_formula(
    labels: Array, ignore: int, smoothing: float, reduction: TensorReduction
) -> None:
    rng = np.random.default_rng(0)
    z0 = rng.normal(size=(6, 5)) * 3
    g = rng.normal(size=(6,)) if reduction == "none" else np.asarray(1.0)
    z = Tensor(z0)
    loss = cross_entropy(
        z, labels, reduction=reduction, ignore_index=ignore, label_smoothing=smoothing
    )
    want = reference(z0, labels, reduction, ignore, smoothing)
    assert_close(loss.data, want, rtol=1e-12, atol=1e-12)
    (loss * g).sum().backward()
    fd = numeric_gradients(lambda zv: reference(zv, labels, reduction, ignore, smoothing), [z0], g)
    assert_close(z.grad, fd[0], rtol=1e-6, atol=1e-8)
    if reduction != "none":
        closed = closed_form_gradient(z0, labels, reduction, ignore, smoothing)
        assert_close(z.grad, closed, rtol=1e-9, atol=1e-12)


def test_cross_entropy_second_derivative_with_ignore_and_smoothing() -> None:
    """create_graph through the one rule: d/dz sum(grad_z(loss) * c), against central
    differences of the closed-form gradient."""
    rng = np.random.default_rng(1)
    z0, c = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    labels = np.array([2, -1, 0, 1])
    z = Tensor(z0)
    (first,) = grad(cross_entropy(z, labels, ignore_index=-1, label_smoothing=0.2), [z],
                    create_graph=True)  # fmt: skip
    (second,) = grad((first * c).sum(), [z])
    want = numeric_gradients(lambda zv: closed_form_gradient(zv, labels, "mean", -1, 0.2), [z0], c)[
        0
    ]
    assert_close(second.data, want, rtol=1e-6, atol=1e-8)


def test_every_sample_ignored_gives_nan_and_a_zero_gradient_as_pytorch() -> None:
    z = Tensor(np.zeros((2, 3)))
    loss = cross_entropy(z, np.array([-100, -100]), label_smoothing=0.2)
    assert np.isnan(loss.item())
    loss.backward()
    assert np.array_equal(z.grad, np.zeros((2, 3)))
    assert cross_entropy(Tensor(np.zeros((2, 3))), [-100, -100], reduction="sum").item() == 0.0


def test_an_ignored_sample_changes_nothing() -> None:
    """Dropping the ignored rows by hand gives the same loss and gradients."""
    rng = np.random.default_rng(2)
    z0 = rng.normal(size=(5, 4))
    labels = np.array([1, -100, 3, -100, 0])
    z = Tensor(z0)
    loss = cross_entropy(z, labels, label_smoothing=0.3)
    loss.backward()
    kept = Tensor(z0[[0, 2, 4]])
    small = cross_entropy(kept, np.array([1, 3, 0]), label_smoothing=0.3)
    small.backward()
    assert_close(loss.data, small.data, rtol=1e-14)
    assert_close(z.grad[[0, 2, 4]], kept.grad, rtol=1e-14)
    assert np.array_equal(z.grad[[1, 3]], np.zeros((2, 4)))


@pytest.mark.parametrize(
    "kwargs, labels, exc, msg",
    [
        ({"ignore_index": 1.5}, [0, 1], TypeError, r"cross_entropy: ignore_index must be an int"),
        ({"ignore_index": True}, [0, 1], TypeError, r"ignore_index must be an int, got bool"),
        ({"label_smoothing": 1.5}, [0, 1], ValueError,
         r"cross_entropy: label_smoothing must be in \[0, 1\], got 1.5"),
        ({"label_smoothing": -0.1}, [0, 1], ValueError, r"label_smoothing must be in \[0, 1\]"),
        ({"label_smoothing": float("nan")}, [0, 1], ValueError, r"label_smoothing.*nan"),
        ({"label_smoothing": "a"}, [0, 1], TypeError, r"cross_entropy: label_smoothing"),
        ({"ignore_index": 5}, [0, -100], ValueError,
         r"labels must be in \[0, 3\).*labels\[1\] = -100 \(only ignore_index=5 may be outside"),
    ],
)  # fmt: skip
def test_cross_entropy_option_errors(
    kwargs: dict[str, Any], labels: list[int], exc: type[Exception], msg: str
) -> None:
    with pytest.raises(exc, match=msg):
        cross_entropy(Tensor(np.zeros((2, 3))), np.array(labels), **kwargs)


@pytest.mark.parametrize("ignore", [-100, 1])
def test_the_rule_on_other_logits_than_the_forward_passs(ignore: int) -> None:
    """The rule reuses the forward pass's logsumexp for the very logits it was computed from;
    given other logits (`loss.rule`, a second backward) it computes theirs. Reference: the
    closed form (softmax(z) - one_hot(y)) / (number of counted rows), 0 for ignored rows."""
    rng = np.random.default_rng(3)
    z1, z2 = rng.normal(size=(4, 3)), 5.0 * rng.normal(size=(4, 3))
    y = np.array([0, 1, 2, 1])
    loss = cross_entropy(Tensor(z1), y, ignore_index=ignore)

    def closed_form(z: Array) -> Array:
        e = np.exp(z - z.max(axis=1, keepdims=True))
        q = np.eye(3)[y] * (y != ignore)[:, None]
        return (e / e.sum(axis=1, keepdims=True) * (y != ignore)[:, None] - q) / (y != ignore).sum()

    seed = np.array(1.0)
    (other,) = loss.rule(seed, loss.data, z2)
    np.testing.assert_allclose(other, closed_form(z2), rtol=1e-12, atol=1e-15)
    loss.backward()
    loss.backward()  # the second pass computes the logsumexp again
    (dz,) = loss.rule(seed, loss.data, z1)
    np.testing.assert_allclose(dz, closed_form(z1), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(loss.operands[0].grad, 2.0 * closed_form(z1), rtol=1e-12)


@pytest.mark.parametrize("dtype", [">i8", "<i8", ">i4", "<i2", ">u8", "<u4"])
def test_labels_of_either_byte_order(dtype: str) -> None:
    """Labels whose bytes are not in the machine's order are read as the numbers they hold:
    in range they give PyTorch's loss and gradient (Reference: `reference` and
    `closed_form_gradient`, numpy), and a label out of range is cross_entropy's ValueError
    naming it. 2**56 as big-endian int64 bytes, misread in the other order, is 1 (so are
    2**24 as int32 and 2**8 as int16): a range check on such a misreading let it through to
    numpy's IndexError."""
    z = np.random.default_rng(5).normal(size=(3, 4))
    y = np.array([3, 0, 2], dtype=dtype)
    logits = Tensor(z)
    loss = cross_entropy(logits, y)
    loss.backward()
    plain = y.astype(np.int64)
    assert_close(loss.data, reference(z, plain, "mean", -100, 0.0))
    assert_close(logits.grad, closed_form_gradient(z, plain, "mean", -100, 0.0))
    big = 2 ** (8 * np.dtype(dtype).itemsize - 8)
    bad = np.array([0, big, 0], dtype=dtype)  # 0 reads as 0 in either order
    with pytest.raises(ValueError, match=rf"labels\[1\] = {big} \(only ignore_index=-100"):
        cross_entropy(Tensor(z), bad)


@pytest.mark.parametrize("ignore", [-100, 1])
def test_the_op_applied_to_logits_of_other_classes_checks_its_labels_anew(ignore: int) -> None:
    """A call's op reads its labels once, for the logits' class count; applied to logits of
    another count (`loss.op(other)`) it checks and reads them anew: labels out of range for
    those are the ValueError naming the first, and in range give the loss of those logits
    (Reference: `reference`, numpy)."""
    z = np.random.default_rng(6).normal(size=(3, 5))
    y = np.array([4, 0, 2])
    op = cross_entropy(Tensor(z), y, ignore_index=ignore).op
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\).*labels\[0\] = 4"):
        op(Tensor(z[:, :3]))
    wide = np.random.default_rng(7).normal(size=(3, 8))
    assert_close(op(Tensor(wide)).data, reference(wide, y, "mean", ignore, 0.0))


@pytest.mark.parametrize("rows", [1, 2, 6])
def test_the_op_applied_to_logits_of_another_row_count_is_an_error(rows: int) -> None:
    """A call's op applied to logits whose rows are not one per label: a ValueError naming
    both, on nodes (the op's domain check) and on arrays (its forward); main gave a number
    for one row (each label picked from it) or for one label (the mean over one of several
    rows' losses), and numpy's IndexError otherwise. Reference: the shapes."""
    z = np.random.default_rng(9).normal(size=(6, 5))
    loss = cross_entropy(Tensor(z[:3]), np.array([1, 2, 3]))
    single = cross_entropy(Tensor(z[:1]), np.array([4]))
    for op, n in [(loss.op, 3), (single.op, 1)]:
        assert op is not None
        if rows == n:
            continue
        for logits in [Tensor(z[:rows]), z[:rows]]:
            with pytest.raises(ValueError, match=rf"shape \({rows}, 5\) for {n} labels"):
                op(logits)


@pytest.mark.parametrize("dtype", [np.uint64, np.uint32, np.int8, np.dtype(">i8")])
def test_labels_of_every_integer_dtype_pick_the_same_logits(dtype: Any) -> None:
    """Each row's logit is picked at row * C + label of the flattened logits: labels of
    uint64 (whose sum with numpy's int64 positions would be a float), other sizes and the
    other byte order pick what int64 labels pick. Reference: `reference` (numpy), and the
    closed-form gradient."""
    z = np.random.default_rng(10).normal(size=(4, 6))
    y = np.array([5, 0, 3, 3])
    logits = Tensor(z)
    loss = cross_entropy(logits, y.astype(dtype))
    assert_close(loss.data, reference(z, y, "mean", -100, 0.0))
    loss.backward()
    assert_close(logits.grad, closed_form_gradient(z, y, "mean", -100, 0.0))


def test_each_calls_op_is_its_own() -> None:
    """Every call's op is made from one template per reduction (`remade`): each holds its
    own labels and options and is its own base, and a first layer that needs no gradient
    (an adapted rule, kept on the op) does not leak into another call's op. Reference:
    `closed_form_gradient` (numpy), summed over the two losses."""
    rng = np.random.default_rng(8)
    z = rng.normal(size=(3, 4))
    logits = Tensor(z)
    y1, y2 = np.array([0, 3, 1]), np.array([2, 2, 0])
    first = cross_entropy(logits, y1)
    second = cross_entropy(logits * 1.0, y2, reduction="sum", ignore_index=2)
    assert first.op is not second.op and first.op.base is first.op
    assert second.op.base is second.op and str(second.op) == "cross_entropy(reduction='sum')"
    assert (
        second.op.params["labels"].tolist() == [2, 2, 0] and second.op.params["ignore_index"] == 2
    )
    (first + second).backward()
    want = closed_form_gradient(z, y1, "mean", -100, 0.0)
    want += closed_form_gradient(z, y2, "sum", 2, 0.0)
    assert_close(logits.grad, want)


def test_a_calls_op_holds_every_slot_of_an_op() -> None:
    """`remade` writes each of Op's slots out, not in a loop over them: a slot added to Op
    must be added there too. Reference: `Op.__slots__`, what an op holds; a call's op has
    its own functions, params, base and adaptations, no parts or vjp_into (its vjp is the
    whole rule), and the template's name, display, emit and the rest."""
    op = cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 2])).op
    assert op is not None
    template = cross_entropy_op._template("mean")
    own = {"forward", "array_forward", "vjp", "array_check", "params", "base", "adaptations"}
    for slot in Op.__slots__:
        value = getattr(op, slot)  # AttributeError for a slot left unset
        if slot in ("parts", "vjp_into"):
            assert value is None, slot
        elif slot not in own:
            assert value is getattr(template, slot), slot
    assert op.forward is op.array_forward and op.base is op and op.adaptations == {}


@pytest.mark.parametrize("labels", [[3, -100], [3, -57]])
def test_small_signed_labels_with_more_classes_than_their_positive_range(labels: Any) -> None:
    """int8 labels with 200 classes: a negative label viewed as uint8 (-100 -> 156, -57 -> 199)
    is below the class count, so the one-pass range check took it as in range: -100 (the
    ignore_index) was picked as column 100 and -57 as column 143, silently. Reference: numpy
    logsumexp of row 0 by hand (row 1 ignored), and the int64 labels' range error."""
    z = np.random.default_rng(0).normal(size=(2, 200))
    small = np.array(labels, dtype=np.int8)
    if labels[1] == -100:
        m = z[0].max()
        expected = m + np.log(np.exp(z[0] - m).sum()) - z[0, 3]
        assert cross_entropy(Tensor(z), small).item() == pytest.approx(expected, rel=1e-12)
    else:
        with pytest.raises(ValueError, match="labels must be in"):
            cross_entropy(Tensor(z), small)
