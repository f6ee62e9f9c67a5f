"""W2 again, as tensors: the scalar bench's MLP(2,[16,16,1]) step over all its points as one
batch, on autograd-lite's Tensor, against autograd-lite's scalar engine and a hand numpy step.

Same weights (bench/data.py's seeded uniform(-1, 1)), same two-moons points, same loss
(micrograd's demo: mean of relu(1 - y*score) + alpha * sum of p**2 over all parameters), same
lr as bench/workloads.py's W2. The weights are laid out (out, in): row j of W holds neuron j's
weights.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from data import w2_data
from engines import make_autograd_lite as make_scalar_engine
from trainers import HAND, Disagreement, EngineMissing, Params, Trainer, optimizer_trainer
from workloads import (
    W2_ALPHA,
    W2_LR,
    W2_SIZES,
    Weights,
    hand_w2_step,
    make_model,
    model_params,
    w2_loss,
)


def w2_arrays(weights: Weights) -> Params:
    """The scalar bench's weights as [W1, b1, W2, b2, W3, b3], float64, W of shape (out, in)."""
    params: Params = []
    for layer in weights:
        params.append(np.array([ws for ws, _ in layer], dtype=np.float64))
        params.append(np.array([b for _, b in layer], dtype=np.float64))
    return params


def w2_problem(points: int) -> tuple[Weights, Params, np.ndarray, np.ndarray]:
    """The scalar bench's W2 data: weights (as lists and as arrays), inputs (n, 2), labels (n,)."""
    weights, xs, ys = w2_data(points)
    return weights, w2_arrays(weights), np.array(xs), np.array(ys)


def check_hand_w2(weights: Weights, init: Params, x: np.ndarray, y: np.ndarray) -> str:
    """Check the numpy hand step against the scalar bench's plain-float one (the anchor of
    W2's other checks): loss and weights after one step, to 1e-10 relative."""
    floats: list[list[list[Any]]] = [[[list(ws), b] for ws, b in layer] for layer in weights]
    want_loss, _ = hand_w2_step(floats, x.tolist(), y.tolist(), W2_LR)
    want = w2_arrays([[(list(n[0]), float(n[1])) for n in layer] for layer in floats])
    hand = make_hand_w2(init, x, y)
    hand.step()
    worst = max(
        abs(hand.loss() - want_loss) / abs(want_loss),
        *(float(np.max(np.abs(g - w)) / np.max(np.abs(w))) for g, w in zip(hand.params(), want)),
    )
    if not worst <= 1e-10:
        raise Disagreement(f"W2's numpy hand step differs from the plain-float one by {worst:.1e}")
    return f"hand: matches bench/workloads.py's plain-float W2 step ({worst:.1e} relative)"


def make_hand_w2(init: Params, x: np.ndarray, y: np.ndarray) -> Trainer:
    """W2's step in numpy, forward and backward written out (tanh hidden, linear output)."""
    params = [p.copy() for p in init]
    n = len(y)
    last: dict[str, float] = {}

    def forward(_: object) -> tuple[Any, ...]:
        w1, b1, w2, b2, w3, b3 = params
        a1 = np.tanh(x @ w1.T + b1)
        a2 = np.tanh(a1 @ w2.T + b2)
        margin = 1.0 - y * (a2 @ w3.T + b3)[:, 0]
        active = margin > 0.0
        reg = sum(float(np.vdot(p, p)) for p in params)
        last["loss"] = float(np.maximum(margin, 0.0).mean()) + W2_ALPHA * reg
        return a1, a2, active

    def backward(fwd: tuple[Any, ...]) -> Params:
        a1, a2, active = fwd
        _, _, w2, _, w3, _ = params
        ds = np.where(active, -y / n, 0.0)[:, None]  # d loss / d score
        g_w3, g_b3 = ds.T @ a2, ds.sum(axis=0)
        d2 = (ds @ w3) * (1.0 - a2 * a2)
        g_w2, g_b2 = d2.T @ a1, d2.sum(axis=0)
        d1 = (d2 @ w2) * (1.0 - a1 * a1)
        g_w1, g_b1 = d1.T @ x, d1.sum(axis=0)
        grads = [g_w1, g_b1, g_w2, g_b2, g_w3, g_b3]
        for p, g in zip(params, grads):
            g += (2.0 * W2_ALPHA) * p
        return grads

    def update(grads: Params) -> None:
        for p, g in zip(params, grads):
            p -= W2_LR * g

    return Trainer(
        HAND,
        f"numpy {np.__version__}",
        [("forward", forward), ("backward", backward), ("update", update)],
        loss=lambda: last["loss"],
        params=lambda: [p.copy() for p in params],
    )


