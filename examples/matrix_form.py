"""The document's network in matrix form: a batch of inputs through one Tensor graph.

The worked example (x -> sigmoid neuron -> sigmoid neuron, L = 1/2 (y - y_hat)²) is run
twice on the same batch: once per sample with the scalar engine (`build_network`, whose
gradients are then summed over the samples), and once on the whole batch as tensors, in
PyTorch's layout: x of shape (N, 1), W1 (1, 1), b1 (1,), ..., z1 = x @ W1.T + b1, and the
loss summed over the batch. The matrix form of backprop gives dL/dW = deltaᵀ x summed over
the batch in one matmul; the two columns agree to rounding.

Run: .venv/bin/python examples/matrix_form.py
"""

from __future__ import annotations

import argparse

import numpy as np

from autograd_lite import Tensor
from autograd_lite.walkthrough import DOCUMENT_INPUTS, build_network

X = np.array([[1.0], [0.5], [-1.0], [2.0]])  # the first sample is the document's
Y = np.array([[1.0], [0.0], [1.0], [0.0]])


def main(argv: list[str] | None = None) -> None:
    """Run the example (after reading the command line: no arguments)."""
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args(argv)  # takes no arguments: --help shows the docstring, others exit 2
    p = DOCUMENT_INPUTS
    w1, b1 = Tensor([[p.w1]], label="W1"), Tensor([p.b1], label="b1")
    w2, b2 = Tensor([[p.w2]], label="W2"), Tensor([p.b2], label="b2")
    x = Tensor(X, label="x", requires_grad=False)  # data: no gradient is computed for it
    h = (x @ w1.T + b1).sigmoid()
    y_hat = (h @ w2.T + b2).sigmoid()
    loss = (0.5 * (Y - y_hat) ** 2).sum()
    loss.backward()

    names = ["dL/dW1", "dL/db1", "dL/dW2", "dL/db2"]
    per_sample = []
    for xi, yi in zip(X[:, 0], Y[:, 0]):
        net = build_network(x=float(xi), y=float(yi))
        net.L.backward()
        per_sample.append([net.w1.grad, net.b1.grad, net.w2.grad, net.b2.grad])
    summed = np.sum(per_sample, axis=0)
    tensor = [t.grad.item() for t in (w1, b1, w2, b2)]

    print(f"batch of {len(X)}: x = {X[:, 0].tolist()}, y = {Y[:, 0].tolist()}")
    print(f"parameters as in the document: {p.parameters}\n")
    print("per-sample gradients from the scalar engine:")
    print("  sample " + "".join(f"{n:>16}" for n in names))
    for i, row in enumerate(per_sample):
        print(f"  {i:>6} " + "".join(f"{g:>16.10f}" for g in row))
    print(f"\n{'':>8}{'tensor':>18}{'sum of scalar':>18}{'difference':>14}")
    for name, t, s in zip(names, tensor, summed):
        print(f"{name:>8}{t:>18.12f}{s:>18.12f}{t - s:>14.1e}")

    # The matrix form by hand: delta2 = dL/dz2 per sample (a column), dL/dW2 = delta2ᵀ h.
    yh, hd = y_hat.data, h.data
    delta2 = (yh - Y) * yh * (1 - yh)
    print(f"\ndelta2 = {delta2[:, 0].round(6).tolist()}")
    print(f"delta2ᵀ h = {(delta2.T @ hd).item():.12f}  (dL/dW2 above: one matmul over the batch)")

    ok = np.allclose(tensor, summed, rtol=0, atol=1e-12)
    print(f"\ntensor and summed scalar gradients agree to 1e-12: {ok}")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
