"""Optimizer steps on parameters larger than `BLOCKS_ABOVE`, which are updated block by block
through a small scratch buffer (engine/blockwise.py), against their closed forms computed
here with numpy on whole arrays: the same numbers bit for bit, whatever the sizes, layouts,
dtypes and numpy error states; and no temporary of the parameter's size.

Reference everywhere: PyTorch's SGD rule written out with numpy arrays in the test
(g = grad + wd p; buf = g, then buf = momentum buf + g; p = p - lr buf), each operation
rounded by numpy in the parameter's dtype, as `p -= lr * g` rounds.
"""

from __future__ import annotations

import math
import tracemalloc
import warnings
from typing import Any

import numpy as np
import pytest

from autograd_lite import StaleDataError, Tensor
from autograd_lite.engine.blockwise import BLOCK_BYTES, BLOCKS_ABOVE, blocks_allowed
from autograd_lite.nn import SGD, Adam


def _shape(dtype: Any) -> tuple[int, int]:
    """A 2-D shape of more than BLOCKS_ABOVE bytes whose size is no multiple of a block."""
    itemsize = np.dtype(dtype).itemsize
    rows = BLOCKS_ABOVE // itemsize // 401 + 3
    size, block = rows * 401, BLOCK_BYTES // itemsize
    assert size * itemsize > BLOCKS_ABOVE and size % block != 0
    return rows, 401


def _sgd_closed_form(p0: Any, grads: list[Any], lr: float, momentum: float, wd: float) -> Any:
    """PyTorch's SGD rule on plain numpy arrays, step by step."""
    p, buf = p0.copy(), None
    for grad in grads:
        g = grad + wd * p if wd else grad
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + g
            g = buf
        p -= lr * g
    return p


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("momentum", "wd"), [(0.0, 0.0), (0.9, 0.0), (0.0, 0.01), (0.9, 0.01)])
def test_sgd_in_blocks_is_the_closed_form_bit_for_bit(
    dtype: Any, momentum: float, wd: float
) -> None:
    """Three steps with new gradients each time (momentum's first step and later ones)."""
    rng = np.random.default_rng(5)
    shape = _shape(dtype)
    p0 = rng.standard_normal(shape).astype(dtype)
    grads = [rng.standard_normal(shape).astype(dtype) for _ in range(3)]
    p = Tensor(p0, dtype=dtype, label="W")
    opt = SGD([p], lr=0.1, momentum=momentum, weight_decay=wd)
    for g in grads:
        p.grad = g
        opt.step()
    want = _sgd_closed_form(p0, grads, 0.1, momentum, wd)
    assert p.dtype == dtype
    np.testing.assert_array_equal(p.data, want)
    np.testing.assert_array_equal(p.grad, grads[-1])  # the gradient is left as it was


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layouts_the_blocks_do_not_take_give_the_same_numbers(dtype: Any) -> None:
    """A Fortran-ordered parameter, a transposed gradient, a gradient that is the parameter's
    own array, and one that is a reversed view of it: each computed as numpy computes the
    whole-array step (the gradient read whole before the parameter is written)."""
    rng = np.random.default_rng(6)
    rows, cols = _shape(dtype)
    p0 = rng.standard_normal((rows, cols)).astype(dtype)
    g0 = rng.standard_normal((rows, cols)).astype(dtype)
    lr = 0.25
    cases = {
        "Fortran-ordered parameter": (np.asfortranarray(p0), g0, p0 - lr * g0),
        "transposed gradient": (p0, np.ascontiguousarray(g0.T).T, p0 - lr * g0),
        "gradient = its own data": (p0, None, p0 - lr * p0),
        "gradient = its data reversed": (p0, "reversed", p0 - lr * p0[::-1]),
    }
    for name, (start, grad, want) in cases.items():
        p = Tensor(start, dtype=dtype)
        if grad is None:
            p.grad = p.data
        elif isinstance(grad, str):
            p.grad = p.data[::-1]
        else:
            p.grad = grad
        SGD([p], lr=lr).step()
        np.testing.assert_array_equal(p.data, want, err_msg=name)


def test_a_step_in_blocks_stamps_keeps_read_only_and_writes_in_place() -> None:
    """Like every step: a graph built before is stale, the array stays read-only, and a view
    taken before shows the new numbers. Reference: d/dW sum(W * W) = 2W, so W(1 - 2 lr)."""
    w0 = np.random.default_rng(7).standard_normal(_shape(np.float64))
    w = Tensor(w0, label="W")
    loss = (w * w).sum()
    loss.backward()
    kept = w.data
    SGD([w], lr=0.125).step()  # 0.125 * 2 = 0.25: (1 - 0.25) w exactly, with lr * g exact
    np.testing.assert_array_equal(w.data, w0 - 0.125 * (2 * w0))
    np.testing.assert_array_equal(kept, w.data)
    with pytest.raises(StaleDataError, match="Tensor 'W'"):
        loss.backward()
    with pytest.raises(ValueError, match="read-only"):
        w.data[0, 0] = 1.0


