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
        (lambda: SGD(p, lr=-0.1), "lr must be a finite number >= 0"),
        (lambda: SGD(p, lr=math.nan), "lr must be"),
        (lambda: SGD(p, lr=0.1, momentum=-0.5), "momentum must be a finite number >= 0"),
        (lambda: SGD(p, lr=0.1, weight_decay=-1), "weight_decay"),
        (lambda: Adam(p, lr=-1), "lr must be"),
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
        (lambda: SGD(p, lr=math.inf), ValueError, "SGD: lr must be a finite number >= 0, got inf"),
        (lambda: SGD(set(p), lr=0.1), TypeError, "SGD: params must be .*a set is not accepted"),
        (lambda: SGD({"w": p[0]}, lr=0.1), TypeError, "SGD: params .*a dict is not accepted"),
    ]
    for make, exc, msg in cases:
        with pytest.raises(exc, match=msg) as info:
            make()
        assert "0000000000" not in str(info.value)


@pytest.mark.parametrize(
    ("make", "field", "value", "error", "words"),
    [
        (
            lambda p: SGD(p, lr=0.1),
            "lr",
            -1,
            ValueError,
            "SGD: lr must be a finite number >= 0, got -1",
        ),
        (lambda p: SGD(p, lr=0.1), "lr", "x", TypeError, "SGD: lr: expected a real number.*'x'"),
        (lambda p: SGD(p, lr=0.1), "lr", math.nan, ValueError, "SGD: lr must be .*nan"),
        (lambda p: SGD(p, lr=0.1), "momentum", -0.5, ValueError, "SGD: momentum must .*-0.5"),
        (lambda p: SGD(p, lr=0.1), "weight_decay", math.inf, ValueError, "SGD: weight_decay .*inf"),
        (lambda p: Adam(p), "lr", -2, ValueError, "Adam: lr must be a finite number >= 0, got -2"),
        (lambda p: Adam(p), "betas", (0.9, 1.0), ValueError, r"Adam: betas\[1\] must .*< 1, got 1"),
        (lambda p: Adam(p), "betas", (0.9,), ValueError, "Adam: betas must be a pair"),
        (lambda p: Adam(p), "betas", "ab", TypeError, "Adam: betas must be a pair"),
        (lambda p: Adam(p), "eps", 0.0, ValueError, "Adam: eps must be a finite number > 0, got 0"),
        (lambda p: Adam(p), "weight_decay", -1, ValueError, "Adam: weight_decay must .*-1"),
        (
            lambda p: SGD(p, lr=0.1),
            "betas",
            (0.5, 0.5),
            AttributeError,
            "SGD has no setting 'betas'",
        ),
        (lambda p: Adam(p), "momentum", 0.9, AttributeError, "Adam has no setting 'momentum'"),
        (lambda p: SGD(p, lr=0.1), "learning_rate", 0.01, AttributeError, "lr, momentum, weight"),
        (lambda p: SGD(p, lr=0.1), "params", [Value(0.0)], AttributeError, "SGD: params are fixed"),
    ],
)
def test_a_setting_assigned_after_construction_is_checked_before_anything_changes(
    make: Callable[[list[Value]], SGD | Adam],
    field: str,
    value: object,
    error: type[Exception],
    words: str,
) -> None:
    """Reference: the constructor's rules (test_validation) and the project's rule for bad
    input -- `opt.lr = -1` after construction is the same error, naming the optimizer, the
    setting and the value; a name the optimizer does not have (another optimizer's setting,
    a misspelling) would change nothing, so it is refused too. Nothing changes: the next
    steps follow the hand-computed path of the settings given to the constructor."""
    ps = [Value(p) for p in P0]
    opt = make(ps)
    before = {k: getattr(opt, k, None) for k in ("lr", "momentum", "weight_decay", "betas", "eps")}
    with pytest.raises(error, match=words):
        setattr(opt, field, value)
    assert {k: getattr(opt, k, None) for k in before} == before
    assert opt.params == tuple(ps)


