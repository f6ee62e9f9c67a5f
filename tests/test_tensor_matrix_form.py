"""The document's network in matrix form: a batch as one Tensor graph.

The network x -> sigmoid -> sigmoid with loss 1/2 (y - y_hat)² (shared/seed/), written
with matrices in PyTorch's layout: z1 = x @ W1.T + b1 with x of shape (N, in), W1 (hidden,
in), b1 (hidden,); the loss summed over the batch.

References:
- the scalar engine's per-sample gradients (autograd_lite.walkthrough.build_network for the
  document's 1-1-1 network, Values written out per neuron here for a wider one), summed
  over the samples, to 1e-12;
- the matrix backprop written by hand in numpy: delta2 = (y_hat - y) y_hat (1 - y_hat),
  dL/dW2 = delta2ᵀ h, dL/db2 = sum of delta2 over the batch, delta1 = (delta2 W2) h (1 - h),
  dL/dW1 = delta1ᵀ x, dL/db1 = sum of delta1;
- the document's exact table (tests/reference.py) for a batch of the one document sample.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd_lite import Tensor, Value
from autograd_lite.engine.array_ops import linear
from autograd_lite.walkthrough import DOCUMENT_INPUTS, build_network
from tests.array_reference import Array, assert_close
from tests.conftest import FUZZ
from tests.reference import EXACT_TABLE

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("W1", "b1", "W2", "b2")


def matrix_form(
    x: Array, y: Array, params: dict[str, Array], fused: bool = False, data: bool = True
) -> tuple[Tensor, dict[str, Tensor], Tensor]:
    """The network on a batch as Tensors: the loss, the parameter tensors and x (a
    requires_grad=False input when `data`). `fused` uses the linear op (one node for
    x @ W.T + b) instead of @, .T and +."""
    xs = Tensor(x, label="x", requires_grad=not data)
    p = {name: Tensor(value, label=name) for name, value in params.items()}

    def layer(a: Tensor, w: Tensor, b: Tensor) -> Tensor:
        return linear(a, w, b) if fused else a @ w.T + b

    h = layer(xs, p["W1"], p["b1"]).sigmoid()
    y_hat = layer(h, p["W2"], p["b2"]).sigmoid()
    loss = (0.5 * (y - y_hat) ** 2).sum()
    return loss, p, xs


def by_hand(x: Array, y: Array, params: dict[str, Array]) -> dict[str, Array]:
    """Matrix backprop in numpy, written out: delta = dL/dz per sample, a row each."""
    w1, b1, w2, b2 = (params[n] for n in NAMES)
    h = 1 / (1 + np.exp(-(x @ w1.T + b1)))
    y_hat = 1 / (1 + np.exp(-(h @ w2.T + b2)))
    delta2 = (y_hat - y) * y_hat * (1 - y_hat)
    delta1 = (delta2 @ w2) * h * (1 - h)
    return {"W1": delta1.T @ x, "b1": delta1.sum(axis=0), "W2": delta2.T @ h, "b2": delta2.sum(0)}


def scalar_per_sample(x_row: Array, y_row: Array, params: dict[str, Array]) -> dict[str, Any]:
    """The same network on one sample as Values, one neuron at a time; its gradients, and
    dL/dx for that sample."""
    w1 = [[Value(float(v)) for v in row] for row in params["W1"]]
    b1 = [Value(float(v)) for v in params["b1"]]
    w2 = [[Value(float(v)) for v in row] for row in params["W2"]]
    b2 = [Value(float(v)) for v in params["b2"]]
    xs = [Value(float(v)) for v in x_row]
    h = [(sum((w * a for w, a in zip(row, xs)), b)).sigmoid() for row, b in zip(w1, b1)]
    y_hat = [(sum((w * a for w, a in zip(row, h)), b)).sigmoid() for row, b in zip(w2, b2)]
    loss = sum(0.5 * (float(t) - o) ** 2 for t, o in zip(y_row, y_hat))
    assert isinstance(loss, Value)
    loss.backward()
    grads = {
        "W1": np.array([[w.grad for w in row] for row in w1]),
        "b1": np.array([b.grad for b in b1]),
        "W2": np.array([[w.grad for w in row] for row in w2]),
        "b2": np.array([b.grad for b in b2]),
    }
    return {"grads": grads, "x": np.array([v.grad for v in xs]), "loss": loss.data}


def summed_scalar(x: Array, y: Array, params: dict[str, Array]) -> tuple[dict[str, Array], Array]:
    """The per-sample scalar gradients summed over the batch, and dL/dx row by row."""
    runs = [scalar_per_sample(x[i], y[i], params) for i in range(len(x))]
    total = {n: sum((r["grads"][n] for r in runs), np.zeros_like(params[n])) for n in NAMES}
    return total, np.array([r["x"] for r in runs])


DOCUMENT_PARAMS = {
    "W1": np.array([[DOCUMENT_INPUTS.w1]]),
    "b1": np.array([DOCUMENT_INPUTS.b1]),
    "W2": np.array([[DOCUMENT_INPUTS.w2]]),
    "b2": np.array([DOCUMENT_INPUTS.b2]),
}


@pytest.mark.parametrize("fused", [False, True], ids=["@ .T +", "linear"])
def test_a_batch_of_the_document_sample_gives_the_documents_exact_gradients(fused: bool) -> None:
    x, y = np.array([[DOCUMENT_INPUTS.x]]), np.array([[DOCUMENT_INPUTS.y]])
    loss, p, _ = matrix_form(x, y, DOCUMENT_PARAMS, fused)
    loss.backward()
    assert loss.item() == pytest.approx(EXACT_TABLE["L"], abs=1e-10)
    for name, key in (("W1", "dL_dw1"), ("b1", "dL_db1"), ("W2", "dL_dw2"), ("b2", "dL_db2")):
        assert p[name].grad.reshape(()) == pytest.approx(EXACT_TABLE[key], abs=1e-10), name
    eta = 0.1  # the document's SGD step, on the matrices
    for name, key in (("W1", "w1_new"), ("b1", "b1_new"), ("W2", "w2_new"), ("b2", "b2_new")):
        new = p[name].data - eta * p[name].grad
        assert new.reshape(()) == pytest.approx(EXACT_TABLE[key], abs=1e-10), name


@settings(max_examples=500 if FUZZ else 10, deadline=None)
@given(
    x=hnp.arrays(np.float64, st.tuples(st.integers(1, 8), st.just(1)), elements=st.floats(-3, 3)),
    data=st.data(),
)
def test_the_document_network_on_a_batch_is_the_sum_of_the_scalar_per_sample_gradients(
    x: Array, data: Any
) -> None:
    y = data.draw(hnp.arrays(np.float64, x.shape, elements=st.floats(0, 1)))
    w = data.draw(st.lists(st.floats(-2, 2), min_size=4, max_size=4))
    params = {
        "W1": np.array([[w[0]]]),
        "b1": np.array([w[1]]),
        "W2": np.array([[w[2]]]),
        "b2": np.array([w[3]]),
    }
    loss, p, _ = matrix_form(x, y, params)
    loss.backward()
    # Reference: the walkthrough's scalar network, built and differentiated once per sample.
    total = dict.fromkeys(NAMES, 0.0)
    scalar_loss = 0.0
    for i in range(len(x)):
        net = build_network(x=float(x[i, 0]), y=float(y[i, 0]), w1=w[0], b1=w[1], w2=w[2], b2=w[3])
        net.L.backward()
        scalar_loss += net.L.data
        for name, node in zip(NAMES, (net.w1, net.b1, net.w2, net.b2)):
            total[name] += node.grad
    assert loss.item() == pytest.approx(scalar_loss, abs=1e-12, rel=1e-12)
    for name in NAMES:
        assert_close(p[name].grad.reshape(()), total[name], rtol=1e-12, atol=1e-12)
        assert_close(p[name].grad, by_hand(x, y, params)[name], rtol=1e-12, atol=1e-12)


WIDTHS = st.tuples(st.integers(1, 6), st.integers(1, 3), st.integers(1, 4), st.integers(1, 3))
"""Batch size, inputs, hidden units, outputs."""


@settings(max_examples=300 if FUZZ else 8, deadline=None)
@given(widths=WIDTHS, seed=st.integers(0, 2**32 - 1), fused=st.booleans())
def test_a_wider_network_on_a_batch_is_the_sum_of_the_scalar_per_sample_gradients(
    widths: tuple[int, int, int, int], seed: int, fused: bool
) -> None:
    n, n_in, n_hidden, n_out = widths
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-2, 2, (n, n_in)), rng.uniform(0, 1, (n, n_out))
    params = {
        "W1": rng.uniform(-1, 1, (n_hidden, n_in)),
        "b1": rng.uniform(-1, 1, n_hidden),
        "W2": rng.uniform(-1, 1, (n_out, n_hidden)),
        "b2": rng.uniform(-1, 1, n_out),
    }
    loss, p, xs = matrix_form(x, y, params, fused, data=False)
    loss.backward()
    total, per_sample_x = summed_scalar(x, y, params)
    hand = by_hand(x, y, params)
    for name in NAMES:
        assert_close(p[name].grad, total[name], rtol=1e-12, atol=1e-12)
        assert_close(p[name].grad, hand[name], rtol=1e-12, atol=1e-12)
    # dL/dx is not summed: each sample's row is that sample's own gradient.
    assert_close(xs.grad, per_sample_x, rtol=1e-12, atol=1e-12)


def test_the_input_batch_gets_no_gradient() -> None:
    x, y = np.array([[1.0], [0.5]]), np.array([[1.0], [0.0]])
    loss, _, xs = matrix_form(x, y, DOCUMENT_PARAMS)
    loss.backward()
    assert not xs.requires_grad and not xs.grad.any()


def test_the_example_prints_the_tensor_gradients_beside_the_summed_scalar_ones() -> None:
    # Reference: the example's own check (it exits 1 if the two disagree beyond 1e-12).
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "matrix_form.py")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for word in ("dL/dW1", "dL/db1", "dL/dW2", "dL/db2", "tensor", "sum of scalar", "agree"):
        assert word in result.stdout, word
