"""An optimizer step that numpy interrupts (an overflow under `np.errstate(over="raise")`,
or a RuntimeWarning filtered into an error) changes nothing: no parameter (main wrote the
ones before the one that overflowed), and no optimizer state (main had already taken SGD's
momentum and Adam's moments and step counts, so the step taken again after fixing the
gradient gave other numbers than one step from the start).

Reference: the update rules (PyTorch's SGD and Adam) written out in numpy on copies, one
step from the start, and the parameters' original arrays.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

from autograd_lite import StaleDataError, Tensor, Value
from autograd_lite.nn import SGD, Adam

Array = np.ndarray[Any, Any]
SMALL, LARGE = (3, 4), (400, 401)  # the large one is over 1 MiB in float64: steps in blocks


@contextmanager
def raising(how: str) -> Iterator[None]:
    """numpy errors raise: by its error state, or by a warning filter."""
    with warnings.catch_warnings(), np.errstate(all="raise" if how == "errstate" else "warn"):
        warnings.simplefilter("error", RuntimeWarning)
        yield


def _params(rng: np.random.Generator) -> tuple[list[Any], list[Any]]:
    """A small Tensor, a Value, then a large Tensor whose gradient overflows lr * g (its last
    element 1e308, times lr = 10), and their starting data and gradients."""
    data = [rng.standard_normal(SMALL), 0.5, rng.standard_normal(LARGE)]
    grads = [rng.standard_normal(SMALL), 0.25, rng.standard_normal(LARGE)]
    grads[2][-1, -1] = 1e308
    params: list[Any] = [Tensor(data[0]), Value(data[1]), Tensor(data[2])]
    for p, g in zip(params, grads):
        p.grad = g
    return params, [data, grads]


def _same_as(params: list[Any], data: list[Any]) -> None:
    for p, d in zip(params, data):
        np.testing.assert_array_equal(p.data, d)


@pytest.mark.parametrize("how", ["errstate", "filter"])
def test_an_interrupted_sgd_step_changes_no_parameter_and_no_momentum(how: str) -> None:
    rng = np.random.default_rng(1)
    params, (data, grads) = _params(rng)
    opt = SGD(params, lr=10.0, momentum=0.9, weight_decay=0.01)
    with raising(how), pytest.raises((FloatingPointError, RuntimeWarning), match="overflow"):
        opt.step()
    _same_as(params, data)  # main: the small Tensor and the Value were stepped
    grads[2][-1, -1] = 1.0  # the cause fixed: the step again is the first step
    params[2].grad = grads[2]
    with raising(how):
        opt.step()
    for p, d, g in zip(params, data, grads):
        # Reference: the first step, buf = g + wd p; p - lr buf
        want = np.subtract(d, 10.0 * (g + 0.01 * np.asarray(d)))
        np.testing.assert_array_equal(p.data, want)


@pytest.mark.parametrize("how", ["errstate", "filter"])
def test_an_interrupted_adam_step_keeps_its_moments_and_step_counts(how: str) -> None:
    """The overflow is in g * g (1e200 squared), after m was updated in place."""
    rng = np.random.default_rng(2)
    params, (data, grads) = _params(rng)
    grads[2][-1, -1] = 1e200
    params[2].grad = grads[2]
    opt = Adam(params, lr=0.01)
    with raising(how), pytest.raises((FloatingPointError, RuntimeWarning), match="overflow"):
        opt.step()
    _same_as(params, data)
    assert opt.t == 0 and opt._steps == [0, 0, 0]
    grads[2][-1, -1] = 1.0
    params[2].grad = grads[2]
    with raising(how):
        opt.step()
    for p, d, g in zip(params, data, grads):
        # Reference: Adam's first step, m = 0.1 g, v = 0.001 g g, c1 = 0.1, c2 = 0.001,
        # rounded as the optimizer computes it: (m / (sqrt(v) / sqrt(c2) + eps)) * (lr / c1)
        g = np.asarray(g, dtype=np.float64)
        m, v = (1.0 - 0.9) * g, (1.0 - 0.999) * (g * g)
        c1, c2 = 1.0 - 0.9, 1.0 - 0.999
        step = (m / (np.sqrt(v) * (1.0 / math.sqrt(c2)) + 1e-8)) * (0.01 / c1)
        np.testing.assert_array_equal(p.data, np.subtract(d, step))
    assert opt.t == 1 and opt._steps == [1, 1, 1]


def test_an_overflow_in_the_last_subtraction_writes_nothing_either() -> None:
    """p - lr g overflows (-1.5e308 - 1e308) in the second parameter, after the first
    one's update computed: neither is written, and a graph built before is not stale."""
    a0, b0 = np.full(SMALL, 2.0), np.full(LARGE, -1.5e308)
    a, b = Tensor(a0), Tensor(b0)
    loss = a.sum() + (b * 0.0).sum()
    a.grad, b.grad = np.ones(SMALL), np.full(LARGE, 1e307)
    with np.errstate(over="raise"), pytest.raises(FloatingPointError, match="overflow"):
        SGD([a, b], lr=10.0).step()
    _same_as([a, b], [a0, b0])
    loss.backward()  # not stale: nothing was written


def test_a_step_computed_aside_writes_in_place_and_stamps() -> None:
    """Where numpy may raise but nothing does, the step is the rule's numbers (float32:
    rounded in the parameter's dtype), written into the parameter's own array (a view taken
    before shows them), and graphs built before are stale. Reference: p - lr g in numpy."""
    rng = np.random.default_rng(3)
    p0 = rng.standard_normal(LARGE).astype(np.float32)
    g = rng.standard_normal(LARGE).astype(np.float32)
    p = Tensor(p0, dtype=np.float32, label="W")
    loss = (p * p).sum()
    kept = p.data
    p.grad = g
    with np.errstate(all="raise"):
        SGD([p], lr=0.1).step()
    np.testing.assert_array_equal(p.data, p0 - np.float32(0.1) * g)
    assert p.dtype == np.float32
    np.testing.assert_array_equal(kept, p.data)
    with pytest.raises(StaleDataError, match="Tensor 'W'"):
        loss.backward()


def test_each_step_reads_numpy_error_state_anew() -> None:
    """The step keeps the last numpy error state it read (to skip np.geterr while it is
    unchanged), so a state changed between steps, by np.seterr or np.errstate, inside or
    after a block, must still be seen: a step whose subtraction overflows (-1.5e308 - 1e308,
    after lr g computed) writes nothing where numpy raises, and writes numpy's -inf where it
    only warns. Reference: p - lr g in numpy."""
    p0 = np.full(SMALL, -1.5e308)
    p = Tensor(p0)
    opt = SGD([p], lr=10.0)
    p.grad = np.ones(SMALL)
    opt.step()  # under the default state: read, and kept
    after_one = p0 - 10.0
    p.grad = np.full(SMALL, 1e307)
    old = np.seterr(over="raise")
    try:
        with pytest.raises(FloatingPointError, match="overflow"):
            opt.step()
    finally:
        np.seterr(**old)
    _same_as([p], [after_one])
    with np.errstate(over="warn"):
        with np.errstate(over="raise"), pytest.raises(FloatingPointError, match="overflow"):
            opt.step()
        _same_as([p], [after_one])
        with pytest.warns(RuntimeWarning, match="overflow"):
            opt.step()  # the outer block's state again: it warns, and the step is written
    with np.errstate(over="ignore"):
        want = after_one - 10.0 * np.full(SMALL, 1e307)
    _same_as([p], [want])
    assert np.all(np.isneginf(want))