def test_a_valid_setting_assigned_after_construction_takes_effect() -> None:
    """Reference: PyTorch's SGD rule by hand (p -= lr g, momentum buffer buf = m buf + g),
    with lr and momentum changed between steps as a schedule does; the new numbers are
    converted by the package's number rule (Fraction(1, 4) is 0.25)."""
    ps = [Value(p) for p in P0]
    opt = SGD(ps, lr=0.1)
    quadratic(ps).backward()
    opt.step()
    want = [p - 0.1 * g for p, g in zip(P0, hand_grad(P0))]
    opt.lr, opt.momentum = Fraction(1, 4), np.float32(0.5)
    assert (opt.lr, opt.momentum) == (0.25, 0.5) and type(opt.lr) is float
    opt.zero_grad()
    quadratic(ps).backward()
    opt.step()  # the first step with momentum: buf = g
    want = [p - 0.25 * g for p, g in zip(want, hand_grad(want))]
    assert [p.data for p in ps] == pytest.approx(want, rel=1e-12, abs=1e-12)


def test_adams_new_betas_reach_a_parameter_that_skipped_steps() -> None:
    """Reference: Adam's rule by hand (Kingma and Ba; bias corrections 1 - beta^t at the
    parameter's own step count t). b steps at t = 1 with betas (0.9, 0.999), skips a step
    (no gradient) while a takes its second, then the betas change to (0.5, 0.6): b's second
    step must use the new betas' corrections, 1 - 0.5**2 and 1 - 0.6**2, not the ones a's
    second step used under the old betas."""
    from autograd_lite import Tensor

    a, b = Tensor([1.0]), Tensor([2.0])
    opt = Adam([a, b], lr=0.1)
    a.grad, b.grad = np.array([0.5]), np.array([0.25])
    opt.step()
    a.grad, b.grad = np.array([0.5]), None
    opt.step()
    opt.betas = (0.5, 0.6)
    a.grad, b.grad = None, np.array([1.0])
    opt.step()
    g1, g2, eps = 0.25, 1.0, 1e-8
    m, v = 0.1 * g1, 0.001 * g1 * g1
    p = 2.0 - 0.1 * (m / 0.1) / (math.sqrt(v / 0.001) + eps)
    m, v = 0.5 * m + 0.5 * g2, 0.6 * v + 0.4 * g2 * g2
    p -= 0.1 * (m / (1 - 0.5**2)) / (math.sqrt(v / (1 - 0.6**2)) + eps)
    assert b.data.tolist() == pytest.approx([p], rel=1e-12)


def test_an_optimizer_of_your_own_keeps_its_own_attributes() -> None:
    """Reference: plain Python classes, and PyTorch, where a custom optimizer assigns what
    it needs in its own __init__ and step: a subclass of `Optimizer` (a hand-written
    sign-SGD) and of `SGD` (gradient clipping) may assign their own public attributes, as
    any class may; the settings they inherit are still checked (`opt.lr = -1`). The numbers
    are sign-SGD's and clipped SGD's rules by hand: p -= lr * sign(g), p -= lr * clip(g)."""
    from autograd_lite.nn import Optimizer

    class SignSGD(Optimizer):
        def __init__(self, params: list[Value], lr: float) -> None:
            super().__init__(params)
            self.lr = lr
            self.steps_taken = 0

        def _delta(self, i: int, g: float, data: float) -> float:
            self.steps_taken += 1
            return self.lr * math.copysign(1.0, g)

    class ClippedSGD(SGD):
        def __init__(self, params: list[Value], lr: float, clip: float) -> None:
            self.clip = clip
            super().__init__(params, lr=lr)

        def _delta(self, i: int, g: float, data: float) -> float:
            return self.lr * max(-self.clip, min(self.clip, g))

    ps = [Value(p) for p in P0]
    sign = SignSGD(ps, lr=0.5)
    quadratic(ps).backward()
    sign.step()
    assert [p.data for p in ps] == [
        p - 0.5 * math.copysign(1.0, g) for p, g in zip(P0, hand_grad(P0))
    ]
    assert sign.steps_taken == len(P0)

    qs = [Value(p) for p in P0]
    clipped = ClippedSGD(qs, lr=0.1, clip=0.05)
    quadratic(qs).backward()
    clipped.step()
    want = [p - 0.1 * max(-0.05, min(0.05, g)) for p, g in zip(P0, hand_grad(P0))]
    assert [q.data for q in qs] == pytest.approx(want, rel=1e-15)
    with pytest.raises(ValueError, match="ClippedSGD: lr must be a finite number >= 0, got -1"):
        clipped.lr = -1
    assert clipped.lr == 0.1


