"""SGD and Adam against their update formulas, applied by hand here with plain floats.

Problem: f(p) = sum_i a_i (p_i - c_i)^2, whose gradient 2 a_i (p_i - c_i) the test also
computes by hand; three steps of each optimizer must agree to 1e-12.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest

from autograd_lite import Value
from autograd_lite.nn import MLP, SGD, Adam

A = [1.5, 0.5]
C = [2.0, -1.0]
P0 = [0.3, 0.8]


def quadratic(ps: list[Value]) -> Value:
    total = A[0] * (ps[0] - C[0]) ** 2
    for a, p, c in zip(A[1:], ps[1:], C[1:]):
        total = total + a * (p - c) ** 2
    return total


def hand_grad(ps: list[float]) -> list[float]:
    return [2 * a * (p - c) for a, p, c in zip(A, ps, C)]


def run(opt_cls: type[SGD] | type[Adam], steps: int = 3, **kw: object) -> list[list[float]]:
    ps = [Value(p) for p in P0]
    opt = opt_cls(ps, **kw)  # type: ignore[arg-type]
    path = []
    for _ in range(steps):
        opt.zero_grad()
        quadratic(ps).backward()
        opt.step()
        path.append([p.data for p in ps])
    return path


@pytest.mark.parametrize(
    ("lr", "momentum", "wd"), [(0.1, 0.0, 0.0), (0.05, 0.9, 0.0), (0.05, 0.9, 0.1), (0.2, 0, 0.3)]
)
def test_sgd_three_steps(lr: float, momentum: float, wd: float) -> None:
    # PyTorch's rule: g = grad + wd p; buf = g (first) or momentum buf + g; p -= lr buf
    got = run(SGD, lr=lr, momentum=momentum, weight_decay=wd)
    ps = list(P0)
    bufs: list[float | None] = [None, None]
    for step in range(3):
        gs = hand_grad(ps)
        for i in range(2):
            g = gs[i] + wd * ps[i]
            if momentum:
                b = bufs[i]
                g = g if b is None else momentum * b + g
                bufs[i] = g
            ps[i] = ps[i] - lr * g
        assert got[step] == pytest.approx(ps, abs=1e-12, rel=0)


@pytest.mark.parametrize(
    ("lr", "betas", "eps", "wd"),
    [(0.1, (0.9, 0.999), 1e-8, 0.0), (0.05, (0.8, 0.99), 1e-3, 0.01), (0.3, (0.0, 0.5), 1e-12, 0)],
)
def test_adam_three_steps(lr: float, betas: tuple[float, float], eps: float, wd: float) -> None:
    # Kingma & Ba / PyTorch: bias-corrected moments, p -= lr m_hat / (sqrt(v_hat) + eps)
    got = run(Adam, lr=lr, betas=betas, eps=eps, weight_decay=wd)
    b1, b2 = betas
    ps, m, v = list(P0), [0.0, 0.0], [0.0, 0.0]
    for t in range(1, 4):
        gs = hand_grad(ps)
        for i in range(2):
            g = gs[i] + wd * ps[i]
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g**2
            m_hat = m[i] / (1 - b1**t)
            v_hat = v[i] / (1 - b2**t)
            ps[i] = ps[i] - lr * m_hat / (math.sqrt(v_hat) + eps)
        assert got[t - 1] == pytest.approx(ps, abs=1e-12, rel=0)


def test_adam_first_step_moves_each_parameter_by_about_lr() -> None:
    # with bias correction, step 1 is lr * g / (|g| + eps): a known property of Adam
    got = run(Adam, steps=1, lr=0.01)
    for p0, p1, g in zip(P0, got[0], hand_grad(P0)):
        # exact up to the rounding of p0 - p1 (p0 ~ 0.5, step 0.01: about 1e-14 relative)
        assert p0 - p1 == pytest.approx(0.01 * g / (abs(g) + 1e-8), rel=1e-12)


def test_step_updates_data_only_and_zero_grad_resets() -> None:
    model = MLP(2, [3, 1], rng=0)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.5)
    model.scalar([1.0, -1.0]).backward()
    opt.step()
    assert all(p.is_leaf and isinstance(p.data, float) for p in model.parameters())
    assert any(p.grad != 0 for p in model.parameters())
    opt.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_validation() -> None:
    p = [Value(1.0)]
    bad: list[tuple[object, str]] = [
        (lambda: SGD(p, lr=0), "lr must be a finite number > 0"),
        (lambda: SGD(p, lr=-0.1), "lr must be"),
        (lambda: SGD(p, lr=math.nan), "lr must be"),
        (lambda: SGD(p, lr=0.1, momentum=-0.5), "momentum must be a finite number >= 0"),
        (lambda: SGD(p, lr=0.1, weight_decay=-1), "weight_decay"),
        (lambda: Adam(p, lr=0), "lr must be"),
        (lambda: Adam(p, betas=(0.9, 1.0)), "betas\\[1\\] must be a finite number >= 0 and < 1"),
        (lambda: Adam(p, betas=(-0.1, 0.9)), "betas\\[0\\]"),
        (lambda: Adam(p, betas=(0.9,)), "pair"),  # type: ignore[arg-type]
        (lambda: Adam(p, eps=-1e-8), "eps"),
        (lambda: SGD([], lr=0.1), "empty parameter list"),
        (lambda: SGD(p + p, lr=0.1), "more than once"),
    ]
    for make, msg in bad:
        with pytest.raises(ValueError, match=msg):
            make()  # type: ignore[operator]
    with pytest.raises(TypeError, match="params\\[1\\] must be a Value"):
        SGD([Value(1.0), 2.0], lr=0.1)  # type: ignore[list-item]
    with pytest.raises(TypeError, match="iterable of Values"):
        Adam(Value(1.0))  # type: ignore[arg-type]


def test_adam_rejects_eps_zero() -> None:
    # With eps = 0 a parameter whose gradient has always been 0 would divide 0 by 0 mid-step.
    with pytest.raises(ValueError, match="eps must be a finite number > 0"):
        Adam([Value(1.0)], eps=0.0)


def test_hyper_parameters_follow_the_package_number_rule() -> None:
    # numbers.Real and bools (as 0 and 1), converted exactly to the floats written here
    p = [Value(1.0)]
    sgd = SGD(p, lr=Fraction(1, 8), momentum=np.float32(0.5), weight_decay=False)
    assert (sgd.lr, sgd.momentum, sgd.weight_decay) == (0.125, 0.5, 0.0)
    adam = Adam(p, lr=True, betas=[Fraction(1, 2), np.float64(0.75)], eps=Fraction(1, 1024))
    assert (adam.lr, adam.betas, adam.eps) == (1.0, (0.5, 0.75), 1 / 1024)


def test_hyper_parameter_errors_name_the_optimizer_and_the_argument() -> None:
    p = [Value(1.0)]
    cases: list[tuple[Callable[[], object], type[Exception], str]] = [
        (lambda: SGD(p, lr="0.1"), TypeError, r"SGD: lr: expected a real number.*got str: '0.1'"),
        (lambda: Adam(p, eps=None), TypeError, "Adam: eps: expected a real number"),
        (lambda: SGD(p, lr=10**400), OverflowError, r"SGD: lr: int of about 10\*\*400 is too"),
        (lambda: Adam(p, betas={0.9, 0.99}), TypeError, "Adam: betas must be a pair.*no order"),
        (lambda: Adam(p, betas=(0.9, 0.99, 0.9)), ValueError, "betas must be a pair.*got 3"),
        (lambda: SGD(p, lr=math.inf), ValueError, "SGD: lr must be a finite number > 0, got inf"),
        (lambda: SGD(set(p), lr=0.1), TypeError, "SGD: params must be .*a set is not accepted"),
        (lambda: SGD({"w": p[0]}, lr=0.1), TypeError, "SGD: params .*a dict is not accepted"),
    ]
    for make, exc, msg in cases:
        with pytest.raises(exc, match=msg) as info:
            make()
        assert "0000000000" not in str(info.value)
