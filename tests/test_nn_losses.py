"""Loss values and gradients against closed forms computed here in plain floats (math)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest

from autograd_lite import Value
from autograd_lite.nn import bce_with_logits, half_squared_error, hinge_loss, mse_loss


def values(xs: list[float]) -> list[Value]:
    return [Value(x) for x in xs]


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


PREDS = [0.2, -1.5, 3.0, 0.9]
TARGETS = [1.0, 0.5, 2.5, -0.4]


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_half_squared_error(reduction: str) -> None:
    # closed form: sum or mean of 1/2 (t - p)^2; d/dp = (p - t) (/ n for the mean)
    n = len(PREDS)
    div = n if reduction == "mean" else 1
    ps = values(PREDS)
    loss = half_squared_error(ps, TARGETS, reduction=reduction)  # type: ignore[arg-type]
    loss.backward()
    want = sum(0.5 * (t - p) ** 2 for p, t in zip(PREDS, TARGETS)) / div
    assert loss.data == pytest.approx(want, rel=1e-15)
    for v, p, t in zip(ps, PREDS, TARGETS):
        assert v.grad == pytest.approx((p - t) / div, rel=1e-15)


def test_half_squared_error_single_pair_is_the_documents_loss() -> None:
    y_hat = Value(0.595)
    loss = half_squared_error(y_hat, 1.0)
    loss.backward()
    assert loss.data == pytest.approx(0.5 * 0.405**2, rel=1e-15)
    assert y_hat.grad == pytest.approx(0.595 - 1.0, rel=1e-15)


def test_mse_loss() -> None:
    # closed form: mean (p - t)^2; d/dp = 2 (p - t) / n
    n = len(PREDS)
    ps = values(PREDS)
    loss = mse_loss(ps, TARGETS)
    loss.backward()
    assert loss.data == pytest.approx(
        sum((p - t) ** 2 for p, t in zip(PREDS, TARGETS)) / n, rel=1e-15
    )
    for v, p, t in zip(ps, PREDS, TARGETS):
        assert v.grad == pytest.approx(2 * (p - t) / n, rel=1e-14)
    want_sum = sum((p - t) ** 2 for p, t in zip(PREDS, TARGETS))
    assert mse_loss(values(PREDS), TARGETS, reduction="sum").data == pytest.approx(
        want_sum, rel=1e-15
    )


@pytest.mark.parametrize(
    ("z", "y"),
    [(-3.0, 0.0), (-0.5, 1.0), (0.0, 0.0), (0.0, 1.0), (0.0, 0.3), (0.7, 1.0), (4.0, 0.0),
     (2.0, 0.25), (-20.0, 1.0), (35.0, 0.0)],
)  # fmt: skip
def test_bce_with_logits_single(z: float, y: float) -> None:
    # closed form: -[y log s + (1-y) log(1-s)] = log(1 + e^z) - y z; d/dz = sigmoid(z) - y
    zv = Value(z)
    loss = bce_with_logits(zv, y)
    loss.backward()
    assert loss.data == pytest.approx(math.log1p(math.exp(z)) - y * z, rel=1e-13, abs=1e-15)
    assert zv.grad == pytest.approx(sigmoid(z) - y, rel=1e-12, abs=1e-15)


def test_bce_gradient_at_zero_is_one_half_minus_target() -> None:
    # the relu-built form max(z,0) - zy + log(1+e^-|z|) would give -y here
    zv = Value(0.0)
    bce_with_logits(zv, 1.0).backward()
    assert zv.grad == -0.5


def test_bce_with_logits_mean_over_batch() -> None:
    zs, ys = [-1.0, 0.5, 2.0], [0.0, 1.0, 1.0]
    vs = values(zs)
    loss = bce_with_logits(vs, ys)
    loss.backward()
    want = sum(math.log1p(math.exp(z)) - y * z for z, y in zip(zs, ys)) / 3
    assert loss.data == pytest.approx(want, rel=1e-14)
    for v, z, y in zip(vs, zs, ys):
        assert v.grad == pytest.approx((sigmoid(z) - y) / 3, rel=1e-13)


@pytest.mark.parametrize(
    ("z", "y", "value", "grad"),
    [(1000.0, 1.0, 0.0, 0.0), (1000.0, 0.0, 1000.0, 1.0),
     (-1000.0, 0.0, 0.0, 0.0), (-1000.0, 1.0, 1000.0, -1.0)],
)  # fmt: skip
def test_bce_with_logits_stays_finite_at_extremes(
    z: float, y: float, value: float, grad: float
) -> None:
    # limits: loss -> max(z,0) - zy, gradient -> step(z) - y
    zv = Value(z)
    loss = bce_with_logits(zv, y)
    loss.backward()
    assert math.isfinite(loss.data) and math.isfinite(zv.grad)
    assert loss.data == pytest.approx(value, abs=1e-12)
    assert zv.grad == pytest.approx(grad, abs=1e-12)


def test_hinge_loss() -> None:
    # closed form: mean max(0, 1 - y s); d/ds = -y/n where 1 - y s > 0, else 0
    ss, ys = [0.3, -2.0, 1.5, -0.2, 0.8], [1.0, -1.0, -1.0, 1.0, -1]
    vs = values(ss)
    loss = hinge_loss(vs, ys)
    loss.backward()
    n = len(ss)
    assert loss.data == pytest.approx(
        sum(max(0.0, 1 - y * s) for s, y in zip(ss, ys)) / n, rel=1e-15
    )
    for v, s, y in zip(vs, ss, ys):
        assert v.grad == pytest.approx(-y / n if 1 - y * s > 0 else 0.0, rel=1e-15)


def test_targets_may_be_values() -> None:
    p, t = Value(0.3), Value(1.0)
    half_squared_error(p, t).backward()
    assert t.grad == pytest.approx(1.0 - 0.3, rel=1e-15)  # d/dt 1/2 (p - t)^2 = t - p
    s, y = Value(0.3), Value(-1.0)
    hinge_loss(s, y).backward()
    assert s.grad == 1.0
    z, yb = Value(0.5), Value(0.2)
    bce_with_logits(z, yb).backward()
    assert z.grad == pytest.approx(sigmoid(0.5) - 0.2, rel=1e-15)  # sigmoid(z) - y
    assert yb.grad == pytest.approx(-0.5, rel=1e-15)  # d/dy (softplus(z) - z y) = -z


def test_number_predictions_still_give_a_value() -> None:
    loss = mse_loss([1.0, 2.0], [0.0, 0.0])
    assert isinstance(loss, Value) and loss.data == 2.5


@pytest.mark.parametrize("f", [half_squared_error, mse_loss, bce_with_logits, hinge_loss])
def test_validation(f: Callable[..., Value]) -> None:
    with pytest.raises(ValueError, match="got 2 predictions and 3 targets"):
        f(values([0.1, 0.2]), [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="at least one"):
        f([], [])
    with pytest.raises(ValueError, match="reduction"):
        f(values([0.1]), [1.0], reduction="max")
    with pytest.raises(TypeError, match=r"model\.scalar"):
        f([[Value(0.1)]], [1.0])
    with pytest.raises(TypeError, match="targets\\[0\\]"):
        f(values([0.1]), ["1"])


def test_target_ranges() -> None:
    with pytest.raises(ValueError, match=r"in \[0, 1\]; targets\[1\] is -1\.0"):
        bce_with_logits(values([0.1, 0.2]), [1.0, -1.0])
    with pytest.raises(ValueError, match=r"-1 or \+1; targets\[0\] is 0\.0"):
        hinge_loss(values([0.1, 0.2]), [0.0, 1.0])


# Issue 15, item 6: every loss answers a NaN prediction alike, NaN loss and NaN gradient for
# it (PyTorch's behaviour); bce_with_logits used to raise log's DomainError. The other
# element keeps its closed-form gradient, written out here per loss (targets are 1).
LOSSES = [half_squared_error, mse_loss, bce_with_logits, hinge_loss]
OTHER_GRAD = {  # d loss / d p at p = 0.3, t = 1, before the reduction
    "half_squared_error": 0.3 - 1.0,
    "mse_loss": 2 * (0.3 - 1.0),
    "bce_with_logits": sigmoid(0.3) - 1.0,
    "hinge_loss": -1.0,  # 1 - 0.3 > 0
}


@pytest.mark.parametrize("f", LOSSES)
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_nan_prediction_gives_nan_in_every_loss(f: Callable[..., Value], reduction: str) -> None:
    ps, ts = values([math.nan, 0.3]), [Value(1.0), 1.0]
    loss = f(ps, ts, reduction=reduction)
    loss.backward()
    assert math.isnan(loss.data)
    assert math.isnan(ps[0].grad) and math.isnan(ts[0].grad)  # type: ignore[union-attr]
    div = 2 if reduction == "mean" else 1
    assert ps[1].grad == pytest.approx(OTHER_GRAD[f.__name__] / div, rel=1e-15)


@pytest.mark.parametrize("f", LOSSES)
def test_nan_number_prediction_gives_nan(f: Callable[..., Value]) -> None:
    assert math.isnan(f(math.nan, 1.0).data)
    assert math.isnan(f(np.float64("nan"), 1).data)


INF = math.inf


# The limits as the prediction goes to +-inf, worked out by hand from each closed form:
# 1/2 (p - t)^2 and (p - t)^2 -> inf with slope +-inf; hinge max(0, 1 - y s) -> 0 on the
# right side, inf with slope -y on the wrong one; bce softplus(z) - y z -> z (1 - y) for
# z -> inf and -z y for z -> -inf: 0 where y is 1 (resp. 0), else inf; slope step(z) - y.
@pytest.mark.parametrize(
    ("f", "p", "t", "value", "grad"),
    [(half_squared_error, INF, 1.0, INF, INF), (half_squared_error, -INF, 1.0, INF, -INF),
     (mse_loss, INF, 1.0, INF, INF), (mse_loss, -INF, 1.0, INF, -INF),
     (hinge_loss, INF, 1.0, 0.0, 0.0), (hinge_loss, -INF, 1.0, INF, -1.0),
     (hinge_loss, INF, -1.0, INF, 1.0), (hinge_loss, -INF, -1.0, 0.0, 0.0),
     (bce_with_logits, INF, 1.0, 0.0, 0.0), (bce_with_logits, INF, 0.0, INF, 1.0),
     (bce_with_logits, INF, 0.25, INF, 0.75), (bce_with_logits, -INF, 0.0, 0.0, 0.0),
     (bce_with_logits, -INF, 1.0, INF, -1.0), (bce_with_logits, -INF, 0.25, INF, -0.25)],
)  # fmt: skip
def test_infinite_prediction_gives_the_limit(
    f: Callable[..., Value], p: float, t: float, value: float, grad: float
) -> None:
    pv = Value(p)
    loss = f(pv, t)
    loss.backward()
    assert loss.data == value
    assert pv.grad == grad


@pytest.mark.parametrize("f", LOSSES)
def test_nan_targets_are_nan_or_refused_by_the_targets_range(f: Callable[..., Value]) -> None:
    # a NaN target is outside [0, 1] and outside {-1, +1}; squared errors have no range
    if f in (bce_with_logits, hinge_loss):
        with pytest.raises(
            ValueError, match=rf"{f.__name__}: targets must be .*targets\[1\] is nan"
        ):
            f(values([0.1, 0.2]), [1.0, math.nan])
    else:
        assert math.isnan(f(values([0.1, 0.2]), [1.0, math.nan]).data)


# Issue 15, item 11: predictions and targets are one number or Value, or an ordered sequence.
@pytest.mark.parametrize("f", LOSSES)
@pytest.mark.parametrize(
    ("bad", "why"),
    [({0: 0.5, 1: 1.0}, "a dict is not accepted: iterating over it gives its keys"),
     ({0.5, 1.0}, "a set is not accepted: it has no order"),
     ("01", "a str is not accepted: its items are characters"),
     (b"\x00\x01", "a bytes is not accepted: its items are characters"),
     (np.ones((2, 1)), "a numpy array must be 1-d here")],
)  # fmt: skip
def test_sequence_arguments_must_be_ordered_numbers(
    f: Callable[..., Value], bad: object, why: str
) -> None:
    accepted = "must be a Value, a number or a list, tuple or 1-d numpy array"
    fn = f.__name__
    with pytest.raises(TypeError, match=re.escape(f"{fn}: predictions {accepted}") + ".*" + why):
        f(bad, [1.0, 1.0])
    with pytest.raises(TypeError, match=re.escape(f"{fn}: targets {accepted}") + ".*" + why):
        f(values([0.5, 0.5]), bad)


@pytest.mark.parametrize("f", LOSSES)
def test_huge_ints_are_refused_without_printing_them(f: Callable[..., Value]) -> None:
    for call, where in [
        (lambda: f([10**400], [1]), r"predictions\[0\]"),
        (lambda: f(-(10**400), 1), "predictions"),
        (lambda: f([0.5], [10**400]), r"targets\[0\]"),
    ]:
        with pytest.raises(OverflowError, match=f"{f.__name__}: {where}: int of about 10") as e:
            call()
        assert "0000000000" not in str(e.value)


def test_bools_and_fractions_are_numbers() -> None:
    # closed forms: bce(0, y) = log 2 for any y; hinge(1/2, +1) = 1/2; mse(1/4, 0) = 1/16
    assert bce_with_logits(False, True).data == pytest.approx(math.log(2), rel=1e-15)
    assert hinge_loss(Fraction(1, 2), True).data == 0.5
    assert mse_loss([Fraction(1, 4)], [np.bool_(False)]).data == 0.0625