@pytest.mark.parametrize(
    "make", [lambda ps: SGD(ps, lr=0.0, momentum=0.5), lambda ps: Adam(ps, lr=0)]
)
def test_a_schedule_through_lr_0_steps_by_the_rule(
    make: Callable[[list[Value]], SGD | Adam],
) -> None:
    """Reference: PyTorch's rule, lr >= 0, and SGD's and Adam's rules by hand: a warmup
    schedule's first step (lr = base * 0 / warmup) and an annealing schedule's last
    (0.5 base (1 + cos(pi))) are lr = 0.0, a step that leaves every parameter as it was
    (p - 0 * step = p) while the optimizer's state advances (SGD's momentum buffer g, Adam's
    moments); the next step, at lr 0.1, is then the rule's second step: for SGD
    p - 0.1 (0.5 g1 + g2) with g1 = g2 = g(P0), and for Adam
    p - 0.1 m2 / (1 - 0.9^2) / (sqrt(v2 / (1 - 0.999^2)) + 1e-8)."""
    ps = [Value(p) for p in P0]
    opt = make(ps)
    quadratic(ps).backward()
    opt.lr = 0.5 * 0.1 * (1.0 + math.cos(math.pi))  # 0.0 exactly: cos(pi) is -1.0
    opt.step()
    assert [p.data for p in ps] == P0
    opt.lr = 0.1
    opt.step()  # the same gradients, still accumulated once
    g = hand_grad(P0)
    if isinstance(opt, SGD):
        want = [p - 0.1 * (0.5 * gi + gi) for p, gi in zip(P0, g)]
    else:
        m2 = [0.9 * 0.1 * gi + 0.1 * gi for gi in g]
        v2 = [0.999 * 0.001 * gi * gi + 0.001 * gi * gi for gi in g]
        want = [
            p - 0.1 * (m / (1 - 0.9**2)) / (math.sqrt(v / (1 - 0.999**2)) + 1e-8)
            for p, m, v in zip(P0, m2, v2)
        ]
    assert [p.data for p in ps] == pytest.approx(want, rel=1e-12)


def test_adams_step_count_is_read_only() -> None:
    """`opt.t = 0` (to restart Adam's bias corrections, say) changed nothing: the update
    follows each parameter's own step count. It is refused now, naming Adam and t, and the
    next step is Adam's second. Reference: Adam's rule by hand (Kingma and Ba), two steps
    from p = 0.3 with g = 2 * 1.5 * (p - 2) (the quadratic's first term), lr 0.1."""
    ps = [Value(0.3)]
    opt = Adam(ps, lr=0.1)
    (1.5 * (ps[0] - 2.0) ** 2).backward()
    opt.step()
    with pytest.raises(AttributeError, match=r"Adam: t counts the steps taken and is read-only"):
        opt.t = 0
    assert opt.t == 1
    opt.zero_grad()
    (1.5 * (ps[0] - 2.0) ** 2).backward()
    opt.step()
    b1, b2, eps, p, m, v = 0.9, 0.999, 1e-8, 0.3, 0.0, 0.0
    for t in (1, 2):
        g = 3.0 * (p - 2.0)
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        p -= 0.1 * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + eps)
    assert ps[0].data == pytest.approx(p, abs=1e-12, rel=0)