def make_tensor_w2(init: Params, x: np.ndarray, y: np.ndarray) -> Trainer:
    """W2 on autograd-lite's Tensor: nn.Sequential of nn.Linear and nn.Tanh, the hinge loss
    and the L2 term in Tensor ops, nn.SGD; the points one constant batch."""
    try:
        import autograd_lite as al
        from autograd_lite import Tensor, nn
    except ImportError as exc:
        raise EngineMissing(f"autograd_lite.Tensor does not import yet ({exc})") from None
    if not all(hasattr(nn, name) for name in ("Sequential", "Linear", "Tanh")):
        raise EngineMissing("autograd_lite.nn has no Sequential, Linear or Tanh yet")
    n_in, h1, h2, n_out = W2_SIZES
    model = nn.Sequential(
        nn.Linear(n_in, h1, rng=0), nn.Tanh(), nn.Linear(h1, h2, rng=0), nn.Tanh(),
        nn.Linear(h2, n_out, rng=0),
    )  # fmt: skip
    params = list(model.parameters())
    for p, a in zip(params, init, strict=True):
        p.data = a  # the scalar bench's weights (copied)
    y_col = y[:, None]  # (n, 1), like the scores

    def loss_of() -> Any:
        scores = model(Tensor(x, requires_grad=False))
        data_loss = (1.0 - y_col * scores).relu().mean()
        return data_loss + W2_ALPHA * sum((p * p).sum() for p in params)

    return optimizer_trainer(
        "autograd-lite",
        al.__version__,
        loss_of,
        nn.SGD(params, lr=W2_LR),
        lambda: [np.array(p.data, copy=True) for p in params],
    )


def make_scalar_w2(weights: Weights, x: np.ndarray, y: np.ndarray) -> Trainer:
    """W2 on autograd-lite's scalar engine, exactly as bench/bench.py's W2 row runs it."""
    e = make_scalar_engine()
    model = make_model(e.leaf, weights)
    params = model_params(model)
    xs, ys = x.tolist(), y.tolist()
    last: dict[str, Any] = {}

    def forward(_: object) -> Any:
        loss = w2_loss(model, e.leaf, xs, ys)
        last["loss"] = loss
        return loss

    def backward(loss: Any) -> None:
        e.backward(loss)

    def update(_: object) -> None:
        e.sgd(params, W2_LR)

    def arrays() -> Params:
        now: Weights = [
            [([e.data(w) for w in ws], e.data(b)) for ws, b in layer] for layer in model
        ]
        return w2_arrays(now)

    return Trainer(
        "autograd-lite (scalar)",
        e.version,
        [("forward", forward), ("backward", backward), ("update", update)],
        loss=lambda: e.data(last["loss"]),
        params=arrays,
        notes=["autograd-lite (scalar): bench/bench.py's W2 row, one Value per number"],
    )


W2_MAKERS: dict[str, Callable[[Weights, Params, np.ndarray, np.ndarray], Trainer]] = {
    "autograd-lite": lambda weights, init, x, y: make_tensor_w2(init, x, y),
    "autograd-lite (scalar)": lambda weights, init, x, y: make_scalar_w2(weights, x, y),
    HAND: lambda weights, init, x, y: make_hand_w2(init, x, y),
}
"""W2's engines in the order of the table, each set up on the scalar bench's weights (as
lists and as arrays) and points."""


def w2_title(points: int) -> str:
    """W2's heading in the report."""
    sizes = ",".join(str(s) for s in W2_SIZES[1:])
    return (
        f"W2 as tensors: MLP({W2_SIZES[0]},[{sizes}]) tanh, {points} points as one batch, "
        f"hinge loss + {W2_ALPHA:g} * sum p**2, one SGD step (lr {W2_LR}), float64"
    )
