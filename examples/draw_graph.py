"""Draw the document's network with the local derivative on every edge.

Usage: python examples/draw_graph.py [PATH]   (PATH ends in .png, .svg, .pdf or .dot;
default out/graph_example.png; missing folders are created). Prints the path written, or
one line `error: ...` and exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograd_lite import render_graph
from autograd_lite.render import RenderError
from autograd_lite.walkthrough import build_network

DEFAULT_PATH = Path("out/graph_example.png")


def main(argv: list[str] | None = None) -> int:
    """Build the network, run backward, render it to the path given; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=DEFAULT_PATH, type=Path)
    parser.add_argument("--rankdir", choices=["TB", "LR"], default="TB")
    args = parser.parse_args(argv)

    net = build_network()
    net.L.backward()  # fills every grad shown in the drawing
    try:
        if args.path == DEFAULT_PATH:  # a path of the user's own must exist already
            args.path.parent.mkdir(exist_ok=True)
        out = render_graph(net.L, args.path, edge_derivatives=True, rankdir=args.rankdir)
    except OSError as e:  # from mkdir: the folder cannot be made
        print(
            f"error: cannot create the folder for {args.path}: {e.strerror or e}", file=sys.stderr
        )
        return 1
    except (RenderError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
