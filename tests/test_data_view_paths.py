"""The paths of an in-place operator on `t.data` (engine/data_view.py): the whole current array
of a leaf Tensor is written in place and stamped, whatever its read-only flag says; every view
numpy makes of it (a part, a transpose, a view of a view) is refused, naming the tensor and
the part; a view that no longer shows the tensor is refused.

References: closed-form gradients (d/dw sum(w * w) = 2w) and numpy's own in-place operators
on plain copies of the numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from autograd_lite import Dual, StaleDataError, Tensor


def test_an_update_after_the_read_only_flag_was_forced_is_still_seen() -> None:
    """`t.data.base.setflags(write=True)` makes the view writeable; `t.data -= 1` then went
    to numpy directly, unstamped, and backward mixed old and new numbers (a wrong gradient:
    2 * [0, 1] instead of an error). Now it is the leaf's update, stamped, and the array is
    read-only again. Reference: numpy's `-=` on a copy."""
    w = Tensor([1.0, 2.0], label="w")
    loss = (w * w).sum()
    w.data.base.setflags(write=True)
    view = w.data
    view -= 1.0
    np.testing.assert_array_equal(w.data, np.array([1.0, 2.0]) - 1.0)
    with pytest.raises(StaleDataError, match="Tensor 'w' was changed"):
        loss.backward()
    assert not w.data.base.flags.writeable
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [0.0, 2.0])  # 2w at w = [0, 1]


WHOLE_OR_PART: dict[str, tuple[Callable[[], Any], str, str]] = {
    # name: (the view, what the error says is written, what it says about the node)
    "a Dual's primal": (
        lambda: Dual(np.array([1.0, 2.0]), np.array([1.0, 0.0]), label="d").data,
        r"t\.data -= ",
        "primal of Dual 'd'",
    ),
    "a part of a Dual's primal": (
        lambda: Dual(np.array([1.0, 2.0]), np.array([1.0, 0.0]), label="d").data[:1],
        r"t\.data\[\.\.\.\] -= ",
        "primal of Dual 'd'",
    ),
    "an op's data": (
        lambda: (Tensor([1.0, 2.0]) * 2.0).data,
        r"t\.data -= ",
        "belongs to its graph",
    ),
    "a part of an op's data": (
        lambda: (Tensor([1.0, 2.0]) * 2.0).data[1:],
        r"t\.data\[\.\.\.\] -= ",
        "belongs to its graph",
    ),
    "a view of a view of a leaf's": (
        lambda: Tensor([[1.0, 2.0]], label="w").data.T[...].T,
        r"t\.data\[\.\.\.\] -= ",
        "data of Tensor 'w' is read-only",
    ),
    "a DataView of a leaf's data by .view": (
        lambda: (lambda d: d.view(type(d)))(Tensor([1.0, 2.0], label="w").data),
        r"t\.data\[\.\.\.\] -= ",
        "data of Tensor 'w' is read-only",
    ),
}


@pytest.mark.parametrize("name", list(WHOLE_OR_PART))
def test_a_refused_in_place_operator_says_whether_a_part_was_written(name: str) -> None:
    """`d.data -= 1` on a Dual's whole primal said `t.data[...] -= ...` (a part), and on a
    part of an op's data `t.data -= ...` (the whole); each says what was written now, and
    nothing changes. Reference: the numbers before the write."""
    make, doing, about = WHOLE_OR_PART[name]
    view = make()
    before = np.array(view)
    with pytest.raises(ValueError, match=rf"^{doing}\.\.\.: .*{about}"):
        view -= 1.0
    np.testing.assert_array_equal(view, before)


