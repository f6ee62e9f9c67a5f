"""Draw one layer on a batch as Tensors: shapes, dtypes, and where a broadcast gradient is summed.

A batch of 4 inputs with 3 features goes through relu(x @ W.T + b) and a mean squared error
against targets y. The bias b, of shape (2,), is broadcast over the batch: its edge is
marked, because backward sums its gradient over the batch axis. W and b are small enough
to show their numbers; the batch is not.

Usage: python examples/draw_tensor_graph.py [PATH]   (PATH ends in .png, .svg, .pdf or .dot;
default tensor_graph.png). `python examples/draw_tensor_graph.py docs/tensor_graph.png`
regenerates the picture in docs/drawing.md. Prints the path written, or one line
`error: ...` and exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from autograd_lite import Tensor, render_graph
from autograd_lite.render import RenderError

DEFAULT_PATH = Path("tensor_graph.png")


def build_layer() -> Tensor:
    """The loss of one layer on a batch, after backward: the graph the picture shows."""
    x = Tensor(np.arange(12.0).reshape(4, 3) / 10, label="x", requires_grad=False)
    y = Tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]], label="y", requires_grad=False)
    w = Tensor([[0.5, -0.25, 0.1], [0.2, 0.4, -0.3]], label="W")
    b = Tensor([0.1, -0.1], label="b")
    h = (x @ w.T + b).relu()
    h.label = "h"
    loss = ((h - y) ** 2).mean()
    loss.label = "loss"
    loss.backward()
    return loss


def main(argv: list[str] | None = None) -> int:
    """Build the layer, run backward, render it to the path given; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=DEFAULT_PATH, type=Path)
    args = parser.parse_args(argv)
    try:
        written = render_graph(build_layer(), args.path)
    except (RenderError, ValueError) as e:  # no dot, an unwritable path, a wrong extension
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(written)
    return 0


if __name__ == "__main__":
    sys.exit(main())
