"""The document's four gradients in forward mode, one pass per parameter, beside reverse mode.

Forward mode carries the derivative by ONE parameter p forward with the values: each node's
tangent d(node)/d(p), from the tangents of its operands. A pass seeds p's tangent with 1 and
computes the network's graph again on Duals (the same ops, `engine.replay`), and the loss's
tangent is dL/dp; the four parameters take four passes. Reverse mode carries dL/d(node)
backward from the loss and gets all four in one pass: that is why training uses it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..engine.dual import Dual
from ..engine.replay import replay
from .compare import Comparison
from .network import PARAMETERS
from .report import json_dump, number

TRACKED = ("z1", "h", "z2", "y_hat", "L")
"""The network's nodes whose tangents a pass shows, in evaluation order."""


@dataclass(frozen=True)
class ForwardMode:
    """The four forward passes (per parameter, the tangent d(node)/d(parameter) of each node
    in TRACKED) and the gradients one backward pass gave."""

    tangents: dict[str, dict[str, float]]
    reverse: dict[str, float]

    @property
    def gradients(self) -> dict[str, float]:
        """dL/dp for each parameter p: the loss's tangent in p's pass."""
        return {p: tangents["L"] for p, tangents in self.tangents.items()}


def forward_mode(comparison: Comparison) -> ForwardMode:
    """The document's four gradients by forward mode, one pass per parameter, on the network
    `compare` built, beside those its one backward pass gave.

    >>> from autograd_lite.walkthrough import compare
    >>> found = forward_mode(compare())
    >>> round(found.gradients["w2"], 10), round(found.reverse["w2"], 10)
    (-0.0606504249, -0.0606504249)
    >>> round(found.tangents["w1"]["z1"], 10)   # dz1/dw1 = x
    1.0
    """
    net = comparison.network
    tangents = {}
    for p in PARAMETERS:
        done = replay(net.L, {getattr(net, p): 1.0})  # the tangent of p is 1, of the others 0
        tangents[p] = {name: _tangent(done[getattr(net, name)]) for name in TRACKED}
    return ForwardMode(tangents, {p: getattr(net, p).grad for p in PARAMETERS})


def _tangent(x: Any) -> float:
    """A node's tangent; 0 for one that does not depend on the pass's parameter."""
    return float(x.tangent) if type(x) is Dual else 0.0


def forward_text(found: ForwardMode) -> str:
    """Forward mode's passes and tangents, then the gradients beside reverse mode's."""
    passes = len(found.tangents)
    lines = [
        "",
        f"Forward mode: {passes} passes, one per parameter p, each carrying the tangent "
        "d(node)/dp forward",
        "  pass  p   " + "".join(f"{'d' + name + '/dp':>16}" for name in TRACKED),
    ]
    for k, (p, tangents) in enumerate(found.tangents.items(), 1):
        row = "".join(f"{number(tangents[name]):>16}" for name in TRACKED)
        lines.append(f"  {k:>4}  {p:<4}{row}")
    lines += [
        "",
        "Reverse mode: 1 pass, backward from L, gives all four gradients",
        f"  {'gradient':<10}{f'forward ({passes} passes)':>22}{'reverse (1 pass)':>18}"
        f"{'forward - reverse':>19}",
    ]
    for p, forward in found.gradients.items():
        reverse = found.reverse[p]
        diff = "0" if forward == reverse else f"{forward - reverse:.1e}"
        lines.append(f"  {'dL/d' + p:<10}{number(forward):>22}{number(reverse):>18}{diff:>19}")
    return "\n".join(lines) + "\n"


def with_forward(text: str, found: ForwardMode) -> str:
    """The JSON object `text` with "forward_mode" added: the passes, each parameter's
    tangents and gradients, and reverse mode's (inf and nan as null)."""
    result = json.loads(text)
    result["forward_mode"] = {
        "passes": len(found.tangents),
        "tangents": found.tangents,
        "gradients": found.gradients,
        "reverse_passes": 1,
        "reverse_gradients": found.reverse,
    }
    return json_dump(result)
