"""The Hessian of the document's loss, from the engine and from finite differences.

L(w1, b1, w2, b2) is the worked example's loss (autograd_lite.walkthrough). The engine's
Hessian applies `grad` twice (`hessian`); the check differences the engine's first-order
gradients, rebuilding the network at w ± eps for each parameter.

Run: .venv/bin/python examples/hessian_document.py
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from autograd_lite import grad, hessian
from autograd_lite.walkthrough import DOCUMENT_INPUTS, build_network

NAMES = ["w1", "b1", "w2", "b2"]


def gradient_at(params: dict[str, float]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """dL/d(w1, b1, w2, b2) from the engine, at the given parameters (first order only)."""
    net = build_network(**params)
    return np.array(grad(net.L, [net.w1, net.b1, net.w2, net.b2]), dtype=np.float64)


def main(argv: list[str] | None = None) -> None:
    """Run the example (after reading the command line: no arguments)."""
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args(argv)  # takes no arguments: --help shows the docstring, others exit 2
    net = build_network()
    h = hessian(net.L, [net.w1, net.b1, net.w2, net.b2])

    base = DOCUMENT_INPUTS.parameters
    eps = 1e-6
    fd = np.empty((4, 4))
    for j, name in enumerate(NAMES):
        plus, minus = dict(base), dict(base)
        plus[name] += eps
        minus[name] -= eps
        fd[:, j] = (gradient_at(plus) - gradient_at(minus)) / (plus[name] - minus[name])

    np.set_printoptions(precision=10, suppress=False, linewidth=120)
    print(f"L = {net.L.data:.10f} at {base}")
    print(f"\nHessian of L w.r.t. {NAMES} (engine: grad of grad):")
    print(h)
    print(f"\nCentral differences of the engine's gradient (eps = {eps:g}):")
    print(fd)
    print(f"\nmax |engine - differences| = {np.abs(h - fd).max():.3e}")
    print(f"max |H - H^T| (symmetry)   = {np.abs(h - h.T).max():.3e}")
    ok = np.allclose(h, fd, rtol=1e-6, atol=1e-9)
    print("agree to rtol 1e-6, atol 1e-9:", ok)
    # x = 1, so w1 and b1 enter only as x*w1 + b1 = w1 + b1: their rows coincide, and the
    # Hessian is singular. Eigenvalues of both signs: L is not convex in the parameters.
    print(f"eigenvalues: {np.linalg.eigvalsh((h + h.T) / 2)}")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
