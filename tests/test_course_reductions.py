"""Issue 21's Tensor reductions and shapes: min, prod, var/std, norm, argmax/argmin, flatten,
squeeze, unsqueeze/expand_dims, with dim=/keepdim= and numpy's functions.

Reference: numpy float64 for values; hand-derived gradients (prod: the product of the other
elements, written out here by a loop; var: 2 (x - mean) / (n - ddof); norm: x / |x|, 0 at
0 as PyTorch; min: 1 at the smallest, ties split as max does); central finite differences
of numpy's own functions for the second derivatives.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from autograd_lite import Dual, Tensor, backward_code, format_backward_steps, grad
from tests.codegen_helpers import run_module, same
from tests.reference import central_gradient


def _others(x: np.ndarray) -> np.ndarray:
    """For a 1-d x: the product of the other elements, by a loop (no division)."""
    return np.array([math.prod(np.delete(x, i)) for i in range(x.size)])


@pytest.mark.parametrize(
    "row",
    [[2.0, -3.0, 0.5], [2.0, 0.0, 0.5, 4.0], [0.0, 3.0, 0.0], [0.0, 0.0, 0.0], [0.0]],
)
def test_prod_gradient_with_no_one_or_several_zeros(row: list[float]) -> None:
    x = np.array(row)
    t = Tensor(x.copy())
    (g,) = grad(t.prod(), [t], create_graph=True)
    assert g.data.tolist() == _others(x).tolist()
    # second derivative: d2/dxi dxj = product of all but i and j, 0 on the diagonal
    hess = [grad(g[i], [t])[0] for i in range(x.size)]
    for i in range(x.size):
        for j in range(x.size):
            expected = 0.0 if i == j else math.prod(np.delete(x, [i, j]))
            assert hess[i][j] == expected, (i, j)
    d = Dual(x.copy(), tangent=np.ones_like(x)).prod()
    assert d.tangent == _others(x).sum()


def test_prod_along_an_axis_and_dim_keepdim() -> None:
    x = np.array([[1.0, 0.0, 3.0], [2.0, 5.0, 0.5], [0.0, 0.0, 4.0]])
    t = Tensor(x.copy())
    p = t.prod(dim=1, keepdim=True)
    assert p.data.tolist() == x.prod(axis=1, keepdims=True).tolist()
    p.sum().backward()
    assert t.grad.tolist() == [_others(r).tolist() for r in x]


def test_min_ties_as_max() -> None:
    x = np.array([[3.0, 1.0, 1.0], [2.0, 5.0, -1.0]])
    t = Tensor(x.copy())
    m = t.min(dim=1)
    assert m.data.tolist() == [1.0, -1.0]
    m.sum().backward()
    assert t.grad.tolist() == [[0.0, 0.5, 0.5], [0.0, 0.0, 1.0]]
    t2 = Tensor(-x)
    t2.max(axis=1).sum().backward()
    assert t2.grad.tolist() == t.grad.tolist()  # max's split, for the same positions
    with pytest.raises(ValueError, match="min: shape"):
        Tensor(np.zeros((0, 2))).min(0)


@pytest.mark.parametrize("name", ["max", "min"])
def test_a_nan_extreme_sends_the_gradient_to_the_nan_elements(name: str) -> None:
    """Reference: PyTorch's rule written out by hand: the result is nan, nan matches nan, so
    the nan elements split the gradient evenly and the others get 0."""
    t = Tensor([1.0, np.nan, 2.0])
    getattr(t, name)().backward()
    assert t.grad.tolist() == [0.0, 1.0, 0.0]
    t2 = Tensor([[1.0, np.nan, np.nan, 2.0], [3.0, 1.0, 2.0, 0.0]])
    getattr(t2, name)(dim=1).sum().backward()
    row = [1.0, 0.0, 0.0, 0.0] if name == "max" else [0.0, 0.0, 0.0, 1.0]
    assert t2.grad.tolist() == [[0.0, 0.5, 0.5, 0.0], row]
    d = getattr(Dual(np.array([1.0, np.nan, 2.0]), np.array([1.0, 5.0, 1.0])), name)()
    assert d.tangent == 5.0  # the nan element's tangent


@pytest.mark.parametrize(("ddof", "axis"), [(0, None), (1, None), (0, 1), (2, 0)])
def test_var_std_against_numpy_and_hand_gradient(ddof: int, axis: int | None) -> None:
    x = np.array([[1.0, 4.0, -2.0], [0.5, 3.0, 7.0], [2.0, 2.5, -1.0]])
    t = Tensor(x.copy())
    v = t.var(axis=axis, ddof=ddof)
    np.testing.assert_allclose(v.data, np.var(x, axis=axis, ddof=ddof), rtol=1e-12)
    np.testing.assert_allclose(
        t.std(dim=axis, correction=ddof).data, np.std(x, axis=axis, ddof=ddof), rtol=1e-12
    )
    n = x.size if axis is None else x.shape[axis]
    mean = x.mean(axis=axis, keepdims=True)
    (g,) = grad(v.sum(), [t])
    np.testing.assert_allclose(g, 2 * (x - mean) / (n - ddof), rtol=1e-10)
    (gs,) = grad(t.std(axis=axis, ddof=ddof).sum(), [t])
    sd = np.std(x, axis=axis, ddof=ddof, keepdims=True)
    np.testing.assert_allclose(gs, (x - mean) / ((n - ddof) * sd), rtol=1e-10)


def test_var_edges_and_argument_errors() -> None:
    t = Tensor(np.array([1.0, 2.0, 3.0]))
    with np.errstate(all="ignore"):
        assert t.var(ddof=3).data == math.inf  # numpy: sum / max(n - ddof, 0) = 2 / 0
        assert math.isnan(Tensor(np.array([2.0, 2.0])).var(ddof=2).data)
    with pytest.raises(TypeError, match=r"var: got both ddof= .* and correction="):
        t.var(ddof=1, correction=1)
    with pytest.raises(TypeError, match=r"std: got both axis= .* and dim="):
        t.std(axis=0, dim=0)


def test_std_second_derivative_against_central_differences() -> None:
    x = np.array([0.3, -1.2, 2.0, 0.7])
    t = Tensor(x.copy())
    (g,) = grad(t.std(ddof=1), [t], create_graph=True)
    (h0,) = grad(g[0], [t])
    expected = central_gradient(
        lambda z: float((np.asarray(z)[0] - np.mean(z)) / ((len(z) - 1) * np.std(z, ddof=1))),
        list(x),
    )
    np.testing.assert_allclose(h0, expected, rtol=1e-6)


def test_norm_values_gradient_and_zero() -> None:
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    t = Tensor(x.copy())
    n = t.norm(dim=1)
    assert n.data.tolist() == [5.0, 0.0]
    n.sum().backward()
    assert t.grad.tolist() == [[0.6, 0.8], [0.0, 0.0]]  # PyTorch: 0 at the zero vector
    z = Tensor(np.zeros(3))
    (gz,) = grad(z.norm(), [z], create_graph=True)
    (hz,) = grad((gz * np.array([1.0, 2.0, 3.0])).sum(), [z])
    assert hz.tolist() == [0.0, 0.0, 0.0]  # no second derivative at 0: 0, as relu's at its kink
    np.testing.assert_allclose(Tensor(x).norm().data, np.linalg.norm(x), rtol=1e-15)
    v = Tensor(np.array([1.0, -2.0, 2.0]))
    (g,) = grad(v.norm(), [v], create_graph=True)
    (h,) = grad(g[0], [v])  # d/dx (x0/|x|) = (e0 - x0 x/|x|^2) / |x|
    np.testing.assert_allclose(h, (np.eye(3)[0] - v.data[0] * v.data / 9) / 3, rtol=1e-12)
    with pytest.raises(ValueError, match="norm: only the L2 norm"):
        t.norm(1)
    with pytest.raises(ValueError, match="norm: only the L2 norm"):
        t.norm(2)  # over two axes numpy's ord=2 is the spectral norm


def test_argmax_argmin_plain_arrays() -> None:
    x = np.array([[1.0, 7.0, 7.0], [-3.0, 0.0, -3.0]])
    t = Tensor(x)
    assert t.argmax() == np.argmax(x) and t.argmin() == np.argmin(x)
    assert t.argmax(dim=1).tolist() == [1, 1]  # the first of equal ones
    assert t.argmin(dim=1, keepdim=True).tolist() == [[0], [0]]
    assert isinstance(t.argmax(0), np.ndarray)


def test_shapes_as_pytorch() -> None:
    t = Tensor(np.arange(24.0).reshape(2, 1, 3, 4))
    assert t.flatten().data.shape == (24,)
    assert t.flatten(1).data.shape == (2, 12)
    assert t.flatten(start_dim=1, end_dim=2).data.shape == (2, 3, 4)
    assert Tensor(np.array(5.0)).flatten().data.shape == (1,)
    assert t.squeeze().data.shape == (2, 3, 4)
    assert t.squeeze(dim=0).data.shape == (2, 1, 3, 4)  # not of length 1: kept, as PyTorch
    assert t.squeeze(1).data.shape == (2, 3, 4)
    assert t.unsqueeze(-1).data.shape == (2, 1, 3, 4, 1)
    assert t.unsqueeze(0).data.shape == (1, 2, 1, 3, 4)
    assert t.expand_dims((0, 2)).data.shape == (1, 2, 1, 1, 3, 4)
    y = (t.flatten(2) * np.arange(12.0)).sum()
    y.backward()
    assert t.grad.tolist() == np.broadcast_to(np.arange(12.0).reshape(3, 4), t.data.shape).tolist()
    with pytest.raises(ValueError, match="flatten: start_dim 2 comes after end_dim 1"):
        t.flatten(2, 1)
    with pytest.raises(ValueError, match=r"unsqueeze|expand_dims"):
        t.unsqueeze(6)


def test_numpy_functions_on_tensors() -> None:
    x = np.array([[1.0, 5.0, 3.0], [2.0, 0.5, 0.25]])
    t = Tensor(x.copy())
    for ours, theirs in (
        (np.min(t, axis=0), np.min(x, axis=0)),
        (np.amin(t), np.amin(x)),
        (np.prod(t, axis=1), np.prod(x, axis=1)),
        (np.var(t, ddof=1), np.var(x, ddof=1)),
        (np.std(t, axis=0), np.std(x, axis=0)),
        (np.linalg.norm(t, axis=1), np.linalg.norm(x, axis=1)),
        (np.squeeze(np.expand_dims(t, 0), axis=0), x),
    ):
        assert ours.op is not None  # recorded into the graph
        np.testing.assert_allclose(ours.data, theirs, rtol=1e-14)
    assert np.argmax(t, axis=1).tolist() == [1, 0]
    assert np.argmin(t) == 5
    with pytest.raises(ValueError, match=r"np.squeeze: axis 0"):
        np.squeeze(t, axis=0)


def _program(t: Tensor) -> Any:
    return (
        t.prod(1).sum()
        + t.min(0).sum()
        + t.var(1, ddof=1).sum()
        + t.std().sum()
        + t.norm(dim=0).sum()
        + t.flatten().sum()
        + t.unsqueeze(0).squeeze().sum()
    )


@pytest.mark.parametrize(
    "x", [[[1.0, 0.0, 3.0], [2.0, 5.0, 0.5]], [[0.0, 0.0, 1.0], [0.0, 2.0, 2.0]]]
)
def test_generated_code_bit_for_bit(x: list[list[float]]) -> None:
    t = Tensor(np.array(x))
    out = _program(t)
    value, grads = run_module(backward_code(out, [t]))(t.data)
    assert same(value, out.data)
    assert same(list(grads), grad(out, [t]))


def test_step_table_shows_the_reductions() -> None:
    """Reference: the op each method records, with its axis (hand-written here)."""
    t = Tensor(np.array([[1.0, 2.0], [3.0, 0.0]]), label="x")
    table = format_backward_steps(t.prod(dim=1).sum() + t.min(0).sum() + t.norm(dim=1).sum())
    for shown in ("prod(x, axis=(1,))", "min(x, axis=(0,))", "norm(x, axis=(1,))"):
        assert shown in table, shown


def test_var_tangent_in_forward_mode() -> None:
    """Reference: d var = 2 (x - mean) . v / (n - ddof), worked out by hand."""
    x, v = np.array([1.0, 4.0, -2.0, 0.5]), np.array([0.3, -1.0, 2.0, 0.25])
    d = Dual(x.copy(), tangent=v)
    expected = 2 * (x - x.mean()) @ v / 3
    assert math.isclose(d.var(ddof=1).tangent, expected, rel_tol=1e-12)
    sd = np.std(x, ddof=1)
    assert math.isclose(d.std(correction=1).tangent, expected / (2 * sd), rel_tol=1e-12)
