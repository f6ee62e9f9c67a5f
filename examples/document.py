"""The worked example in a few lines of the library: build, backward, compare, one SGD step.

Run: .venv/bin/python examples/document.py   (the `autograd-lite` command shows more)
"""

from __future__ import annotations

import argparse

from autograd_lite.walkthrough import DOCUMENT_PRINTED, build_network, hand_derivation


def main(argv: list[str] | None = None) -> None:
    """Run the example (after reading the command line: no arguments)."""
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args(argv)  # takes no arguments: --help shows the docstring, others exit 2
    net = build_network()  # x=1, y=1, w1=0.4, b1=0.1, w2=0.3, b2=0.2, as in the document
    net.L.backward()  # fills .grad of every node below L
    hand = hand_derivation()  # the document's formulas, in plain floats

    print(f"{'quantity':<10}{'document':>10}{'hand-derived':>16}{'autodiff':>16}")
    rows = [
        ("y_hat", net.y_hat.data),
        ("L", net.L.data),
        ("delta2", net.z2.grad),  # dL/dz2
        ("dL_dw2", net.w2.grad),
        ("dL_db2", net.b2.grad),
        ("dL_dh", net.h.grad),
        ("delta1", net.z1.grad),  # dL/dz1
        ("dL_dw1", net.w1.grad),
        ("dL_db1", net.b1.grad),
    ]
    for name, autodiff in rows:
        hand_value = getattr(hand, name)
        print(f"{name:<10}{DOCUMENT_PRINTED[name]:>10g}{hand_value:>16.10f}{autodiff:>16.10f}")

    eta = 0.1
    for p in (net.w2, net.b2, net.w1, net.b1):  # one SGD step
        p.data -= eta * p.grad
        name = f"{p.label}_new"
        print(
            f"{name:<10}{DOCUMENT_PRINTED[name]:>10g}{getattr(hand, name):>16.10f}{p.data:>16.10f}"
        )


if __name__ == "__main__":
    main()