@pytest.mark.parametrize("name", ["SGD", "SGD momentum", "Adam", "Adam weight_decay"])
def test_a_step_makes_no_temporary_of_the_parameters_size(name: str) -> None:
    """The point of the blocks: the memory a step allocates is the scratch buffer (made at
    the first step, with the optimizer's state, then reused), not arrays of the parameter's
    size (it was: `lr * g`, and Adam's four temporaries)."""
    shape = _shape(np.float64)
    p = Tensor(np.ones(shape))
    opt = {
        "SGD": lambda: SGD([p], lr=0.5),
        "SGD momentum": lambda: SGD([p], lr=0.5, momentum=0.5),
        "Adam": lambda: Adam([p], lr=0.5),
        "Adam weight_decay": lambda: Adam([p], lr=0.5, weight_decay=0.1),
    }[name]()
    p.grad = np.full(shape, 2.0)
    opt.step()  # the scratch buffer and the optimizer's state are made here
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        opt.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert p.data.nbytes > BLOCKS_ABOVE
    assert peak < BLOCKS_ABOVE // 4, peak
    if name == "SGD":
        np.testing.assert_array_equal(p.data, np.full(shape, -1.0))  # 1 - 0.5 * 2, twice


def test_numpy_errors_come_before_the_write_as_on_whole_arrays() -> None:
    """An overflow in lr * g under np.errstate(over="raise"), or with RuntimeWarnings turned
    into errors, raises before anything is written (the step is on whole arrays, as numpy's
    `p -= lr * g`): the parameter and its graph are as they were. Under numpy's default it
    warns and gives numpy's numbers (inf). Reference: 1e308 * 10 overflows float64."""
    shape = _shape(np.float64)
    grad = np.zeros(shape)
    grad[-1, -1] = 1e308  # in the last block
    for context in ("errstate", "filter"):
        p = Tensor(np.ones(shape), label="W")
        loss = (p * 1.0).sum()
        p.grad = grad
        with (
            warnings.catch_warnings(),
            np.errstate(over="raise" if context == "errstate" else "warn"),
        ):
            warnings.simplefilter("error", RuntimeWarning)
            with pytest.raises((FloatingPointError, RuntimeWarning), match="overflow"):
                SGD([p], lr=10.0).step()
        np.testing.assert_array_equal(p.data, np.ones(shape), err_msg=context)
        loss.backward()  # not stale: nothing was written
    p = Tensor(np.ones(shape))
    p.grad = grad
    with pytest.warns(RuntimeWarning, match="overflow encountered in multiply"):
        SGD([p], lr=10.0).step()
    with np.errstate(over="ignore"):
        want = np.ones(shape) - 10.0 * grad
    np.testing.assert_array_equal(p.data, want)
    assert np.isneginf(p.data[-1, -1])


def _adam_closed_form(
    p0: Any, grads: list[Any], lr: float, betas: tuple[float, float], eps: float, wd: float
) -> Any:
    """Adam's rule (the class docstring's) on whole numpy arrays, rounded operation by
    operation as `Adam._delta` computes it: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g g;
    p -= (m / (sqrt(v) * (1 / sqrt(c2)) + eps)) * (lr / c1)."""
    b1, b2 = betas
    p, m, v = p0.copy(), np.zeros_like(p0), np.zeros_like(p0)
    for t, grad in enumerate(grads, start=1):
        g = grad + wd * p if wd else grad
        m = m * b1 + (1.0 - b1) * g
        v = v * b2 + (1.0 - b2) * (g * g)
        c1, c2 = 1.0 - b1**t, 1.0 - b2**t
        p -= (m / (np.sqrt(v) * (1.0 / math.sqrt(c2)) + eps)) * (lr / c1)
    return p


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("wd", [0.0, 0.01])
def test_adam_in_blocks_is_the_closed_form_bit_for_bit(dtype: Any, wd: float) -> None:
    """Three steps (the bias corrections change each step); with weight decay the block
    needs a second scratch array."""
    rng = np.random.default_rng(8)
    shape = _shape(dtype)
    p0 = rng.standard_normal(shape).astype(dtype)
    grads = [rng.standard_normal(shape).astype(dtype) for _ in range(3)]
    p = Tensor(p0, dtype=dtype)
    opt = Adam([p], lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=wd)
    for g in grads:
        p.grad = g
        opt.step()
    want = _adam_closed_form(p0, grads, 0.01, (0.8, 0.99), 1e-6, wd)
    np.testing.assert_array_equal(p.data, want)
    assert opt._steps == [3]


def test_adam_counts_a_step_once_when_its_arrays_do_not_take_blocks() -> None:
    """A Fortran-ordered parameter steps on whole arrays; its step count (the bias
    corrections) is the same as in blocks. Reference: the closed form above."""
    rng = np.random.default_rng(9)
    shape = _shape(np.float64)
    p0 = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(2)]
    p = Tensor(np.asfortranarray(p0))
    opt = Adam([p], lr=0.01)
    for g in grads:
        p.grad = g
        opt.step()
    np.testing.assert_array_equal(
        p.data, _adam_closed_form(p0, grads, 0.01, (0.9, 0.999), 1e-8, 0.0)
    )
    assert opt._steps == [2]


@pytest.mark.parametrize(
    ("category", "allowed"),
    [(None, True), (DeprecationWarning, True), (RuntimeWarning, False), (Warning, False)],
)
def test_blocks_are_refused_exactly_when_a_filter_makes_runtimewarnings_errors(
    category: type[Warning] | None, allowed: bool
) -> None:
    """Reference: the rule itself, written out: an "error" filter whose category is
    RuntimeWarning or one of its bases (Warning) turns numpy's warnings into errors; one for
    another category does not. The filter is put into the list directly too, as a user may."""
    for direct in (False, True):
        with warnings.catch_warnings():
            warnings.resetwarnings()
            if category is not None:
                if direct:
                    warnings.filters.insert(0, ("error", None, category, None, 0))
                else:
                    warnings.simplefilter("error", category)
            warnings.simplefilter("ignore", UserWarning)  # another action, before it
            assert blocks_allowed() is allowed, (category, direct)