def test_views_kept_from_before_write_the_leaf_while_they_show_it() -> None:
    """Two views taken before both write the leaf in place (numpy's views of one array), each
    write stamped; after `.data` is assigned, a view kept from before is refused, and a view
    taken after writes. Reference: numpy's `-=` on a plain copy, step by step."""
    w = Tensor([1.0, 2.0, 3.0], label="w")
    a, b = w.data, w.data
    loss = (w * w).sum()
    a -= 1.0
    b -= 1.0
    np.testing.assert_array_equal(w.data, [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(a, w.data)  # a view: it shows the change
    with pytest.raises(StaleDataError, match="Tensor 'w'"):
        loss.backward()
    w.data = np.array([5.0, 6.0, 7.0])
    with pytest.raises(ValueError, match="no longer the data of Tensor 'w'"):
        a -= 1.0
    c = w.data
    c *= 2.0
    np.testing.assert_array_equal(w.data, [10.0, 12.0, 14.0])
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [20.0, 24.0, 28.0])  # 2w


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # numpy's, on np.matrix
@pytest.mark.parametrize(
    "make",
    [lambda a: Tensor(a).data, lambda a: Tensor(a).data.T.T, np.asmatrix],
    ids=["t.data", "a view of t.data", "np.matrix"],
)
def test_an_op_on_a_numpy_array_subclass_is_the_op_on_its_numbers(make: Any) -> None:
    """`nn.ReLU()(t.data)` (t.data a DataView), `ops.tanh(np.matrix)`: ops on arrays of a
    numpy subclass compute as on the plain array (a matrix's `*` would multiply matrices),
    as `nn.ReLU()(array)` does; a masked array is refused by name. Reference: numpy's
    maximum, tanh and square on the plain numbers."""
    from autograd_lite import nn
    from autograd_lite.engine import ops

    a = np.array([[1.0, -2.0], [0.5, 3.0]])
    for found, want in (
        (nn.ReLU()(make(a)), np.maximum(a, 0.0)),
        (nn.Tanh()(make(a)), np.tanh(a)),
        (ops.mul(make(a), make(a)), a * a),  # elementwise, a matrix's too
    ):
        assert type(found) is np.ndarray
        np.testing.assert_array_equal(found, want)
    np.testing.assert_array_equal(ops.add(make(a), Tensor(a)).data, a + a)
    with pytest.raises(TypeError, match="relu: got a numpy masked array"):
        nn.ReLU()(np.ma.masked_array(a, mask=a < 0))


def test_an_error_names_a_data_view_as_the_numpy_array_the_user_holds() -> None:
    """A `.data` view where a number is expected: the error says numpy array, not the
    engine's class name. Reference: the text a user reads."""
    from autograd_lite import Value

    with pytest.raises(TypeError, match=r"got numpy array \(a \.data view\)") as found:
        Value(Tensor([1.0, 2.0]).data)
    assert "DataView" not in str(found.value)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # numpy's, on np.matrix
@pytest.mark.parametrize(
    "make", [lambda a: Tensor(a).data, np.asmatrix], ids=["t.data", "np.matrix"]
)
def test_dropout_and_the_transforms_read_a_numpy_subclass_as_its_numbers(make: Any) -> None:
    """Dropout on an array and the transforms' inputs read a subclass's numbers as a plain
    array, as the ops do. Before, Dropout multiplied a matrix by its mask as matrices (a
    wrong number for a square one, an error otherwise) and jacobian/jvp of a matrix input
    failed inside with numpy's words. Reference: the mask drawn here by numpy's Generator
    with the same seed (kept where the draw is >= p, scaled by 1/(1-p)); d(x*x)/dx = 2x
    elementwise, so the Jacobian is diag(2x) and the tangent along v is 2xv."""
    from autograd_lite import jacobian, jvp, nn

    a = np.array([[1.0, -2.0], [0.5, 3.0]])
    keep = np.random.default_rng(0).random(a.shape) >= 0.5
    found = nn.Dropout(0.5, rng=0)(make(a))
    assert type(found) is np.ndarray
    np.testing.assert_array_equal(found, a * keep / 0.5)
    np.testing.assert_array_equal(jacobian(lambda x: x * x, [make(a)]), np.diag(2 * a.ravel()))
    _, tangent = jvp(lambda x: x * x, [make(a)], [make(a)])
    np.testing.assert_array_equal(tangent, 2 * a * a)
    with pytest.raises(TypeError, match=r"^Dropout\(p=0.5\): got a numpy masked array"):
        nn.Dropout(0.5, rng=0)(np.ma.masked_array(a, mask=a < 0))
