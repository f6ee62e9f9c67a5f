"""A numpy masked array given where numbers are expected is refused, naming the place.

Read as an array, a masked array gives all its numbers, the masked ones included, so
`Tensor(m)`, `t * m`, `t.data = m`, a gradient, a compiled function's argument ... would
compute with numbers the user had masked out: a wrong result without an error (before, so
did grad's grad_outputs, where's condition, the transforms' tangents, cotangent and inputs).
Reference: the project's rule (exact or an error) -- each path raises a TypeError that names it, and
nothing changed (the tensor's data and gradient compared with the numbers set before).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from autograd_lite import Tensor, compile_grad, grad, gradcheck, hvp, jacobian, jvp, nn, vjp, where

MASKED = np.ma.array([1.0, 2.0, 3.0], mask=[False, True, False])


def _in_place(t: Tensor) -> None:
    t.data -= MASKED


PATHS: list[tuple[str, Callable[[Tensor], Any]]] = [
    ("Tensor", lambda t: Tensor(MASKED)),
    (r"\*: operand", lambda t: t * MASKED),
    (r"\*: operand", lambda t: np.multiply(MASKED, t)),
    ("Tensor.data", lambda t: setattr(t, "data", MASKED)),
    ("Tensor.grad", lambda t: setattr(t, "grad", MASKED)),
    ("backward: gradient", lambda t: (t * 2.0).backward(MASKED)),
    ("an in-place operator on t.data", _in_place),
    ("grad: grad_outputs", lambda t: grad(t * 2.0, [t], grad_outputs=MASKED)),
    ("where: condition", lambda t: where(MASKED > 2.0, t, 0.0)),
    (r"jvp: tangents\[0\]", lambda t: jvp(lambda x: x * x, [t], [MASKED])),
    (r"hvp: v\[0\]", lambda t: hvp(lambda x: (x * x).sum(), [t], [MASKED])),
    ("pullback: cotangent", lambda t: vjp(lambda x: x * 2.0, [t])[1](MASKED)),
    (r"jacobian: inputs\[0\]", lambda t: jacobian(lambda x: x * x, [MASKED])),
    (r"gradcheck: inputs\[0\]", lambda t: gradcheck(lambda x: (x * x).sum(), [MASKED])),
]
"""Each path a masked array could enter by, and how its error begins."""


@pytest.mark.parametrize(("where", "path"), PATHS, ids=[str(i) for i in range(len(PATHS))])
def test_a_masked_array_is_refused_and_changes_nothing(
    where: str, path: Callable[[Tensor], Any]
) -> None:
    t = Tensor([4.0, 5.0, 6.0])
    t.grad = np.array([7.0, 8.0, 9.0])
    with pytest.raises(TypeError, match=rf"^{where}: got a numpy masked array \(1 of its 3"):
        path(t)
    assert t.data.tolist() == [4.0, 5.0, 6.0] and t.grad.tolist() == [7.0, 8.0, 9.0]


def test_a_compiled_function_refuses_a_masked_batch_and_a_masked_input() -> None:
    layer = nn.Linear(3, 1, rng=0)
    batch = Tensor(np.ones((2, 3)), requires_grad=False)
    step = compile_grad(layer(batch).sum(), layer.parameters(), args=[batch])
    masked_batch = np.ma.array(np.ones((2, 3)), mask=[[False, True, False], [False, False, False]])
    with pytest.raises(TypeError, match=r"args\[0\]: got a numpy masked array \(1 of its 6"):
        step(*layer.parameters(), masked_batch)
    masked_weight = np.ma.array(layer.weight.data.copy(), mask=[[False, True, False]])
    with pytest.raises(TypeError, match=r"'weight'\): got a numpy masked array \(1 of its 3"):
        step(masked_weight, layer.bias, np.ones((2, 3)))
    # np.ma.filled says which numbers are meant: accepted. Reference: the sum over 2 rows
    # of x @ w.T + b has d/dw = the column sums of x (2 each), d/db = 2.
    _, (g_w, g_b) = step(*layer.parameters(), np.ma.filled(masked_batch, 1.0))
    assert g_w.tolist() == [[2.0, 2.0, 2.0]] and g_b.tolist() == [2.0]


MASKED_CLASSES = np.ma.array([0, 2, 1], mask=[False, True, False])
"""Integer arrays given as labels or indices: read as arrays, row 1's masked-out 2 would count."""

INTEGER_PATHS: list[tuple[str, Callable[[Tensor], Any]]] = [
    ("cross_entropy: labels", lambda z: nn.cross_entropy(z, MASKED_CLASSES)),
    ("getitem: an index", lambda z: z[np.arange(3), MASKED_CLASSES]),
    ("getitem: an index", lambda z: z[MASKED_CLASSES]),
    (r"Embedding\(3, 2\): indices", lambda z: nn.Embedding(3, 2)(MASKED_CLASSES)),
]
"""Each path masked labels or indices could enter by, and how its error begins."""


@pytest.mark.parametrize(
    ("where", "path"), INTEGER_PATHS, ids=[str(i) for i in range(len(INTEGER_PATHS))]
)
def test_masked_labels_and_indices_are_refused(where: str, path: Callable[[Tensor], Any]) -> None:
    """Reference: the rule above, for integer arrays: before, cross_entropy scored row 1 as
    class 2 and indexing picked element 2 of it, the masked-out number, without an error."""
    z = Tensor(np.arange(9.0).reshape(3, 3))
    with pytest.raises(TypeError, match=rf"^{where}.*got a numpy masked array \(1 of its 3"):
        path(z)
    assert z.data.tolist() == np.arange(9.0).reshape(3, 3).tolist() and not z.grad.any()
